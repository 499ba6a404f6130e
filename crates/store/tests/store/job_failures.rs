//! Jobs that keep failing: attempts counted on every claim, a failure kept beside its job, and
//! giving up — the work fails visibly and what it held is released, in one transaction.

use crate::common::*;
use iic_domain::assignment::RequestFailure;
use iic_domain::organizations::{ClosureFailure, CreationFailure};
use iic_domain::retry::{Decision, RetryPolicy};
use iic_store::*;

suite!(
    attempts_count_every_claim_and_failures_are_kept,
    giving_up_an_account_creation_fails_it_and_frees_its_name,
    a_poisoned_account_creation_ends_within_the_bound,
    giving_up_a_request_fails_it_and_frees_its_slot,
    giving_up_a_closure_leaves_the_account_active,
);

/// An organization and its root.
async fn organization(store: &SharedStore) -> (String, String) {
    let b = bootstrapped(store).await;
    let org = b.organization.id.clone();
    let root = store.get_root(&org).await.expect("root").expect("x").id;
    (org, root)
}

/// Requests the creation of an account named `name`; returns its status, its job and whether
/// the request was taken.
async fn request_creation(
    store: &SharedStore,
    org: &str,
    root: &str,
    name: &str,
    description: &str,
) -> (CreateAccountStatus, Job, OrgOutcome) {
    let mut account = member(org, root, name);
    account.description = Some(description.into());
    let status = CreateAccountStatus {
        seq: 0,
        id: iic_domain::organizations::create_account_status_id(),
        organization_id: org.into(),
        account_id: account.id.clone(),
        account_name: name.into(),
        state: CreationState::InProgress,
        failure_reason: None,
        created_at: 10,
        completed_at: None,
        request: account,
    };
    let payload = serde_json::json!({"status_id": status.id, "account_id": status.account_id});
    let j = job(JobKind::CreateAccount, &payload.to_string(), 0);
    let outcome = store
        .request_account_creation(&status, &j)
        .await
        .expect("request");
    (status, j, outcome)
}

fn project(account_id: &str) -> Project {
    Project {
        id: iic_domain::ids::hex32(),
        account_id: account_id.into(),
        region: "cn-north-4".into(),
    }
}

async fn job_record(store: &SharedStore, id: &str) -> JobRecord {
    store.get_job(id).await.expect("get job").expect("job")
}

async fn attempts_count_every_claim_and_failures_are_kept(store: SharedStore) {
    let (org, root) = organization(&store).await;
    let (_, j, _) = request_creation(&store, &org, &root, "counted", "d").await;
    // A worker that dies leaves its lease to run out; every claim counts as a run.
    for (attempt, now) in [(1, 100), (2, 5_200), (3, 10_300)] {
        let claimed = claim_one(&store, "w", now, 5_000).await.expect("claimed");
        assert_eq!(
            (claimed.id.as_str(), claimed.attempts),
            (j.id.as_str(), attempt)
        );
        assert_eq!(
            claim_one(&store, "w2", now + 1, 5_000).await,
            None,
            "leased"
        );
    }
    let note =
        "store operation finish_account_creation failed: SQLSTATE 40001: could not serialize";
    store.retry_job(&j.id, 20_000, note).await.expect("retry");
    let r = job_record(&store, &j.id).await;
    assert_eq!(
        (
            r.state,
            r.job.attempts,
            r.job.run_after,
            r.last_error.as_deref()
        ),
        (JobState::Pending, 3, 20_000, Some(note))
    );
    assert_eq!(
        claim_one(&store, "w", 19_999, 5_000).await,
        None,
        "not yet due"
    );
    let again = claim_one(&store, "w", 20_000, 5_000).await.expect("due");
    assert_eq!(again.attempts, 4);
    // The claim-time bound: a job claimed beyond its last run is not admitted.
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    assert!(!policy.admits(again.attempts));
    assert!(RetryPolicy::default().admits(again.attempts));
}

async fn giving_up_an_account_creation_fails_it_and_frees_its_name(store: SharedStore) {
    let (org, root) = organization(&store).await;
    let (status, j, outcome) = request_creation(&store, &org, &root, "given-up", "d").await;
    assert_eq!(outcome, OrgOutcome::Done);
    let claimed = claim_one(&store, "w", 100, 5_000).await.expect("claimed");
    store
        .give_up_account_creation(
            &claimed,
            &status.id,
            "SQLSTATE 53300: too many connections",
            300,
        )
        .await
        .expect("give up");

    let failed = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("status");
    assert_eq!(
        (
            failed.state,
            failed.failure_reason.as_deref(),
            failed.completed_at
        ),
        (
            CreationState::Failed,
            Some(CreationFailure::Internal.reason()),
            Some(300)
        )
    );
    let listed = store
        .list_create_account_statuses(&org, &[CreationState::Failed], Page::first(10))
        .await
        .expect("list");
    assert_eq!(
        listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![status.id.as_str()]
    );
    assert_eq!(
        store.get_account(&status.account_id).await.expect("get"),
        None
    );
    let r = job_record(&store, &j.id).await;
    assert_eq!(
        (r.state, r.last_error.as_deref()),
        (
            JobState::Failed,
            Some("SQLSTATE 53300: too many connections")
        )
    );
    assert_eq!(
        claim_one(&store, "w", 10_000_000, 5_000).await,
        None,
        "a given-up job never runs again"
    );

    // The name is free again, and a new request for it runs to the end.
    let (again, _, outcome) = request_creation(&store, &org, &root, "given-up", "d").await;
    assert_eq!(outcome, OrgOutcome::Done);
    let claimed = claim_one(&store, "w", 10_000_001, 5_000)
        .await
        .expect("new job");
    assert_eq!(
        store
            .finish_account_creation(&claimed, &again.id, &project(&again.account_id), 400)
            .await
            .expect("finish"),
        CreationState::Succeeded
    );
    // Giving up a request that has finished changes nothing but its job.
    store
        .give_up_account_creation(&claimed, &again.id, "late", 500)
        .await
        .expect("give up late");
    let done = store
        .get_create_account_status(&org, &again.id)
        .await
        .expect("get")
        .expect("status");
    assert_eq!(
        (done.state, done.failure_reason),
        (CreationState::Succeeded, None)
    );
}

/// The poison that was found: a CreateAccount whose description holds a NUL. PostgreSQL refuses
/// the account's row for good; the job must end failed on its first run, not retry forever.
/// SQLite stores the character, and the account is simply created.
async fn a_poisoned_account_creation_ends_within_the_bound(store: SharedStore) {
    let (org, root) = organization(&store).await;
    let (status, j, outcome) = request_creation(&store, &org, &root, "poison", "a\0b").await;
    assert_eq!(
        outcome,
        OrgOutcome::Done,
        "the request itself is stored (as JSON)"
    );
    let policy = RetryPolicy::default();
    let mut now = 100;
    let mut runs = 0;
    let mut last_error = None;
    // What the worker does, without its sleeps.
    while let Some(claimed) = claim_one(&store, "w", now, 5_000).await {
        runs += 1;
        assert!(policy.admits(claimed.attempts));
        let finished = store
            .finish_account_creation(&claimed, &status.id, &project(&status.account_id), now)
            .await;
        match finished {
            Ok(state) => {
                assert_eq!(state, CreationState::Succeeded);
                break;
            }
            Err(e) => {
                last_error = Some(e.to_string());
                match policy.decide(e.is_transient(), claimed.attempts, &claimed.id) {
                    Decision::RetryAfter(ms) => {
                        now += ms;
                        store
                            .retry_job(&claimed.id, now, &e.to_string())
                            .await
                            .expect("retry");
                    }
                    Decision::GiveUp => {
                        store
                            .give_up_account_creation(&claimed, &status.id, &e.to_string(), now)
                            .await
                            .expect("give up");
                    }
                }
            }
        }
        assert!(runs <= policy.max_attempts, "the job outlived its bound");
    }
    let ended = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("status");
    match store.backend_name() {
        "postgres" => {
            assert_eq!(runs, 1, "a permanent failure is not retried");
            let e = last_error.expect("it failed");
            assert!(e.contains("SQLSTATE 22021"), "{e}");
            assert_eq!(
                (ended.state, ended.failure_reason.as_deref()),
                (
                    CreationState::Failed,
                    Some(CreationFailure::Internal.reason())
                )
            );
            let r = job_record(&store, &j.id).await;
            assert_eq!(r.state, JobState::Failed);
            assert!(
                r.last_error.is_some_and(|e| e.contains("SQLSTATE 22021")),
                "the database's reason is kept beside the job"
            );
            let (_, _, again) = request_creation(&store, &org, &root, "poison", "clean").await;
            assert_eq!(again, OrgOutcome::Done, "the name is free again");
        }
        _ => {
            assert_eq!((runs, ended.state), (1, CreationState::Succeeded));
        }
    }
}

async fn giving_up_a_request_fails_it_and_frees_its_slot(store: SharedStore) {
    let w = AssignmentWorld::new(&store, "stuck").await;
    const MAX: i64 = 1;
    let r = w.create_request();
    let j = job(JobKind::Request(r.kind), &r.request_id, 0);
    assert!(store.enqueue_request(&r, &j, MAX).await.expect("enqueue"));
    let next = w.create_request();
    let next_job = job(JobKind::Request(next.kind), &next.request_id, 0);
    assert!(
        !store
            .enqueue_request(&next, &next_job, MAX)
            .await
            .expect("enqueue"),
        "the one slot is held"
    );
    let claimed = claim_one(&store, "w", 10, 5_000).await.expect("claimed");
    store
        .give_up_request(&claimed, "SQLSTATE 08006: connection failure", 20)
        .await
        .expect("give up");
    let failed = store
        .get_request(&w.instance_id, r.kind, &r.request_id)
        .await
        .expect("get")
        .expect("request");
    assert_eq!(
        (
            failed.status,
            failed.failure_reason.as_deref(),
            failed.updated_at
        ),
        (
            RequestStatus::Failed,
            Some(RequestFailure::Internal.reason()),
            20
        )
    );
    assert_eq!(job_record(&store, &j.id).await.state, JobState::Failed);
    assert!(
        store
            .enqueue_request(&next, &next_job, MAX)
            .await
            .expect("enqueue"),
        "the slot came back"
    );
    // A request that already finished is left as it is, and its slot is not given back twice.
    let claimed = claim_one(&store, "w", 30, 5_000).await.expect("claimed");
    assert_eq!(
        store.apply_request(&claimed, 40).await.expect("apply"),
        RequestStatus::Succeeded
    );
    store
        .give_up_request(&claimed, "late", 50)
        .await
        .expect("give up late");
    let done = store
        .get_request(&w.instance_id, next.kind, &next.request_id)
        .await
        .expect("get")
        .expect("request");
    assert_eq!(
        (done.status, done.failure_reason),
        (RequestStatus::Succeeded, None)
    );
    let third = w.create_request();
    let third_job = job(JobKind::Request(third.kind), &third.request_id, 0);
    assert!(store
        .enqueue_request(&third, &third_job, MAX)
        .await
        .expect("enqueue"));
    let fourth = w.create_request();
    let fourth_job = job(JobKind::Request(fourth.kind), &fourth.request_id, 0);
    assert!(
        !store
            .enqueue_request(&fourth, &fourth_job, MAX)
            .await
            .expect("enqueue"),
        "still one slot, not two"
    );
}

async fn giving_up_a_closure_leaves_the_account_active(store: SharedStore) {
    let (org, root) = organization(&store).await;
    let a = member(&org, &root, "closing");
    store.insert_account(&a).await.expect("account");
    let j = job(JobKind::CloseAccount, &a.id, 0);
    assert_eq!(
        store.close_account(&org, &a.id, &j).await.expect("close"),
        OrgOutcome::Done
    );
    let claimed = claim_one(&store, "w", 10, 5_000).await.expect("claimed");
    store
        .give_up_account_closure(&claimed, "SQLSTATE 57P01: terminating connection", 20)
        .await
        .expect("give up");
    let account = store
        .get_account(&a.id)
        .await
        .expect("get")
        .expect("account");
    assert_eq!(account.status, AccountStatus::Active);
    let statuses = store
        .list_close_account_statuses(&org, &[], Page::first(10))
        .await
        .expect("list");
    let s = statuses
        .iter()
        .find(|s| s.account_id == a.id)
        .expect("status");
    assert_eq!(
        (s.state, s.failure_reason.as_deref(), s.updated_at),
        (
            ClosureState::PendingClosure,
            Some(ClosureFailure::Internal.reason()),
            20
        )
    );
    assert_eq!(job_record(&store, &j.id).await.state, JobState::Failed);
    // It may be closed again; the new attempt clears the failure and runs to the end.
    let again = job(JobKind::CloseAccount, &a.id, 0);
    assert_eq!(
        store
            .close_account(&org, &a.id, &again)
            .await
            .expect("close"),
        OrgOutcome::Done
    );
    let claimed = claim_one(&store, "w", 30, 5_000).await.expect("claimed");
    store
        .finish_account_closure(&claimed, 40)
        .await
        .expect("finish");
    let statuses = store
        .list_close_account_statuses(&org, &[], Page::first(10))
        .await
        .expect("list");
    let s = statuses
        .iter()
        .find(|s| s.account_id == a.id)
        .expect("status");
    assert_eq!(
        (s.state, s.failure_reason.as_deref()),
        (ClosureState::Suspended, None)
    );
    let account = store
        .get_account(&a.id)
        .await
        .expect("get")
        .expect("account");
    assert_eq!(account.status, AccountStatus::Suspended);
}
