//! Failed sign-in counters: a key's failures within its window, and the lock they lead to.

use crate::db::Sql;
use crate::{Store, StoreResult};
use iic_domain::sign_in::ThrottlePolicy;

static LOCKED_UNTIL: Sql = Sql::new(
    "SELECT locked_until FROM sign_in_failures WHERE throttle_key = ANY($1) AND locked_until > $2
     ORDER BY locked_until DESC LIMIT 1",
);
/// Counts one failure; a window older than `$3` starts again at this failure.
static COUNT: Sql = Sql::new(
    "INSERT INTO sign_in_failures (throttle_key, failures, window_started_at) VALUES ($1, 1, $2)
     ON CONFLICT (throttle_key) DO UPDATE SET
       failures = CASE WHEN sign_in_failures.window_started_at <= $3 THEN 1
                       ELSE sign_in_failures.failures + 1 END,
       window_started_at = CASE WHEN sign_in_failures.window_started_at <= $3 THEN $2
                                ELSE sign_in_failures.window_started_at END
     RETURNING failures",
);
static LOCK: Sql = Sql::new(
    "UPDATE sign_in_failures SET locked_until = $2, failures = 0, window_started_at = $3
     WHERE throttle_key = $1",
);
static CLEAR: Sql = Sql::new("DELETE FROM sign_in_failures WHERE throttle_key = $1");
static SWEEP: Sql = Sql::new(
    "DELETE FROM sign_in_failures WHERE throttle_key IN
       (SELECT throttle_key FROM sign_in_failures
        WHERE window_started_at <= $1 AND (locked_until IS NULL OR locked_until <= $2)
        LIMIT $3)",
);

impl Store {
    /// The latest time until which any of `keys` is locked, when one is locked at `now`.
    pub async fn sign_in_locked_until(
        &self,
        keys: &[String],
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let keys = keys.to_vec();
        self.read("sign_in_locked_until", async move |db| {
            db.query_opt(&LOCKED_UNTIL, &[&crate::db::TextList(&keys), &now])
                .await
        })
        .await
    }

    /// Counts a failure of `key` at `now`; when it reaches the policy's limit within the window,
    /// the key is locked and the time it unlocks is returned.
    pub async fn record_sign_in_failure(
        &self,
        key: &str,
        policy: ThrottlePolicy,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let key = key.to_string();
        self.write("record_sign_in_failure", async move |db| {
            let window_floor = now - policy.window_ms;
            let failures: i64 = db.query_one(&COUNT, &[&key, &now, &window_floor]).await?;
            if failures < policy.max_failures {
                return Ok(None);
            }
            let until = now + policy.lock_ms;
            db.execute(&LOCK, &[&key, &until, &now]).await?;
            Ok(Some(until))
        })
        .await
    }

    /// Forgets the failures and any lock of `key` (a successful sign-in, an administrator's
    /// password reset or enabling of the user).
    pub async fn clear_sign_in_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_string();
        self.write_one("clear_sign_in_failures", async move |db| {
            db.execute(&CLEAR, &[&key]).await?;
            Ok(())
        })
        .await
    }

    /// Deletes up to `batch` counters whose window and lock are over at `now`, given the longest
    /// window in use; returns how many.
    pub async fn sweep_sign_in_failures(
        &self,
        now: i64,
        longest_window_ms: i64,
        batch: i64,
    ) -> StoreResult<u64> {
        self.write_one("sweep_sign_in_failures", async move |db| {
            let floor = now - longest_window_ms;
            db.execute(&SWEEP, &[&floor, &now, &batch]).await
        })
        .await
    }
}
