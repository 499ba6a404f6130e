//! Embedded SQLite backend: one file in WAL mode, one writer connection (writes run on the
//! blocking pool) and a few reader connections.

mod assignments;
mod directory;
mod migrations;
mod orgs;
mod permission_sets;
mod queries;

use crate::StoreError;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const READERS: usize = 4;

pub struct SqliteStore {
    inner: Arc<Pool>,
    /// Instances by organization. The embedded database belongs to this one process (operator
    /// commands write credentials only), so every instance write passes here and invalidates it.
    pub(crate) instances: InstanceCache,
}

/// A read-through cache of each organization's instances, with a generation counter so that a
/// load racing a write never stores what the write replaced.
#[derive(Default)]
pub(crate) struct InstanceCache {
    map: parking_lot::RwLock<
        std::collections::HashMap<String, Arc<Vec<iic_domain::instance::Instance>>>,
    >,
    generation: std::sync::atomic::AtomicU64,
}

impl InstanceCache {
    pub(crate) fn get(&self, org: &str) -> Option<Arc<Vec<iic_domain::instance::Instance>>> {
        self.map.read().get(org).cloned()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a loaded list unless a write happened since `generation` was read.
    pub(crate) fn put(
        &self,
        org: &str,
        generation: u64,
        list: Arc<Vec<iic_domain::instance::Instance>>,
    ) {
        let mut map = self.map.write();
        if self.generation.load(Ordering::Acquire) == generation {
            map.insert(org.to_string(), list);
        }
    }

    pub(crate) fn invalidate(&self) {
        let mut map = self.map.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.clear();
    }
}

struct Pool {
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
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// SQLite numbers `$n` parameters by first appearance, not by `n`; `?n` is numbered by `n`.
/// The shared SQL uses `$n` (PostgreSQL's form), so it is rewritten before preparing.
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, msg)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(msg.clone().unwrap_or_else(|| e.to_string()))
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies migrations.
    pub async fn open(path: &str) -> Result<SqliteStore, StoreError> {
        let path = path.to_string();
        tokio::task::spawn_blocking(move || -> Result<SqliteStore, StoreError> {
            if let Some(parent) = std::path::Path::new(&path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| StoreError::Backend(format!("create {parent:?}: {e}")))?;
                }
            }
            let mut writer = open_connection(&path).map_err(map_err)?;
            migrations::apply(&mut writer).map_err(map_err)?;
            let readers = (0..READERS)
                .map(|_| open_connection(&path).map(Mutex::new))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(map_err)?;
            Ok(SqliteStore {
                instances: InstanceCache::default(),
                inner: Arc::new(Pool {
                    writer: Mutex::new(writer),
                    readers,
                    next_reader: AtomicUsize::new(0),
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    /// Runs a read on a reader connection. Reads are short, indexed and bounded (point lookups
    /// and keyset pages), so when a reader is free the read runs right here, sparing the hand-off
    /// to the blocking pool that would otherwise dominate its cost; when all readers are busy it
    /// waits for one on the blocking pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = &self.inner;
        let start = pool.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..pool.readers.len() {
            if let Some(conn) = pool.readers[(start + i) % pool.readers.len()].try_lock() {
                return f(&conn).map_err(map_err);
            }
        }
        let pool = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.readers[start % pool.readers.len()].lock();
            f(&conn).map_err(map_err)
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    /// Runs `f` inside one immediate transaction on the writer connection; commits when it
    /// returns Ok, rolls back otherwise.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.writer.lock();
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(map_err)?;
            let out = f(&tx)?;
            tx.commit().map_err(map_err)?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    /// A write to the instances table: runs like [`SqliteStore::write`], then drops the instance
    /// cache, whether the write committed or not.
    pub(crate) async fn write_instances<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let out = self.write(f).await;
        self.instances.invalidate();
        out
    }
}

impl crate::Store for SqliteStore {
    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbered_rewrites_only_parameters() {
        assert_eq!(
            super::numbered("SET a = $2 WHERE b = $1 AND c = '$x'"),
            "SET a = ?2 WHERE b = ?1 AND c = '$x'"
        );
    }
}
