//! Forgets OIDC rows that can no longer answer anything (spent tokens, device grants past their
//! second lifetime, expired clients), once a minute. Any number of servers may sweep one
//! database: the deletes are idempotent.

use iic_api::AppState;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(60);

pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(EVERY).await;
        match state
            .store
            .sweep_oidc(iic_domain::clock::now_millis())
            .await
        {
            Ok(swept) => tracing::debug!(?swept, "swept OIDC rows"),
            Err(e) => tracing::warn!(error = %e, "sweeping OIDC rows failed; trying again later"),
        }
    }
}
