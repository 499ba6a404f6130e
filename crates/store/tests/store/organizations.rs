//! Bootstrap, organizations, accounts and projects, credentials, meta facts.

use crate::common::*;
use iic_store::*;

suite!(
    bootstrap_happens_once,
    accounts_projects_and_organizations,
    credentials_round_trip,
    meta_keeps_the_first_value,
    meta_counters_count_up_from_one,
);

async fn bootstrap_happens_once(store: SharedStore) {
    let first_plan = plan("cn-north-4");
    let first = store.bootstrap(&first_plan).await.expect("first");
    assert!(first.created_now);
    assert_eq!(first.root_access_key, first_plan.credential.access_key);
    let second = store.bootstrap(&plan("cn-north-4")).await.expect("second");
    assert!(!second.created_now);
    assert_eq!(second.organization, first.organization);
    assert_eq!(
        Account {
            seq: 0,
            ..second.account.clone()
        },
        first.account
    );
    assert_eq!(second.project, first.project);
    let root = store
        .get_root(&first.organization.id)
        .await
        .expect("root")
        .expect("bootstrap creates the root");
    assert_eq!(root.id, first_plan.root.id);
    assert_eq!(second.account.parent_id.as_deref(), Some(root.id.as_str()));
    assert_eq!(second.root_access_key, first.root_access_key);
    // A start in another region adds the account's project there, still one organization.
    let other = store.bootstrap(&plan("cn-south-1")).await.expect("third");
    assert_eq!(other.organization, first.organization);
    assert_eq!(other.project.region, "cn-south-1");
    let projects = store
        .list_projects(&first.account.id)
        .await
        .expect("projects");
    assert_eq!(projects.len(), 2);
}

async fn accounts_projects_and_organizations(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let org = store
        .get_organization(&b.organization.id)
        .await
        .expect("get org")
        .expect("exists");
    assert_eq!(org.management_account_id, b.account.id);
    let member = Account {
        id: iic_domain::ids::hex32(),
        name: "member-1".into(),
        organization_id: Some(org.id.clone()),
        created_at: 2,
        join_method: JoinMethod::Created,
        status: AccountStatus::Active,
        ..Default::default()
    };
    store.insert_account(&member).await.expect("member");
    let stored = store
        .get_account(&member.id)
        .await
        .expect("get")
        .expect("found");
    assert!(stored.seq > 0);
    assert_eq!(Account { seq: 0, ..stored }, member);
    let dup_name = Account {
        id: iic_domain::ids::hex32(),
        ..member.clone()
    };
    assert!(matches!(
        store.insert_account(&dup_name).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.get_account("nope").await.expect("get"), None);
    store
        .insert_project(&Project {
            id: iic_domain::ids::hex32(),
            account_id: member.id.clone(),
            region: "cn-north-4".into(),
        })
        .await
        .expect("project");
    assert_eq!(
        store.list_projects(&member.id).await.expect("list").len(),
        1
    );
}

async fn credentials_round_trip(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let cred = Credential {
        access_key: "TEMPAK".into(),
        account_id: b.account.id.clone(),
        secret_sealed: vec![9; 40],
        security_token_sha256: Some("ab".repeat(32)),
        expires_at: Some(123),
        created_at: 7,
    };
    store.insert_credential(&cred).await.expect("insert");
    assert_eq!(
        store.get_credential("TEMPAK").await.expect("get"),
        Some(cred.clone())
    );
    assert!(matches!(
        store.insert_credential(&cred).await,
        Err(StoreError::Conflict { .. })
    ));
    let all = store.list_credentials(&b.account.id).await.expect("list");
    assert_eq!(all.len(), 2, "root key and the temporary one");
    assert!(store.delete_credential("TEMPAK").await.expect("delete"));
    assert!(!store
        .delete_credential("TEMPAK")
        .await
        .expect("delete again"));
    assert_eq!(store.get_credential("TEMPAK").await.expect("get"), None);
}

async fn meta_keeps_the_first_value(store: SharedStore) {
    assert_eq!(store.get_meta("k").await.expect("get"), None);
    assert_eq!(
        store.put_meta_if_absent("k", "v1").await.expect("put"),
        "v1"
    );
    assert_eq!(
        store.put_meta_if_absent("k", "v2").await.expect("put"),
        "v1"
    );
    assert_eq!(
        store.get_meta("k").await.expect("get").as_deref(),
        Some("v1")
    );
}

async fn meta_counters_count_up_from_one(store: SharedStore) {
    assert_eq!(store.get_meta("test.counter").await.expect("get"), None);
    assert_eq!(
        store.increment_meta("test.counter").await.expect("first"),
        1
    );
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let s = store.clone();
            tokio::spawn(async move { s.increment_meta("test.counter").await })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("increment");
    }
    assert_eq!(
        store
            .get_meta("test.counter")
            .await
            .expect("get")
            .as_deref(),
        Some("11"),
        "concurrent increments are never lost"
    );
}
