//! What policy evaluation needs to know about a temporary credential: who holds it, whether
//! they signed in with MFA, and the permission set as it is provisioned on the credential's
//! account now (the agency's policies take effect for credentials already issued, as the
//! cloud's agencies do). Also the tags of a permission set a request targets.

use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};
use iic_domain::access_control::PrincipalTags;
use iic_domain::organizations::Tag;

static AGENCY: Sql = Sql::new(
    "SELECT c.user_id, u.profile, c.instance_id, c.permission_set_id, c.mfa_present,
            ps.version, ps.snapshot, c.principal_tags
     FROM credentials c
     LEFT JOIN users u ON u.user_id = c.user_id
     LEFT JOIN provisioned_sets ps
            ON ps.permission_set_id = c.permission_set_id AND ps.account_id = c.account_id
     WHERE c.access_key = $1 AND c.session_id IS NOT NULL AND c.revoked_at IS NULL",
);
static SET_TAGS: Sql =
    Sql::new("SELECT instance_id, content FROM permission_sets WHERE permission_set_id = $1");

/// The holder and agency of a temporary credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRecord {
    pub user_id: String,
    /// None when the user was deleted since the credential was issued.
    pub user_name: Option<String>,
    pub instance_id: String,
    pub permission_set_id: String,
    pub mfa_present: bool,
    /// The provisioned version and snapshot; None when the set left the account.
    pub provisioned: Option<(i64, String)>,
    /// The session tags resolved at sign-in from the instance's access-control attributes.
    pub principal_tags: PrincipalTags,
}

impl FromRow for AgencyRecord {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let profile: Option<String> = r.get(1)?;
        let user_name = profile
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|p| p.get("user_name")?.as_str().map(str::to_string));
        let version: Option<i64> = r.get(5)?;
        let snapshot: Option<String> = r.get(6)?;
        let mfa_present: Option<bool> = r.get(4)?;
        Ok(AgencyRecord {
            user_id: r.get(0)?,
            user_name,
            instance_id: r.get(2)?,
            permission_set_id: r.get(3)?,
            mfa_present: mfa_present.unwrap_or(false),
            provisioned: version.zip(snapshot),
            principal_tags: r.json(7)?,
        })
    }
}

/// A permission set's instance and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetTags {
    pub instance_id: String,
    pub tags: Vec<Tag>,
}

impl FromRow for SetTags {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let content: iic_domain::permission_set::PermissionSetContent = r.json(1)?;
        Ok(SetTags {
            instance_id: r.get(0)?,
            tags: content.tags,
        })
    }
}

impl Store {
    /// The agency of the live temporary credential `access_key`, or None for a permanent,
    /// unknown or revoked one.
    pub async fn agency_of_credential(
        &self,
        access_key: &str,
    ) -> StoreResult<Option<AgencyRecord>> {
        let key = access_key.to_string();
        self.read("agency_of_credential", async move |db| {
            db.query_opt(&AGENCY, &[&key]).await
        })
        .await
    }

    /// The instance and tags of the permission set `permission_set_id`, when it exists.
    pub async fn permission_set_tags(
        &self,
        permission_set_id: &str,
    ) -> StoreResult<Option<SetTags>> {
        let id = permission_set_id.to_string();
        self.read("permission_set_tags", async move |db| {
            db.query_opt(&SET_TAGS, &[&id]).await
        })
        .await
    }
}
