//! What a failing store operation reports, and the trace it leaves.

use crate::common::*;
use crate::{catch_unwind, postgres_admin};
use iic_store::*;
use std::error::Error;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

suite!(
    a_refused_write_names_the_operation_and_the_rule,
    racing_creations_of_one_name_make_one_and_leak_no_quota,
    store_operations_run_in_spans_named_after_them,
);

async fn a_refused_write_names_the_operation_and_the_rule(store: SharedStore) {
    let b = bootstrapped(&store).await;
    let mut key = plan("cn-north-4").credential;
    key.account_id = b.account.id;
    store.insert_credential(&key).await.expect("first");
    let e = store.insert_credential(&key).await.expect_err("twice");
    let StoreError::Conflict { operation, rule } = &e else {
        panic!("not a conflict: {e}");
    };
    assert_eq!(*operation, "insert_credential");
    assert!(!rule.is_empty());
    assert!(!e.is_transient());
    assert!(e
        .to_string()
        .starts_with("store operation insert_credential: refused by "));
}

/// Several creations of one name may all pass the name check before any inserts; the losers'
/// transactions are rolled back whole, so the store's user count stays true.
async fn racing_creations_of_one_name_make_one_and_leak_no_quota(store: SharedStore) {
    let (_, sid) = directory(&store).await;
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (s, u) = (store.clone(), user(&sid, "same-name"));
            tokio::spawn(async move { s.create_user(&u, 1_000).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("join").expect("create"));
    }
    let created = outcomes
        .iter()
        .filter(|o| **o == CreateOutcome::Created)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, CreateOutcome::Created | CreateOutcome::NameTaken)));
    let info = store
        .identity_store(&sid)
        .await
        .expect("info")
        .expect("store");
    assert_eq!(info.users, 1, "the losers took no quota");
}

/// Records the `operation` of every `store` span.
#[derive(Clone, Default)]
struct StoreSpans(Arc<Mutex<Vec<String>>>);

struct OperationField(Option<String>);

impl Visit for OperationField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "operation" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "operation" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_string());
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for StoreSpans {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        if attrs.metadata().name() == "store" {
            let mut field = OperationField(None);
            attrs.record(&mut field);
            if let (Some(op), Ok(mut seen)) = (field.0, self.0.lock()) {
                seen.push(op);
            }
        }
    }
}

async fn store_operations_run_in_spans_named_after_them(store: SharedStore) {
    let spans = StoreSpans::default();
    let subscriber = tracing_subscriber::registry()
        .with(spans.clone())
        .with(tracing_subscriber::filter::LevelFilter::DEBUG);
    let _guard = tracing::subscriber::set_default(subscriber);
    store.put_meta_if_absent("k", "v").await.expect("put");
    store.get_meta("k").await.expect("get");
    let seen = spans.0.lock().expect("spans").clone();
    assert_eq!(seen, vec!["put_meta_if_absent", "get_meta"]);
}

/// A value stored as JSON that no longer reads back: the error names the operation, the
/// statement and why.
fn assert_unreadable_profile(e: &StoreError) {
    let StoreError::Backend {
        operation,
        statement,
        ..
    } = e
    else {
        panic!("not a backend failure: {e}");
    };
    assert_eq!(*operation, "get_user");
    assert!(statement.is_some_and(|s| s.starts_with("SELECT seq, user_id")));
    assert!(e.source().is_some());
    assert!(e.to_string().contains("stored JSON"), "{e}");
    assert!(
        !e.is_transient(),
        "a stored value that does not read back stays unreadable"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failure_names_operation_statement_and_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = iic_store::open(&format!("sqlite://{}", path.display()))
        .await
        .expect("open");
    let (_, sid) = directory(&store).await;
    let u = user(&sid, "broken");
    store.create_user(&u, 10).await.expect("create");
    rusqlite::Connection::open(&path)
        .expect("open file")
        .execute("UPDATE users SET profile = 'not json'", [])
        .expect("corrupt");
    let e = store
        .get_user(&sid, &u.user_id)
        .await
        .expect_err("unreadable");
    assert_unreadable_profile(&e);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failure_names_operation_statement_and_the_databases_reason() {
    let Some((url, admin)) = postgres_admin().await else {
        return;
    };
    let schema = format!("iic_test_{}", crate::unique());
    let outcome = catch_unwind(async {
        let store = iic_store::open_in_schema(&url, Some(&schema))
            .await
            .expect("open");
        let (_, sid) = directory(&store).await;
        // PostgreSQL text cannot hold NUL; its own reason must reach the log line.
        let e = store
            .create_user(&user(&sid, "nul\0name"), 10)
            .await
            .expect_err("NUL");
        assert_eq!(e.operation(), "create_user");
        let shown = e.to_string();
        assert!(
            shown.starts_with("store operation create_user failed at `SELECT 1 FROM users "),
            "{shown}"
        );
        assert!(
            shown.ends_with(": SQLSTATE 22021: invalid byte sequence for encoding \"UTF8\": 0x00"),
            "{shown}"
        );
        assert!(
            !e.is_transient(),
            "a value PostgreSQL refuses is refused again"
        );
        let u = user(&sid, "broken");
        store.create_user(&u, 10).await.expect("create");
        admin
            .batch_execute(&format!("UPDATE {schema}.users SET profile = 'not json'"))
            .await
            .expect("corrupt");
        let e = store
            .get_user(&sid, &u.user_id)
            .await
            .expect_err("unreadable");
        assert_unreadable_profile(&e);
    })
    .await;
    admin
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
        .expect("drop schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
