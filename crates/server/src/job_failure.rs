//! What becomes of a job whose run failed: tried again later when the failure may pass and runs
//! remain, otherwise given up — its work fails visibly (the status APIs show why) and what it
//! held (an account name, an in-flight slot, an account in closure) is released.

use iic_api::AppState;
use iic_domain::job::JobKind;
use iic_domain::names::Named;
use iic_domain::retry::{failure_note, Decision, RetryPolicy};
use iic_store::{Job, StoreError};

/// The status and account ids an account-creation job carries.
pub fn creation_payload(payload: &str) -> Option<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    Some((
        v["status_id"].as_str()?.to_string(),
        v["account_id"].as_str()?.to_string(),
    ))
}

/// What to do after `job`'s run failed with `error`.
pub fn decide(policy: &RetryPolicy, job: &Job, error: &StoreError) -> Decision {
    policy.decide(error.is_transient(), job.attempts, &job.id)
}

/// Reschedules `job` or gives it up, as `policy` decides for `error`.
pub async fn handle(
    state: &AppState,
    policy: &RetryPolicy,
    job: &Job,
    error: &StoreError,
    now: i64,
) {
    let transient = error.is_transient();
    match decide(policy, job, error) {
        Decision::RetryAfter(ms) => {
            tracing::warn!(job_id = %job.id, kind = job.kind.name(), attempt = job.attempts, retry_in_ms = ms, error = %error, "job failed; retrying");
            let note = failure_note(&error.to_string());
            if let Err(e) = state.store.retry_job(&job.id, now + ms, &note).await {
                // The lease runs out and another run (counted) picks the job up.
                tracing::error!(job_id = %job.id, error = %e, "rescheduling a failed job failed");
            }
        }
        Decision::GiveUp => {
            let why = match transient {
                true => "it failed on every attempt",
                false => "its failure would repeat",
            };
            tracing::error!(job_id = %job.id, kind = job.kind.name(), attempt = job.attempts, transient, error = %error, "job given up: {why}");
            give_up(state, job, &error.to_string(), now).await;
        }
    }
}

/// Gives up a job claimed for a run beyond the last one allowed: its earlier runs never
/// reported back (each time its worker died or its lease ran out), so it is not run again.
pub async fn give_up_unfinished(state: &AppState, policy: &RetryPolicy, job: &Job, now: i64) {
    let note = format!(
        "claimed for run {} of at most {}: earlier runs never finished",
        job.attempts, policy.max_attempts
    );
    tracing::error!(job_id = %job.id, kind = job.kind.name(), attempt = job.attempts, "job given up: {note}");
    give_up(state, job, &note, now).await;
}

/// Ends `job` as failed and its work with it, in one transaction; `reason` (kept beside the
/// job for operators) says why.
async fn give_up(state: &AppState, job: &Job, reason: &str, now: i64) {
    let note = failure_note(reason);
    let store = &state.store;
    let ended = match job.kind {
        JobKind::CreateAccount => match creation_payload(&job.payload) {
            Some((status_id, _)) => {
                store
                    .give_up_account_creation(job, &status_id, &note, now)
                    .await
            }
            None => store.fail_job(&job.id, &note, now).await,
        },
        JobKind::CloseAccount => store.give_up_account_closure(job, &note, now).await,
        JobKind::Request(_) => store.give_up_request(job, &note, now).await,
    };
    if let Err(e) = ended {
        // Left running: when its lease runs out it is claimed again, beyond its last run, and
        // given up once more.
        tracing::error!(job_id = %job.id, kind = job.kind.name(), error = %e, "giving up a job failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(attempts: i64) -> Job {
        Job {
            id: "job-1".into(),
            kind: JobKind::CreateAccount,
            payload: "{}".into(),
            attempts,
            run_after: 0,
            created_at: 0,
        }
    }

    fn backend(source: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
        StoreError::Backend {
            operation: "finish_account_creation",
            statement: None,
            source,
        }
    }

    #[test]
    fn a_permanent_failure_ends_the_job_on_its_first_run() {
        let policy = RetryPolicy::default();
        let permanent = backend("a stored value could not be read back".into());
        assert!(!permanent.is_transient());
        assert_eq!(decide(&policy, &job(1), &permanent), Decision::GiveUp);
        let conflict = StoreError::Conflict {
            operation: "finish_account_creation",
            rule: "accounts_pkey".into(),
        };
        assert_eq!(decide(&policy, &job(1), &conflict), Decision::GiveUp);
    }

    #[test]
    fn a_transient_failure_is_retried_with_backoff_until_the_last_run() {
        let policy = RetryPolicy::default();
        let transient = backend(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset",
        )));
        assert!(transient.is_transient());
        let mut last = 0;
        for attempt in 1..policy.max_attempts {
            let Decision::RetryAfter(ms) = decide(&policy, &job(attempt), &transient) else {
                panic!("gave up after run {attempt}");
            };
            assert!(ms >= last, "run {attempt}: {ms} < {last}");
            last = ms;
        }
        assert_eq!(
            decide(&policy, &job(policy.max_attempts), &transient),
            Decision::GiveUp
        );
    }

    #[test]
    fn creation_payloads_are_read_or_refused() {
        assert_eq!(
            creation_payload(r#"{"status_id":"s","account_id":"a"}"#),
            Some(("s".into(), "a".into()))
        );
        assert_eq!(creation_payload(r#"{"status_id":"s"}"#), None);
        assert_eq!(creation_payload("not json"), None);
    }
}
