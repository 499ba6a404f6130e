//! Background workers: claim durable jobs from the store and run them. Any number of servers may
//! run workers against one database; the store hands each job to one of them at a time, and a
//! job whose worker died is taken over when its lease runs out.

use iic_api::identity_center::{CREATE_KIND, DELETE_KIND, PROVISION_KIND};
use iic_api::organizations::accounts::{CLOSE_ACCOUNT_JOB, CREATE_ACCOUNT_JOB};
use iic_api::AppState;
use iic_domain::{clock, ids};
use iic_store::{Job, Project, StoreError};
use std::time::Duration;

/// How long a claimed job is reserved for its worker. Jobs take milliseconds; a crashed worker's
/// job is picked up again after this.
const LEASE_MS: i64 = 5_000;
const IDLE_POLL: Duration = Duration::from_millis(200);
const RETRY_AFTER_MS: i64 = 1_000;
/// Jobs claimed at once: one claiming transaction serves this many jobs. A batch takes a few
/// milliseconds, far inside the lease.
const BATCH: usize = 16;

pub fn spawn(state: AppState, count: usize) -> Vec<tokio::task::JoinHandle<()>> {
    let server = ids::hex32();
    (0..count)
        .map(|i| {
            let state = state.clone();
            let worker = format!("{}-{i}", &server[..12]);
            tokio::spawn(async move { run(state, worker).await })
        })
        .collect()
}

async fn run(state: AppState, worker: String) {
    loop {
        match state
            .store
            .claim_jobs(&worker, clock::now_millis(), LEASE_MS, BATCH)
            .await
        {
            Ok(jobs) if !jobs.is_empty() => {
                for job in jobs {
                    if let Err(e) = execute(&state, &job).await {
                        tracing::warn!(job_id = %job.id, kind = %job.kind, error = %e, "job failed; retrying");
                        let _ = state
                            .store
                            .retry_job(&job.id, clock::now_millis() + RETRY_AFTER_MS)
                            .await;
                    }
                }
            }
            Ok(_) => {
                tokio::select! {
                    _ = state.jobs.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "claiming jobs failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn execute(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let now = clock::now_millis();
    match job.kind.as_str() {
        CREATE_ACCOUNT_JOB => {
            let payload: serde_json::Value = serde_json::from_str(&job.payload)
                .map_err(|e| StoreError::Backend(format!("job payload: {e}")))?;
            let (Some(status_id), Some(account_id)) = (
                payload["status_id"].as_str(),
                payload["account_id"].as_str(),
            ) else {
                return state.store.abandon_job(&job.id, now).await;
            };
            let project = Project {
                id: ids::hex32(),
                account_id: account_id.to_string(),
                region: state.region.clone(),
            };
            let outcome = state
                .store
                .finish_account_creation(&job.id, status_id, &project, now)
                .await?;
            tracing::info!(%status_id, %account_id, %outcome, "account creation finished");
            Ok(())
        }
        CLOSE_ACCOUNT_JOB => {
            state
                .store
                .finish_account_closure(&job.id, &job.payload, now)
                .await?;
            state.revoke_cached_callers().await;
            tracing::info!(account_id = %job.payload, "account closed");
            Ok(())
        }
        CREATE_KIND => {
            let status = state
                .store
                .apply_assignment_create(&job.id, &job.payload, now)
                .await?;
            tracing::debug!(request_id = %job.payload, %status, "assignment creation finished");
            Ok(())
        }
        DELETE_KIND => {
            let status = state
                .store
                .apply_assignment_delete(&job.id, &job.payload, now)
                .await?;
            tracing::debug!(request_id = %job.payload, %status, "assignment deletion finished");
            Ok(())
        }
        PROVISION_KIND => {
            let status = state
                .store
                .apply_provision(&job.id, &job.payload, now)
                .await?;
            tracing::debug!(request_id = %job.payload, %status, "provisioning finished");
            Ok(())
        }
        other => {
            tracing::error!(job_id = %job.id, kind = %other, "unknown job kind; abandoned");
            state.store.abandon_job(&job.id, now).await
        }
    }
}
