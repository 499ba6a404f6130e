//! Attributes for access control: one configuration per instance that enabled them (its
//! attributes as the wire's JSON array), removed with the instance. Sessions resolve it into
//! their principal tags when they open (`sessions.rs`).

use crate::db::{to_json, Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{AccessControlConfiguration, AccessControlWrite, Store, StoreResult};
use iic_domain::access_control::{AccessControlAttribute, Configuration};

static INSTANCE_EXISTS: Sql = Sql::new("SELECT 1 FROM instances WHERE instance_id = $1");
static GET: Sql = Sql::new(
    "SELECT attributes, created_at, updated_at FROM access_control_attribute_configurations
     WHERE instance_id = $1",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO access_control_attribute_configurations (instance_id, attributes, created_at, updated_at)
     VALUES ($1, $2, $3, $3) ON CONFLICT (instance_id) DO NOTHING",
);
static UPDATE: Sql = Sql::new(
    "UPDATE access_control_attribute_configurations SET attributes = $2, updated_at = $3
     WHERE instance_id = $1",
);
static DELETE: Sql =
    Sql::new("DELETE FROM access_control_attribute_configurations WHERE instance_id = $1");
/// The attributes of the instance whose identity store is $1, when it has a configuration.
static OF_IDENTITY_STORE: Sql = Sql::new(
    "SELECT c.attributes FROM access_control_attribute_configurations c
     JOIN instances i ON i.instance_id = c.instance_id WHERE i.identity_store_id = $1",
);

impl FromRow for AccessControlConfiguration {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AccessControlConfiguration {
            configuration: Configuration {
                access_control_attributes: r.json(0)?,
            },
            created_at: r.get(1)?,
            updated_at: r.get(2)?,
        })
    }
}

/// The configuration of the instance of identity store `identity_store_id`, read in the
/// caller's transaction; None when it has none.
pub(crate) async fn of_identity_store(
    db: &mut Db<'_>,
    identity_store_id: &str,
) -> StoreResult<Option<Configuration>> {
    let text: Option<String> = db
        .query_opt(&OF_IDENTITY_STORE, &[&identity_store_id])
        .await?;
    text.map(|t| {
        serde_json::from_str::<Vec<AccessControlAttribute>>(&t)
            .map(|access_control_attributes| Configuration {
                access_control_attributes,
            })
            .map_err(|e| crate::StoreError::backend("access_control_of_identity_store", e))
    })
    .transpose()
}

impl Store {
    /// Stores the first configuration of the instance.
    pub async fn create_access_control_configuration(
        &self,
        instance_id: &str,
        configuration: &Configuration,
        now: i64,
    ) -> StoreResult<AccessControlWrite> {
        const OP: &str = "create_access_control_configuration";
        let id = instance_id.to_string();
        let json = to_json(OP, &configuration.access_control_attributes)?;
        self.write(OP, async move |db| {
            if !db.exists(&INSTANCE_EXISTS, &[&id]).await? {
                return Ok(AccessControlWrite::NoSuchInstance);
            }
            Ok(match db.execute(&INSERT, &[&id, &json, &now]).await? {
                0 => AccessControlWrite::AlreadyExists,
                _ => AccessControlWrite::Done,
            })
        })
        .await
    }

    /// The configuration of the instance; None when it has none.
    pub async fn access_control_configuration(
        &self,
        instance_id: &str,
    ) -> StoreResult<Option<AccessControlConfiguration>> {
        let id = instance_id.to_string();
        self.read("access_control_configuration", async move |db| {
            db.query_opt(&GET, &[&id]).await
        })
        .await
    }

    /// Replaces the attributes of the instance's configuration; false when it has none.
    pub async fn update_access_control_configuration(
        &self,
        instance_id: &str,
        configuration: &Configuration,
        now: i64,
    ) -> StoreResult<bool> {
        const OP: &str = "update_access_control_configuration";
        let id = instance_id.to_string();
        let json = to_json(OP, &configuration.access_control_attributes)?;
        self.write_one(OP, async move |db| {
            Ok(db.execute(&UPDATE, &[&id, &json, &now]).await? > 0)
        })
        .await
    }

    /// Removes the instance's configuration; false when it had none. Sessions already open keep
    /// the tags they resolved.
    pub async fn delete_access_control_configuration(
        &self,
        instance_id: &str,
    ) -> StoreResult<bool> {
        let id = instance_id.to_string();
        self.write_one("delete_access_control_configuration", async move |db| {
            Ok(db.execute(&DELETE, &[&id]).await? > 0)
        })
        .await
    }
}
