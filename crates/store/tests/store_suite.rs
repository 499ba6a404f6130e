//! One store suite, run against SQLite always and against PostgreSQL when
//! `IIC_TEST_POSTGRES_URL` is set (each test in a schema of its own, dropped afterwards).

use iic_store::*;
use std::future::Future;
use std::sync::Arc;

fn unique() -> String {
    iic_domain::ids::hex32()[..12].to_string()
}

async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let store = iic_store::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .expect("open sqlite");
    test(store).await;
}

async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(DynStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Ok(url) = std::env::var("IIC_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: PostgreSQL store test (IIC_TEST_POSTGRES_URL not set)");
        return;
    };
    let schema = format!("iic_test_{}", unique());
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("IIC_TEST_POSTGRES_URL is set but PostgreSQL cannot be reached");
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let store: DynStore = Arc::new(
        iic_store::postgres::PgStore::connect_with_schema(&url, Some(&schema))
            .await
            .expect("open postgres"),
    );
    // Run the test; drop the schema whether it passed or not.
    let outcome = futures_catch(test(store)).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn futures_catch<Fut: Future<Output = ()>>(
    fut: Fut,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use std::panic::AssertUnwindSafe;
    use std::pin::pin;
    use std::task::Poll;
    let mut fut = pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(p)),
        }
    })
    .await
}

/// Declares one test per backend for an async suite function `fn(DynStore)`.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::with_sqlite(super::$name).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::with_postgres(super::$name).await; })*
        }
    };
}

suite!(
    bootstrap_happens_once,
    accounts_projects_and_organizations,
    credentials_round_trip,
    instances_are_one_per_organization_and_region,
    instances_page_by_keyset,
    alias_outcomes,
    delete_instances_removes_them,
    regions_register_once,
    meta_keeps_the_first_value,
    concurrent_instance_creation_yields_one,
);

fn plan(region: &str) -> BootstrapPlan {
    let (org, acct) = (
        format!("o-{}", iic_domain::ids::hex32()),
        iic_domain::ids::hex32(),
    );
    let ak = format!("AK{}", unique().to_uppercase());
    BootstrapPlan {
        organization: Organization {
            id: org.clone(),
            management_account_id: acct.clone(),
            created_at: 1,
        },
        account: Account {
            id: acct.clone(),
            name: "management".into(),
            organization_id: Some(org),
            created_at: 1,
        },
        project: Project {
            id: iic_domain::ids::hex32(),
            account_id: acct.clone(),
            region: region.into(),
        },
        credential: Credential {
            access_key: ak,
            account_id: acct,
            secret_sealed: vec![1, 2, 3],
            security_token_sha256: None,
            expires_at: None,
            created_at: 1,
        },
    }
}

fn instance(org: &str, region: &str) -> Instance {
    Instance {
        seq: 0,
        instance_id: iic_domain::ids::instance_id(),
        identity_store_id: iic_domain::ids::identity_store_id(),
        organization_id: org.into(),
        region: region.into(),
        alias: None,
        created_at: 5,
    }
}

async fn bootstrapped(store: &DynStore) -> Bootstrapped {
    store
        .bootstrap(&plan("cn-north-4"))
        .await
        .expect("bootstrap")
}

async fn bootstrap_happens_once(store: DynStore) {
    let first_plan = plan("cn-north-4");
    let first = store.bootstrap(&first_plan).await.expect("first");
    assert!(first.created_now);
    assert_eq!(first.root_access_key, first_plan.credential.access_key);
    let second = store.bootstrap(&plan("cn-north-4")).await.expect("second");
    assert!(!second.created_now);
    assert_eq!(second.organization, first.organization);
    assert_eq!(second.account, first.account);
    assert_eq!(second.project, first.project);
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

async fn accounts_projects_and_organizations(store: DynStore) {
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
    };
    store.insert_account(&member).await.expect("member");
    assert_eq!(
        store.get_account(&member.id).await.expect("get"),
        Some(member.clone())
    );
    let dup_name = Account {
        id: iic_domain::ids::hex32(),
        ..member.clone()
    };
    assert!(matches!(
        store.insert_account(&dup_name).await,
        Err(StoreError::Conflict(_))
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

async fn credentials_round_trip(store: DynStore) {
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
        Err(StoreError::Conflict(_))
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

async fn instances_are_one_per_organization_and_region(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, created) = store
        .create_instance_if_absent(&instance(org, "cn-north-4"))
        .await
        .expect("create");
    assert!(created);
    assert!(a.seq > 0);
    let (again, created) = store
        .create_instance_if_absent(&instance(org, "cn-north-4"))
        .await
        .expect("again");
    assert!(!created);
    assert_eq!(again, a);
    assert_eq!(
        store.get_instance(&a.instance_id).await.expect("get"),
        Some(a)
    );
    assert_eq!(store.get_instance("ins-none").await.expect("get"), None);
}

async fn instances_page_by_keyset(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let mut ids = Vec::new();
    for r in 0..5 {
        let (i, _) = store
            .create_instance_if_absent(&instance(org, &format!("region-{r}")))
            .await
            .expect("create");
        ids.push(i.instance_id);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_instances(org, after, 2).await.expect("page");
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
        after = page.last().map(|i| i.seq);
        seen.extend(page.into_iter().map(|i| i.instance_id));
    }
    assert_eq!(seen, ids, "every instance once, in creation order");
    assert!(store
        .list_instances("o-other", None, 10)
        .await
        .expect("other org")
        .is_empty());
}

async fn alias_outcomes(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    let (c, _) = store
        .create_instance_if_absent(&instance(org, "r2"))
        .await
        .expect("c");
    assert_eq!(
        store.set_alias(&a.instance_id, "acme").await.expect("set"),
        SetAliasOutcome::Set
    );
    assert_eq!(
        store
            .set_alias(&a.instance_id, "other")
            .await
            .expect("again"),
        SetAliasOutcome::AlreadySet
    );
    assert_eq!(
        store
            .set_alias(&c.instance_id, "acme")
            .await
            .expect("taken"),
        SetAliasOutcome::Taken
    );
    assert_eq!(
        store
            .set_alias("ins-missing", "zzz")
            .await
            .expect("missing"),
        SetAliasOutcome::NoSuchInstance
    );
    let stored = store
        .get_instance(&a.instance_id)
        .await
        .expect("get")
        .expect("a");
    assert_eq!(stored.alias.as_deref(), Some("acme"));
    let c_stored = store
        .get_instance(&c.instance_id)
        .await
        .expect("get")
        .expect("c");
    assert_eq!(c_stored.alias, None);
}

async fn delete_instances_removes_them(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    assert_eq!(store.delete_instances(org).await.expect("delete"), 1);
    assert_eq!(store.get_instance(&a.instance_id).await.expect("get"), None);
    assert_eq!(store.delete_instances(org).await.expect("again"), 0);
}

async fn regions_register_once(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    assert!(store
        .register_region(org, "cn-north-4")
        .await
        .expect("first"));
    assert!(!store
        .register_region(org, "cn-north-4")
        .await
        .expect("second"));
    assert_eq!(
        store.list_regions(org).await.expect("list"),
        vec!["cn-north-4".to_string()]
    );
}

async fn meta_keeps_the_first_value(store: DynStore) {
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

async fn concurrent_instance_creation_yields_one(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (s, org) = (store.clone(), org.clone());
            tokio::spawn(async move { s.create_instance_if_absent(&instance(&org, "r")).await })
        })
        .collect();
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let (i, c) = t.await.expect("join").expect("create");
        created += c as usize;
        ids.insert(i.instance_id);
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1);
    assert_eq!(
        store
            .list_instances(&org, None, 10)
            .await
            .expect("list")
            .len(),
        1
    );
}
