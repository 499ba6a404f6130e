//! SQLite plumbing: one file in WAL mode, one writer connection (writes run on the blocking
//! pool) and a few reader connections.

use super::{Conn, Db, FromRow, Mapped, Row, Statement, Statements};
use crate::error::{BoxError, StoreError, StoreResult};
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const READERS: usize = 4;
/// Distinct statements the store prepares; each connection keeps them all prepared.
const STATEMENT_CACHE: usize = 256;

pub(crate) struct SqlitePool {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
}

fn open_connection(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Drives an operation's future to its end on this thread. On SQLite nothing an operation
/// awaits ever suspends, so one poll finishes it; an operation that does suspend is refused.
fn finish<T>(operation: &'static str, fut: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => Err(StoreError::backend(
            operation,
            "the operation waited on something other than SQLite",
        )),
    }
}

fn joined(operation: &'static str, e: tokio::task::JoinError) -> StoreError {
    StoreError::backend(operation, e)
}

impl SqlitePool {
    /// Opens (creating if needed) the database file at `path`.
    pub(crate) async fn open(path: &str) -> StoreResult<Arc<SqlitePool>> {
        let path = path.to_string();
        tokio::task::spawn_blocking(move || -> StoreResult<Arc<SqlitePool>> {
            let fail = |e: rusqlite::Error| StoreError::backend("open", e);
            if let Some(parent) = std::path::Path::new(&path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::backend("open", format!("create {}: {e}", parent.display()))
                    })?;
                }
            }
            let writer = open_connection(&path).map_err(fail)?;
            let readers = (0..READERS)
                .map(|_| open_connection(&path).map(Mutex::new))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(fail)?;
            Ok(Arc::new(SqlitePool {
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
            }))
        })
        .await
        .map_err(|e| joined("open", e))?
    }

    /// Runs a read on a reader connection. Reads are short, indexed and bounded (point lookups
    /// and keyset pages), so when a reader is free the read runs right here, sparing the hand-off
    /// to the blocking pool that would otherwise dominate its cost; when all readers are busy it
    /// waits for one on the blocking pool.
    pub(crate) async fn read<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        f: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let f = match self.read_if_free(operation, start, f) {
            Ok(out) => return out,
            Err(f) => f,
        };
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.readers[start % pool.readers.len()].lock();
            let mut db = Db::new(Conn::Sqlite(&mut conn), operation, Statements::Any);
            finish(operation, f(&mut db))
        })
        .await
        .map_err(|e| joined(operation, e))?
    }

    /// Runs the read on the first free reader from `start`; hands `f` back when none is free.
    /// (Not async, so that no lock guard is ever held across an await.)
    fn read_if_free<T, F>(
        &self,
        operation: &'static str,
        start: usize,
        f: F,
    ) -> Result<StoreResult<T>, F>
    where
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T>,
    {
        let count = self.readers.len();
        match (0..count).find_map(|i| self.readers[(start + i) % count].try_lock()) {
            Some(mut conn) => {
                let mut db = Db::new(Conn::Sqlite(&mut conn), operation, Statements::Any);
                Ok(finish(operation, f(&mut db)))
            }
            None => Err(f),
        }
    }

    /// Runs `f` on the writer connection: inside one immediate transaction, committed when it
    /// returns Ok (and did not discard it), rolled back otherwise; or, for
    /// [`Statements::One`], as one statement that commits by itself.
    pub(crate) async fn write<T, F>(
        self: &Arc<Self>,
        operation: &'static str,
        limit: Statements,
        f: F,
    ) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.writer.lock();
            let fail = |e: rusqlite::Error| StoreError::backend(operation, e);
            if limit == Statements::One {
                let mut db = Db::new(Conn::Sqlite(&mut conn), operation, limit);
                return finish(operation, f(&mut db));
            }
            conn.execute_batch("BEGIN IMMEDIATE").map_err(fail)?;
            let mut db = Db::new(Conn::Sqlite(&mut conn), operation, limit);
            let out = finish(operation, f(&mut db));
            let keep = out.is_ok() && !db.discarded();
            if keep {
                if let Err(e) = conn.execute_batch("COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(fail(e));
                }
            } else if !conn.is_autocommit() {
                // SQLite may have rolled back already (after some I/O errors); then there is
                // nothing to undo and the operation's own error is the one to report.
                let rolled_back = conn.execute_batch("ROLLBACK");
                if out.is_ok() {
                    rolled_back.map_err(fail)?;
                }
            }
            out
        })
        .await
        .map_err(|e| joined(operation, e))?
    }
}

fn params<'a>(statement: &'a Statement<'a>) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(statement.1.iter().map(|p| p.sqlite()))
}

/// Runs the statements one after another (in-process, there is no round trip to save).
pub(super) fn execute_all(
    c: &Connection,
    statements: &[Statement<'_>],
) -> Result<Vec<u64>, (&'static str, rusqlite::Error)> {
    statements
        .iter()
        .map(|s| {
            let done = c
                .prepare_cached(s.0.text(super::Dialect::Sqlite))
                .and_then(|mut st| st.execute(params(s)));
            done.map(|n| n as u64).map_err(|e| (s.0.name(), e))
        })
        .collect()
}

/// Runs a query; reads its rows as `T`, at most `max_rows` of them (a look-up for one row
/// stops at it, as `query_row` does, rather than stepping on to the end).
pub(super) fn query<T: FromRow>(
    c: &Connection,
    s: &Statement<'_>,
    max_rows: Option<usize>,
) -> Result<Result<Vec<T>, BoxError>, (&'static str, rusqlite::Error)> {
    let mut read: Result<Vec<T>, BoxError> = Ok(Vec::new());
    let done = c
        .prepare_cached(s.0.text(super::Dialect::Sqlite))
        .and_then(|mut st| {
            let mut rows = st.query(params(s))?;
            while let Some(r) = rows.next()? {
                match (&mut read, T::from_row(&Row::Sqlite(r))) {
                    (Ok(out), Ok(v)) => {
                        out.push(v);
                        if max_rows.is_some_and(|max| out.len() >= max) {
                            break;
                        }
                    }
                    (_, Err(e)) => {
                        read = Err(e);
                        break;
                    }
                    (Err(_), Ok(_)) => break,
                }
            }
            Ok(())
        });
    done.map(|()| read).map_err(|e| (s.0.name(), e))
}

/// Runs the queries one after another; each one's rows read as `T`.
pub(super) fn query_all<T: FromRow>(
    c: &Connection,
    statements: &[Statement<'_>],
) -> Result<Mapped<T>, (&'static str, rusqlite::Error)> {
    statements
        .iter()
        .map(|s| query(c, s, None).map(|rows| (s.0.name(), rows)))
        .collect()
}
