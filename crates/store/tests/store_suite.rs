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
    instance_list_follows_every_write,
    meta_counters_count_up_from_one,
    regions_register_once,
    meta_keeps_the_first_value,
    concurrent_instance_creation_yields_one,
    directory_users_round_trip,
    directory_quotas_hold,
    directory_groups_and_memberships,
    directory_membership_limit_holds_under_concurrency,
    directory_external_ids_and_password_policy,
    deleting_the_instance_removes_its_directory,
    directory_random_operations_keep_invariants,
    org_units_accounts_and_moves,
    account_creation_runs_through_a_job,
    jobs_are_claimed_once_under_leases,
    jobs_are_claimed_once_in_batches,
    delegation_needs_a_trusted_service,
    closing_an_account_suspends_it,
    organizations_are_created_and_deleted,
    permission_sets_round_trip,
    assignments_run_through_jobs,
    identical_assignments_applied_concurrently_make_one,
    in_flight_bound_holds_under_concurrency_and_frees_on_completion,
);

fn plan(region: &str) -> BootstrapPlan {
    let (org, acct) = (
        format!("o-{}", iic_domain::ids::hex32()),
        iic_domain::ids::hex32(),
    );
    let ak = format!("AK{}", unique().to_uppercase());
    let root = iic_domain::organizations::root_id();
    BootstrapPlan {
        organization: Organization {
            id: org.clone(),
            management_account_id: acct.clone(),
            created_at: 1,
        },
        root: Root {
            id: root.clone(),
            organization_id: org.clone(),
            name: "root".into(),
            created_at: 1,
        },
        account: Account {
            id: acct.clone(),
            name: "management".into(),
            organization_id: Some(org),
            created_at: 1,
            join_method: "created".into(),
            status: "active".into(),
            parent_id: Some(root),
            joined_at: 1,
            ..Default::default()
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
        join_method: "created".into(),
        status: "active".into(),
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

async fn instance_list_follows_every_write(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = &b.organization.id;
    let list =
        |s: DynStore, o: String| async move { s.list_instances(&o, None, 10).await.expect("list") };
    assert!(list(store.clone(), org.clone()).await.is_empty());
    let (a, _) = store
        .create_instance_if_absent(&instance(org, "r1"))
        .await
        .expect("a");
    assert_eq!(list(store.clone(), org.clone()).await, vec![a.clone()]);
    store
        .set_alias(&a.instance_id, "after-read")
        .await
        .expect("alias");
    let listed = list(store.clone(), org.clone()).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].alias.as_deref(), Some("after-read"));
    store.delete_instances(org).await.expect("delete");
    assert!(list(store.clone(), org.clone()).await.is_empty());
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

// --- directory -----------------------------------------------------------------------------

use iic_domain::directory::group::GroupProfile;
use iic_domain::directory::user::{Email, Name, UserProfile};
use iic_domain::directory::ExternalId;

async fn directory(store: &DynStore) -> (String, String) {
    let b = bootstrapped(store).await;
    let (i, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    (b.organization.id, i.identity_store_id)
}

fn user(store_id: &str, name: &str) -> User {
    User {
        seq: 0,
        user_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        profile: UserProfile {
            user_name: name.into(),
            display_name: format!("{name} display"),
            name: Name {
                family_name: "Doe".into(),
                given_name: name.into(),
                ..Default::default()
            },
            emails: vec![Email {
                value: format!("{name}@Example.com"),
                kind: "work".into(),
                primary: true,
                verification_status: None,
            }],
            addresses: None,
            phone_numbers: None,
            locale: None,
            nickname: None,
            preferred_language: None,
            profile_url: None,
            timezone: None,
            title: None,
            user_type: None,
            enterprise: None,
        },
        external_ids: vec![],
        enabled: true,
        email_verified: false,
        password_hash: None,
        password_reset_email_owed: true,
        created_at: 10,
        created_by: "creator".into(),
        updated_at: 10,
        updated_by: "creator".into(),
    }
}

fn group(store_id: &str, name: &str) -> Group {
    Group {
        seq: 0,
        group_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        profile: GroupProfile {
            display_name: name.into(),
            description: Some("d".into()),
        },
        external_ids: vec![],
        created_at: 1,
        created_by: "c".into(),
        updated_at: 1,
        updated_by: "c".into(),
    }
}

fn membership(store_id: &str, g: &Group, u: &User) -> Membership {
    Membership {
        seq: 0,
        membership_id: iic_domain::directory::principal_id(store_id),
        identity_store_id: store_id.into(),
        group_id: g.group_id.clone(),
        user_id: u.user_id.clone(),
        created_at: 1,
    }
}

async fn directory_users_round_trip(store: DynStore) {
    let (_, sid) = directory(&store).await;
    let info = store
        .identity_store(&sid)
        .await
        .expect("info")
        .expect("exists");
    assert_eq!((info.users, info.groups), (0, 0));
    let alice = user(&sid, "alice");
    assert_eq!(
        store.create_user(&alice, 100).await.expect("create"),
        CreateOutcome::Created
    );
    assert_eq!(
        store
            .create_user(&user(&sid, "ALICE"), 100)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken,
        "user names are unique case-insensitively"
    );
    assert_eq!(
        store
            .create_user(&user("d-ffffffffff", "bob"), 100)
            .await
            .expect("no store"),
        CreateOutcome::NoSuchStore
    );
    let got = store
        .get_user(&sid, &alice.user_id)
        .await
        .expect("get")
        .expect("found");
    assert!(got.seq > 0);
    assert_eq!(got.profile, alice.profile);
    assert_eq!(got.created_by, "creator");
    assert_eq!(
        store
            .get_user("d-0000000000", &alice.user_id)
            .await
            .expect("other"),
        None
    );

    let mut ids = vec![alice.user_id.clone()];
    for n in 0..5 {
        let u = user(&sid, &format!("user{n}"));
        store.create_user(&u, 100).await.expect("create");
        ids.push(u.user_id);
    }
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("x")
            .users,
        6
    );
    let batch = store
        .get_users(&sid, &[ids[3].clone(), "nope".into(), ids[1].clone()])
        .await
        .expect("batch");
    assert_eq!(
        batch.iter().map(|u| u.user_id.clone()).collect::<Vec<_>>(),
        vec![ids[3].clone(), ids[1].clone()]
    );

    assert_eq!(
        store
            .find_user_id(&sid, &PrincipalKey::Name("Alice".into()))
            .await
            .expect("by name"),
        Some(alice.user_id.clone())
    );
    assert_eq!(
        store
            .find_user_id(&sid, &PrincipalKey::Email("ALICE@example.COM".into()))
            .await
            .expect("by mail"),
        Some(alice.user_id.clone())
    );

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users(&sid, None, after, 4).await.expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|u| u.seq);
        seen.extend(page.into_iter().map(|u| u.user_id));
    }
    assert_eq!(seen, ids);
    let filtered = store
        .list_users(&sid, Some("USER3"), None, 10)
        .await
        .expect("filter");
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].user_id, ids[4]);

    let mut renamed = got.clone();
    renamed.profile.user_name = "user2".into();
    assert_eq!(
        store.update_user(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    renamed.profile.user_name = "alice2".into();
    renamed.enabled = false;
    renamed.updated_by = "editor".into();
    assert_eq!(
        store.update_user(&renamed).await.expect("update"),
        UpdateOutcome::Updated
    );
    let after_update = store
        .get_user(&sid, &alice.user_id)
        .await
        .expect("get")
        .expect("found");
    assert_eq!(after_update.profile.user_name, "alice2");
    assert!(!after_update.enabled);
    assert_eq!(after_update.updated_by, "editor");
    let mut ghost = renamed.clone();
    ghost.user_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store.update_user(&ghost).await.expect("ghost"),
        UpdateOutcome::NotFound
    );

    assert!(store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_user(&sid, &alice.user_id)
        .await
        .expect("again"));
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("x")
            .users,
        5
    );
}

async fn directory_quotas_hold(store: DynStore) {
    let (_, sid) = directory(&store).await;
    let a = user(&sid, "qa");
    assert_eq!(
        store.create_user(&a, 2).await.expect("1"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_user(&user(&sid, "qb"), 2).await.expect("2"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_user(&user(&sid, "qc"), 2).await.expect("3"),
        CreateOutcome::QuotaExceeded
    );
    store.delete_user(&sid, &a.user_id).await.expect("delete");
    assert_eq!(
        store.create_user(&user(&sid, "qc"), 2).await.expect("4"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_group(&group(&sid, "g1"), 1).await.expect("g1"),
        CreateOutcome::Created
    );
    assert_eq!(
        store.create_group(&group(&sid, "g2"), 1).await.expect("g2"),
        CreateOutcome::QuotaExceeded
    );
}

async fn directory_groups_and_memberships(store: DynStore) {
    let (_, sid) = directory(&store).await;
    let admins = group(&sid, "Admins");
    let auditors = group(&sid, "Auditors");
    let devs = group(&sid, "Developers");
    for g in [&admins, &auditors, &devs] {
        assert_eq!(
            store.create_group(g, 100).await.expect("create"),
            CreateOutcome::Created
        );
    }
    assert_eq!(
        store
            .create_group(&group(&sid, "admins"), 100)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken
    );
    assert_eq!(
        store
            .find_group_id(&sid, &PrincipalKey::Name("ADMINS".into()))
            .await
            .expect("find"),
        Some(admins.group_id.clone())
    );
    let prefixed = store
        .list_groups(&sid, Some("a"), None, 10)
        .await
        .expect("prefix");
    assert_eq!(
        prefixed
            .iter()
            .map(|g| g.profile.display_name.clone())
            .collect::<Vec<_>>(),
        vec!["Admins", "Auditors"]
    );
    assert_eq!(
        store
            .list_groups(&sid, None, None, 10)
            .await
            .expect("all")
            .len(),
        3
    );

    let mut renamed = admins.clone();
    renamed.profile.display_name = "Auditors".into();
    assert_eq!(
        store.update_group(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    renamed.profile.display_name = "Administrators".into();
    assert_eq!(
        store.update_group(&renamed).await.expect("ok"),
        UpdateOutcome::Updated
    );

    let u = user(&sid, "member");
    store.create_user(&u, 100).await.expect("user");
    let m1 = membership(&sid, &admins, &u);
    assert_eq!(
        store.create_membership(&m1, 2).await.expect("m1"),
        MembershipOutcome::Created
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &admins, &u), 2)
            .await
            .expect("dup"),
        MembershipOutcome::AlreadyMember(m1.membership_id.clone())
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &auditors, &u), 2)
            .await
            .expect("m2"),
        MembershipOutcome::Created
    );
    assert_eq!(
        store
            .create_membership(&membership(&sid, &devs, &u), 2)
            .await
            .expect("m3"),
        MembershipOutcome::TooManyGroups
    );
    let mut ghost_user = u.clone();
    ghost_user.user_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store
            .create_membership(&membership(&sid, &devs, &ghost_user), 2)
            .await
            .expect("nu"),
        MembershipOutcome::NoSuchUser
    );
    let mut ghost_group = devs.clone();
    ghost_group.group_id = iic_domain::directory::principal_id(&sid);
    assert_eq!(
        store
            .create_membership(&membership(&sid, &ghost_group, &u), 2)
            .await
            .expect("ng"),
        MembershipOutcome::NoSuchGroup
    );

    assert_eq!(
        store
            .get_membership(&sid, &m1.membership_id)
            .await
            .expect("get")
            .map(|m| m.group_id),
        Some(admins.group_id.clone())
    );
    assert_eq!(
        store
            .find_membership_id(&sid, &admins.group_id, &u.user_id)
            .await
            .expect("find"),
        Some(m1.membership_id.clone())
    );
    let of_user = store
        .list_memberships_of_user(&sid, &u.user_id, None, 1)
        .await
        .expect("user page 1");
    assert_eq!(of_user.len(), 1);
    let rest = store
        .list_memberships_of_user(&sid, &u.user_id, Some(of_user[0].seq), 10)
        .await
        .expect("page 2");
    assert_eq!(rest.len(), 1);
    assert_eq!(
        store
            .list_memberships_of_group(&sid, &admins.group_id, None, 10)
            .await
            .expect("group")
            .len(),
        1
    );
    assert_eq!(
        store
            .groups_containing(
                &sid,
                &u.user_id,
                &[
                    devs.group_id.clone(),
                    admins.group_id.clone(),
                    auditors.group_id.clone()
                ]
            )
            .await
            .expect("contains"),
        vec![admins.group_id.clone(), auditors.group_id.clone()]
    );

    // Deleting a group removes its memberships; deleting a user removes the rest.
    assert!(store
        .delete_group(&sid, &admins.group_id)
        .await
        .expect("delete group"));
    assert_eq!(
        store
            .get_membership(&sid, &m1.membership_id)
            .await
            .expect("gone"),
        None
    );
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .groups,
        2
    );
    assert!(store
        .delete_user(&sid, &u.user_id)
        .await
        .expect("delete user"));
    assert!(store
        .list_memberships_of_group(&sid, &auditors.group_id, None, 10)
        .await
        .expect("g")
        .is_empty());
    assert!(!store
        .delete_membership(&sid, &m1.membership_id)
        .await
        .expect("none left"));
}

async fn directory_membership_limit_holds_under_concurrency(store: DynStore) {
    let (_, sid) = directory(&store).await;
    let u = user(&sid, "busy");
    store.create_user(&u, 100).await.expect("user");
    let mut groups = Vec::new();
    for n in 0..8 {
        let g = group(&sid, &format!("cg{n}"));
        store.create_group(&g, 100).await.expect("group");
        groups.push(g);
    }
    let tasks: Vec<_> = groups
        .iter()
        .map(|g| {
            let (s, m) = (store.clone(), membership(&sid, g, &u));
            tokio::spawn(async move { s.create_membership(&m, 3).await })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        if t.await.expect("join").expect("create") == MembershipOutcome::Created {
            created += 1;
        }
    }
    assert_eq!(created, 3);
    assert_eq!(
        store
            .list_memberships_of_user(&sid, &u.user_id, None, 100)
            .await
            .expect("list")
            .len(),
        3
    );
}

async fn directory_external_ids_and_password_policy(store: DynStore) {
    let (_, sid) = directory(&store).await;
    let mut u = user(&sid, "scimmed");
    u.external_ids = vec![ExternalId {
        issuer: "okta".into(),
        id: "00u1".into(),
    }];
    store.create_user(&u, 100).await.expect("create");
    let key = PrincipalKey::External {
        issuer: "okta".into(),
        id: "00u1".into(),
    };
    assert_eq!(
        store.find_user_id(&sid, &key).await.expect("find"),
        Some(u.user_id.clone())
    );
    assert_eq!(
        store.find_group_id(&sid, &key).await.expect("not a group"),
        None
    );
    let got = store
        .get_user(&sid, &u.user_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        got.external_ids, u.external_ids,
        "external ids come back exactly as given"
    );
    store.delete_user(&sid, &u.user_id).await.expect("delete");
    assert_eq!(store.find_user_id(&sid, &key).await.expect("gone"), None);

    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .password_policy,
        None
    );
    let policy = PasswordPolicy {
        minimum_password_length: 12,
        ..Default::default()
    };
    assert!(store.set_password_policy(&sid, &policy).await.expect("set"));
    assert_eq!(
        store
            .identity_store(&sid)
            .await
            .expect("i")
            .expect("x")
            .password_policy,
        Some(policy)
    );
    assert!(!store
        .set_password_policy("d-0000000000", &policy)
        .await
        .expect("none"));
}

async fn deleting_the_instance_removes_its_directory(store: DynStore) {
    let (org, sid) = directory(&store).await;
    let u = user(&sid, "doomed");
    let g = group(&sid, "doomed");
    store.create_user(&u, 100).await.expect("user");
    store.create_group(&g, 100).await.expect("group");
    store
        .create_membership(&membership(&sid, &g, &u), 10)
        .await
        .expect("m");
    assert_eq!(store.delete_instances(&org).await.expect("delete"), 1);
    assert_eq!(store.identity_store(&sid).await.expect("info"), None);
    assert_eq!(store.get_user(&sid, &u.user_id).await.expect("user"), None);
    assert_eq!(
        store.get_group(&sid, &g.group_id).await.expect("group"),
        None
    );
}

/// Property: any sequence of creates, renames and deletes of users, groups and memberships
/// leaves the store agreeing with a simple model — names unique per kind (case-insensitively),
/// memberships only between existing principals, counts right.
async fn directory_random_operations_keep_invariants(store: DynStore) {
    use rand::{Rng, SeedableRng};
    use std::collections::{BTreeMap, BTreeSet};

    let (_, sid) = directory(&store).await;
    for seed in [1u64, 7, 42] {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let names = ["ann", "Ann", "bob", "cy", "dee", "eve", "fay", "gus"];
        let mut users: BTreeMap<String, User> = BTreeMap::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut members: BTreeSet<(String, String)> = BTreeSet::new();
        let pick = |rng: &mut rand::rngs::StdRng, keys: Vec<String>| -> Option<String> {
            if keys.is_empty() {
                None
            } else {
                Some(keys[rng.gen_range(0..keys.len())].clone())
            }
        };
        for _ in 0..150 {
            let name = format!("{}{seed}", names[rng.gen_range(0..names.len())]);
            match rng.gen_range(0..8) {
                0 => {
                    let u = user(&sid, &name);
                    let taken = users
                        .values()
                        .any(|x| x.profile.user_name.eq_ignore_ascii_case(&name));
                    let out = store.create_user(&u, 1_000).await.expect("create user");
                    assert_eq!(out == CreateOutcome::NameTaken, taken, "{name}");
                    if !taken {
                        users.insert(u.user_id.clone(), u);
                    }
                }
                1 => {
                    if let Some(id) = pick(&mut rng, users.keys().cloned().collect()) {
                        let mut u = users[&id].clone();
                        u.profile.user_name = name.clone();
                        let taken = users.values().any(|x| {
                            x.user_id != id && x.profile.user_name.eq_ignore_ascii_case(&name)
                        });
                        let out = store.update_user(&u).await.expect("rename user");
                        assert_eq!(out == UpdateOutcome::NameTaken, taken);
                        if !taken {
                            users.insert(id, u);
                        }
                    }
                }
                2 => {
                    if let Some(id) = pick(&mut rng, users.keys().cloned().collect()) {
                        assert!(store.delete_user(&sid, &id).await.expect("delete user"));
                        users.remove(&id);
                        members.retain(|(_, u)| *u != id);
                    }
                }
                3 => {
                    let g = group(&sid, &name);
                    let taken = groups
                        .values()
                        .any(|x| x.profile.display_name.eq_ignore_ascii_case(&name));
                    let out = store.create_group(&g, 1_000).await.expect("create group");
                    assert_eq!(out == CreateOutcome::NameTaken, taken);
                    if !taken {
                        groups.insert(g.group_id.clone(), g);
                    }
                }
                4 => {
                    if let Some(id) = pick(&mut rng, groups.keys().cloned().collect()) {
                        let mut g = groups[&id].clone();
                        g.profile.display_name = name.clone();
                        let taken = groups.values().any(|x| {
                            x.group_id != id && x.profile.display_name.eq_ignore_ascii_case(&name)
                        });
                        assert_eq!(
                            store.update_group(&g).await.expect("rename group")
                                == UpdateOutcome::NameTaken,
                            taken
                        );
                        if !taken {
                            groups.insert(id, g);
                        }
                    }
                }
                5 => {
                    if let Some(id) = pick(&mut rng, groups.keys().cloned().collect()) {
                        assert!(store.delete_group(&sid, &id).await.expect("delete group"));
                        groups.remove(&id);
                        members.retain(|(g, _)| *g != id);
                    }
                }
                6 => {
                    let (Some(g), Some(u)) = (
                        pick(&mut rng, groups.keys().cloned().collect()),
                        pick(&mut rng, users.keys().cloned().collect()),
                    ) else {
                        continue;
                    };
                    let out = store
                        .create_membership(&membership(&sid, &groups[&g], &users[&u]), 1_000)
                        .await
                        .expect("join");
                    let existed = !members.insert((g, u));
                    assert_eq!(matches!(out, MembershipOutcome::AlreadyMember(_)), existed);
                }
                _ => {
                    if let Some((g, u)) = members.iter().next().cloned() {
                        let id = store
                            .find_membership_id(&sid, &g, &u)
                            .await
                            .expect("find")
                            .expect("exists");
                        assert!(store.delete_membership(&sid, &id).await.expect("leave"));
                        members.remove(&(g, u));
                    }
                }
            }
        }
        // The store agrees with the model.
        let info = store
            .identity_store(&sid)
            .await
            .expect("info")
            .expect("store");
        let listed_users = store
            .list_users(&sid, None, None, 10_000)
            .await
            .expect("users");
        let listed_groups = store
            .list_groups(&sid, None, None, 10_000)
            .await
            .expect("groups");
        let mine_u: Vec<_> = listed_users
            .iter()
            .filter(|u| users.contains_key(&u.user_id))
            .collect();
        let mine_g: Vec<_> = listed_groups
            .iter()
            .filter(|g| groups.contains_key(&g.group_id))
            .collect();
        assert_eq!(mine_u.len(), users.len());
        assert_eq!(mine_g.len(), groups.len());
        for u in &mine_u {
            assert_eq!(u.profile.user_name, users[&u.user_id].profile.user_name);
        }
        let mut lowered: Vec<String> = listed_users
            .iter()
            .map(|u| u.profile.user_name.to_lowercase())
            .collect();
        let n = lowered.len();
        lowered.sort();
        lowered.dedup();
        assert_eq!(lowered.len(), n, "user names stay unique");
        assert_eq!(
            info.users as usize,
            listed_users.len(),
            "the user count matches the rows"
        );
        assert_eq!(
            info.groups as usize,
            listed_groups.len(),
            "the group count matches the rows"
        );
        let mut stored_members = BTreeSet::new();
        for g in &mine_g {
            for m in store
                .list_memberships_of_group(&sid, &g.group_id, None, 10_000)
                .await
                .expect("members")
            {
                assert!(
                    users.contains_key(&m.user_id),
                    "a membership never outlives its user"
                );
                stored_members.insert((m.group_id, m.user_id));
            }
        }
        assert_eq!(stored_members, members);
        // Clean up so the next seed starts from an empty directory.
        for id in users.keys() {
            store.delete_user(&sid, id).await.expect("cleanup user");
        }
        for id in groups.keys() {
            store.delete_group(&sid, id).await.expect("cleanup group");
        }
    }
}

// --- organization structure and jobs -----------------------------------------------------------

fn member(org: &str, root: &str, name: &str) -> Account {
    Account {
        id: iic_domain::ids::hex32(),
        name: name.into(),
        organization_id: Some(org.into()),
        created_at: 5,
        join_method: "created".into(),
        status: "active".into(),
        parent_id: Some(root.into()),
        joined_at: 5,
        ..Default::default()
    }
}

fn job(kind: &str, payload: &str, run_after: i64) -> Job {
    Job {
        id: iic_domain::ids::hex32(),
        kind: kind.into(),
        payload: payload.into(),
        attempts: 0,
        run_after,
        created_at: 1,
    }
}

fn ou(org: &str, parent: &str, name: &str) -> OrganizationalUnit {
    OrganizationalUnit {
        seq: 0,
        id: iic_domain::organizations::organizational_unit_id(),
        organization_id: org.into(),
        parent_id: parent.into(),
        name: name.into(),
        created_at: 3,
    }
}

async fn org_units_accounts_and_moves(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let eng = ou(&org, &root, "Engineering");
    assert_eq!(store.create_ou(&eng).await.expect("ou"), OrgOutcome::Done);
    assert!(matches!(
        store
            .create_ou(&ou(&org, &root, "Engineering"))
            .await
            .expect("dup"),
        OrgOutcome::Conflict(_)
    ));
    assert_eq!(
        store
            .create_ou(&ou(&org, "ou-doesnotexist00", "X"))
            .await
            .expect("no parent"),
        OrgOutcome::NotFound
    );
    let nested = ou(&org, &eng.id, "Platform");
    assert_eq!(
        store.create_ou(&nested).await.expect("nested"),
        OrgOutcome::Done
    );
    assert_eq!(
        store
            .get_ou(&org, &nested.id)
            .await
            .expect("get")
            .map(|o| o.parent_id),
        Some(eng.id.clone())
    );
    assert_eq!(
        store
            .list_ous(&org, Some(&root), None, 10)
            .await
            .expect("under root")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_ous(&org, None, None, 10)
            .await
            .expect("all")
            .len(),
        2
    );

    let dev = member(&org, &root, "dev");
    store.insert_account(&dev).await.expect("member");
    assert_eq!(
        store
            .list_accounts(&org, None, None, 10)
            .await
            .expect("all")
            .len(),
        2
    );
    assert!(matches!(
        store
            .move_account(&org, &dev.id, &eng.id, &nested.id)
            .await
            .expect("wrong source"),
        OrgOutcome::Conflict(_)
    ));
    assert!(matches!(
        store
            .move_account(&org, &dev.id, &root, "ou-nope00000000")
            .await
            .expect("no dest"),
        OrgOutcome::Conflict(_)
    ));
    assert_eq!(
        store
            .move_account(&org, &dev.id, &root, &nested.id)
            .await
            .expect("move"),
        OrgOutcome::Done
    );
    let under = store
        .list_accounts(&org, Some(&nested.id), None, 10)
        .await
        .expect("under ou");
    assert_eq!(
        under.iter().map(|a| a.id.clone()).collect::<Vec<_>>(),
        vec![dev.id.clone()]
    );
    assert_eq!(
        store
            .update_account_description(&org, &dev.id, Some("the dev account"))
            .await
            .expect("desc"),
        OrgOutcome::Done
    );
    assert_eq!(
        store
            .get_account(&dev.id)
            .await
            .expect("get")
            .and_then(|a| a.description),
        Some("the dev account".into())
    );
    assert!(matches!(
        store
            .remove_account(&org, &b.account.id)
            .await
            .expect("mgmt"),
        OrgOutcome::Conflict(_)
    ));
    assert_eq!(
        store.remove_account(&org, &dev.id).await.expect("remove"),
        OrgOutcome::Done
    );
    let gone = store
        .get_account(&dev.id)
        .await
        .expect("get")
        .expect("still exists");
    assert_eq!((gone.organization_id, gone.parent_id), (None, None));
    assert_eq!(
        store.remove_account(&org, &dev.id).await.expect("again"),
        OrgOutcome::NotFound
    );
}

async fn account_creation_runs_through_a_job(store: DynStore) {
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
        state: "in_progress".into(),
        failure_reason: None,
        created_at: 10,
        completed_at: None,
        request: request.clone(),
    };
    let j = job("create_account", &status.id, 0);
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
                .request_account_creation(&dup, &job("create_account", &dup.id, 0))
                .await
                .expect("dup"),
            OrgOutcome::Conflict(_)
        ),
        "a pending request holds the name"
    );
    let got = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.state, "in_progress");
    assert_eq!(got.request.name, "created-one");
    assert_eq!(store.get_account(&request.id).await.expect("not yet"), None);

    let claimed = store
        .claim_job("w1", 100, 5_000)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(claimed.id, j.id);
    assert_eq!(claimed.attempts, 1);
    let project = Project {
        id: iic_domain::ids::hex32(),
        account_id: request.id.clone(),
        region: "cn-north-4".into(),
    };
    assert_eq!(
        store
            .finish_account_creation(&claimed.id, &status.id, &project, 200)
            .await
            .expect("finish"),
        "succeeded"
    );
    let done = store
        .get_create_account_status(&org, &status.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (done.state.as_str(), done.completed_at),
        ("succeeded", Some(200))
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
        store
            .claim_job("w1", 10_000_000, 5_000)
            .await
            .expect("none"),
        None,
        "a finished job never runs again"
    );
    // Finishing twice is harmless.
    assert_eq!(
        store
            .finish_account_creation(&claimed.id, &status.id, &project, 300)
            .await
            .expect("again"),
        "succeeded"
    );

    let states = vec!["succeeded".to_string()];
    assert_eq!(
        store
            .list_create_account_statuses(&org, &states, None, 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert!(store
        .list_create_account_statuses(&org, &["failed".to_string()], None, 10)
        .await
        .expect("failed")
        .is_empty());
}

/// Queues `count` jobs, due at once, by closing as many new member accounts (any job kind is
/// claimed the same way). Returns the organization, its root and the job ids, oldest first.
async fn queued_jobs(
    store: &DynStore,
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
        let j = job("close_account", &a.id, 0);
        ids.push(j.id.clone());
        assert_eq!(
            store.close_account(&org, &a.id, &j).await.expect("close"),
            OrgOutcome::Done
        );
    }
    (org, root, ids)
}

async fn jobs_are_claimed_once_in_batches(store: DynStore) {
    let (_, _, mut ids) = queued_jobs(&store, 45, "batch").await;
    // One batch is the oldest jobs, in order, and no more than asked for.
    let first = store.claim_jobs("w0", 500, 60_000, 7).await.expect("batch");
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
                    let batch = s
                        .claim_jobs(&format!("w{}", w + 1), 500, 60_000, 5)
                        .await
                        .expect("claim");
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
    let again = store
        .claim_jobs("w9", 500 + 60_001, 1_000, 100)
        .await
        .expect("expired");
    assert_eq!(again.len(), 45);
    assert!(again.iter().all(|j| j.attempts == 2));
}

async fn jobs_are_claimed_once_under_leases(store: DynStore) {
    let (org, root, ids) = queued_jobs(&store, 20, "racer").await;
    let not_yet = job("close_account", "x", 1_000_000);
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
                while let Some(j) = s
                    .claim_job(&format!("w{w}"), 500, 60_000)
                    .await
                    .expect("claim")
                {
                    mine.push(j.id);
                }
                mine
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for w in workers {
        claimed.extend(w.await.expect("join"));
    }
    claimed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(
        claimed, expected,
        "each due job claimed exactly once; the future one not at all"
    );

    // Finish all but one; a lease that runs out lets another worker take that one over.
    let (unfinished, finished) = claimed.split_first().expect("claimed jobs");
    for id in finished {
        store
            .finish_account_closure(id, "any", 1_000)
            .await
            .expect("finish");
    }
    assert_eq!(
        store.claim_job("w9", 600, 60_000).await.expect("leased"),
        None
    );
    let taken_over = store
        .claim_job("w9", 500 + 60_001, 60_000)
        .await
        .expect("expired")
        .expect("reclaimed");
    assert_eq!(&taken_over.id, unfinished);
    assert_eq!(taken_over.attempts, 2);
    store
        .finish_account_closure(&taken_over.id, &taken_over.payload, 70_000)
        .await
        .expect("finish");
    store.retry_job(&not_yet.id, 0).await.expect("retry");
    assert_eq!(
        store
            .claim_job("w9", 70_001, 1_000)
            .await
            .expect("due now")
            .map(|j| j.id),
        Some(not_yet.id.clone())
    );
}

async fn delegation_needs_a_trusted_service(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let a = member(&org, &root, "delegate");
    store.insert_account(&a).await.expect("account");
    let ic = iic_domain::organizations::IDENTITY_CENTER;
    assert!(matches!(
        store
            .register_delegated_admin(&org, &a.id, ic, 1)
            .await
            .expect("untrusted"),
        OrgOutcome::Conflict(_)
    ));
    assert!(store
        .enable_trusted_service(&org, ic, 1)
        .await
        .expect("enable"));
    assert!(!store
        .enable_trusted_service(&org, ic, 2)
        .await
        .expect("again"));
    assert!(matches!(
        store
            .register_delegated_admin(&org, &b.account.id, ic, 1)
            .await
            .expect("mgmt"),
        OrgOutcome::Conflict(_)
    ));
    assert_eq!(
        store
            .register_delegated_admin(&org, "f".repeat(32).as_str(), ic, 1)
            .await
            .expect("unknown"),
        OrgOutcome::NotFound
    );
    assert_eq!(
        store
            .register_delegated_admin(&org, &a.id, ic, 3)
            .await
            .expect("register"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .register_delegated_admin(&org, &a.id, ic, 3)
            .await
            .expect("dup"),
        OrgOutcome::Conflict(_)
    ));
    assert!(store.is_delegated_admin(&a.id, ic).await.expect("is"));
    assert_eq!(
        store
            .list_delegated_admins(&org, Some(ic), None, 10)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store
            .list_delegated_services(&org, &a.id, None, 10)
            .await
            .expect("services")[0]
            .service_principal,
        ic
    );
    assert!(
        matches!(
            store.remove_account(&org, &a.id).await.expect("remove"),
            OrgOutcome::Conflict(_)
        ),
        "a delegate cannot be removed"
    );
    assert_eq!(
        store
            .deregister_delegated_admin(&org, &a.id, ic)
            .await
            .expect("dereg"),
        OrgOutcome::Done
    );
    assert!(!store
        .is_delegated_admin(&a.id, ic)
        .await
        .expect("not any more"));
    assert_eq!(
        store
            .deregister_delegated_admin(&org, &a.id, ic)
            .await
            .expect("again"),
        OrgOutcome::NotFound
    );
    store
        .register_delegated_admin(&org, &a.id, ic, 4)
        .await
        .expect("register again");
    assert!(store
        .disable_trusted_service(&org, ic)
        .await
        .expect("disable"));
    assert!(!store
        .is_delegated_admin(&a.id, ic)
        .await
        .expect("gone with the trust"));
    assert!(store
        .list_trusted_services(&org, None, 10)
        .await
        .expect("list")
        .is_empty());
}

async fn closing_an_account_suspends_it(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let a = member(&org, &root, "closing");
    store.insert_account(&a).await.expect("account");
    assert!(matches!(
        store
            .close_account(&org, &b.account.id, &job("close_account", "m", 0))
            .await
            .expect("mgmt"),
        OrgOutcome::Conflict(_)
    ));
    let j = job("close_account", &a.id, 0);
    assert_eq!(
        store.close_account(&org, &a.id, &j).await.expect("close"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .close_account(&org, &a.id, &job("close_account", &a.id, 0))
            .await
            .expect("twice"),
        OrgOutcome::Conflict(_)
    ));
    let pending = store
        .list_close_account_statuses(&org, &["pending_closure".to_string()], None, 10)
        .await
        .expect("list");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        store
            .get_account(&a.id)
            .await
            .expect("get")
            .map(|x| x.status),
        Some("pending_closure".into())
    );
    let claimed = store
        .claim_job("w", 10, 1_000)
        .await
        .expect("claim")
        .expect("job");
    store
        .finish_account_closure(&claimed.id, &a.id, 20)
        .await
        .expect("finish");
    assert_eq!(
        store
            .get_account(&a.id)
            .await
            .expect("get")
            .map(|x| x.status),
        Some("suspended".into())
    );
    let suspended = store
        .list_close_account_statuses(&org, &["suspended".to_string()], None, 10)
        .await
        .expect("list");
    assert_eq!((suspended.len(), suspended[0].updated_at), (1, 20));
}

async fn organizations_are_created_and_deleted(store: DynStore) {
    let b = bootstrapped(&store).await;
    let org = b.organization.id.clone();
    let root = store
        .get_root(&org)
        .await
        .expect("root")
        .expect("exists")
        .id;
    let loner = member(&org, &root, "loner");
    store.insert_account(&loner).await.expect("account");
    assert!(matches!(
        store.delete_organization(&org).await.expect("members"),
        OrgOutcome::Conflict(_)
    ));
    assert_eq!(
        store.remove_account(&org, &loner.id).await.expect("remove"),
        OrgOutcome::Done
    );
    let new_org = Organization {
        id: iic_domain::ids::organization_id(),
        management_account_id: loner.id.clone(),
        created_at: 9,
    };
    let new_root = Root {
        id: iic_domain::organizations::root_id(),
        organization_id: new_org.id.clone(),
        name: "root".into(),
        created_at: 9,
    };
    assert_eq!(
        store
            .create_organization(&new_org, &new_root)
            .await
            .expect("create"),
        OrgOutcome::Done
    );
    assert!(matches!(
        store
            .create_organization(&new_org, &new_root)
            .await
            .expect("again"),
        OrgOutcome::Conflict(_)
    ));
    let a = store.get_account(&loner.id).await.expect("get").expect("x");
    assert_eq!(
        (a.organization_id.as_deref(), a.parent_id.as_deref()),
        (Some(new_org.id.as_str()), Some(new_root.id.as_str()))
    );
    assert_eq!(
        store
            .delete_organization(&new_org.id)
            .await
            .expect("delete"),
        OrgOutcome::Done
    );
    assert_eq!(
        store.get_organization(&new_org.id).await.expect("gone"),
        None
    );
    assert_eq!(
        store
            .get_account(&loner.id)
            .await
            .expect("get")
            .and_then(|a| a.organization_id),
        None
    );
    // The bootstrap organization cannot go while it has an Identity Center instance.
    store
        .create_instance_if_absent(&instance(&org, "cn-north-4"))
        .await
        .expect("instance");
    assert!(matches!(
        store.delete_organization(&org).await.expect("instance"),
        OrgOutcome::Conflict(_)
    ));
}

// --- permission sets ---------------------------------------------------------------------------

fn permission_set(instance_id: &str, name: &str) -> PermissionSet {
    PermissionSet {
        seq: 0,
        permission_set_id: iic_domain::permission_set::permission_set_id(),
        instance_id: instance_id.into(),
        name: name.into(),
        description: Some("d".into()),
        relay_state: None,
        session_duration: "PT1H".into(),
        content: Default::default(),
        version: 1,
        created_at: 1,
        updated_at: 1,
    }
}

async fn permission_sets_round_trip(store: DynStore) {
    let b = bootstrapped(&store).await;
    let (ins, _) = store
        .create_instance_if_absent(&instance(&b.organization.id, "cn-north-4"))
        .await
        .expect("instance");
    let iid = ins.instance_id.clone();
    let admin = permission_set(&iid, "Admin");
    assert_eq!(
        store
            .create_permission_set(&admin, 3)
            .await
            .expect("create"),
        CreateOutcome::Created
    );
    assert_eq!(
        store
            .create_permission_set(&permission_set(&iid, "ADMIN"), 3)
            .await
            .expect("dup"),
        CreateOutcome::NameTaken
    );
    store
        .create_permission_set(&permission_set(&iid, "Dev"), 3)
        .await
        .expect("2");
    store
        .create_permission_set(&permission_set(&iid, "Ops"), 3)
        .await
        .expect("3");
    assert_eq!(
        store
            .create_permission_set(&permission_set(&iid, "Four"), 3)
            .await
            .expect("4"),
        CreateOutcome::QuotaExceeded
    );
    assert_eq!(store.count_permission_sets(&iid).await.expect("count"), 3);
    let got = store
        .get_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("get")
        .expect("x");
    assert!(got.seq > 0);
    assert_eq!(
        PermissionSet {
            seq: 0,
            ..got.clone()
        },
        admin
    );
    assert_eq!(
        store
            .find_permission_set_by_name(&iid, "admin")
            .await
            .expect("find")
            .map(|p| p.permission_set_id),
        Some(admin.permission_set_id.clone())
    );
    assert_eq!(
        store
            .get_permission_set("ins-other", &admin.permission_set_id)
            .await
            .expect("other"),
        None
    );
    let page = store
        .list_permission_sets(&iid, None, 2)
        .await
        .expect("page");
    let rest = store
        .list_permission_sets(&iid, page.last().map(|p| p.seq), 2)
        .await
        .expect("rest");
    assert_eq!((page.len(), rest.len()), (2, 1));

    let mut changed = got.clone();
    changed.version += 1;
    changed.session_duration = "PT8H".into();
    changed.content.custom_policy = Some("{}".into());
    changed.content.tags = vec![iic_domain::organizations::Tag {
        key: "team".into(),
        value: "core".into(),
    }];
    assert_eq!(
        store.save_permission_set(&changed).await.expect("save"),
        UpdateOutcome::Updated
    );
    let stale = changed.clone();
    assert!(
        matches!(
            store.save_permission_set(&stale).await,
            Err(StoreError::Conflict(_))
        ),
        "a stale version is refused"
    );
    let mut renamed = changed.clone();
    renamed.version += 1;
    renamed.name = "dev".into();
    assert_eq!(
        store.save_permission_set(&renamed).await.expect("clash"),
        UpdateOutcome::NameTaken
    );
    let reread = store
        .get_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        (reread.version, reread.session_duration.as_str()),
        (2, "PT8H")
    );
    assert_eq!(reread.content.tags.len(), 1);
    assert!(store
        .delete_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("delete"));
    assert!(!store
        .delete_permission_set(&iid, &admin.permission_set_id)
        .await
        .expect("again"));
    store
        .delete_instances(&b.organization.id)
        .await
        .expect("delete instance");
    assert_eq!(
        store.count_permission_sets(&iid).await.expect("count"),
        0,
        "sets go with their instance"
    );
}

// --- account assignments -------------------------------------------------------------------------

fn request(
    instance_id: &str,
    kind: &str,
    set: &str,
    principal: Option<(&str, &str)>,
    target: Option<&str>,
) -> AsyncRequest {
    AsyncRequest {
        seq: 0,
        request_id: iic_domain::ids::uuid_v4(),
        instance_id: instance_id.into(),
        kind: kind.into(),
        status: "IN_PROGRESS".into(),
        failure_reason: None,
        permission_set_id: set.into(),
        principal_type: principal.map(|p| p.0.to_string()),
        principal_id: principal.map(|p| p.1.to_string()),
        target_id: target.map(str::to_string),
        created_at: 1,
        updated_at: 1,
    }
}

/// Enqueues a request and runs its job right away; returns the final status.
async fn run(store: &DynStore, req: &AsyncRequest) -> String {
    let j = job(&req.kind, &req.request_id, 0);
    assert!(store
        .enqueue_request(req, &j, 1_000)
        .await
        .expect("enqueue"));
    let claimed = store
        .claim_job("w", 10, 5_000)
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(claimed.id, j.id);
    match req.kind.as_str() {
        "assignment_create" => {
            store
                .apply_assignment_create(&claimed.id, &req.request_id, 20)
                .await
        }
        "assignment_delete" => {
            store
                .apply_assignment_delete(&claimed.id, &req.request_id, 20)
                .await
        }
        _ => {
            store
                .apply_provision(&claimed.id, &req.request_id, 20)
                .await
        }
    }
    .expect("apply")
}

async fn assignments_run_through_jobs(store: DynStore) {
    let w = AssignmentWorld::new(&store, "assignee").await;
    let (iid, sid) = (w.instance_id.clone(), w.identity_store_id.clone());
    let (account_id, user_id, ps) = (w.account_id.clone(), w.user_id.clone(), w.set_id.clone());
    let principal = Some(("USER", user_id.as_str()));

    let create = request(&iid, "assignment_create", &ps, principal, Some(&account_id));
    assert_eq!(run(&store, &create).await, "SUCCEEDED");
    let stored = store
        .get_request(&iid, "assignment_create", &create.request_id)
        .await
        .expect("get")
        .expect("x");
    assert_eq!(
        (stored.status.as_str(), stored.updated_at),
        ("SUCCEEDED", 20)
    );
    assert_eq!(
        run(
            &store,
            &request(&iid, "assignment_create", &ps, principal, Some(&account_id))
        )
        .await,
        "SUCCEEDED",
        "again is fine"
    );
    let listed = store
        .list_assignments(&iid, &account_id, Some(&ps), None, 10)
        .await
        .expect("list");
    assert_eq!(
        listed.len(),
        1,
        "the same assignment twice is one assignment"
    );
    assert_eq!(
        store
            .list_assignments_for_principal(&iid, "USER", &user_id, None, None, 10)
            .await
            .expect("principal")
            .len(),
        1
    );
    let prov = store
        .list_provisioned_for_set(&iid, &ps, None, 10)
        .await
        .expect("provisioned");
    assert_eq!((prov.len(), prov[0].version), (1, 1));
    assert!(prov[0].snapshot.contains("PT1H"));
    assert!(store.is_provisioned(&ps).await.expect("is"));
    assert_eq!(
        store
            .list_provisioned_for_account(&iid, &account_id, None, 10)
            .await
            .expect("acct")
            .len(),
        1
    );

    let ghost = iic_domain::directory::principal_id(&sid);
    let bad = request(
        &iid,
        "assignment_create",
        &ps,
        Some(("USER", ghost.as_str())),
        Some(&account_id),
    );
    assert_eq!(run(&store, &bad).await, "FAILED");
    let failed = store
        .get_request(&iid, "assignment_create", &bad.request_id)
        .await
        .expect("get")
        .expect("x");
    assert!(failed
        .failure_reason
        .unwrap_or_default()
        .contains("principal"));
    let wrong_account = request(
        &iid,
        "assignment_create",
        &ps,
        principal,
        Some(&"f".repeat(32)),
    );
    assert_eq!(run(&store, &wrong_account).await, "FAILED");

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
            .list_provisioned_for_set(&iid, &ps, None, 10)
            .await
            .expect("p")[0]
            .version,
        1
    );
    assert_eq!(
        run(&store, &request(&iid, "provision", &ps, None, None)).await,
        "SUCCEEDED"
    );
    let reprovisioned = store
        .list_provisioned_for_set(&iid, &ps, None, 10)
        .await
        .expect("p");
    assert_eq!(reprovisioned[0].version, 2);
    assert!(reprovisioned[0].snapshot.contains("PT8H"));

    assert_eq!(
        run(
            &store,
            &request(&iid, "assignment_delete", &ps, principal, Some(&account_id))
        )
        .await,
        "SUCCEEDED"
    );
    assert_eq!(
        run(
            &store,
            &request(&iid, "assignment_delete", &ps, principal, Some(&account_id))
        )
        .await,
        "FAILED"
    );
    assert!(store
        .list_assignments(&iid, &account_id, None, None, 10)
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
            &request(&iid, "assignment_create", &ps, principal, Some(&account_id))
        )
        .await,
        "SUCCEEDED"
    );
    store
        .delete_user(&sid, &user_id)
        .await
        .expect("delete user");
    assert!(store
        .list_assignments_for_principal(&iid, "USER", &user_id, None, None, 10)
        .await
        .expect("gone")
        .is_empty());

    // The in-flight bound refuses without writing.
    let r1 = request(&iid, "assignment_create", &ps, principal, Some(&account_id));
    assert!(store
        .enqueue_request(&r1, &job("assignment_create", &r1.request_id, 0), 1)
        .await
        .expect("first"));
    let r2 = request(&iid, "assignment_create", &ps, principal, Some(&account_id));
    assert!(!store
        .enqueue_request(&r2, &job("assignment_create", &r2.request_id, 0), 1)
        .await
        .expect("bounded"));
    assert_eq!(
        store
            .get_request(&iid, "assignment_create", &r2.request_id)
            .await
            .expect("none"),
        None
    );
    let statuses = store
        .list_requests(&iid, "assignment_create", Some("IN_PROGRESS"), None, 10)
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
struct AssignmentWorld {
    instance_id: String,
    identity_store_id: String,
    account_id: String,
    user_id: String,
    set_id: String,
}

impl AssignmentWorld {
    async fn new(store: &DynStore, name: &str) -> AssignmentWorld {
        let b = bootstrapped(store).await;
        let org = b.organization.id.clone();
        let root = store.get_root(&org).await.expect("root").expect("x").id;
        let (ins, _) = store
            .create_instance_if_absent(&instance(&org, "cn-north-4"))
            .await
            .expect("instance");
        let account = member(&org, &root, &format!("{name}-target"));
        store.insert_account(&account).await.expect("account");
        let u = user(&ins.identity_store_id, name);
        store.create_user(&u, 100).await.expect("user");
        let set = permission_set(&ins.instance_id, name);
        store.create_permission_set(&set, 100).await.expect("set");
        AssignmentWorld {
            instance_id: ins.instance_id,
            identity_store_id: ins.identity_store_id,
            account_id: account.id,
            user_id: u.user_id,
            set_id: set.permission_set_id,
        }
    }

    /// A request to assign the user to the account.
    fn create_request(&self) -> AsyncRequest {
        request(
            &self.instance_id,
            "assignment_create",
            &self.set_id,
            Some(("USER", self.user_id.as_str())),
            Some(&self.account_id),
        )
    }
}

/// Enqueues `count` fresh requests at once; returns (accepted, job id, request id) of each.
async fn enqueue_concurrently(
    store: &DynStore,
    world: &AssignmentWorld,
    count: usize,
    max_in_flight: i64,
) -> Vec<(bool, String, String)> {
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (s, r) = (store.clone(), world.create_request());
            tokio::spawn(async move {
                let j = job("assignment_create", &r.request_id, 0);
                let accepted = s.enqueue_request(&r, &j, max_in_flight).await;
                (accepted, j.id, r.request_id)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        let (accepted, jid, rid) = t.await.expect("join");
        out.push((accepted.expect("enqueue"), jid, rid));
    }
    out
}

async fn identical_assignments_applied_concurrently_make_one(store: DynStore) {
    let w = AssignmentWorld::new(&store, "racer").await;
    let mut pairs = Vec::new();
    for _ in 0..8 {
        let r = w.create_request();
        let j = job("assignment_create", &r.request_id, 0);
        assert!(store.enqueue_request(&r, &j, 100).await.expect("enqueue"));
        pairs.push((j.id, r.request_id));
    }
    let tasks: Vec<_> = pairs
        .into_iter()
        .map(|(jid, rid)| {
            let s = store.clone();
            tokio::spawn(async move { s.apply_assignment_create(&jid, &rid, 5).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("apply"), "SUCCEEDED");
    }
    let listed = store
        .list_assignments(&w.instance_id, &w.account_id, None, None, 100)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "identical requests never yield duplicates");
    assert_eq!(
        store
            .list_provisioned_for_account(&w.instance_id, &w.account_id, None, 10)
            .await
            .expect("p")
            .len(),
        1
    );
}

async fn in_flight_bound_holds_under_concurrency_and_frees_on_completion(store: DynStore) {
    let w = AssignmentWorld::new(&store, "bounded").await;
    // The first requests of an instance race to make its counter rows; none is refused for it.
    for (accepted, jid, rid) in enqueue_concurrently(&store, &w, 24, 1_000).await {
        assert!(accepted, "a first request was refused");
        store
            .apply_assignment_create(&jid, &rid, 5)
            .await
            .expect("apply");
    }
    const MAX: i64 = 7;
    let accepted: Vec<_> = enqueue_concurrently(&store, &w, 40, MAX)
        .await
        .into_iter()
        .filter(|(ok, _, _)| *ok)
        .map(|(_, jid, rid)| (jid, rid))
        .collect();
    assert_eq!(accepted.len() as i64, MAX, "exactly the bound is accepted");
    let enqueue_one = || async {
        let r = w.create_request();
        let j = job("assignment_create", &r.request_id, 0);
        store.enqueue_request(&r, &j, MAX).await.expect("enqueue")
    };
    assert!(!enqueue_one().await, "full");
    // A finished request gives its slot back, whichever counter row it came from.
    for (jid, rid) in &accepted[..3] {
        assert_eq!(
            store
                .apply_assignment_create(jid, rid, 5)
                .await
                .expect("apply"),
            "SUCCEEDED"
        );
    }
    for _ in 0..3 {
        assert!(enqueue_one().await, "a freed slot");
    }
    assert!(!enqueue_one().await, "full again");
}

async fn meta_counters_count_up_from_one(store: DynStore) {
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
