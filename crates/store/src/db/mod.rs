//! The executor every store operation is written against: one connection (or transaction) of
//! either database, with one set of methods. An operation's logic is an `async` body over
//! [`Db`]; on SQLite it runs on a blocking thread and never suspends (rusqlite does not await),
//! on PostgreSQL it awaits the driver. What differs between the two is decided here and in the
//! two plumbing modules, and listed in docs/development.md.

mod cause;
mod postgres;
mod sql;
mod sqlite;
mod value;

pub(crate) use cause::cause_of;
pub(crate) use sql::Sql;
pub(crate) use value::{to_json, FromRow, Param, Row, TextList};

use crate::error::{BoxError, StoreError, StoreResult};
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
        // The PostgreSQL path is boxed: its futures (pool, driver) are large, and every
        // operation's future would carry their size on SQLite too.
        match self {
            Backend::Sqlite(pool) => pool.read(operation, f).await,
            Backend::Postgres(pool) => Box::pin(pool.read(operation, f)).await,
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
            Backend::Postgres(pool) => Box::pin(pool.write(operation, limit, f)).await,
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
    /// PostgreSQL: a pooled connection, inside a transaction begun on its first statement
    /// when `tx` is given, each statement committing by itself otherwise.
    Postgres {
        client: &'c deadpool_postgres::Client,
        tx: Option<&'c postgres::Tx>,
    },
}

/// How many statements an operation may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Statements {
    Any,
    /// A write that runs without a transaction: one statement, which commits by itself.
    One,
}

/// A statement and its parameters.
pub(crate) type Statement<'a> = (&'a Sql, &'a [&'a dyn Param]);

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
            Conn::Postgres { .. } => Dialect::Postgres,
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

    fn count(&mut self, statements: &[Statement<'_>]) -> StoreResult<()> {
        for (sql, _) in statements {
            if self.limit == Statements::One && self.run > 0 {
                return Err(self.failure(
                    sql.name(),
                    "a single-statement write ran a second statement",
                ));
            }
            self.run += 1;
        }
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

    /// Runs statements that do not depend on each other's results, in order; PostgreSQL gets
    /// them all at once and answers in one round trip. Returns how many rows each changed.
    pub(crate) async fn execute_all(
        &mut self,
        statements: &[Statement<'_>],
    ) -> StoreResult<Vec<u64>> {
        self.count(statements)?;
        let done = match &mut self.conn {
            Conn::Sqlite(c) => {
                return sqlite::execute_all(c, statements).map_err(|(n, e)| self.sqlite_error(n, e))
            }
            // Boxed, so that the futures of every operation stay small on SQLite too.
            Conn::Postgres { client, tx } => {
                Box::pin(postgres::execute_all(client, *tx, statements, false)).await
            }
        };
        done.map_err(|(n, e)| self.postgres_error(n, e))
    }

    /// Runs the transaction's last statements and commits it; on PostgreSQL the COMMIT goes
    /// with them, in the same round trip. Outside a transaction, like [`Db::execute_all`].
    pub(crate) async fn commit_with(&mut self, statements: &[Statement<'_>]) -> StoreResult<()> {
        self.count(statements)?;
        let done = match &mut self.conn {
            Conn::Sqlite(c) => {
                // The plumbing commits when the operation returns.
                return sqlite::execute_all(c, statements)
                    .map(|_| ())
                    .map_err(|(n, e)| self.sqlite_error(n, e));
            }
            Conn::Postgres { client, tx } => {
                Box::pin(postgres::execute_all(client, *tx, statements, true)).await
            }
        };
        done.map(|_| ()).map_err(|(n, e)| self.postgres_error(n, e))
    }

    /// Runs queries that do not depend on each other's results, in order; PostgreSQL gets them
    /// all at once and answers in one round trip. Returns the rows of each, read as `T`.
    pub(crate) async fn query_all<T: FromRow>(
        &mut self,
        statements: &[Statement<'_>],
    ) -> StoreResult<Vec<Vec<T>>> {
        self.count(statements)?;
        let operation = self.operation;
        let mapped = match &mut self.conn {
            Conn::Sqlite(c) => {
                sqlite::query_all(c, statements).map_err(|(n, e)| self.sqlite_error(n, e))?
            }
            Conn::Postgres { client, tx } => Box::pin(postgres::query_all(client, *tx, statements))
                .await
                .map_err(|(n, e)| self.postgres_error(n, e))?,
        };
        mapped
            .into_iter()
            .map(|(name, rows)| {
                rows.map_err(|e| StoreError::Backend {
                    operation,
                    statement: Some(name),
                    source: e,
                })
            })
            .collect()
    }

    /// Runs a statement; returns how many rows it changed.
    pub(crate) async fn execute(&mut self, sql: &Sql, params: &[&dyn Param]) -> StoreResult<u64> {
        Ok(self.execute_all(&[(sql, params)]).await?.into_iter().sum())
    }

    /// Runs a query; returns every row, each read as a `T`.
    pub(crate) async fn query<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
    ) -> StoreResult<Vec<T>> {
        self.query_rows(sql, params, None).await
    }

    /// The first row, if any.
    pub(crate) async fn query_opt<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
    ) -> StoreResult<Option<T>> {
        Ok(self
            .query_rows(sql, params, Some(1))
            .await?
            .into_iter()
            .next())
    }

    async fn query_rows<T: FromRow>(
        &mut self,
        sql: &Sql,
        params: &[&dyn Param],
        max_rows: Option<usize>,
    ) -> StoreResult<Vec<T>> {
        let statement = [(sql, params)];
        if matches!(self.conn, Conn::Sqlite(_)) {
            self.count(&statement)?;
        }
        if let Conn::Sqlite(c) = &mut self.conn {
            let read = sqlite::query(c, &statement[0], max_rows);
            return match read {
                Ok(rows) => rows.map_err(|e| self.failure(sql.name(), e)),
                Err((name, e)) => Err(self.sqlite_error(name, e)),
            };
        }
        Ok(self
            .query_all(&statement)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default())
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
            Conn::Postgres { client, tx } => Box::pin(postgres::batch(client, *tx, text))
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

/// What a backend's executor returns per query: the statement, and its rows read as `T`.
type Mapped<T> = Vec<(&'static str, Result<Vec<T>, BoxError>)>;

/// A row whose columns are not read: what `exists` asks for.
struct Present;

impl FromRow for Present {
    fn from_row(_: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Present)
    }
}
