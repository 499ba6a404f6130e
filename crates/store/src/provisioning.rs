//! SCIM provisioning: the tenants of an identity store (each one SCIM endpoint) and the bearer
//! tokens a tenant accepts.
//!
//! A token's value is never stored: only the SHA-256 of it (hex), unique over all tokens, by
//! which [`Store::scim_tenant_for_token`] finds it. Deleting a tenant deletes its tokens, and
//! deleting an identity store its tenants (foreign keys).

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Store, StoreResult};

/// Tenants one identity store may hold: automatic provisioning is on or off for a store.
pub const MAX_TENANTS_PER_STORE: i64 = 1;
/// Tokens one tenant may hold, expired ones included until they are deleted (room to rotate:
/// a new token is created before the old one is deleted).
pub const MAX_TOKENS_PER_TENANT: i64 = 2;

/// One SCIM endpoint of an identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimTenant {
    pub tenant_id: String,
    pub identity_store_id: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl FromRow for ScimTenant {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(ScimTenant {
            tenant_id: r.get(0)?,
            identity_store_id: r.get(1)?,
            created_at: r.get(2)?,
        })
    }
}

/// A bearer token of a tenant, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimToken {
    pub token_id: String,
    pub tenant_id: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub expires_at: i64,
}

impl FromRow for ScimToken {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(ScimToken {
            token_id: r.get(0)?,
            tenant_id: r.get(1)?,
            created_at: r.get(2)?,
            expires_at: r.get(3)?,
        })
    }
}

/// What creating a tenant or a token came to; nothing is written unless it is `Created`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisioningCreated {
    Created,
    /// The identity store (for a tenant) or the tenant (for a token) is gone.
    NoParent,
    /// The parent holds its limit already ([`MAX_TENANTS_PER_STORE`], [`MAX_TOKENS_PER_TENANT`]).
    Full,
}

/// Locks the identity store while a tenant is added, so that concurrent additions respect the
/// limit.
static STORE_LOCK: Sql =
    Sql::new("SELECT 1 FROM identity_stores WHERE identity_store_id = $1 FOR UPDATE");
static COUNT_TENANTS: Sql =
    Sql::new("SELECT COUNT(*) FROM scim_tenants WHERE identity_store_id = $1");
static INSERT_TENANT: Sql = Sql::new(
    "INSERT INTO scim_tenants (tenant_id, identity_store_id, created_at) VALUES ($1, $2, $3)",
);
static TENANTS: Sql = Sql::new(
    "SELECT tenant_id, identity_store_id, created_at FROM scim_tenants
     WHERE identity_store_id = $1 ORDER BY seq",
);
static TENANT: Sql = Sql::new(
    "SELECT tenant_id, identity_store_id, created_at FROM scim_tenants
     WHERE identity_store_id = $1 AND tenant_id = $2",
);
static DELETE_TENANT: Sql =
    Sql::new("DELETE FROM scim_tenants WHERE identity_store_id = $1 AND tenant_id = $2");
/// Locks the tenant (of this identity store) while a token is added.
static TENANT_LOCK: Sql = Sql::new(
    "SELECT 1 FROM scim_tenants WHERE identity_store_id = $1 AND tenant_id = $2 FOR UPDATE",
);
static COUNT_TOKENS: Sql = Sql::new("SELECT COUNT(*) FROM scim_tokens WHERE tenant_id = $1");
static INSERT_TOKEN: Sql = Sql::new(
    "INSERT INTO scim_tokens (token_id, tenant_id, token_sha256, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)",
);
static TOKENS: Sql = Sql::new(
    "SELECT k.token_id, k.tenant_id, k.created_at, k.expires_at
     FROM scim_tokens k JOIN scim_tenants t ON t.tenant_id = k.tenant_id
     WHERE t.identity_store_id = $1 AND k.tenant_id = $2 ORDER BY k.seq",
);
static DELETE_TOKEN: Sql = Sql::new(
    "DELETE FROM scim_tokens WHERE token_id = $3 AND tenant_id = $2 AND tenant_id IN
       (SELECT tenant_id FROM scim_tenants WHERE identity_store_id = $1)",
);
static TENANT_FOR_TOKEN: Sql = Sql::new(
    "SELECT t.tenant_id, t.identity_store_id, t.created_at
     FROM scim_tokens k JOIN scim_tenants t ON t.tenant_id = k.tenant_id
     WHERE k.token_sha256 = $1 AND k.tenant_id = $2 AND k.expires_at > $3",
);

/// The stored form of a bearer token's value.
fn token_hash(token: &str) -> String {
    iic_domain::crypto::sha256_hex(token.as_bytes())
}

/// Ends a creation that writes nothing.
fn refused(db: &mut Db<'_>, outcome: ProvisioningCreated) -> StoreResult<ProvisioningCreated> {
    db.discard();
    Ok(outcome)
}

impl Store {
    /// Adds a tenant to its identity store, unless the store is gone or holds
    /// [`MAX_TENANTS_PER_STORE`] already.
    pub async fn create_scim_tenant(
        &self,
        tenant: &ScimTenant,
    ) -> StoreResult<ProvisioningCreated> {
        let t = tenant.clone();
        self.write("create_scim_tenant", async move |db| {
            let sid = &t.identity_store_id;
            if !db.exists(&STORE_LOCK, &[sid]).await? {
                return refused(db, ProvisioningCreated::NoParent);
            }
            let held: i64 = db.query_one(&COUNT_TENANTS, &[sid]).await?;
            if held >= MAX_TENANTS_PER_STORE {
                return refused(db, ProvisioningCreated::Full);
            }
            db.execute(&INSERT_TENANT, &[&t.tenant_id, sid, &t.created_at])
                .await?;
            Ok(ProvisioningCreated::Created)
        })
        .await
    }

    /// The tenants of the identity store, oldest first.
    pub async fn scim_tenants(&self, identity_store_id: &str) -> StoreResult<Vec<ScimTenant>> {
        let sid = identity_store_id.to_string();
        self.read("scim_tenants", async move |db| {
            db.query(&TENANTS, &[&sid]).await
        })
        .await
    }

    /// One tenant of the identity store.
    pub async fn scim_tenant(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> StoreResult<Option<ScimTenant>> {
        let (sid, tid) = (identity_store_id.to_string(), tenant_id.to_string());
        self.read("scim_tenant", async move |db| {
            db.query_opt(&TENANT, &[&sid, &tid]).await
        })
        .await
    }

    /// Deletes a tenant of the identity store and its tokens; false when there is no such tenant.
    pub async fn delete_scim_tenant(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> StoreResult<bool> {
        let (sid, tid) = (identity_store_id.to_string(), tenant_id.to_string());
        self.write_one("delete_scim_tenant", async move |db| {
            Ok(db.execute(&DELETE_TENANT, &[&sid, &tid]).await? > 0)
        })
        .await
    }

    /// Adds a token whose value is `token` to its tenant (of the identity store), unless the
    /// tenant is gone or holds [`MAX_TOKENS_PER_TENANT`] already. Only the value's hash is kept.
    pub async fn create_scim_token(
        &self,
        identity_store_id: &str,
        record: &ScimToken,
        token: &str,
    ) -> StoreResult<ProvisioningCreated> {
        let (sid, k, hash) = (
            identity_store_id.to_string(),
            record.clone(),
            token_hash(token),
        );
        self.write("create_scim_token", async move |db| {
            if !db.exists(&TENANT_LOCK, &[&sid, &k.tenant_id]).await? {
                return refused(db, ProvisioningCreated::NoParent);
            }
            let held: i64 = db.query_one(&COUNT_TOKENS, &[&k.tenant_id]).await?;
            if held >= MAX_TOKENS_PER_TENANT {
                return refused(db, ProvisioningCreated::Full);
            }
            db.execute(
                &INSERT_TOKEN,
                &[
                    &k.token_id,
                    &k.tenant_id,
                    &hash,
                    &k.created_at,
                    &k.expires_at,
                ],
            )
            .await?;
            Ok(ProvisioningCreated::Created)
        })
        .await
    }

    /// The tokens of a tenant of the identity store (expired ones too), oldest first.
    pub async fn scim_tokens(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
    ) -> StoreResult<Vec<ScimToken>> {
        let (sid, tid) = (identity_store_id.to_string(), tenant_id.to_string());
        self.read("scim_tokens", async move |db| {
            db.query(&TOKENS, &[&sid, &tid]).await
        })
        .await
    }

    /// Deletes a token of a tenant of the identity store; false when there is no such token.
    pub async fn delete_scim_token(
        &self,
        identity_store_id: &str,
        tenant_id: &str,
        token_id: &str,
    ) -> StoreResult<bool> {
        let args = [identity_store_id, tenant_id, token_id].map(str::to_string);
        self.write_one("delete_scim_token", async move |db| {
            let [a, b, c] = &args;
            Ok(db.execute(&DELETE_TOKEN, &[a, b, c]).await? > 0)
        })
        .await
    }

    /// The tenant whose live (not expired at `now`, not deleted) token is `token` (the secret the
    /// client sends after "Bearer "), when that tenant is `tenant_id`. None otherwise.
    pub async fn scim_tenant_for_token(
        &self,
        tenant_id: &str,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<ScimTenant>> {
        let (hash, tid) = (token_hash(token), tenant_id.to_string());
        self.read("scim_tenant_for_token", async move |db| {
            db.query_opt(&TENANT_FOR_TOKEN, &[&hash, &tid, &now]).await
        })
        .await
    }
}
