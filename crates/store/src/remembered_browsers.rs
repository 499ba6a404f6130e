//! Browsers a user proved a second factor on, for `CONTEXT_AWARE` MFA: a browser is known to a
//! user by the SHA-256 of its cookie value, with the address of the last sign-in from it; a
//! sign-in from a known browser at the same address skips the MFA prompt until the record
//! expires.

use crate::db::Sql;
use crate::{Store, StoreResult};

static REMEMBER: Sql = Sql::new(
    "INSERT INTO remembered_browsers (browser_sha256, user_id, identity_store_id, ip_address, created_at, expires_at)
     SELECT $1, user_id, identity_store_id, $4, $5, $6 FROM users
     WHERE identity_store_id = $2 AND user_id = $3
     ON CONFLICT (browser_sha256, user_id)
     DO UPDATE SET ip_address = excluded.ip_address, expires_at = excluded.expires_at",
);
static KNOWN: Sql = Sql::new(
    "SELECT ip_address FROM remembered_browsers
     WHERE browser_sha256 = $1 AND user_id = $2 AND identity_store_id = $3 AND expires_at > $4",
);
static FORGET_USER: Sql =
    Sql::new("DELETE FROM remembered_browsers WHERE identity_store_id = $1 AND user_id = $2");
static SWEEP: Sql = Sql::new(
    "DELETE FROM remembered_browsers WHERE (browser_sha256, user_id) IN
       (SELECT browser_sha256, user_id FROM remembered_browsers WHERE expires_at <= $1 LIMIT $2)",
);

impl Store {
    /// Remembers (or refreshes) the browser for the user, from `ip_address`, until `expires_at`.
    pub async fn remember_browser(
        &self,
        browser_sha256: &[u8],
        identity_store_id: &str,
        user_id: &str,
        ip_address: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let (hash, store, user, ip) = (
            browser_sha256.to_vec(),
            identity_store_id.to_string(),
            user_id.to_string(),
            ip_address.to_string(),
        );
        self.write_one("remember_browser", async move |db| {
            db.execute(&REMEMBER, &[&hash, &store, &user, &ip, &now, &expires_at])
                .await?;
            Ok(())
        })
        .await
    }

    /// The address of the user's last sign-in from the browser, while it is remembered.
    pub async fn remembered_browser_address(
        &self,
        browser_sha256: &[u8],
        identity_store_id: &str,
        user_id: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let (hash, store, user) = (
            browser_sha256.to_vec(),
            identity_store_id.to_string(),
            user_id.to_string(),
        );
        self.read("remembered_browser_address", async move |db| {
            db.query_opt(&KNOWN, &[&hash, &user, &store, &now]).await
        })
        .await
    }

    /// Forgets every browser of the user (their MFA devices changed).
    pub async fn forget_browsers(
        &self,
        identity_store_id: &str,
        user_id: &str,
    ) -> StoreResult<u64> {
        let (store, user) = (identity_store_id.to_string(), user_id.to_string());
        self.write_one("forget_browsers", async move |db| {
            db.execute(&FORGET_USER, &[&store, &user]).await
        })
        .await
    }

    /// Deletes up to `limit` expired records; how many went.
    pub async fn sweep_remembered_browsers(&self, now: i64, limit: i64) -> StoreResult<u64> {
        self.write_one("sweep_remembered_browsers", async move |db| {
            db.execute(&SWEEP, &[&now, &limit]).await
        })
        .await
    }
}
