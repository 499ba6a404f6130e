//! The store suite: every test runs against SQLite always, and against PostgreSQL when
//! `IIC_TEST_POSTGRES_URL` is set (each test in a schema of its own, dropped afterwards). One file
//! per area of the store; `common.rs` builds the records the tests share.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Declares one test per backend for each async test function `fn(SharedStore)` of the module
/// it is used in.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $crate::with_sqlite(super::$name).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { $crate::with_postgres(super::$name).await; })*
        }
    };
}

mod access_control;
mod assignments;
mod common;
mod directory;
mod errors;
mod instances;
mod job_failures;
mod jobs;
mod mfa_devices;
mod oidc;
mod org_structure;
mod organizations;
mod outbox;
mod permission_sets;
mod portal;
mod provisioning;
mod scim_directory;
mod scim_writes;
mod sessions;
mod sign_in;
mod upgrade;
mod user_mail;
mod webauthn;

use iic_store::SharedStore;
use std::future::Future;

pub fn unique() -> String {
    iic_domain::ids::hex32()[..12].to_string()
}

pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let store = iic_store::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .await
        .expect("open sqlite");
    test(store).await;
}

/// A connection for setting up and dropping a test's schema; None when the PostgreSQL half of
/// the suite is off.
pub async fn postgres_admin() -> Option<(String, tokio_postgres::Client)> {
    let Ok(url) = std::env::var("IIC_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: PostgreSQL store test (IIC_TEST_POSTGRES_URL not set)");
        return None;
    };
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("IIC_TEST_POSTGRES_URL is set but PostgreSQL cannot be reached");
    tokio::spawn(conn);
    Some((url, admin))
}

pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(SharedStore) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some((url, admin)) = postgres_admin().await else {
        return;
    };
    let schema = format!("iic_test_{}", unique());
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let store = iic_store::open_in_schema(&url, Some(&schema))
        .await
        .expect("open postgres");
    // Run the test; drop the schema whether it passed or not.
    let outcome = catch_unwind(test(store)).await;
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

pub async fn catch_unwind<Fut: Future<Output = ()>>(
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
