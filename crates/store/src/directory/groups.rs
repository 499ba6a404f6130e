//! Groups of identity stores.

use super::principals::{self, NewRow, Principals};
use crate::db::to_json;
use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::{CreateOutcome, Group, Page, PrincipalKey, Store, StoreResult, UpdateOutcome};

static GROUPS: Principals = Principals {
    kind: "group",
    name_taken: Sql::new(
        "SELECT 1 FROM directory_groups WHERE identity_store_id = $1 AND display_name_lower = $2 AND group_id <> $3",
    ),
    take_quota: Sql::new(
        "UPDATE identity_stores SET groups_count = groups_count + 1
         WHERE identity_store_id = $1 AND groups_count < $2",
    ),
    release_quota: Sql::new(
        "UPDATE identity_stores SET groups_count = groups_count - 1 WHERE identity_store_id = $1",
    ),
    delete: Sql::new("DELETE FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2"),
    find_by_name: Sql::new(
        "SELECT group_id FROM directory_groups WHERE identity_store_id = $1 AND display_name_lower = $2",
    ),
};

static INSERT: Sql = Sql::new(
    "INSERT INTO directory_groups (group_id, identity_store_id, display_name_lower, profile, external_ids, created_at, created_by, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
);
static UPDATE: Sql = Sql::new(
    "UPDATE directory_groups SET display_name_lower = $3, profile = $4, external_ids = $5, updated_at = $6, updated_by = $7
     WHERE identity_store_id = $1 AND group_id = $2",
);
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2"
));
static MANY: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1 AND group_id = ANY($2)"
));
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
/// A name prefix as a range of the bytewise-sorted lower-cased name: `[prefix, upper)`.
static PAGE_BY_PREFIX: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1 AND seq > $2
     AND display_name_lower >= $4 AND display_name_lower < $5 ORDER BY seq LIMIT $3"
));

/// Upper bound of a prefix range: every string starting with `prefix` sorts below it bytewise.
fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

impl FromRow for Group {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Group {
            seq: r.get(0)?,
            group_id: r.get(1)?,
            identity_store_id: r.get(2)?,
            profile: r.json(3)?,
            external_ids: r.json(4)?,
            created_at: r.get(5)?,
            created_by: r.get(6)?,
            updated_at: r.get(7)?,
            updated_by: r.get(8)?,
        })
    }
}

impl Store {
    /// Inserts the group unless its name is taken or the store is at `quota` groups.
    pub async fn create_group(&self, group: &Group, quota: i64) -> StoreResult<CreateOutcome> {
        let g = group.clone();
        let json = GroupJson::of("create_group", &g)?;
        self.write("create_group", async move |db| {
            insert(db, &g, &json, quota).await
        })
        .await
    }

    pub async fn get_group(
        &self,
        identity_store_id: &str,
        group_id: &str,
    ) -> StoreResult<Option<Group>> {
        let (store, id) = (identity_store_id.to_string(), group_id.to_string());
        self.read("get_group", async move |db| {
            db.query_opt(&GET, &[&store, &id]).await
        })
        .await
    }

    /// The groups among `group_ids` that exist, in the order asked.
    pub async fn get_groups(
        &self,
        identity_store_id: &str,
        group_ids: &[String],
    ) -> StoreResult<Vec<Group>> {
        let (store, ids) = (identity_store_id.to_string(), group_ids.to_vec());
        self.read("get_groups", async move |db| {
            let found = db.query(&MANY, &[&store, &TextList(&ids)]).await?;
            Ok(principals::in_order_of(&ids, found, |g: &Group| {
                &g.group_id
            }))
        })
        .await
    }

    /// By display name or external id; groups have no e-mail address.
    pub async fn find_group_id(
        &self,
        identity_store_id: &str,
        key: &PrincipalKey,
    ) -> StoreResult<Option<String>> {
        let (store, key) = (identity_store_id.to_string(), key.clone());
        self.read("find_group_id", async move |db| {
            principals::find(db, &GROUPS, &store, &key, None).await
        })
        .await
    }

    /// Keyset page in creation order; `display_name` filters by name prefix, case-insensitively.
    pub async fn list_groups(
        &self,
        identity_store_id: &str,
        display_name: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<Group>> {
        let (store, prefix) = (
            identity_store_id.to_string(),
            display_name.map(str::to_lowercase),
        );
        self.read("list_groups", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match prefix {
                None => db.query(&PAGE, &[&store, &after, &limit]).await,
                Some(p) => {
                    let upper = prefix_upper_bound(&p);
                    db.query(&PAGE_BY_PREFIX, &[&store, &after, &limit, &p, &upper])
                        .await
                }
            }
        })
        .await
    }

    pub async fn update_group(&self, group: &Group) -> StoreResult<UpdateOutcome> {
        let g = group.clone();
        let json = GroupJson::of("update_group", &g)?;
        self.write_one("update_group", async move |db| {
            save(db, &g, &json, false).await
        })
        .await
    }

    /// Deletes the group, its memberships, external ids and assignments in one transaction.
    pub async fn delete_group(&self, identity_store_id: &str, group_id: &str) -> StoreResult<bool> {
        let (store, id) = (identity_store_id.to_string(), group_id.to_string());
        self.write("delete_group", async move |db| {
            principals::delete(db, &GROUPS, &store, &id).await
        })
        .await
    }
}

/// A group's profile and external ids as stored.
pub(super) struct GroupJson {
    profile: String,
    external: String,
}

impl GroupJson {
    pub(super) fn of(op: &'static str, g: &Group) -> StoreResult<GroupJson> {
        Ok(GroupJson {
            profile: to_json(op, &g.profile)?,
            external: to_json(op, &g.external_ids)?,
        })
    }
}

/// Inserts `g` in the transaction of `db`.
pub(super) async fn insert(
    db: &mut Db<'_>,
    g: &Group,
    json: &GroupJson,
    quota: i64,
) -> StoreResult<CreateOutcome> {
    let name = g.profile.display_name.to_lowercase();
    let row = NewRow {
        store_id: &g.identity_store_id,
        id: &g.group_id,
        name_lower: &name,
        insert: &INSERT,
        params: &[
            &g.group_id,
            &g.identity_store_id,
            &name,
            &json.profile,
            &json.external,
            &g.created_at,
            &g.created_by,
            &g.updated_at,
            &g.updated_by,
        ],
        external_ids: &g.external_ids,
    };
    principals::create(db, &GROUPS, row, quota).await
}

/// Writes `g` over the stored group in the transaction of `db`; with `external_ids_changed`,
/// the external-id index follows.
pub(super) async fn save(
    db: &mut Db<'_>,
    g: &Group,
    json: &GroupJson,
    external_ids_changed: bool,
) -> StoreResult<UpdateOutcome> {
    let name = g.profile.display_name.to_lowercase();
    let outcome = principals::update(
        db,
        &UPDATE,
        &[
            &g.identity_store_id,
            &g.group_id,
            &name,
            &json.profile,
            &json.external,
            &g.updated_at,
            &g.updated_by,
        ],
    )
    .await?;
    if outcome == UpdateOutcome::Updated && external_ids_changed {
        let (store, id) = (&g.identity_store_id, &g.group_id);
        principals::replace_external_ids(db, GROUPS.kind, store, id, &g.external_ids).await?;
    }
    Ok(outcome)
}
