//! Databases written before the store was written once per operation keep working.
//!
//! `tests/fixtures/schema7-*.sql` are dumps of one database per backend, written through the
//! store code of schema version 7 (the last before the rewrite) with every kind of row: an
//! organization with OUs and accounts in every state, credentials, meta facts, an instance with
//! an alias, users, groups, memberships, external ids, a password policy, permission sets,
//! assignments, agencies, requests of every kind and status, and jobs done, running and pending.
//! (SQLite: `sqlite3 .dump`; PostgreSQL: `pg_dump --inserts`, its `\restrict` lines removed.)
//! Each test loads a dump, opens it with today's store and reads every kind of row back, then
//! runs the jobs left in flight; a second test checks that a database created today has exactly
//! the schema of an old one brought up to date by the migrations.

use crate::common::*;
use crate::{catch_unwind, postgres_admin, unique};
use iic_domain::directory::password::PasswordPolicy;
use iic_store::*;

const SQLITE_DUMP: &str = include_str!("../fixtures/schema7-sqlite.sql");
const POSTGRES_DUMP: &str = include_str!("../fixtures/schema7-postgres.sql");
/// The schema the PostgreSQL dump was taken from.
const DUMPED_SCHEMA: &str = "iic_fixture_v7";

const ORG: &str = "o-0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
const MGMT: &str = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0";
const ROOT: &str = "r-0123456789abcdef";
const ENGINEERING: &str = "ou-aaaaaaaaaaaaaaaaaaaaaaaa";
const PLATFORM: &str = "ou-bbbbbbbbbbbbbbbbbbbbbbbb";
const INSTANCE: &str = "ins-1111222233334444";
const STORE: &str = "d-5555666677";
const ACTIVE: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const CLOSING: &str = "c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2";
const CLOSED: &str = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
const LEFT: &str = "c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4";
const MADE: &str = "c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5";
const CLASH: &str = "c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7";
const PENDING: &str = "c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8c8";
const ALICE: &str = "5555666677-00000000-0000-4000-8000-00000000a11c";
const BOB: &str = "5555666677-00000000-0000-4000-8000-000000000b0b";
const ADMINS: &str = "5555666677-00000000-0000-4000-8000-0000000ad315";
const DEVS: &str = "5555666677-00000000-0000-4000-8000-000000000de5";
const ADMIN_SET: &str = "ps-0000aaaa0000aaaa";
const READ_ONLY_SET: &str = "ps-0000bbbb0000bbbb";
const IN_FLIGHT: &str = "00000000-0000-4000-8000-000000000010";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_database_of_schema_7_reads_back_and_runs_its_jobs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("v7.db");
    rusqlite::Connection::open(&path)
        .expect("create")
        .execute_batch(SQLITE_DUMP)
        .expect("load the dump");
    let store = iic_store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open the old database");
    reads_back(&store).await;
    runs_the_jobs_left_in_flight(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_database_of_schema_7_reads_back_and_runs_its_jobs() {
    let Some((url, admin)) = postgres_admin().await else {
        return;
    };
    let schema = format!("iic_upgrade_{}", unique());
    admin
        .batch_execute(&POSTGRES_DUMP.replace(DUMPED_SCHEMA, &schema))
        .await
        .expect("load the dump");
    let outcome = catch_unwind(async {
        let store = iic_store::open_in_schema(&url, Some(&schema))
            .await
            .expect("open the old database");
        reads_back(&store).await;
        runs_the_jobs_left_in_flight(&store).await;
    })
    .await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn reads_back(store: &SharedStore) {
    organization_reads_back(store).await;
    directory_reads_back(store).await;
    permission_sets_and_assignments_read_back(store).await;
}

async fn organization_reads_back(store: &SharedStore) {
    // A new start finds the bootstrap's records rather than making new ones.
    let mut again = plan("cn-north-4");
    again.organization.id = "o-ffffffffffffffffffffffffffffffff".into();
    let b = store.bootstrap(&again).await.expect("bootstrap");
    assert!(!b.created_now);
    assert_eq!(b.organization.id, ORG);
    assert_eq!(b.account.id, MGMT);
    assert_eq!(b.project.id, "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0");
    assert_eq!(b.root_access_key, "AKFIXTUREROOT0000001");

    let temporary = store
        .get_credential("AKFIXTURETEMP0000002")
        .await
        .expect("credential")
        .expect("exists");
    assert_eq!(
        temporary,
        Credential {
            access_key: "AKFIXTURETEMP0000002".into(),
            account_id: MGMT.into(),
            secret_sealed: vec![7; 44],
            security_token_sha256: Some("ab".repeat(32)),
            expires_at: Some(1_900_000_000_000),
            created_at: 1_700_000_000_500,
        }
    );
    let root_key = store
        .get_credential("AKFIXTUREROOT0000001")
        .await
        .expect("root key")
        .expect("exists");
    assert_eq!(
        root_key.secret_sealed,
        vec![0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]
    );
    assert_eq!(store.list_credentials(MGMT).await.expect("keys").len(), 2);
    assert_eq!(
        store
            .get_meta("fixture.note")
            .await
            .expect("meta")
            .as_deref(),
        Some("written by schema version 7")
    );
    assert_eq!(
        store
            .increment_meta("fixture.counter")
            .await
            .expect("counter"),
        3
    );
    assert_eq!(
        store.list_regions(ORG).await.expect("regions"),
        vec!["cn-north-4"]
    );

    let root = store.get_root(ORG).await.expect("root").expect("exists");
    assert_eq!((root.id.as_str(), root.name.as_str()), (ROOT, "root"));
    let ous = store
        .list_ous(ORG, None, Page::first(10))
        .await
        .expect("ous");
    assert_eq!(
        ous.iter()
            .map(|o| (o.id.as_str(), o.parent_id.as_str(), o.name.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (ENGINEERING, ROOT, "Engineering"),
            (PLATFORM, ENGINEERING, "Platform")
        ]
    );

    let active = store
        .get_account(ACTIVE)
        .await
        .expect("get")
        .expect("active");
    assert_eq!(
        active,
        Account {
            seq: active.seq,
            id: ACTIVE.into(),
            name: "active-member".into(),
            organization_id: Some(ORG.into()),
            created_at: 1_700_000_000_100,
            email: Some("active-member@example.com".into()),
            phone: Some("+86-10-0000".into()),
            description: Some("active-member account".into()),
            join_method: JoinMethod::Created,
            status: AccountStatus::Active,
            parent_id: Some(PLATFORM.into()),
            joined_at: 1_700_000_000_200,
        }
    );
    for (id, status) in [
        (CLOSING, AccountStatus::PendingClosure),
        (CLOSED, AccountStatus::Suspended),
        (LEFT, AccountStatus::Active),
        (MADE, AccountStatus::Active),
        (CLASH, AccountStatus::Active),
    ] {
        let a = store.get_account(id).await.expect("get").expect("account");
        assert_eq!(a.status, status, "{}", a.name);
    }
    let left = store.get_account(LEFT).await.expect("get").expect("left");
    assert_eq!((left.organization_id, left.parent_id), (None, None));
    let members: Vec<String> = store
        .list_accounts(ORG, None, Page::first(10))
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(members, vec![MGMT, ACTIVE, CLOSING, CLOSED, MADE, CLASH]);
    assert_eq!(
        store.list_projects(MADE).await.expect("projects")[0].id,
        "b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5b5"
    );

    let created = store
        .list_create_account_statuses(ORG, &[], Page::first(10))
        .await
        .expect("creation statuses");
    assert_eq!(
        created
            .iter()
            .map(|s| (s.account_id.as_str(), s.state, s.failure_reason.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (MADE, CreationState::Succeeded, None),
            (
                "c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6c6",
                CreationState::Failed,
                Some("an account with this name already exists")
            ),
            (PENDING, CreationState::InProgress, None),
        ]
    );
    assert_eq!(created[2].request.name, "pending-member");
    assert_eq!(created[2].request.status, AccountStatus::Active);
    let closures = store
        .list_close_account_statuses(ORG, &[], Page::first(10))
        .await
        .expect("closure statuses");
    assert_eq!(
        closures
            .iter()
            .map(|s| (s.account_id.as_str(), s.state))
            .collect::<Vec<_>>(),
        vec![
            (CLOSED, ClosureState::Suspended),
            (CLOSING, ClosureState::PendingClosure)
        ]
    );

    let admins = store
        .list_delegated_admins(ORG, None, Page::first(10))
        .await
        .expect("delegated");
    assert_eq!(
        admins
            .iter()
            .map(|d| (d.account_id.as_str(), d.service_principal.as_str()))
            .collect::<Vec<_>>(),
        vec![(ACTIVE, "service.IdentityCenter")]
    );
    assert_eq!(
        store
            .list_trusted_services(ORG, Page::first(10))
            .await
            .expect("trusted")
            .len(),
        2
    );
}

async fn directory_reads_back(store: &SharedStore) {
    let instances = store
        .list_instances(ORG, Page::first(10))
        .await
        .expect("instances");
    assert_eq!(instances.len(), 1);
    assert_eq!(
        (
            instances[0].instance_id.as_str(),
            instances[0].alias.as_deref()
        ),
        (INSTANCE, Some("fixture-alias"))
    );
    let info = store
        .identity_store(STORE)
        .await
        .expect("store")
        .expect("exists");
    assert_eq!((info.users, info.groups), (2, 2));
    assert_eq!(
        info.password_policy,
        Some(PasswordPolicy {
            minimum_password_length: 12,
            require_lowercase_characters: true,
            require_numbers: true,
            require_symbols: false,
            require_uppercase_characters: true,
            max_password_age: 90,
            password_reuse_prevention: 3,
        })
    );
    let alice = store
        .get_user(STORE, ALICE)
        .await
        .expect("get")
        .expect("alice");
    assert_eq!(alice.profile.user_name, "alice");
    assert_eq!(alice.profile.title.as_deref(), Some("Engineer"));
    assert_eq!(alice.profile.emails[0].value, "alice@Example.com");
    assert!(alice.enabled && alice.email_verified && !alice.password_reset_email_owed);
    assert!(alice
        .password_hash
        .is_some_and(|h| h.starts_with("$argon2id$")));
    assert_eq!(alice.external_ids[0].id, "ext-alice");
    let bob = store.get_user(STORE, BOB).await.expect("get").expect("bob");
    assert!(!bob.enabled && bob.password_hash.is_none() && bob.password_reset_email_owed);
    for (key, id) in [
        (PrincipalKey::Name("ALICE".into()), ALICE),
        (PrincipalKey::Email("alice@example.COM".into()), ALICE),
        (
            PrincipalKey::External {
                issuer: "https://idp.example.com".into(),
                id: "ext-alice".into(),
            },
            ALICE,
        ),
    ] {
        assert_eq!(
            store
                .find_user_id(STORE, &key)
                .await
                .expect("find")
                .as_deref(),
            Some(id)
        );
    }
    let groups = store
        .list_groups(STORE, None, Page::first(10))
        .await
        .expect("groups");
    assert_eq!(
        groups
            .iter()
            .map(|g| g.group_id.as_str())
            .collect::<Vec<_>>(),
        vec![ADMINS, DEVS]
    );
    assert_eq!(
        groups[0].profile.description.as_deref(),
        Some("admins group")
    );
    assert_eq!(
        store
            .find_group_id(
                STORE,
                &PrincipalKey::External {
                    issuer: "https://idp.example.com".into(),
                    id: "ext-admins".into(),
                },
            )
            .await
            .expect("find")
            .as_deref(),
        Some(ADMINS)
    );
    let membership = store
        .get_membership(STORE, "5555666677-00000000-0000-4000-8000-00000000ae3b")
        .await
        .expect("membership")
        .expect("exists");
    assert_eq!(
        (membership.group_id.as_str(), membership.user_id.as_str()),
        (ADMINS, ALICE)
    );
    assert_eq!(
        store
            .groups_containing(STORE, ALICE, &[DEVS.into(), ADMINS.into()])
            .await
            .expect("containing"),
        vec![ADMINS.to_string()]
    );
}

async fn permission_sets_and_assignments_read_back(store: &SharedStore) {
    let admin = store
        .get_permission_set(INSTANCE, ADMIN_SET)
        .await
        .expect("set")
        .expect("exists");
    assert_eq!(
        (
            admin.version,
            admin.description.as_deref(),
            admin.session_duration.as_str()
        ),
        (2, Some("Admin set, edited"), "PT2H")
    );
    assert_eq!(admin.content.managed_policies[0].name, "FullAccess");
    assert_eq!(admin.content.managed_roles[0].id, "sys-role-1");
    assert!(admin
        .content
        .custom_policy
        .as_deref()
        .is_some_and(|p| p.contains("ecs:*:get*")));
    assert_eq!(admin.content.tags[0].value, "platform");
    assert_eq!(
        store
            .list_permission_sets(INSTANCE, Page::first(10))
            .await
            .expect("sets")
            .len(),
        2
    );
    let assigned = store
        .list_assignments(
            INSTANCE,
            AccountAssignments {
                account_id: ACTIVE,
                permission_set_id: None,
            },
            Page::first(10),
        )
        .await
        .expect("assignments");
    assert_eq!(
        assigned
            .iter()
            .map(|a| (
                a.permission_set_id.as_str(),
                a.principal_type,
                a.principal_id.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![
            (ADMIN_SET, PrincipalType::User, ALICE),
            (READ_ONLY_SET, PrincipalType::Group, ADMINS)
        ]
    );
    let agencies = store
        .list_provisioned_for_account(INSTANCE, ACTIVE, Page::first(10))
        .await
        .expect("agencies");
    assert_eq!(
        agencies
            .iter()
            .map(|p| (p.permission_set_id.as_str(), p.version))
            .collect::<Vec<_>>(),
        vec![(ADMIN_SET, 2), (READ_ONLY_SET, 1)]
    );
    assert!(agencies[0]
        .snapshot
        .contains("\"session_duration\":\"PT2H\""));

    let creations = store
        .list_requests(
            INSTANCE,
            RequestKind::AssignmentCreate,
            None,
            Page::first(10),
        )
        .await
        .expect("creations");
    assert_eq!(
        creations.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![
            RequestStatus::Succeeded,
            RequestStatus::Succeeded,
            RequestStatus::Failed,
            RequestStatus::Succeeded,
            RequestStatus::InProgress
        ]
    );
    assert_eq!(
        creations[2].failure_reason.as_deref(),
        Some("the principal does not exist in the identity store")
    );
    assert_eq!(creations[1].principal_type, Some(PrincipalType::Group));
    let provisioning = store
        .list_requests(INSTANCE, RequestKind::Provision, None, Page::first(10))
        .await
        .expect("provisioning");
    assert_eq!(
        (
            provisioning.len(),
            provisioning[0].principal_type,
            provisioning[0].target_id.clone()
        ),
        (1, None, None)
    );
    let deletion = store
        .list_requests(
            INSTANCE,
            RequestKind::AssignmentDelete,
            Some(RequestStatus::Succeeded),
            Page::first(10),
        )
        .await
        .expect("deletions");
    assert_eq!(deletion.len(), 1);
}

/// The jobs the old server left: an assignment whose worker died (lease run out), a closure and
/// an account creation still pending. Today's workers claim and finish them.
async fn runs_the_jobs_left_in_flight(store: &SharedStore) {
    let jobs = store
        .claim_jobs(Claim {
            worker: "upgraded",
            now: 1_800_000_000_000,
            lease_ms: 5_000,
            limit: 10,
        })
        .await
        .expect("claim");
    assert_eq!(
        jobs.iter()
            .map(|j| (j.id.as_str(), j.kind, j.attempts))
            .collect::<Vec<_>>(),
        vec![
            (
                "f0000000000000000000000000000020",
                JobKind::Request(RequestKind::AssignmentCreate),
                2
            ),
            ("f0000000000000000000000000000021", JobKind::CloseAccount, 1),
            (
                "f0000000000000000000000000000022",
                JobKind::CreateAccount,
                1
            ),
        ]
    );
    let now = 1_800_000_000_100;
    assert_eq!(
        store
            .apply_request(&jobs[0], now)
            .await
            .expect("assignment"),
        RequestStatus::Succeeded
    );
    let done = store
        .get_request(INSTANCE, RequestKind::AssignmentCreate, IN_FLIGHT)
        .await
        .expect("request")
        .expect("exists");
    assert_eq!(done.status, RequestStatus::Succeeded);
    store
        .finish_account_closure(&jobs[1], now)
        .await
        .expect("closure");
    assert_eq!(
        store
            .get_account(CLOSING)
            .await
            .expect("get")
            .map(|a| a.status),
        Some(AccountStatus::Suspended)
    );
    let project = Project {
        id: "b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8b8".into(),
        account_id: PENDING.into(),
        region: "cn-north-4".into(),
    };
    assert_eq!(
        store
            .finish_account_creation(
                &jobs[2],
                "car-d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3",
                &project,
                now
            )
            .await
            .expect("creation"),
        CreationState::Succeeded
    );
    assert_eq!(
        store
            .get_account(PENDING)
            .await
            .expect("get")
            .map(|a| a.parent_id),
        Some(Some(ROOT.into()))
    );
    // The slot the in-flight request held was given back: with a bound of 16, sixteen new
    // requests fit (on PostgreSQL one in each of the 16 counter rows) and a seventeenth does not.
    let accepted = enqueue_many(store, 17, 16).await;
    assert_eq!(accepted, [vec![true; 16], vec![false]].concat());
}

async fn enqueue_many(store: &SharedStore, count: usize, max_in_flight: i64) -> Vec<bool> {
    let mut accepted = Vec::new();
    for _ in 0..count {
        let r = request(
            INSTANCE,
            RequestKind::AssignmentCreate,
            READ_ONLY_SET,
            Some((PrincipalType::User, BOB)),
            Some(ACTIVE),
        );
        let j = job(
            JobKind::Request(RequestKind::AssignmentCreate),
            &r.request_id,
            0,
        );
        accepted.push(
            store
                .enqueue_request(&r, &j, max_in_flight)
                .await
                .expect("enqueue"),
        );
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_database_has_the_schema_of_an_upgraded_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (old, new) = (dir.path().join("old.db"), dir.path().join("new.db"));
    rusqlite::Connection::open(&old)
        .expect("create")
        .execute_batch(SQLITE_DUMP)
        .expect("load the dump");
    drop(
        iic_store::open(&format!("sqlite://{}", old.display()))
            .await
            .expect("upgrade"),
    );
    drop(
        iic_store::open(&format!("sqlite://{}", new.display()))
            .await
            .expect("new"),
    );
    let schema = |path: &std::path::Path| -> Vec<(String, String, String)> {
        let conn = rusqlite::Connection::open(path).expect("open");
        let mut st = conn
            .prepare(
                "SELECT type, name, sql FROM sqlite_master
                 WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
            )
            .expect("prepare");
        let rows = st
            .query_map([], |r| {
                let sql: Option<String> = r.get(2)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    sql.unwrap_or_default()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                ))
            })
            .expect("query");
        rows.collect::<rusqlite::Result<_>>().expect("rows")
    };
    let (old, new) = (schema(&old), schema(&new));
    assert!(old.len() > 40, "tables and indexes: {}", old.len());
    let line = |(kind, name, sql): &(String, String, String)| format!("{kind} {name}: {sql}");
    assert_same(
        &new.iter().map(line).collect::<Vec<_>>(),
        &old.iter().map(line).collect::<Vec<_>>(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_postgres_database_has_the_schema_of_an_upgraded_one() {
    let Some((url, admin)) = postgres_admin().await else {
        return;
    };
    let (old, new) = (
        format!("iic_upgrade_{}", unique()),
        format!("iic_fresh_{}", unique()),
    );
    admin
        .batch_execute(&POSTGRES_DUMP.replace(DUMPED_SCHEMA, &old))
        .await
        .expect("load the dump");
    let outcome = catch_unwind(async {
        drop(
            iic_store::open_in_schema(&url, Some(&old))
                .await
                .expect("upgrade"),
        );
        drop(
            iic_store::open_in_schema(&url, Some(&new))
                .await
                .expect("new"),
        );
        let old_schema = postgres_schema(&admin, &old).await;
        assert!(
            old_schema.len() > 150,
            "columns, indexes, constraints: {}",
            old_schema.len()
        );
        assert_same(&postgres_schema(&admin, &new).await, &old_schema);
    })
    .await;
    admin
        .batch_execute(&format!(
            "DROP SCHEMA {old} CASCADE; DROP SCHEMA {new} CASCADE"
        ))
        .await
        .expect("drop schemas");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Fails naming only the lines that differ.
fn assert_same(new: &[String], old: &[String]) {
    let missing: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
    let extra: Vec<&String> = new.iter().filter(|l| !old.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && new == old,
        "a new database differs from an upgraded one;\nonly in the old: {missing:#?}\nonly in the new: {extra:#?}"
    );
}

/// Every column, index and constraint of `schema`, with the schema's name taken out.
async fn postgres_schema(admin: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    let mut out = Vec::new();
    for query in [
        "SELECT concat_ws(' | ', table_name, ordinal_position, column_name, data_type, is_nullable,
                          column_default, collation_name)
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
        "SELECT concat_ws(' | ', tablename, indexname, indexdef)
         FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename, indexname",
        "SELECT concat_ws(' | ', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
         FROM pg_constraint WHERE connamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) ORDER BY 1",
    ] {
        for row in admin.query(query, &[&schema]).await.expect("catalog") {
            let line: String = row.get(0);
            out.push(line.replace(schema, "<schema>"));
        }
    }
    out
}

/// A database migrated by a newer iic (a schema version this code does not know) is refused at
/// open, with a message that says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_database_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("newer.db");
    let url = format!("sqlite://{}", path.display());
    let store = iic_store::open(&url).await.expect("new");
    assert!(store.ready().await.expect("ready"));
    drop(store);
    rusqlite::Connection::open(&path)
        .expect("open")
        .execute_batch("INSERT INTO schema_migrations VALUES (999999, 0)")
        .expect("a newer migration");
    let refused = iic_store::open(&url).await.err().expect("refused");
    assert!(
        refused.to_string().contains("newer than this iic knows"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_of_a_newer_schema_is_refused() {
    let Some((url, admin)) = postgres_admin().await else {
        return;
    };
    let schema = format!("iic_newer_{}", unique());
    let outcome = catch_unwind(async {
        let store = iic_store::open_in_schema(&url, Some(&schema))
            .await
            .expect("new");
        assert!(store.ready().await.expect("ready"));
        drop(store);
        admin
            .batch_execute(&format!(
                "INSERT INTO {schema}.schema_migrations VALUES (999999, 0)"
            ))
            .await
            .expect("a newer migration");
        let refused = iic_store::open_in_schema(&url, Some(&schema))
            .await
            .err()
            .expect("refused");
        assert!(
            refused.to_string().contains("newer than this iic knows"),
            "{refused}"
        );
    })
    .await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
