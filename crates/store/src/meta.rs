//! Server-wide facts kept as key/value pairs: the master-key check value, the bootstrap's
//! records, counters such as the revocation counter.

use crate::db::Sql;
use crate::{Store, StoreResult};

static GET: Sql = Sql::new("SELECT value FROM meta WHERE key = $1");
static PUT_IF_ABSENT: Sql =
    Sql::new("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING");
static INCREMENT: Sql = Sql::new(
    "INSERT INTO meta (key, value) VALUES ($1, '1')
     ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)
     RETURNING CAST(value AS BIGINT)",
);

/// The counter every change taking access away from a key bumps (a key deleted or revoked, an
/// account removed or closed); each server drops its cached keys when it sees the count move.
pub const REVOCATIONS: &str = "auth.revocations";

/// Meta keys written by the bootstrap.
pub(crate) const BOOTSTRAP_ORGANIZATION: &str = "bootstrap.organization_id";
pub(crate) const BOOTSTRAP_ROOT_KEY: &str = "bootstrap.root_access_key";

pub(crate) async fn get(db: &mut crate::db::Db<'_>, key: &str) -> StoreResult<Option<String>> {
    db.query_opt(&GET, &[&key]).await
}

pub(crate) async fn put(db: &mut crate::db::Db<'_>, key: &str, value: &str) -> StoreResult<()> {
    db.execute(&PUT_IF_ABSENT, &[&key, &value]).await?;
    Ok(())
}

/// Adds one to the counter under `key`, in the caller's transaction; returns the new value.
pub(crate) async fn increment(db: &mut crate::db::Db<'_>, key: &str) -> StoreResult<i64> {
    db.query_one(&INCREMENT, &[&key]).await
}

impl Store {
    pub async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let key = key.to_string();
        self.read("get_meta", async move |db| get(db, &key).await)
            .await
    }

    /// Stores `value` under `key` unless a value exists; returns the value stored afterwards.
    pub async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let (key, value) = (key.to_string(), value.to_string());
        self.write("put_meta_if_absent", async move |db| {
            put(db, &key, &value).await?;
            db.query_one(&GET, &[&key]).await
        })
        .await
    }

    /// Adds one to the counter kept under `key` (0 when absent) and returns the new value.
    pub async fn increment_meta(&self, key: &str) -> StoreResult<i64> {
        let key = key.to_string();
        self.write_one("increment_meta", async move |db| increment(db, &key).await)
            .await
    }
}
