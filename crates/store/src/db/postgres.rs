//! PostgreSQL plumbing: a connection pool whose connections keep every statement prepared, an
//! optional schema for the tables, transactions.

use super::{Conn, Db, FromRow, Mapped, Row, Statement, Statements};
use crate::error::{StoreError, StoreResult};
use deadpool_postgres::{Client, GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::TryStreamExt;
use std::sync::atomic::{AtomicU8, Ordering};
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
            .map_err(|e| StoreError::backend(operation, e))
    }

    /// Runs a read on a pooled connection, outside a transaction.
    pub(crate) async fn read<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T>,
    {
        let client = self.client(operation).await?;
        let conn = Conn::Postgres {
            client: &client,
            tx: None,
        };
        f(&mut Db::new(conn, operation, Statements::Any)).await
    }

    /// Runs `f` in one transaction, committed when it returns Ok (and did not discard it),
    /// rolled back otherwise; or, for [`Statements::One`], as one statement that commits by
    /// itself. The transaction begins with its first statement, in the same round trip, and
    /// an operation may commit with its last ([`Db::commit_with`]).
    pub(crate) async fn write<T, F>(
        &self,
        operation: &'static str,
        limit: Statements,
        f: F,
    ) -> StoreResult<T>
    where
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T>,
    {
        let held = Held {
            client: Some(self.client(operation).await?),
            tx: Tx::default(),
        };
        let Some(client) = held.client.as_ref() else {
            return Err(StoreError::backend(operation, "no connection"));
        };
        let tx = (limit == Statements::Any).then_some(&held.tx);
        let mut db = Db::new(Conn::Postgres { client, tx }, operation, limit);
        let out = f(&mut db).await;
        let keep = out.is_ok() && !db.discarded();
        if held.tx.state() == OPEN {
            let end = if keep { "COMMIT" } else { "ROLLBACK" };
            let ended = client.batch_execute(end).await;
            // A transaction whose end failed counts as open: its connection leaves the pool.
            if ended.is_ok() {
                held.tx.set(ENDED);
            }
            if out.is_ok() {
                ended.map_err(|e| StoreError::backend(operation, e))?;
            }
        }
        out
    }
}

const NOT_BEGUN: u8 = 0;
const OPEN: u8 = 1;
const ENDED: u8 = 2;

/// Where a write's transaction is: not begun (no statement ran yet), open, or ended.
#[derive(Default)]
pub(crate) struct Tx(AtomicU8);

impl Tx {
    fn state(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, state: u8) {
        self.0.store(state, Ordering::Release);
    }
}

/// A pooled connection lent to one write. Should the write be abandoned with its transaction
/// open (its caller went away), the connection leaves the pool and closes, and PostgreSQL rolls
/// the transaction back, rather than the next user finding it open.
struct Held {
    client: Option<Client>,
    tx: Tx,
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.tx.state() == OPEN {
            if let Some(client) = self.client.take() {
                drop(deadpool_postgres::Object::take(client));
            }
        }
    }
}

/// Sends BEGIN (for a transaction not yet begun), the statements and COMMIT (when `commit`)
/// back to back, then reads every answer: tokio-postgres writes the requests of futures polled
/// together in the order they are first polled. `run` starts one statement.
async fn pipeline<'a, T, Fut>(
    client: &'a Client,
    tx: Option<&Tx>,
    statements: &'a [Statement<'a>],
    commit: bool,
    run: impl Fn(&'a Client, tokio_postgres::Statement, &'a Statement<'a>) -> Fut,
) -> Result<Vec<T>, (&'static str, tokio_postgres::Error)>
where
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    const TRANSACTION: &str = "BEGIN or COMMIT";
    let mut prepared = Vec::with_capacity(statements.len());
    for s in statements {
        let st = client
            .prepare_cached(s.0.text(super::Dialect::Postgres))
            .await
            .map_err(|e| (s.0.name(), e))?;
        prepared.push(st);
    }
    let begin = tx.filter(|t| t.state() == NOT_BEGUN);
    let commit = tx.filter(|t| commit && t.state() != ENDED);
    let (begun, results, committed) = futures::join!(
        async {
            match begin {
                Some(_) => client.batch_execute("BEGIN").await,
                None => Ok(()),
            }
        },
        futures::future::join_all(
            prepared
                .into_iter()
                .zip(statements)
                .map(|(st, s)| run(client, st, s))
        ),
        async {
            match commit {
                Some(_) => client.batch_execute("COMMIT").await,
                None => Ok(()),
            }
        },
    );
    if let Some(t) = begin {
        begun.map_err(|e| (TRANSACTION, e))?;
        t.set(OPEN);
    }
    if let Some(t) = commit {
        // Ended either way: committed, or rolled back by an earlier statement's failure.
        t.set(ENDED);
    }
    let out = results
        .into_iter()
        .zip(statements)
        .map(|(done, s)| done.map_err(|e| (s.0.name(), e)))
        .collect::<Result<Vec<T>, _>>()?;
    committed.map_err(|e| (TRANSACTION, e))?;
    Ok(out)
}

pub(super) async fn execute_all(
    client: &Client,
    tx: Option<&Tx>,
    statements: &[Statement<'_>],
    commit: bool,
) -> Result<Vec<u64>, (&'static str, tokio_postgres::Error)> {
    pipeline(client, tx, statements, commit, |c, st, s| async move {
        c.execute_raw(&st, s.1.iter().map(|p| p.postgres())).await
    })
    .await
}

pub(super) async fn query_all<T: FromRow>(
    client: &Client,
    tx: Option<&Tx>,
    statements: &[Statement<'_>],
) -> Result<Mapped<T>, (&'static str, tokio_postgres::Error)> {
    let rows = pipeline(client, tx, statements, false, |c, st, s| async move {
        c.query_raw(&st, s.1.iter().map(|p| p.postgres()))
            .await?
            .try_collect::<Vec<_>>()
            .await
    })
    .await?;
    Ok(rows
        .iter()
        .zip(statements)
        .map(|(rows, s)| {
            let read = rows
                .iter()
                .map(|r| T::from_row(&Row::Postgres(r)))
                .collect();
            (s.0.name(), read)
        })
        .collect())
}

/// Runs statements separated by `;` (migrations), inside the transaction.
pub(super) async fn batch(
    client: &Client,
    tx: Option<&Tx>,
    text: &str,
) -> Result<(), tokio_postgres::Error> {
    if let Some(t) = tx.filter(|t| t.state() == NOT_BEGUN) {
        client.batch_execute("BEGIN").await?;
        t.set(OPEN);
    }
    client.batch_execute(text).await
}
