//! The background sweep of sign-in state: ended and expired sessions, failed-sign-in counters
//! whose window and lock are over, expired temporary credentials, MFA enrolment links,
//! remembered browsers, and expired mailed links and sign-in codes, deleted in small batches so
//! that the tables hold little more than what is live.

use iic_api::AppState;
use std::time::Duration;

/// How often the sweep runs.
const EVERY: Duration = Duration::from_secs(60);
/// Rows deleted per transaction.
const BATCH: i64 = 1_000;

pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let now = iic_domain::clock::now_millis();
        drain("sessions", || state.store.sweep_sessions(now, BATCH)).await;
        let window = state.limits.sign_in.longest_window_ms();
        drain("sign-in failure counters", || {
            state.store.sweep_sign_in_failures(now, window, BATCH)
        })
        .await;
        drain("temporary credentials", || {
            state.store.sweep_temporary_credentials(now, BATCH)
        })
        .await;
        drain("MFA enrolment links", || {
            state.store.sweep_mfa_enrolments(now, BATCH)
        })
        .await;
        drain("remembered browsers", || {
            state.store.sweep_remembered_browsers(now, BATCH)
        })
        .await;
        drain("mailed links", || {
            state.store.sweep_mailed_links(now, BATCH)
        })
        .await;
        drain("e-mail sign-in codes", || {
            state.store.sweep_email_codes(now, BATCH)
        })
        .await;
    }
}

/// Runs one kind of sweep until a batch comes back short.
async fn drain<F, Fut>(what: &str, mut sweep: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = iic_store::StoreResult<u64>>,
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
