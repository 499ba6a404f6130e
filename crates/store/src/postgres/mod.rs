//! PostgreSQL backend: a connection pool, statements prepared once per connection, migrations
//! serialized by an advisory lock so that several servers may start at once.

mod assignments;
mod directory;
mod migrations;
mod orgs;
mod permission_sets;
mod queries;

use crate::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

pub struct PgStore {
    pool: Pool,
}

const POOL_SIZE: usize = 16;

pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if code.code().starts_with("23") => StoreError::Conflict(e.to_string()),
        _ => StoreError::Backend(e.to_string()),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        map_err(e)
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Backend(format!("connection pool: {e}"))
}

impl PgStore {
    /// Connects to `url` and applies migrations.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        Self::connect_with_schema(url, None).await
    }

    /// Like [`PgStore::connect`], with every table in `schema` (which must exist): lets tests
    /// and several deployments share one database.
    pub async fn connect_with_schema(
        url: &str,
        schema: Option<&str>,
    ) -> Result<PgStore, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("invalid database URL: {e}")))?;
        if let Some(schema) = schema {
            if !schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(StoreError::Backend(format!(
                    "invalid schema name {schema:?}"
                )));
            }
            let (client, connection) = config
                .connect(NoTls)
                .await
                .map_err(|e| StoreError::Backend(format!("cannot connect: {e}")))?;
            let driver = tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(map_err)?;
            drop(client);
            let _ = driver.await;
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))?;
        let store = PgStore { pool };
        let mut client = store.client().await?;
        migrations::apply(&mut client).await.map_err(map_err)?;
        Ok(store)
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }
}

impl crate::Store for PgStore {
    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}
