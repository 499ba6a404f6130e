//! Account assignments, provisioning and the in-flight bound of asynchronous requests.

use crate::common::*;
use iic_store::*;

suite!(
    assignments_run_through_jobs,
    identical_assignments_applied_concurrently_make_one,
    in_flight_bound_holds_under_concurrency_and_frees_on_completion,
    requests_applied_together_finish_each_and_free_every_slot,
);

async fn assignments_run_through_jobs(store: SharedStore) {
    let w = AssignmentWorld::new(&store, "assignee").await;
    let (iid, sid) = (w.instance_id.clone(), w.identity_store_id.clone());
    let (account_id, user_id, ps) = (w.account_id.clone(), w.user_id.clone(), w.set_id.clone());
    let principal = Some((PrincipalType::User, user_id.as_str()));

    let create = request(
        &iid,
        RequestKind::AssignmentCreate,
        &ps,
        principal,
        Some(&account_id),
    );
    assert_eq!(run(&store, &create).await, RequestStatus::Succeeded);
    let stored = store
        .get_request(&iid, RequestKind::AssignmentCreate, &create.request_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        (stored.status, stored.updated_at),
        (RequestStatus::Succeeded, 20)
    );
    assert_eq!(
        run(
            &store,
            &request(
                &iid,
                RequestKind::AssignmentCreate,
                &ps,
                principal,
                Some(&account_id)
            )
        )
        .await,
        RequestStatus::Succeeded,
        "again is fine"
    );
    let listed = store
        .list_assignments(&iid, of_account(&account_id, Some(&ps)), Page::first(10))
        .await
        .expect("list");
    assert_eq!(
        listed.len(),
        1,
        "the same assignment twice is one assignment"
    );
    assert_eq!(
        store
            .list_assignments_for_principal(&iid, &user_principal(&user_id), None, Page::first(10))
            .await
            .expect("principal")
            .len(),
        1
    );
    let prov = store
        .list_provisioned_for_set(&iid, &ps, Page::first(10))
        .await
        .expect("provisioned");
    assert_eq!((prov.len(), prov[0].version), (1, 1));
    assert!(prov[0].snapshot.contains("PT1H"));
    assert!(store.is_provisioned(&ps).await.expect("is"));
    assert_eq!(
        store
            .list_provisioned_for_account(&iid, &account_id, Page::first(10))
            .await
            .expect("acct")
            .len(),
        1
    );

    let ghost = iic_domain::directory::principal_id(&sid);
    let bad = request(
        &iid,
        RequestKind::AssignmentCreate,
        &ps,
        Some((PrincipalType::User, ghost.as_str())),
        Some(&account_id),
    );
    assert_eq!(run(&store, &bad).await, RequestStatus::Failed);
    let failed = store
        .get_request(&iid, RequestKind::AssignmentCreate, &bad.request_id)
        .await
        .expect("get")
        .expect("x");
    assert!(failed
        .failure_reason
        .unwrap_or_default()
        .contains("principal"));
    let wrong_account = request(
        &iid,
        RequestKind::AssignmentCreate,
        &ps,
        principal,
        Some(&"f".repeat(32)),
    );
    assert_eq!(run(&store, &wrong_account).await, RequestStatus::Failed);

    // Re-provisioning after a change brings every provisioned account to the new version.
    let mut changed = store
        .get_permission_set(&iid, &ps)
        .await
        .expect("get")
        .expect("x");
    changed.version += 1;
    changed.session_duration = "PT8H".into();
    store.save_permission_set(&changed).await.expect("save");
    assert_eq!(
        store
            .list_provisioned_for_set(&iid, &ps, Page::first(10))
            .await
            .expect("p")[0]
            .version,
        1
    );
    assert_eq!(
        run(
            &store,
            &request(&iid, RequestKind::Provision, &ps, None, None)
        )
        .await,
        RequestStatus::Succeeded
    );
    let reprovisioned = store
        .list_provisioned_for_set(&iid, &ps, Page::first(10))
        .await
        .expect("p");
    assert_eq!(reprovisioned[0].version, 2);
    assert!(reprovisioned[0].snapshot.contains("PT8H"));

    assert_eq!(
        run(
            &store,
            &request(
                &iid,
                RequestKind::AssignmentDelete,
                &ps,
                principal,
                Some(&account_id)
            )
        )
        .await,
        RequestStatus::Succeeded
    );
    assert_eq!(
        run(
            &store,
            &request(
                &iid,
                RequestKind::AssignmentDelete,
                &ps,
                principal,
                Some(&account_id)
            )
        )
        .await,
        RequestStatus::Failed
    );
    assert!(store
        .list_assignments(&iid, of_account(&account_id, None), Page::first(10))
        .await
        .expect("empty")
        .is_empty());
    assert!(
        !store.is_provisioned(&ps).await.expect("deprovisioned"),
        "the last assignment's deletion deprovisions the set"
    );

    // Deleting the user removes its assignments in the same transaction.
    assert_eq!(
        run(
            &store,
            &request(
                &iid,
                RequestKind::AssignmentCreate,
                &ps,
                principal,
                Some(&account_id)
            )
        )
        .await,
        RequestStatus::Succeeded
    );
    store
        .delete_user(&sid, &user_id)
        .await
        .expect("delete user");
    assert!(store
        .list_assignments_for_principal(&iid, &user_principal(&user_id), None, Page::first(10))
        .await
        .expect("gone")
        .is_empty());

    // The in-flight bound refuses without writing.
    let r1 = request(
        &iid,
        RequestKind::AssignmentCreate,
        &ps,
        principal,
        Some(&account_id),
    );
    assert!(store
        .enqueue_request(
            &r1,
            &job(
                JobKind::Request(RequestKind::AssignmentCreate),
                &r1.request_id,
                0
            ),
            1
        )
        .await
        .expect("first"));
    let r2 = request(
        &iid,
        RequestKind::AssignmentCreate,
        &ps,
        principal,
        Some(&account_id),
    );
    assert!(!store
        .enqueue_request(
            &r2,
            &job(
                JobKind::Request(RequestKind::AssignmentCreate),
                &r2.request_id,
                0
            ),
            1
        )
        .await
        .expect("bounded"));
    assert_eq!(
        store
            .get_request(&iid, RequestKind::AssignmentCreate, &r2.request_id)
            .await
            .expect("none"),
        None
    );
    let statuses = store
        .list_requests(
            &iid,
            RequestKind::AssignmentCreate,
            Some(RequestStatus::InProgress),
            Page::first(10),
        )
        .await
        .expect("list");
    assert_eq!(
        statuses
            .iter()
            .map(|r| r.request_id.clone())
            .collect::<Vec<_>>(),
        vec![r1.request_id.clone()]
    );
}

/// An instance with one member account, one user and one permission set: what an assignment
/// request needs.
async fn identical_assignments_applied_concurrently_make_one(store: SharedStore) {
    let w = AssignmentWorld::new(&store, "racer").await;
    let mut pairs = Vec::new();
    for _ in 0..8 {
        let r = w.create_request();
        let j = job(
            JobKind::Request(RequestKind::AssignmentCreate),
            &r.request_id,
            0,
        );
        assert!(store.enqueue_request(&r, &j, 100).await.expect("enqueue"));
        pairs.push(j);
    }
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|j| {
            let s = store.clone();
            tokio::spawn(async move { s.apply_request(&j, 5).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(
            t.await.expect("join").expect("apply"),
            RequestStatus::Succeeded
        );
    }
    let listed = store
        .list_assignments(
            &w.instance_id,
            of_account(&w.account_id, None),
            Page::first(100),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "identical requests never yield duplicates");
    assert_eq!(
        store
            .list_provisioned_for_account(&w.instance_id, &w.account_id, Page::first(10))
            .await
            .expect("p")
            .len(),
        1
    );
}

async fn in_flight_bound_holds_under_concurrency_and_frees_on_completion(store: SharedStore) {
    let w = AssignmentWorld::new(&store, "bounded").await;
    // The first requests of an instance race to make its counter rows; none is refused for it.
    for (accepted, j) in enqueue_concurrently(&store, &w, 24, 1_000).await {
        assert!(accepted, "a first request was refused");
        store.apply_request(&j, 5).await.expect("apply");
    }
    const MAX: i64 = 7;
    let accepted: Vec<_> = enqueue_concurrently(&store, &w, 40, MAX)
        .await
        .into_iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, j)| j)
        .collect();
    assert_eq!(accepted.len() as i64, MAX, "exactly the bound is accepted");
    let enqueue_one = || async {
        let r = w.create_request();
        let j = job(
            JobKind::Request(RequestKind::AssignmentCreate),
            &r.request_id,
            0,
        );
        store.enqueue_request(&r, &j, MAX).await.expect("enqueue")
    };
    assert!(!enqueue_one().await, "full");
    // A finished request gives its slot back, whichever counter row it came from.
    for j in &accepted[..3] {
        assert_eq!(
            store.apply_request(j, 5).await.expect("apply"),
            RequestStatus::Succeeded
        );
    }
    for _ in 0..3 {
        assert!(enqueue_one().await, "a freed slot");
    }
    assert!(!enqueue_one().await, "full again");
}

fn of_account<'a>(
    account_id: &'a str,
    permission_set_id: Option<&'a str>,
) -> AccountAssignments<'a> {
    AccountAssignments {
        account_id,
        permission_set_id,
    }
}

fn user_principal(id: &str) -> Principal {
    Principal {
        kind: PrincipalType::User,
        id: id.into(),
    }
}

/// Several jobs applied in one transaction: each request gets its own outcome, the same
/// assignment asked twice is one, and every slot comes back.
async fn requests_applied_together_finish_each_and_free_every_slot(store: SharedStore) {
    let w = AssignmentWorld::new(&store, "together").await;
    const MAX: i64 = 6;
    let mut jobs = Vec::new();
    let mut requests = vec![w.create_request(), w.create_request()];
    requests.push(request(
        &w.instance_id,
        RequestKind::AssignmentCreate,
        &w.set_id,
        Some((PrincipalType::User, "no-such-user")),
        Some(&w.account_id),
    ));
    requests.push(request(
        &w.instance_id,
        RequestKind::Provision,
        &w.set_id,
        None,
        Some(&w.account_id),
    ));
    for r in &requests {
        let j = job(JobKind::Request(r.kind), &r.request_id, 0);
        assert!(store.enqueue_request(r, &j, MAX).await.expect("enqueue"));
        jobs.push(j);
    }
    let statuses = store.apply_requests(&jobs, 50).await.expect("apply");
    assert_eq!(
        statuses,
        vec![
            RequestStatus::Succeeded,
            RequestStatus::Succeeded,
            RequestStatus::Failed,
            RequestStatus::Succeeded
        ]
    );
    let failed = store
        .get_request(
            &w.instance_id,
            RequestKind::AssignmentCreate,
            &requests[2].request_id,
        )
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        failed.failure_reason.as_deref(),
        Some("the principal does not exist in the identity store")
    );
    assert_eq!(
        store
            .list_assignments(
                &w.instance_id,
                of_account(&w.account_id, None),
                Page::first(10)
            )
            .await
            .expect("list")
            .len(),
        1
    );
    // Applying them again changes nothing and ends the jobs alike.
    assert_eq!(
        store.apply_requests(&jobs, 60).await.expect("again"),
        statuses
    );
    // A request named twice in one batch runs once; both jobs report its status.
    let r = request(
        &w.instance_id,
        RequestKind::AssignmentDelete,
        &w.set_id,
        Some((PrincipalType::User, &w.user_id)),
        Some(&w.account_id),
    );
    let j = job(JobKind::Request(r.kind), &r.request_id, 0);
    assert!(store.enqueue_request(&r, &j, MAX).await.expect("enqueue"));
    assert_eq!(
        store
            .apply_requests(&[j.clone(), j], 70)
            .await
            .expect("twice"),
        vec![RequestStatus::Succeeded; 2]
    );
    assert!(store
        .list_assignments(
            &w.instance_id,
            of_account(&w.account_id, None),
            Page::first(10)
        )
        .await
        .expect("list")
        .is_empty());
    let accepted = enqueue_concurrently(&store, &w, 8, MAX)
        .await
        .into_iter()
        .filter(|(ok, _)| *ok)
        .count();
    assert_eq!(accepted as i64, MAX, "every slot came back");
}
