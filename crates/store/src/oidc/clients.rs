//! Registered OIDC clients, and the portal an instance is reached by.

use super::OidcClient;
use crate::db::{to_json, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::instances::instance_columns;
use crate::{Instance, Store, StoreResult};

static INSERT: Sql = Sql::new(
    "INSERT INTO oidc_clients (client_id, secret_sha256, name, client_type, scopes, grant_types,
                               issued_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
);
static GET: Sql = Sql::new(
    "SELECT client_id, secret_sha256, name, client_type, scopes, grant_types, issued_at, expires_at
     FROM oidc_clients WHERE client_id = $1",
);
static PORTAL_INSTANCE: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE identity_store_id = $1 OR alias = $1 ORDER BY seq LIMIT 1"
));

impl FromRow for OidcClient {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(OidcClient {
            client_id: r.get(0)?,
            secret_sha256: r.get(1)?,
            name: r.get(2)?,
            client_type: r.get(3)?,
            scopes: r.json(4)?,
            grant_types: r.json(5)?,
            issued_at: r.get(6)?,
            expires_at: r.get(7)?,
        })
    }
}

impl Store {
    pub async fn register_oidc_client(&self, client: &OidcClient) -> StoreResult<()> {
        let c = client.clone();
        self.write_one("register_oidc_client", async move |db| {
            let scopes = to_json("register_oidc_client", &c.scopes)?;
            let grant_types = to_json("register_oidc_client", &c.grant_types)?;
            db.execute(
                &INSERT,
                &[
                    &c.client_id,
                    &c.secret_sha256,
                    &c.name,
                    &c.client_type,
                    &scopes,
                    &grant_types,
                    &c.issued_at,
                    &c.expires_at,
                ],
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// The client, expired or not (the caller tells `invalid_client` apart by its expiry).
    pub async fn get_oidc_client(&self, client_id: &str) -> StoreResult<Option<OidcClient>> {
        let id = client_id.to_string();
        self.read("get_oidc_client", async move |db| {
            db.query_opt(&GET, &[&id]).await
        })
        .await
    }

    /// The instance whose user portal is named by `key`: its identity store id or its alias.
    pub async fn find_portal_instance(&self, key: &str) -> StoreResult<Option<Instance>> {
        let key = key.to_string();
        self.read("find_portal_instance", async move |db| {
            db.query_opt(&PORTAL_INSTANCE, &[&key]).await
        })
        .await
    }
}
