//! The SSO configuration of instances: one JSON document per instance that set one.

use crate::db::to_json;
use crate::db::Sql;
use crate::{Store, StoreError, StoreResult};
use iic_domain::sso_configuration::SsoConfiguration;

static GET: Sql = Sql::new("SELECT configuration FROM sso_configurations WHERE instance_id = $1");
/// Written only for an existing instance: no row is inserted for an unknown one.
static PUT: Sql = Sql::new(
    "INSERT INTO sso_configurations (instance_id, configuration, updated_at)
     SELECT instance_id, $2, $3 FROM instances WHERE instance_id = $1
     ON CONFLICT (instance_id) DO UPDATE SET configuration = excluded.configuration, updated_at = excluded.updated_at",
);

impl Store {
    /// The configuration the instance set; None when it never set one (the defaults apply).
    pub async fn sso_configuration(
        &self,
        instance_id: &str,
    ) -> StoreResult<Option<SsoConfiguration>> {
        const OP: &str = "sso_configuration";
        let id = instance_id.to_string();
        let text: Option<String> = self
            .read(OP, async move |db| db.query_opt(&GET, &[&id]).await)
            .await?;
        text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::backend(OP, e)))
            .transpose()
    }

    /// Stores the whole configuration of the instance; false when there is no such instance.
    pub async fn put_sso_configuration(
        &self,
        instance_id: &str,
        configuration: &SsoConfiguration,
        now: i64,
    ) -> StoreResult<bool> {
        const OP: &str = "put_sso_configuration";
        let (id, json) = (instance_id.to_string(), to_json(OP, configuration)?);
        self.write_one(OP, async move |db| {
            Ok(db.execute(&PUT, &[&id, &json, &now]).await? > 0)
        })
        .await
    }
}
