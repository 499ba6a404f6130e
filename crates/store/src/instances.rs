//! IAM Identity Center instances (with their identity stores) and the regions the service is
//! registered in.

use crate::db::{Db, FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{Instance, Page, SetAliasOutcome, Store, StoreResult};
use std::sync::Arc;

macro_rules! instance_columns {
    () => {
        "seq, instance_id, identity_store_id, organization_id, region, alias, created_at"
    };
}
pub(crate) use instance_columns;

static INSERT_IF_ABSENT: Sql = Sql::new(concat!(
    "INSERT INTO instances (instance_id, identity_store_id, organization_id, region, alias, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (organization_id, region) DO NOTHING
     RETURNING ",
    instance_columns!()
));
static IN_REGION: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE organization_id = $1 AND region = $2"
));
static INSERT_IDENTITY_STORE: Sql = Sql::new(
    "INSERT INTO identity_stores (identity_store_id, instance_id, organization_id) VALUES ($1, $2, $3)",
);
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE instance_id = $1"
));
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static ALL_OF_ORGANIZATION: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    " FROM instances WHERE organization_id = $1 ORDER BY seq"
));
static SET_ALIAS: Sql =
    Sql::new("UPDATE instances SET alias = $2 WHERE instance_id = $1 AND alias IS NULL");
static EXISTS: Sql = Sql::new("SELECT 1 FROM instances WHERE instance_id = $1");
static DELETE_ALL: Sql = Sql::new("DELETE FROM instances WHERE organization_id = $1");
static REGISTER_REGION: Sql = Sql::new(
    "INSERT INTO registered_regions (organization_id, region_id, created_at) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING",
);
static REGIONS: Sql = Sql::new(
    "SELECT region_id FROM registered_regions WHERE organization_id = $1 ORDER BY region_id",
);

impl FromRow for Instance {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Instance {
            seq: r.get(0)?,
            instance_id: r.get(1)?,
            identity_store_id: r.get(2)?,
            organization_id: r.get(3)?,
            region: r.get(4)?,
            alias: r.get(5)?,
            created_at: r.get(6)?,
        })
    }
}

impl Store {
    /// A write to the instances table: runs like [`Store::write`], then drops the instance
    /// cache, whether the write committed or not.
    async fn write_instances<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        let out = self.write(operation, f).await;
        if let Some(cache) = &self.instances {
            cache.invalidate();
        }
        out
    }

    /// Inserts `instance` (and its identity store) unless the organization already has one in
    /// that region; returns the instance that exists afterwards and whether it was created now.
    pub async fn create_instance_if_absent(
        &self,
        instance: &Instance,
    ) -> StoreResult<(Instance, bool)> {
        let i = instance.clone();
        self.write_instances("create_instance_if_absent", async move |db| {
            let inserted: Option<Instance> = db
                .query_opt(
                    &INSERT_IF_ABSENT,
                    &[
                        &i.instance_id,
                        &i.identity_store_id,
                        &i.organization_id,
                        &i.region,
                        &i.alias,
                        &i.created_at,
                    ],
                )
                .await?;
            match inserted {
                Some(created) => {
                    db.execute(
                        &INSERT_IDENTITY_STORE,
                        &[
                            &created.identity_store_id,
                            &created.instance_id,
                            &created.organization_id,
                        ],
                    )
                    .await?;
                    Ok((created, true))
                }
                None => {
                    let existing = db
                        .query_one(&IN_REGION, &[&i.organization_id, &i.region])
                        .await?;
                    Ok((existing, false))
                }
            }
        })
        .await
    }

    pub async fn get_instance(&self, instance_id: &str) -> StoreResult<Option<Instance>> {
        let id = instance_id.to_string();
        self.read("get_instance", async move |db| {
            db.query_opt(&GET, &[&id]).await
        })
        .await
    }

    /// Keyset page of an organization's instances in `seq` order.
    pub async fn list_instances(
        &self,
        organization_id: &str,
        page: Page,
    ) -> StoreResult<Vec<Instance>> {
        let org = organization_id.to_string();
        let Some(cache) = &self.instances else {
            return self
                .read("list_instances", async move |db| {
                    db.query(&PAGE, &[&org, &page.after_seq(), &page.limit])
                        .await
                })
                .await;
        };
        // An organization has one instance per region: the whole list is small.
        let all = match cache.get(organization_id) {
            Some(all) => all,
            None => {
                let generation = cache.generation();
                let loaded: Arc<Vec<Instance>> = Arc::new(
                    self.read("list_instances", async move |db| {
                        db.query(&ALL_OF_ORGANIZATION, &[&org]).await
                    })
                    .await?,
                );
                cache.put(organization_id, generation, loaded.clone());
                loaded
            }
        };
        Ok(all
            .iter()
            .filter(|i| i.seq > page.after_seq())
            .take(page.rows())
            .cloned()
            .collect())
    }

    /// Sets the alias of an instance; setting it is one-time, and aliases are unique.
    pub async fn set_alias(&self, instance_id: &str, alias: &str) -> StoreResult<SetAliasOutcome> {
        let (id, alias) = (instance_id.to_string(), alias.to_string());
        self.write_instances("set_alias", async move |db| {
            match db.execute(&SET_ALIAS, &[&id, &alias]).await {
                Ok(1..) => Ok(SetAliasOutcome::Set),
                Ok(0) if db.exists(&EXISTS, &[&id]).await? => Ok(SetAliasOutcome::AlreadySet),
                Ok(0) => Ok(SetAliasOutcome::NoSuchInstance),
                Err(e) if e.is_conflict() => {
                    db.discard();
                    Ok(SetAliasOutcome::Taken)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// Removes every instance of the organization and everything under them; returns how many.
    pub async fn delete_instances(&self, organization_id: &str) -> StoreResult<u64> {
        let org = organization_id.to_string();
        self.write_instances("delete_instances", async move |db| {
            db.execute(&DELETE_ALL, &[&org]).await
        })
        .await
    }

    /// Records a region; false when it was registered already.
    pub async fn register_region(
        &self,
        organization_id: &str,
        region_id: &str,
    ) -> StoreResult<bool> {
        let (org, region) = (organization_id.to_string(), region_id.to_string());
        self.write_one("register_region", async move |db| {
            let now = iic_domain::clock::now_millis();
            Ok(db.execute(&REGISTER_REGION, &[&org, &region, &now]).await? > 0)
        })
        .await
    }

    pub async fn list_regions(&self, organization_id: &str) -> StoreResult<Vec<String>> {
        let org = organization_id.to_string();
        self.read("list_regions", async move |db| {
            db.query(&REGIONS, &[&org]).await
        })
        .await
    }
}
