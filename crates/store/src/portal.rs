//! What the user portal lists: the accounts a user is assigned to and the permission sets they
//! hold there, directly or through any of their groups. Both read the user's assignments by the
//! index on (instance, principal), so their cost follows the user's assignments, not the tables.

use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{AssignedAccount, AssignedSet, Page, Store, StoreResult};
use iic_domain::assignment::PrincipalType;
use iic_domain::names::Named;
use iic_domain::organizations::AccountStatus;

/// The principals that stand for user $2: the user and each of their groups; an assignment
/// counts when its principal type matches ($3 user, $4 group).
macro_rules! held_by_user {
    () => {
        "x.instance_id = $1
         AND x.principal_id IN (SELECT $2 UNION ALL SELECT m.group_id FROM memberships m WHERE m.user_id = $2)
         AND x.principal_type = CASE WHEN x.principal_id = $2 THEN $3 ELSE $4 END"
    };
}

static ACCOUNTS: Sql = Sql::new(concat!(
    "SELECT DISTINCT a.seq, a.id, a.name, a.email
     FROM account_assignments x JOIN accounts a ON a.id = x.account_id
     WHERE ",
    held_by_user!(),
    " AND a.status = $5 AND a.seq > $6 ORDER BY a.seq LIMIT $7"
));
static SETS: Sql = Sql::new(concat!(
    "SELECT DISTINCT p.seq, p.permission_set_id, p.name, p.description
     FROM account_assignments x JOIN permission_sets p ON p.permission_set_id = x.permission_set_id
     WHERE ",
    held_by_user!(),
    " AND x.account_id = $5 AND p.seq > $6 ORDER BY p.seq LIMIT $7"
));

impl FromRow for AssignedAccount {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AssignedAccount {
            seq: r.get(0)?,
            account_id: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
        })
    }
}

impl FromRow for AssignedSet {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AssignedSet {
            seq: r.get(0)?,
            permission_set_id: r.get(1)?,
            name: r.get(2)?,
            description: r.get(3)?,
        })
    }
}

impl Store {
    /// Keyset page of the active accounts user `user_id` is assigned to in the instance, each
    /// once, in account order.
    pub async fn list_assigned_accounts(
        &self,
        instance_id: &str,
        user_id: &str,
        page: Page,
    ) -> StoreResult<Vec<AssignedAccount>> {
        let (instance, user) = (instance_id.to_string(), user_id.to_string());
        self.read("list_assigned_accounts", async move |db| {
            let (u, g) = (PrincipalType::User.name(), PrincipalType::Group.name());
            let active = AccountStatus::Active.name();
            let (after, limit) = (page.after_seq(), page.limit);
            db.query(
                &ACCOUNTS,
                &[&instance, &user, &u, &g, &active, &after, &limit],
            )
            .await
        })
        .await
    }

    /// Keyset page of the permission sets user `user_id` is assigned on account `account_id`,
    /// each once, in set order.
    pub async fn list_assigned_sets(
        &self,
        instance_id: &str,
        user_id: &str,
        account_id: &str,
        page: Page,
    ) -> StoreResult<Vec<AssignedSet>> {
        let (instance, user, account) = (
            instance_id.to_string(),
            user_id.to_string(),
            account_id.to_string(),
        );
        self.read("list_assigned_sets", async move |db| {
            let (u, g) = (PrincipalType::User.name(), PrincipalType::Group.name());
            let (after, limit) = (page.after_seq(), page.limit);
            db.query(&SETS, &[&instance, &user, &u, &g, &account, &after, &limit])
                .await
        })
        .await
    }
}
