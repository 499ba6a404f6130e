//! The executor every store operation is written against: one connection (or transaction) of
//! either database, with one set of methods. An operation's logic is an `async` body over
//! [`Db`]; on SQLite it runs on a blocking thread and never suspends (rusqlite does not await),
//! on PostgreSQL it awaits the driver. What differs between the two is decided here and in the
//! two plumbing modules, and listed in docs/development.md.

mod postgres;
mod sql;
mod sqlite;
mod value;

pub(crate) use sql::Sql;
pub(crate) use value::{FromRow, Param, Row, TextList};

use crate::error::{BoxError, StoreError, StoreResult};
use futures::TryStreamExt;
use postgres::PgPool;
use sqlite::SqlitePool;
use std::sync::Arc;

/// The connections of one database and how an operation runs on them.
pub(crate) enum Backend {
    Sqlite(Arc<SqlitePool>),
    Postgres(PgPool),
}

impl Backend {
    pub(crate) async fn open_sqlite(path: &str) -> StoreResult<Backend> {
        Ok(Backend::Sqlite(SqlitePool::open(path).await?))
    }

    pub(crate) async fn connect_postgres(url: &str, schema: Option<&str>) -> StoreResult<Backend> {
        Ok(Backend::Postgres(PgPool::connect(url, schema).await?))
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a read-only operation.
    pub(crate) async fn read<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        match self {
            Backend::Sqlite(pool) => pool.read(operation, f).await,
            Backend::Postgres(pool) => pool.read(operation, f).await,
        }
    }

    /// Runs a writing operation: in one transaction, or as one self-committing statement.
    pub(crate) async fn write<T, F>(
        &self,
        operation: &'static str,
        limit: Statements,
        f: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        match self {
            Backend::Sqlite(pool) => pool.write(operation, limit, f).await,
            Backend::Postgres(pool) => pool.write(operation, limit, f).await,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// Transaction-wide locks that serialize work across servers sharing one PostgreSQL database.
/// SQLite needs none: its write transactions hold the whole database.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Serialize {
    /// Migrations and the one-time bootstrap.
    Schema,
}

impl Serialize {
    fn key(self) -> i64 {
        match self {
            Serialize::Schema => 0x6969_6300_0000_0001,
        }
    }
}

enum Conn<'c> {
    /// SQLite: the writer inside an open transaction, a reader, or the writer in autocommit.
    Sqlite(&'c mut rusqlite::Connection),
    /// PostgreSQL outside a transaction: each statement commits by itself.
    Postgres(&'c deadpool_postgres::ClientWrapper),
    /// PostgreSQL inside a transaction.
    PostgresTx(&'c deadpool_postgres::Transaction<'c>),
}

/// How many statements an operation may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statements {
    Any,
    /// A write that runs without a transaction: one statement, which commits by itself.
    One,
}

pub(crate) struct Db<'c> {
    conn: Conn<'c>,
    operation: &'static str,
    limit: Statements,
    run: u32,
    discard: bool,
}

impl<'c> Db<'c> {
    fn new(conn: Conn<'c>, operation: &'static str, limit: Statements) -> Db<'c> {
        Db {
            conn,
            operation,
            limit,
            run: 0,
            discard: false,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) | Conn::PostgresTx(_) => Dialect::Postgres,
        }
    }

    /// Rolls the transaction back when the operation returns, whatever it returns: for an
    /// operation that reports a refusal after it has written (a race lost on a unique index).
    pub(crate) fn discard(&mut self) {
        self.discard = true;
    }

    pub(crate) fn discarded(&self) -> bool {
        self.discard
    }

    fn failure(&self, sql: &'static str, e: impl Into<BoxError>) -> StoreError {
        StoreError::Backend {
            operation: self.operation,
            statement: Some(sql),
            source: e.into(),
        }
    }

    fn count(&mut self, sql: &Sql) -> StoreResult<()> {
        if self.limit == Statements::One && self.run > 0 {
            return Err(self.failure(
                sql.name(),
                "a single-statement write ran a second statement",
            ));
        }
        self.run += 1;
        Ok(())
    }

    fn sqlite_error(&self, sql: &'static str, e: rusqlite::Error) -> StoreError {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict {
                    operation: self.operation,
                    rule: msg.clone().unwrap_or_else(|| e.to_string()),
                }
            }
            _ => self.failure(sql, e),
        }
    }

    fn postgres_error(&self, sql: &'static str, e: tokio_postgres::Error) -> StoreError {
        match e.as_db_error() {
            // Class 23: integrity constraint violation.
            Some(db) if db.code().code().starts_with("23") => StoreError::Conflict {
                operation: self.operation,
                rule: db
                    .constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| db.message().to_string()),
            },
            _ => self.failure(sql, e),
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) async fn execute(&mut self, sql: &Sql, params: &[&dyn Param]) -> StoreResult<u64> {
        self.count(sql)?;
        let name = sql.name();
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let text = sql.text(Dialect::Sqlite);
                let done = c.prepare_cached(text).and_then(|mut st| {
                    st.execute(rusqlite::params_from_iter(
                        params.iter().map(|p| p.sqlite()),
                    ))
                });
                done.map(|n| n as u64)
                    .map_err(|e| self.sqlite_error(name, e))
            }
            Conn::Postgres(c) => {
                let text = sql.text(Dialect::Postgres);
                let done = match c.prepare_cached(text).await {
                    Ok(st) => {
                        c.execute_raw(&st, params.iter().map(|p| p.postgres()))
                            .await
                    }
                    Err(e) => Err(e),
                };
                done.map_err(|e| self.postgres_error(name, e))
            }
            Conn::PostgresTx(t) => {
                let text = sql.text(Dialect::Postgres);
                let done = match t.prepare_cached(text).await {
                    Ok(st) => {
                        t.execute_raw(&st, params.iter().map(|p| p.postgres()))
                            .await
                    }
                    Err(e) => Err(e),
                };
                done.map_err(|e| self.postgres_error(name, e))
            }
        }
    }

    /// Runs a query; returns every row, each read as a `T`.
    pub(crate) async fn query<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
    ) -> StoreResult<Vec<T>> {
        self.count(sql)?;
        let name = sql.name();
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let text = sql.text(Dialect::Sqlite);
                let mut out = Vec::new();
                let mut mapped: Result<(), BoxError> = Ok(());
                let done = c.prepare_cached(text).and_then(|mut st| {
                    let mut rows = st.query(rusqlite::params_from_iter(
                        params.iter().map(|p| p.sqlite()),
                    ))?;
                    while let Some(r) = rows.next()? {
                        match T::from_row(&Row::Sqlite(r)) {
                            Ok(v) => out.push(v),
                            Err(e) => {
                                mapped = Err(e);
                                break;
                            }
                        }
                    }
                    Ok(())
                });
                done.map_err(|e| self.sqlite_error(name, e))?;
                mapped.map_err(|e| self.failure(name, e))?;
                Ok(out)
            }
            Conn::Postgres(c) => {
                let text = sql.text(Dialect::Postgres);
                let rows = match c.prepare_cached(text).await {
                    Ok(st) => match c.query_raw(&st, params.iter().map(|p| p.postgres())).await {
                        Ok(stream) => stream.try_collect::<Vec<_>>().await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                let rows = rows.map_err(|e| self.postgres_error(name, e))?;
                self.map_rows(name, &rows)
            }
            Conn::PostgresTx(t) => {
                let text = sql.text(Dialect::Postgres);
                let rows = match t.prepare_cached(text).await {
                    Ok(st) => match t.query_raw(&st, params.iter().map(|p| p.postgres())).await {
                        Ok(stream) => stream.try_collect::<Vec<_>>().await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
                let rows = rows.map_err(|e| self.postgres_error(name, e))?;
                self.map_rows(name, &rows)
            }
        }
    }

    fn map_rows<T: FromRow>(
        &self,
        name: &'static str,
        rows: &[tokio_postgres::Row],
    ) -> StoreResult<Vec<T>> {
        rows.iter()
            .map(|r| T::from_row(&Row::Postgres(r)).map_err(|e| self.failure(name, e)))
            .collect()
    }

    /// The first row, if any.
    pub(crate) async fn query_opt<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
    ) -> StoreResult<Option<T>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// The first row, which must exist.
    pub(crate) async fn query_one<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
    ) -> StoreResult<T> {
        let name = sql.name();
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| self.failure(name, "the statement returned no row"))
    }

    /// Whether the query returns a row.
    pub(crate) async fn exists(&mut self, sql: &Sql, params: &[&dyn Param]) -> StoreResult<bool> {
        Ok(self.query_opt::<Present>(sql, params).await?.is_some())
    }

    /// Runs several statements separated by `;`, without parameters (migrations).
    pub(crate) async fn batch(&mut self, text: &str) -> StoreResult<()> {
        const BATCH: &str = "a batch of statements";
        match &mut self.conn {
            Conn::Sqlite(c) => c.execute_batch(text).map_err(|e| self.failure(BATCH, e)),
            Conn::Postgres(c) => c
                .batch_execute(text)
                .await
                .map_err(|e| self.failure(BATCH, e)),
            Conn::PostgresTx(t) => t
                .batch_execute(text)
                .await
                .map_err(|e| self.failure(BATCH, e)),
        }
    }

    /// Holds `lock` until the transaction ends (PostgreSQL); SQLite's write transaction already
    /// excludes every other writer.
    pub(crate) async fn serialize(&mut self, lock: Serialize) -> StoreResult<()> {
        static LOCK: Sql = Sql::new("SELECT pg_advisory_xact_lock($1)");
        match self.dialect() {
            Dialect::Sqlite => Ok(()),
            Dialect::Postgres => {
                self.query::<Present>(&LOCK, &[&lock.key()]).await?;
                Ok(())
            }
        }
    }
}

/// A row whose columns are not read: what `exists` asks for.
struct Present;

impl FromRow for Present {
    fn from_row(_: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Present)
    }
}
