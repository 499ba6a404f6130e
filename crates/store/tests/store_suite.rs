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
    directory_users_round_trip,
    directory_quotas_hold,
    directory_groups_and_memberships,
    directory_membership_limit_holds_under_concurrency,
    directory_external_ids_and_password_policy,
    deleting_the_instance_removes_its_directory,
    directory_random_operations_keep_invariants,
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
