//! What the SCIM API asks of the directory: a group's members changed in bulk, the member ids
//! of groups, pages by offset in creation order, and counts.

use crate::db::{Db, FromRow, Param, Row, Sql, TextList};
use crate::error::BoxError;
use crate::{Group, Store, StoreResult, User};
use std::collections::{HashMap, HashSet};

/// What [`Store::change_group_members`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkMembers {
    Done {
        added: u64,
        removed: u64,
    },
    NoSuchGroup,
    /// Ids to add that are no users of the store: the first few of them, in the order given.
    UnknownUsers(Vec<String>),
    /// This user to add already belongs to the most groups a user may belong to.
    TooManyGroups(String),
}

/// Ids per `= ANY($n)` list, and statements per pipelined batch.
const CHUNK: usize = 1000;
/// How many unknown ids a refusal names.
const UNKNOWN_LISTED: usize = 10;

/// Serializes bulk changes of the group's members. Not `FOR UPDATE`: that would also hold off
/// the key-share lock a single membership's insertion takes on the group, while that insertion
/// holds its user's lock, which this change may be waiting for.
static LOCK_GROUP: Sql = Sql::new(
    "SELECT 1 FROM directory_groups WHERE identity_store_id = $1 AND group_id = $2 FOR NO KEY UPDATE",
);
/// Locked in id order (the ids come sorted), so that concurrent changes wait for each other
/// rather than deadlock; the lock keeps each user's limit on groups, as adding one membership
/// does.
static LOCK_USERS: Sql = Sql::new(
    "SELECT user_id FROM users WHERE identity_store_id = $1 AND user_id = ANY($2) ORDER BY user_id FOR UPDATE",
);
static MEMBER_IDS: Sql = Sql::new(
    "SELECT user_id FROM memberships WHERE group_id = $1 AND identity_store_id = $2 ORDER BY seq",
);
static MEMBER_IDS_OF: Sql = Sql::new(
    "SELECT group_id, user_id FROM memberships WHERE identity_store_id = $1 AND group_id = ANY($2) ORDER BY seq",
);
static AT_LIMIT: Sql = Sql::new(
    "SELECT user_id FROM memberships WHERE user_id = ANY($1) GROUP BY user_id HAVING COUNT(*) >= $2",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO memberships (membership_id, identity_store_id, group_id, user_id, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (group_id, user_id) DO NOTHING",
);
static DELETE: Sql = Sql::new(
    "DELETE FROM memberships WHERE group_id = $1 AND identity_store_id = $2 AND user_id = ANY($3)",
);
static TOUCH_GROUP: Sql = Sql::new(
    "UPDATE directory_groups SET updated_at = $3 WHERE identity_store_id = $1 AND group_id = $2",
);
static USERS_FROM: Sql = Sql::new(concat!(
    "SELECT ",
    user_columns!(),
    " FROM users WHERE identity_store_id = $1 ORDER BY seq LIMIT $3 OFFSET $2"
));
static GROUPS_FROM: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1 ORDER BY seq LIMIT $3 OFFSET $2"
));
static GROUPS_WITH_MEMBER: Sql = Sql::new(concat!(
    "SELECT ",
    group_columns!(),
    " FROM directory_groups WHERE identity_store_id = $1
     AND group_id IN (SELECT group_id FROM memberships WHERE user_id = $2) ORDER BY seq"
));
static COUNTS: Sql =
    Sql::new("SELECT users_count, groups_count FROM identity_stores WHERE identity_store_id = $1");

struct Pair(String, String);

impl FromRow for Pair {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Pair(r.get(0)?, r.get(1)?))
    }
}

struct Counts(i64, i64);

impl FromRow for Counts {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Counts(r.get(0)?, r.get(1)?))
    }
}

/// The members a change leaves: `to_add` in the order given, `to_remove` among `current`.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    to_add: Vec<String>,
    to_remove: Vec<String>,
}

fn plan(current: &[String], replace: Option<&[String]>, add: &[String], remove: &[String]) -> Plan {
    let mut kept: Vec<&String> = Vec::new();
    let mut seen: HashSet<&String> = HashSet::new();
    for id in replace.unwrap_or(current).iter().chain(add) {
        if seen.insert(id) {
            kept.push(id);
        }
    }
    let removed: HashSet<&String> = remove.iter().collect();
    kept.retain(|id| !removed.contains(id));
    let after: HashSet<&String> = kept.iter().copied().collect();
    let before: HashSet<&String> = current.iter().collect();
    Plan {
        to_add: kept
            .into_iter()
            .filter(|id| !before.contains(id))
            .cloned()
            .collect(),
        to_remove: current
            .iter()
            .filter(|id| !after.contains(id))
            .cloned()
            .collect(),
    }
}

/// Which of `ids` are users of the store, each locked until the transaction ends.
async fn lock_users(db: &mut Db<'_>, store: &str, ids: &[String]) -> StoreResult<HashSet<String>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    let mut found = HashSet::with_capacity(ids.len());
    for chunk in sorted.chunks(CHUNK) {
        let rows: Vec<String> = db.query(&LOCK_USERS, &[&store, &TextList(chunk)]).await?;
        found.extend(rows);
    }
    Ok(found)
}

/// The first of `ids` already in `max_groups` groups.
async fn first_at_limit(
    db: &mut Db<'_>,
    ids: &[String],
    max_groups: i64,
) -> StoreResult<Option<String>> {
    let mut full = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<String> = db
            .query(&AT_LIMIT, &[&TextList(chunk), &max_groups])
            .await?;
        full.extend(rows);
    }
    Ok(ids.iter().find(|id| full.contains(*id)).cloned())
}

/// Inserts the memberships; returns how many were new (a single membership added meanwhile,
/// after the members were read, is kept as it is).
async fn insert_members(
    db: &mut Db<'_>,
    store: &str,
    group: &str,
    ids: &[String],
    now: i64,
) -> StoreResult<u64> {
    let mut added = 0;
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(String, &String)> = chunk
            .iter()
            .map(|user| (iic_domain::directory::principal_id(store), user))
            .collect();
        let params: Vec<[&dyn Param; 5]> = rows
            .iter()
            .map(|(membership, user)| {
                [
                    membership as &dyn Param,
                    &store,
                    &group,
                    *user as &dyn Param,
                    &now,
                ]
            })
            .collect();
        let statements: Vec<(&Sql, &[&dyn Param])> =
            params.iter().map(|p| (&INSERT, &p[..])).collect();
        added += db.execute_all(&statements).await?.into_iter().sum::<u64>();
    }
    Ok(added)
}

async fn delete_members(
    db: &mut Db<'_>,
    store: &str,
    group: &str,
    ids: &[String],
) -> StoreResult<u64> {
    let mut removed = 0;
    for chunk in ids.chunks(CHUNK) {
        removed += db
            .execute(&DELETE, &[&group, &store, &TextList(chunk)])
            .await?;
    }
    Ok(removed)
}

/// The body of [`Store::change_group_members`], in its transaction.
#[allow(clippy::too_many_arguments)]
async fn change(
    db: &mut Db<'_>,
    store: &str,
    group: &str,
    replace: Option<&[String]>,
    add: &[String],
    remove: &[String],
    max_groups: i64,
    now: i64,
) -> StoreResult<BulkMembers> {
    if !db.exists(&LOCK_GROUP, &[&store, &group]).await? {
        return Ok(BulkMembers::NoSuchGroup);
    }
    let current: Vec<String> = db.query(&MEMBER_IDS, &[&group, &store]).await?;
    let members: HashSet<&String> = current.iter().collect();
    let mut seen = HashSet::new();
    let candidates: Vec<String> = replace
        .unwrap_or_default()
        .iter()
        .chain(add)
        .filter(|id| !members.contains(id) && seen.insert(*id))
        .cloned()
        .collect();
    let known = lock_users(db, store, &candidates).await?;
    let unknown: Vec<String> = candidates
        .iter()
        .filter(|id| !known.contains(*id))
        .take(UNKNOWN_LISTED)
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Ok(BulkMembers::UnknownUsers(unknown));
    }
    let plan = plan(&current, replace, add, remove);
    if let Some(user) = first_at_limit(db, &plan.to_add, max_groups).await? {
        return Ok(BulkMembers::TooManyGroups(user));
    }
    let removed = delete_members(db, store, group, &plan.to_remove).await?;
    let added = insert_members(db, store, group, &plan.to_add, now).await?;
    if added + removed > 0 {
        db.execute(&TOUCH_GROUP, &[&store, &group, &now]).await?;
    }
    Ok(BulkMembers::Done { added, removed })
}

impl Store {
    /// In one transaction: replaces every member with `replace` when given, then adds `add`,
    /// then removes `remove`. Adding a member twice, or removing a non-member (or no user at
    /// all), is no error; an id to add that is no user of the store refuses the whole change,
    /// as does a user to add already in `max_groups` groups. The group's `updated_at` becomes
    /// `now` when its members change.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_group_members(
        &self,
        identity_store_id: &str,
        group_id: &str,
        replace: Option<&[String]>,
        add: &[String],
        remove: &[String],
        max_groups: i64,
        now: i64,
    ) -> StoreResult<BulkMembers> {
        let (store, group) = (identity_store_id.to_string(), group_id.to_string());
        let replace = replace.map(<[String]>::to_vec);
        let (add, remove) = (add.to_vec(), remove.to_vec());
        self.write("change_group_members", async move |db| {
            let replace = replace.as_deref();
            change(db, &store, &group, replace, &add, &remove, max_groups, now).await
        })
        .await
    }

    /// Every member's user id, in the order they joined.
    pub async fn group_member_ids(
        &self,
        identity_store_id: &str,
        group_id: &str,
    ) -> StoreResult<Vec<String>> {
        let (store, group) = (identity_store_id.to_string(), group_id.to_string());
        self.read("group_member_ids", async move |db| {
            db.query(&MEMBER_IDS, &[&group, &store]).await
        })
        .await
    }

    /// The member ids of each of `group_ids`, in the order they joined; a group without members
    /// (or no group at all) maps to an empty list.
    pub async fn group_member_ids_of(
        &self,
        identity_store_id: &str,
        group_ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<String>>> {
        let (store, ids) = (identity_store_id.to_string(), group_ids.to_vec());
        self.read("group_member_ids_of", async move |db| {
            let mut of: HashMap<String, Vec<String>> =
                ids.iter().map(|g| (g.clone(), Vec::new())).collect();
            for chunk in ids.chunks(CHUNK) {
                let rows: Vec<Pair> = db
                    .query(&MEMBER_IDS_OF, &[&store, &TextList(chunk)])
                    .await?;
                for Pair(group, user) in rows {
                    of.entry(group).or_default().push(user);
                }
            }
            Ok(of)
        })
        .await
    }

    /// Users in creation order, skipping the first `offset`, at most `limit`.
    pub async fn users_from(
        &self,
        identity_store_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<User>> {
        let store = identity_store_id.to_string();
        let (offset, limit) = (offset.max(0), limit.max(0));
        self.read("users_from", async move |db| {
            db.query(&USERS_FROM, &[&store, &offset, &limit]).await
        })
        .await
    }

    /// Groups in creation order, skipping the first `offset`, at most `limit`.
    pub async fn groups_from(
        &self,
        identity_store_id: &str,
        offset: i64,
        limit: i64,
    ) -> StoreResult<Vec<Group>> {
        let store = identity_store_id.to_string();
        let (offset, limit) = (offset.max(0), limit.max(0));
        self.read("groups_from", async move |db| {
            db.query(&GROUPS_FROM, &[&store, &offset, &limit]).await
        })
        .await
    }

    /// How many users and groups the store holds; (0, 0) for no store.
    pub async fn directory_counts(&self, identity_store_id: &str) -> StoreResult<(i64, i64)> {
        let store = identity_store_id.to_string();
        self.read("directory_counts", async move |db| {
            let counts: Option<Counts> = db.query_opt(&COUNTS, &[&store]).await?;
            Ok(counts.map_or((0, 0), |Counts(users, groups)| (users, groups)))
        })
        .await
    }

    /// The groups `user_id` is a member of, in creation order.
    pub async fn groups_with_member(
        &self,
        identity_store_id: &str,
        user_id: &str,
    ) -> StoreResult<Vec<Group>> {
        let (store, user) = (identity_store_id.to_string(), user_id.to_string());
        self.read("groups_with_member", async move |db| {
            db.query(&GROUPS_WITH_MEMBER, &[&store, &user]).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_plan_replaces_then_adds_then_removes() {
        let current = ids(&["a", "b", "c"]);
        let p = plan(
            &current,
            Some(&ids(&["c", "d", "d"])),
            &ids(&["e", "a", "e"]),
            &ids(&["d", "x"]),
        );
        assert_eq!(p.to_add, ids(&["e"]));
        assert_eq!(p.to_remove, ids(&["b"]));
        let p = plan(&current, None, &ids(&["a", "f"]), &ids(&["c", "f"]));
        assert_eq!(p.to_add, Vec::<String>::new());
        assert_eq!(p.to_remove, ids(&["c"]));
    }
}

/// What a SCIM write of a group and its members came to. Anything but `Done` wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupWrite {
    Done,
    NameTaken,
    NoSuchGroup,
    QuotaExceeded,
    NoSuchStore,
    UnknownUsers(Vec<String>),
    TooManyGroups(String),
}

impl GroupWrite {
    fn of_members(outcome: BulkMembers) -> GroupWrite {
        match outcome {
            BulkMembers::Done { .. } => GroupWrite::Done,
            BulkMembers::NoSuchGroup => GroupWrite::NoSuchGroup,
            BulkMembers::UnknownUsers(ids) => GroupWrite::UnknownUsers(ids),
            BulkMembers::TooManyGroups(user) => GroupWrite::TooManyGroups(user),
        }
    }
}

/// How a group's members change in a [`Store::write_group`].
#[derive(Debug, Clone, Default)]
pub struct MemberDelta {
    pub replace: Option<Vec<String>>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl MemberDelta {
    fn is_empty(&self) -> bool {
        self.replace.is_none() && self.add.is_empty() && self.remove.is_empty()
    }
}

/// Which write of the group itself comes with the members' change.
#[derive(Debug, Clone)]
pub enum GroupRow {
    /// A new group, within the store's quota of groups.
    Create { group: Group, quota: i64 },
    /// New values for an existing group.
    Update(Group),
    /// The group as it is, named by store and id.
    Keep {
        identity_store_id: String,
        group_id: String,
    },
}

impl Store {
    /// Creates or updates a group and changes its members in one transaction: nothing is
    /// written unless everything is.
    pub async fn write_group(
        &self,
        row: GroupRow,
        members: MemberDelta,
        max_groups: i64,
        now: i64,
    ) -> StoreResult<GroupWrite> {
        let json = match &row {
            GroupRow::Create { group, .. } | GroupRow::Update(group) => {
                Some(super::groups::GroupJson::of("write_group", group)?)
            }
            GroupRow::Keep { .. } => None,
        };
        self.write("write_group", async move |db| {
            let (store, group_id) = match (&row, &json) {
                (GroupRow::Create { group, quota }, Some(json)) => {
                    match super::groups::insert(db, group, json, *quota).await? {
                        crate::CreateOutcome::Created => {}
                        crate::CreateOutcome::NameTaken => return Ok(GroupWrite::NameTaken),
                        crate::CreateOutcome::QuotaExceeded => {
                            return Ok(GroupWrite::QuotaExceeded)
                        }
                        crate::CreateOutcome::NoSuchStore => return Ok(GroupWrite::NoSuchStore),
                    }
                    (&group.identity_store_id, &group.group_id)
                }
                (GroupRow::Update(group), Some(json)) => {
                    match super::groups::save(db, group, json, true).await? {
                        crate::UpdateOutcome::Updated => {}
                        crate::UpdateOutcome::NameTaken => {
                            db.discard();
                            return Ok(GroupWrite::NameTaken);
                        }
                        crate::UpdateOutcome::NotFound => return Ok(GroupWrite::NoSuchGroup),
                    }
                    (&group.identity_store_id, &group.group_id)
                }
                (
                    GroupRow::Keep {
                        identity_store_id,
                        group_id,
                    },
                    _,
                ) => (identity_store_id, group_id),
                _ => return Ok(GroupWrite::NoSuchGroup),
            };
            if members.is_empty() {
                return Ok(GroupWrite::Done);
            }
            let outcome = change(
                db,
                store,
                group_id,
                members.replace.as_deref(),
                &members.add,
                &members.remove,
                max_groups,
                now,
            )
            .await?;
            let outcome = GroupWrite::of_members(outcome);
            if outcome != GroupWrite::Done {
                db.discard();
            }
            Ok(outcome)
        })
        .await
    }
}
