//! The background sweep of sign-in sessions: ended and expired rows are deleted in small
//! batches, so that the table holds little more than the live sessions.

use iic_api::AppState;
use std::time::Duration;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(60);
/// Rows of each kind (expired, ended) deleted per transaction.
const BATCH: i64 = 1_000;

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        loop {
            match state
                .store
                .sweep_sessions(iic_domain::clock::now_millis(), BATCH)
                .await
            {
                Ok(n) if n >= BATCH as u64 => continue,
                Ok(n) => {
                    if n > 0 {
                        tracing::debug!(deleted = n, "swept sessions");
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "sweeping sessions failed");
                    break;
                }
            }
        }
    }
}
