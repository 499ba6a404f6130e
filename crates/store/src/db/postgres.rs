//! PostgreSQL plumbing: a connection pool whose connections keep every statement prepared, an
//! optional schema for the tables, transactions.

use super::{Conn, Db, Statements};
use crate::error::{StoreError, StoreResult};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

const POOL_SIZE: usize = 16;

pub(crate) struct PgPool {
    pool: Pool,
}

impl PgPool {
    /// A pool for `url`; with `schema`, every table lives in that schema (created if missing),
    /// which lets tests and several deployments share one database.
    pub(crate) async fn connect(url: &str, schema: Option<&str>) -> StoreResult<PgPool> {
        let fail = |e: tokio_postgres::Error| StoreError::backend("connect", e);
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::backend("connect", format!("invalid database URL: {e}")))?;
        if let Some(schema) = schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(StoreError::backend(
                    "connect",
                    format!("invalid schema name {schema:?}: use letters, digits and _"),
                ));
            }
            let (client, connection) = config.connect(NoTls).await.map_err(fail)?;
            let driver = tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(fail)?;
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
            .map_err(|e| StoreError::backend("connect", format!("connection pool: {e}")))?;
        Ok(PgPool { pool })
    }

    async fn client(&self, operation: &'static str) -> StoreResult<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::backend(operation, format!("connection pool: {e}")))
    }

    /// Runs a read on a pooled connection, outside a transaction.
    pub(crate) async fn read<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T>,
    {
        let client = self.client(operation).await?;
        let mut db = Db::new(Conn::Postgres(&client), operation, Statements::Any);
        f(&mut db).await
    }

    /// Runs `f` in one transaction, committed when it returns Ok (and did not discard it),
    /// rolled back otherwise; or, for [`Statements::One`], as one statement that commits by
    /// itself, sparing the two round trips of BEGIN and COMMIT.
    pub(crate) async fn write<T, F>(
        &self,
        operation: &'static str,
        limit: Statements,
        f: F,
    ) -> StoreResult<T>
    where
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T>,
    {
        let mut client = self.client(operation).await?;
        if limit == Statements::One {
            let mut db = Db::new(Conn::Postgres(&client), operation, limit);
            return f(&mut db).await;
        }
        let fail = |e: tokio_postgres::Error| StoreError::backend(operation, e);
        let tx = client.transaction().await.map_err(fail)?;
        let mut db = Db::new(Conn::PostgresTx(&tx), operation, limit);
        let out = f(&mut db).await;
        let keep = out.is_ok() && !db.discarded();
        if keep {
            tx.commit().await.map_err(fail)?;
        } else {
            let rolled_back = tx.rollback().await;
            if out.is_ok() {
                rolled_back.map_err(fail)?;
            }
        }
        out
    }
}
