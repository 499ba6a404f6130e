//! The background sweep of sign-in sessions and temporary credentials: ended and expired
//! sessions, and expired credentials, are deleted in small batches, so that the tables hold
//! little more than what is live.

use iic_api::AppState;
use iic_store::StoreResult;
use std::future::Future;
use std::time::Duration;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(60);
/// Rows of each kind deleted per transaction.
const BATCH: i64 = 1_000;

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = iic_domain::clock::now_millis();
        drain("sessions", || state.store.sweep_sessions(now, BATCH)).await;
        drain("temporary credentials", || {
            state.store.sweep_temporary_credentials(now, BATCH)
        })
        .await;
    }
}

/// Runs `sweep` until a round deletes less than a batch.
async fn drain<F, Fut>(what: &str, mut sweep: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<u64>>,
{
    loop {
        match sweep().await {
            Ok(n) if n >= BATCH as u64 => continue,
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(deleted = n, "swept {what}");
                }
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "sweeping {what} failed");
                break;
            }
        }
    }
}
