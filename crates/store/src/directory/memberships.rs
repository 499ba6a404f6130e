//! Memberships of users in groups.

use crate::db::{FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::{MemberOf, Membership, MembershipOutcome, Page, Store, StoreResult};

macro_rules! membership_columns {
    () => {
        "seq, membership_id, identity_store_id, group_id, user_id, created_at"
    };
}

/// Locking the user's row serializes the user's membership changes, so that the limit on its
/// groups holds under concurrency.
static LOCK_USER: Sql =
    Sql::new("SELECT 1 FROM users WHERE identity_store_id = $1 AND user_id = $2 FOR UPDATE");
static GROUP_EXISTS: Sql =
    Sql::new("SELECT 1 FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2");
static FIND: Sql = Sql::new(
    "SELECT membership_id FROM memberships WHERE identity_store_id = $1 AND group_id = $2 AND user_id = $3",
);
static COUNT_OF_USER: Sql = Sql::new("SELECT COUNT(*) FROM memberships WHERE user_id = $1");
static INSERT: Sql = Sql::new(
    "INSERT INTO memberships (membership_id, identity_store_id, group_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)",
);
static DELETE: Sql =
    Sql::new("DELETE FROM memberships WHERE identity_store_id = $1 AND membership_id = $2");
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    membership_columns!(),
    " FROM memberships WHERE identity_store_id = $1 AND membership_id = $2"
));
static OF_GROUP: Sql = Sql::new(concat!(
    "SELECT ",
    membership_columns!(),
    " FROM memberships WHERE group_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static OF_USER: Sql = Sql::new(concat!(
    "SELECT ",
    membership_columns!(),
    " FROM memberships WHERE user_id = $1 AND identity_store_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static GROUPS_CONTAINING: Sql = Sql::new("SELECT group_id FROM memberships WHERE identity_store_id = $1 AND user_id = $2 AND group_id = ANY($3)");

impl FromRow for Membership {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Membership {
            seq: r.get(0)?,
            membership_id: r.get(1)?,
            identity_store_id: r.get(2)?,
            group_id: r.get(3)?,
            user_id: r.get(4)?,
            created_at: r.get(5)?,
        })
    }
}

impl Store {
    /// Adds the user to the group, refusing a user already in `max_groups` groups.
    pub async fn create_membership(
        &self,
        membership: &Membership,
        max_groups: i64,
    ) -> StoreResult<MembershipOutcome> {
        let m = membership.clone();
        self.write("create_membership", async move |db| {
            let store = &m.identity_store_id;
            if !db.exists(&LOCK_USER, &[store, &m.user_id]).await? {
                return Ok(MembershipOutcome::NoSuchUser);
            }
            if !db.exists(&GROUP_EXISTS, &[store, &m.group_id]).await? {
                return Ok(MembershipOutcome::NoSuchGroup);
            }
            if let Some(id) = db
                .query_opt(&FIND, &[store, &m.group_id, &m.user_id])
                .await?
            {
                return Ok(MembershipOutcome::AlreadyMember(id));
            }
            let count: i64 = db.query_one(&COUNT_OF_USER, &[&m.user_id]).await?;
            if count >= max_groups {
                return Ok(MembershipOutcome::TooManyGroups);
            }
            db.execute(
                &INSERT,
                &[
                    &m.membership_id,
                    store,
                    &m.group_id,
                    &m.user_id,
                    &m.created_at,
                ],
            )
            .await?;
            Ok(MembershipOutcome::Created)
        })
        .await
    }

    pub async fn get_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<Option<Membership>> {
        let (store, id) = (identity_store_id.to_string(), membership_id.to_string());
        self.read("get_membership", async move |db| {
            db.query_opt(&GET, &[&store, &id]).await
        })
        .await
    }

    pub async fn find_membership_id(
        &self,
        identity_store_id: &str,
        member: MemberOf<'_>,
    ) -> StoreResult<Option<String>> {
        let (store, group, user) = (
            identity_store_id.to_string(),
            member.group_id.to_string(),
            member.user_id.to_string(),
        );
        self.read("find_membership_id", async move |db| {
            db.query_opt(&FIND, &[&store, &group, &user]).await
        })
        .await
    }

    pub async fn delete_membership(
        &self,
        identity_store_id: &str,
        membership_id: &str,
    ) -> StoreResult<bool> {
        let (store, id) = (identity_store_id.to_string(), membership_id.to_string());
        self.write_one("delete_membership", async move |db| {
            Ok(db.execute(&DELETE, &[&store, &id]).await? > 0)
        })
        .await
    }

    pub async fn list_memberships_of_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
        page: Page,
    ) -> StoreResult<Vec<Membership>> {
        let (store, group) = (identity_store_id.to_string(), group_id.to_string());
        self.read("list_memberships_of_group", async move |db| {
            db.query(&OF_GROUP, &[&group, &store, &page.after_seq(), &page.limit])
                .await
        })
        .await
    }

    pub async fn list_memberships_of_user(
        &self,
        identity_store_id: &str,
        user_id: &str,
        page: Page,
    ) -> StoreResult<Vec<Membership>> {
        let (store, user) = (identity_store_id.to_string(), user_id.to_string());
        self.read("list_memberships_of_user", async move |db| {
            db.query(&OF_USER, &[&user, &store, &page.after_seq(), &page.limit])
                .await
        })
        .await
    }

    /// Which of `group_ids` the user is a member of, in the order asked.
    pub async fn groups_containing(
        &self,
        identity_store_id: &str,
        user_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<String>> {
        let (store, user, ids) = (
            identity_store_id.to_string(),
            user_id.to_string(),
            group_ids.to_vec(),
        );
        self.read("groups_containing", async move |db| {
            let found: Vec<String> = db
                .query(&GROUPS_CONTAINING, &[&store, &user, &TextList(&ids)])
                .await?;
            Ok(ids.into_iter().filter(|g| found.contains(g)).collect())
        })
        .await
    }
}
