//! Identity stores: users, groups, memberships and the password policy.

/// The columns a `User` is read from, in `FromRow` order.
macro_rules! user_columns {
    () => {
        "seq, user_id, identity_store_id, profile, external_ids, enabled, email_verified, password_hash, password_reset_email_owed, created_at, created_by, updated_at, updated_by, password_must_change, active_assigned"
    };
}

/// The columns a `Group` is read from, in `FromRow` order.
macro_rules! group_columns {
    () => {
        "seq, group_id, identity_store_id, profile, external_ids, created_at, created_by, updated_at, updated_by"
    };
}

mod groups;
mod memberships;
mod principals;
mod scim;
mod users;

pub(crate) use principals::deprovision_for_principal;
pub use scim::{BulkMembers, GroupRow, GroupWrite, MemberDelta};

use crate::db::{to_json, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{IdentityStoreInfo, PasswordPolicy, Store, StoreResult};

static INFO: Sql = Sql::new(
    "SELECT identity_store_id, instance_id, organization_id, users_count, groups_count, password_policy
     FROM identity_stores WHERE identity_store_id = $1",
);
static SET_POLICY: Sql =
    Sql::new("UPDATE identity_stores SET password_policy = $2 WHERE identity_store_id = $1");

impl FromRow for IdentityStoreInfo {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let policy: Option<String> = r.get(5)?;
        Ok(IdentityStoreInfo {
            identity_store_id: r.get(0)?,
            instance_id: r.get(1)?,
            organization_id: r.get(2)?,
            users: r.get(3)?,
            groups: r.get(4)?,
            // A policy that no longer reads back is the default one.
            password_policy: policy.and_then(|p| serde_json::from_str(&p).ok()),
        })
    }
}

impl Store {
    pub async fn identity_store(
        &self,
        identity_store_id: &str,
    ) -> StoreResult<Option<IdentityStoreInfo>> {
        let id = identity_store_id.to_string();
        self.read("identity_store", async move |db| {
            db.query_opt(&INFO, &[&id]).await
        })
        .await
    }

    /// False when there is no such identity store.
    pub async fn set_password_policy(
        &self,
        identity_store_id: &str,
        policy: &PasswordPolicy,
    ) -> StoreResult<bool> {
        let (id, json) = (
            identity_store_id.to_string(),
            to_json("set_password_policy", policy)?,
        );
        self.write_one("set_password_policy", async move |db| {
            Ok(db.execute(&SET_POLICY, &[&id, &json]).await? > 0)
        })
        .await
    }
}
