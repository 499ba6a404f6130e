//! Durable jobs: account creation through a job, claiming under leases and in batches.

use crate::common::*;
use iic_store::*;

suite!(
    account_creation_runs_through_a_job,
    jobs_are_claimed_once_in_batches,
    jobs_are_claimed_once_under_leases,
);

async fn account_creation_runs_through_a_job(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let request = member(&org, &root, "created-one");
    let status = CreateAccountStatus {
        seq: 0,
        id: iic_domain::organizations::create_account_status_id(),
        organization_id: org.clone(),
        account_id: request.id.clone(),
        account_name: request.name.clone(),
        state: CreationState::InProgress,
        failure_reason: None,
        created_at: 10,
        completed_at: None,
        request: request.clone(),
    };
    let j = job(JobKind::CreateAccount, &status.id, 0);
    assert_eq!(
        store
            .request_account_creation(&status, &j)
            .await
            .expect("request"),
        OrgOutcome::Done
    );
    let mut dup = status.clone();
    dup.id = iic_domain::organizations::create_account_status_id();
    assert!(
        matches!(
            store
                .request_account_creation(&dup, &job(JobKind::CreateAccount, &dup.id, 0))
                .await
                .expect("dup"),
            OrgOutcome::Refused(Refusal::AccountNameTaken(_))
        ),
        "a pending request holds the name"
    );
    let got = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.state, CreationState::InProgress);
    assert_eq!(got.request.name, "created-one");
    assert_eq!(store.get_account(&request.id).await.expect("not yet"), None);

    let claimed = claim_one(&store, "w1", 100, 5_000).await.expect("a job");
    assert_eq!(claimed.id, j.id);
    assert_eq!(claimed.attempts, 1);
    let project = Project {
        id: iic_domain::ids::hex32(),
        account_id: request.id.clone(),
        region: "cn-north-4".into(),
    };
    assert_eq!(
        store
            .finish_account_creation(&claimed, &status.id, &project, 200)
            .await
            .expect("finish"),
        CreationState::Succeeded
    );
    let done = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (done.state, done.completed_at),
        (CreationState::Succeeded, Some(200))
    );
    let acct = store
        .get_account(&request.id)
        .await
        .expect("get")
        .expect("created");
    assert_eq!(acct.parent_id.as_deref(), Some(root.as_str()));
    assert_eq!(
        store.list_projects(&request.id).await.expect("projects"),
        vec![project.clone()]
    );
    assert_eq!(
        claim_one(&store, "w1", 10_000_000, 5_000).await,
        None,
        "a finished job never runs again"
    );
    // Finishing twice is harmless.
    assert_eq!(
        store
            .finish_account_creation(&claimed, &status.id, &project, 300)
            .await
            .expect("again"),
        CreationState::Succeeded
    );

    let states = vec![CreationState::Succeeded];
    assert_eq!(
        store
            .list_create_account_statuses(&org, &states, Page::first(10))
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(store
        .list_create_account_statuses(&org, &[CreationState::Failed], Page::first(10))
        .await
        .expect("failed")
        .is_empty());
}

/// Queues `count` jobs, due at once, by closing as many new member accounts (any job kind is
/// claimed the same way). Returns the organization, its root and the job ids, oldest first.
async fn queued_jobs(
    store: &SharedStore,
    count: usize,
    prefix: &str,
) -> (String, String, Vec<String>) {
    let b = bootstrapped(store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let mut ids = Vec::new();
    for i in 0..count {
        let a = member(&org, &root, &format!("{prefix}-{i}"));
        store.insert_account(&a).await.expect("account");
        let j = job(JobKind::CloseAccount, &a.id, 0);
        ids.push(j.id.clone());
        assert_eq!(
            store.close_account(&org, &a.id, &j).await.expect("close"),
            OrgOutcome::Done
        );
    }
    (org, root, ids)
}

async fn jobs_are_claimed_once_in_batches(store: SharedStore) {
    let (_, _, mut ids) = queued_jobs(&store, 45, "batch").await;
    // One batch is the oldest jobs, in order, and no more than asked for.
    let first = claim(&store, "w0", 500, 60_000, 7).await;
    assert_eq!(
        first.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        ids[..7].to_vec()
    );
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let s = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = claim(&s, &format!("w{}", w + 1), 500, 60_000, 5).await;
                    if batch.is_empty() {
                        break mine;
                    }
                    assert!(batch.len() <= 5);
                    mine.extend(batch.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut claimed: Vec<String> = first.into_iter().map(|j| j.id).collect();
    for w in workers {
        claimed.extend(w.await.expect("join"));
    }
    claimed.sort();
    ids.sort();
    assert_eq!(claimed, ids, "every job claimed by exactly one worker");
    // Leases that ran out come back, a batch at a time.
    let again = claim(&store, "w9", 500 + 60_001, 1_000, 100).await;
    assert_eq!(again.len(), 45);
    assert!(again.iter().all(|j| j.attempts == 2));
}

async fn jobs_are_claimed_once_under_leases(store: SharedStore) {
    let (org, root, ids) = queued_jobs(&store, 20, "racer").await;
    let not_yet = job(JobKind::CloseAccount, "x", 1_000_000);
    let a = member(&org, &root, "later");
    store.insert_account(&a).await.expect("account");
    store
        .close_account(&org, &a.id, &not_yet)
        .await
        .expect("close later");

    let workers: Vec<_> = (0..4)
        .map(|w| {
            let s = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(j) = claim_one(&s, &format!("w{w}"), 500, 60_000).await {
                    mine.push(j);
                }
                mine
            })
        })
        .collect();
    let mut claimed: Vec<Job> = Vec::new();
    for w in workers {
        claimed.extend(w.await.expect("join"));
    }
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        claimed.iter().map(|j| j.id.clone()).collect::<Vec<_>>(),
        expected,
        "each due job claimed exactly once; the future one not at all"
    );

    // Finish all but one; a lease that runs out lets another worker take that one over.
    let (unfinished, finished) = claimed.split_first().expect("claimed jobs");
    for j in finished {
        store
            .finish_account_closure(j, 1_000)
            .await
            .expect("finish");
    }
    assert_eq!(claim_one(&store, "w9", 600, 60_000).await, None);
    let taken_over = claim_one(&store, "w9", 500 + 60_001, 60_000)
        .await
        .expect("reclaimed");
    assert_eq!(taken_over.id, unfinished.id);
    assert_eq!(taken_over.attempts, 2);
    store
        .finish_account_closure(&taken_over, 70_000)
        .await
        .expect("finish");
    store
        .retry_job(&not_yet.id, 0, "SQLSTATE 40001: could not serialize access")
        .await
        .expect("retry");
    assert_eq!(
        claim_one(&store, "w9", 70_001, 1_000).await.map(|j| j.id),
        Some(not_yet.id.clone())
    );
}

async fn claim(
    store: &SharedStore,
    worker: &str,
    now: i64,
    lease_ms: i64,
    limit: usize,
) -> Vec<Job> {
    store
        .claim_jobs(Claim {
            worker,
            now,
            lease_ms,
            limit,
        })
        .await
        .expect("claim")
}
