//! Users of identity stores.

use super::principals::{self, NewRow, Principals};
use crate::db::to_json;
use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::sessions::{self, Ending};
use crate::user_mail::NewLink;
use crate::{CreateOutcome, Page, PrincipalKey, Store, StoreResult, UpdateOutcome, User};

static USERS: Principals = Principals {
    kind: "user",
    name_taken: Sql::new(
        "SELECT 1 FROM users WHERE identity_store_id = $1 AND user_name_lower = $2 AND user_id <> $3",
    ),
    take_quota: Sql::new(
        "UPDATE identity_stores SET users_count = users_count + 1
         WHERE identity_store_id = $1 AND users_count < $2",
    ),
    release_quota: Sql::new(
        "UPDATE identity_stores SET users_count = users_count - 1 WHERE identity_store_id = $1",
    ),
    delete: Sql::new("DELETE FROM users WHERE identity_store_id = $1 AND user_id = $2"),
    find_by_name: Sql::new(
        "SELECT user_id FROM users WHERE identity_store_id = $1 AND user_name_lower = $2",
    ),
};

static INSERT: Sql = Sql::new(
    "INSERT INTO users (user_id, identity_store_id, user_name_lower, primary_email_lower, profile, external_ids, enabled, email_verified, password_hash, password_reset_email_owed, created_at, created_by, updated_at, updated_by, password_must_change, active_assigned)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
);
static UPDATE: Sql = Sql::new(
    "UPDATE users SET user_name_lower = $3, primary_email_lower = $4, profile = $5, external_ids = $6, enabled = $7, email_verified = $8, password_hash = $9, password_reset_email_owed = $10, updated_at = $11, updated_by = $12, password_must_change = $13, active_assigned = $14
     WHERE identity_store_id = $1 AND user_id = $2",
);
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE identity_store_id = $1 AND user_id = $2"
));
static MANY: Sql = Sql::new(concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE identity_store_id = $1 AND user_id = ANY($2)"
));
/// Replaces the password only if it is still the one the caller verified.
static SET_PASSWORD: Sql = Sql::new(
    "UPDATE users SET password_hash = $4, password_must_change = FALSE, updated_at = $5, updated_by = user_id
     WHERE identity_store_id = $1 AND user_id = $2 AND password_hash = $3 AND enabled",
);
static FIND_BY_EMAIL: Sql = Sql::new(
    "SELECT user_id FROM users WHERE identity_store_id = $1 AND primary_email_lower = $2 ORDER BY seq LIMIT 1",
);
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static PAGE_BY_NAME: Sql = Sql::new(concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE identity_store_id = $1 AND seq > $2 AND user_name_lower = $4 ORDER BY seq LIMIT $3"
));

impl FromRow for User {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(User {
            seq: r.get(0)?,
            user_id: r.get(1)?,
            identity_store_id: r.get(2)?,
            profile: r.json(3)?,
            external_ids: r.json(4)?,
            enabled: r.get(5)?,
            email_verified: r.get(6)?,
            password_hash: r.get(7)?,
            password_reset_email_owed: r.get(8)?,
            created_at: r.get(9)?,
            created_by: r.get(10)?,
            updated_at: r.get(11)?,
            updated_by: r.get(12)?,
            password_must_change: r.get(13)?,
            active_assigned: r.get(14)?,
        })
    }
}

impl Store {
    /// Inserts the user unless its name is taken or the store is at `quota` users.
    pub async fn create_user(&self, user: &User, quota: i64) -> StoreResult<CreateOutcome> {
        self.create_user_with_link(user, quota, None).await
    }

    /// Inserts the user as [`Store::create_user`] does and, in the same transaction, issues
    /// `link` to them with its mail: a new user is never left owed a mail that was not queued.
    pub async fn create_user_with_link(
        &self,
        user: &User,
        quota: i64,
        link: Option<&NewLink>,
    ) -> StoreResult<CreateOutcome> {
        const OP: &str = "create_user";
        let u = user.clone();
        let link = link.cloned();
        let (profile, external) = (to_json(OP, &u.profile)?, to_json(OP, &u.external_ids)?);
        self.write(OP, async move |db| {
            let name = u.profile.user_name.to_lowercase();
            let row = NewRow {
                store_id: &u.identity_store_id,
                id: &u.user_id,
                name_lower: &name,
                insert: &INSERT,
                params: &[
                    &u.user_id,
                    &u.identity_store_id,
                    &name,
                    &u.profile.primary_email_lower(),
                    &profile,
                    &external,
                    &u.enabled,
                    &u.email_verified,
                    &u.password_hash,
                    &u.password_reset_email_owed,
                    &u.created_at,
                    &u.created_by,
                    &u.updated_at,
                    &u.updated_by,
                    &u.password_must_change,
                    &u.active_assigned,
                ],
                external_ids: &u.external_ids,
            };
            let outcome = principals::create(db, &USERS, row, quota).await?;
            if let (CreateOutcome::Created, Some(link)) = (&outcome, &link) {
                let (store, id) = (&u.identity_store_id, &u.user_id);
                crate::user_mail::issue_link(db, store, id, link, u.created_at).await?;
            }
            Ok(outcome)
        })
        .await
    }

    /// Sets a password the user chose, replacing `current_hash` (the one they signed in with);
    /// false when the password changed meanwhile or the user is gone or disabled.
    pub async fn set_user_password(
        &self,
        identity_store_id: &str,
        user_id: &str,
        current_hash: &str,
        new_hash: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let p = [identity_store_id, user_id, current_hash, new_hash].map(str::to_string);
        self.write_one("set_user_password", async move |db| {
            let n = db
                .execute(&SET_PASSWORD, &[&p[0], &p[1], &p[2], &p[3], &now])
                .await?;
            Ok(n == 1)
        })
        .await
    }

    pub async fn get_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
    ) -> StoreResult<Option<User>> {
        let (store, id) = (identity_store_id.to_string(), user_id.to_string());
        self.read("get_user", async move |db| {
            db.query_opt(&GET, &[&store, &id]).await
        })
        .await
    }

    /// The users among `user_ids` that exist, in the order asked.
    pub async fn get_users(
        &self,
        identity_store_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<User>> {
        let (store, ids) = (identity_store_id.to_string(), user_ids.to_vec());
        self.read("get_users", async move |db| {
            let found = db.query(&MANY, &[&store, &TextList(&ids)]).await?;
            Ok(principals::in_order_of(&ids, found, |u: &User| &u.user_id))
        })
        .await
    }

    pub async fn find_user_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let (store, key) = (identity_store_id.to_string(), key.clone());
        self.read("find_user_id", async move |db| {
            principals::find(db, &USERS, &store, &key, Some(&FIND_BY_EMAIL)).await
        })
        .await
    }

    /// Keyset page in creation order; `user_name` filters by exact name, case-insensitively.
    pub async fn list_users(
        &self,
        identity_store_id: &str,
        user_name: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<User>> {
        let (store, name) = (
            identity_store_id.to_string(),
            user_name.map(str::to_lowercase),
        );
        self.read("list_users", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match name {
                None => db.query(&PAGE, &[&store, &after, &limit]).await,
                Some(n) => db.query(&PAGE_BY_NAME, &[&store, &after, &limit, &n]).await,
            }
        })
        .await
    }

    /// Replaces the stored user (matched by store and id) with `user`, whose external ids are
    /// those stored. A disabled user's sessions are ended in the same transaction.
    pub async fn update_user(&self, user: &User) -> StoreResult<UpdateOutcome> {
        const OP: &str = "update_user";
        let u = user.clone();
        let (profile, external) = (to_json(OP, &u.profile)?, to_json(OP, &u.external_ids)?);
        if u.enabled {
            self.write_one(OP, async move |db| {
                save(db, &u, &profile, &external, ExternalIds::Kept).await
            })
            .await
        } else {
            self.write(OP, async move |db| {
                update_in(db, &u, &profile, &external, ExternalIds::Kept).await
            })
            .await
        }
    }

    /// [`Store::update_user`] for a writer that may change the user's external ids (SCIM): the
    /// external-id index follows in the same transaction; an id another principal holds fails
    /// the write as a conflict.
    pub async fn replace_user(&self, user: &User) -> StoreResult<UpdateOutcome> {
        const OP: &str = "replace_user";
        let u = user.clone();
        let (profile, external) = (to_json(OP, &u.profile)?, to_json(OP, &u.external_ids)?);
        self.write(OP, async move |db| {
            update_in(db, &u, &profile, &external, ExternalIds::Changed).await
        })
        .await
    }

    /// Deletes the user, its memberships, external ids and assignments, and ends its sessions,
    /// in one transaction.
    pub async fn delete_user(&self, identity_store_id: &str, user_id: &str) -> StoreResult<bool> {
        let (store, id) = (identity_store_id.to_string(), user_id.to_string());
        self.write("delete_user", async move |db| {
            let deleted = principals::delete(db, &USERS, &store, &id).await?;
            if deleted {
                let now = iic_domain::clock::now_millis();
                sessions::end(db, &store, &id, Ending::All, now).await?;
            }
            Ok(deleted)
        })
        .await
    }
}

/// Whether an update may have changed the user's external ids.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExternalIds {
    Kept,
    Changed,
}

/// Writes `u` over the stored user and, when it is disabled, ends its sessions.
async fn update_in(
    db: &mut Db<'_>,
    u: &User,
    profile: &str,
    external: &str,
    ids: ExternalIds,
) -> StoreResult<UpdateOutcome> {
    let outcome = save(db, u, profile, external, ids).await?;
    if outcome != UpdateOutcome::Updated {
        db.discard();
    } else if !u.enabled {
        let now = iic_domain::clock::now_millis();
        sessions::end(db, &u.identity_store_id, &u.user_id, Ending::All, now).await?;
    }
    Ok(outcome)
}

/// Writes `u` over the stored user.
async fn save(
    db: &mut Db<'_>,
    u: &User,
    profile: &str,
    external: &str,
    ids: ExternalIds,
) -> StoreResult<UpdateOutcome> {
    let name = u.profile.user_name.to_lowercase();
    let outcome = principals::update(
        db,
        &UPDATE,
        &[
            &u.identity_store_id,
            &u.user_id,
            &name,
            &u.profile.primary_email_lower(),
            &profile,
            &external,
            &u.enabled,
            &u.email_verified,
            &u.password_hash,
            &u.password_reset_email_owed,
            &u.updated_at,
            &u.updated_by,
            &u.password_must_change,
            &u.active_assigned,
        ],
    )
    .await?;
    if outcome == UpdateOutcome::Updated && ids == ExternalIds::Changed {
        let (store, id) = (&u.identity_store_id, &u.user_id);
        principals::replace_external_ids(db, USERS.kind, store, id, &u.external_ids).await?;
    }
    Ok(outcome)
}
