//! Background workers: claim durable jobs from the store and run them. Any number of servers may
//! run workers against one database; the store hands each job to one of them at a time, and a
//! job whose worker died is taken over when its lease runs out.

use crate::job_failure::{self, creation_payload};
use iic_api::AppState;
use iic_domain::job::JobKind;
use iic_domain::names::Named;
use iic_domain::retry::RetryPolicy;
use iic_domain::{clock, ids};
use iic_store::{Claim, Job, Project, StoreError};
use std::time::Duration;

/// How long a claimed job is reserved for its worker. Jobs take milliseconds; a crashed worker's
/// job is picked up again after this.
const LEASE_MS: i64 = 5_000;
const IDLE_POLL: Duration = Duration::from_millis(200);
/// Runs a job gets and the delays between them (docs/job-retry.md).
const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 8,
    base_ms: 1_000,
    cap_ms: 300_000,
};
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
        let claim = Claim {
            worker: &worker,
            now: clock::now_millis(),
            lease_ms: LEASE_MS,
            limit: BATCH,
        };
        match state.store.claim_jobs(claim).await {
            Ok(jobs) if !jobs.is_empty() => run_batch(&state, jobs).await,
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

/// Runs a claimed batch: the asynchronous requests of the admin API together, in one
/// transaction (one commit instead of one per job); if that fails, each on its own, so that
/// one failing job neither holds back nor undoes the others. Other jobs run one by one.
async fn run_batch(state: &AppState, jobs: Vec<Job>) {
    let (jobs, spent): (Vec<Job>, Vec<Job>) =
        jobs.into_iter().partition(|j| POLICY.admits(j.attempts));
    for job in &spent {
        job_failure::give_up_unfinished(state, &POLICY, job, clock::now_millis()).await;
    }
    let (requests, others): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| matches!(j.kind, JobKind::Request(_)));
    let alone = match requests.len() {
        0 => Vec::new(),
        _ => match state
            .store
            .apply_requests(&requests, clock::now_millis())
            .await
        {
            Ok(statuses) => {
                for (job, status) in requests.iter().zip(statuses) {
                    tracing::debug!(request_id = %job.payload, kind = job.kind.name(), status = status.name(), "request finished");
                }
                Vec::new()
            }
            Err(e) => {
                tracing::warn!(jobs = requests.len(), error = %e, "a batch of requests failed; running them one by one");
                requests
            }
        },
    };
    for job in alone.into_iter().chain(others) {
        if let Err(e) = execute(state, &job).await {
            job_failure::handle(state, &POLICY, &job, &e, clock::now_millis()).await;
        }
    }
}

async fn execute(state: &AppState, job: &Job) -> Result<(), StoreError> {
    let now = clock::now_millis();
    match job.kind {
        JobKind::CreateAccount => {
            let Some((status_id, account_id)) = creation_payload(&job.payload) else {
                // It can never run: retrying would only repeat the failure.
                tracing::error!(job_id = %job.id, "account creation job with an unreadable payload; failed");
                return state
                    .store
                    .fail_job(&job.id, "unreadable payload", now)
                    .await;
            };
            let project = Project {
                id: ids::hex32(),
                account_id: account_id.clone(),
                region: state.region.clone(),
            };
            let outcome = state
                .store
                .finish_account_creation(job, &status_id, &project, now)
                .await?;
            tracing::info!(%status_id, %account_id, outcome = outcome.name(), "account creation finished");
        }
        JobKind::CloseAccount => {
            state.store.finish_account_closure(job, now).await?;
            state.revoke_cached_callers().await;
            tracing::info!(account_id = %job.payload, "account closed");
        }
        JobKind::Request(kind) => {
            let status = state.store.apply_request(job, now).await?;
            tracing::debug!(request_id = %job.payload, kind = kind.name(), status = status.name(), "request finished");
        }
    }
    Ok(())
}
