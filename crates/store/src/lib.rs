//! The store: every piece of persistent state of iic, over two databases — embedded SQLite (the
//! default) and PostgreSQL (for durability at scale and several servers). No SQL exists outside
//! this crate.
//!
//! Each store operation is written once, as a method of [`Store`] in the file of its area
//! (`accounts.rs`, `directory/users.rs`, `assignments.rs`…), against the executor of `db/`. What
//! differs between the two databases lives in `db/` and `schema.rs`, and is listed in
//! docs/development.md.

mod access_control;
mod account_codec;
mod account_creation;
mod accounts;
mod agency;
mod assignments;
mod credentials;
mod db;
mod delegation;
mod directory;
mod error;
mod instance_cache;
mod instances;
mod jobs;
mod meta;
mod mfa_devices;
mod model;
mod oidc;
mod org_structure;
mod outbox;
mod permission_sets;
mod portal;
mod provisioning;
mod remembered_browsers;
mod schema;
mod sessions;
mod sign_in_throttle;
mod sso_configurations;
mod temporary_credentials;
mod user_mail;
mod webauthn;

pub use agency::{AgencyRecord, SetTags};
pub use directory::{BulkMembers, GroupRow, GroupWrite, MemberDelta};
pub use error::{StoreError, StoreResult};
pub use iic_domain::directory::group::{Group, Membership};
pub use iic_domain::directory::password::PasswordPolicy;
pub use iic_domain::directory::user::User;
pub use iic_domain::instance::Instance;
pub use iic_domain::page::Page;
pub use iic_domain::permission_set::PermissionSet;
pub use iic_domain::session::Session;
pub use iic_domain::sso_configuration::SsoConfiguration;
pub use jobs::JobState;
pub use meta::REVOCATIONS;
pub use mfa_devices::{DeviceAdded, MfaDevice, MfaEnrolment, MAX_DEVICES_PER_USER};
pub use model::*;
pub use oidc::{
    AuthCode, CodeRedemption, DeviceDecision, DeviceGrant, NewTokens, OidcClient, OidcSweep,
    OidcToken, PollOutcome,
};
pub use outbox::{MailState, NewMail, QueuedMail};
pub use provisioning::{
    ProvisioningCreated, ScimTenant, ScimToken, MAX_TENANTS_PER_STORE, MAX_TOKENS_PER_TENANT,
};
pub use schema::VERSION as SCHEMA_VERSION;
pub use user_mail::{CodeCheck, LinkPurpose, MailedLink, NewLink, PasswordSet};
pub use webauthn::{WebauthnCeremony, WebauthnCredential};

use db::{Backend, Db, Dialect, Statements};
use instance_cache::InstanceCache;
use std::sync::Arc;
use tracing::Instrument;

/// The store of one server: a handle to one database, shared by every request.
pub struct Store {
    backend: Backend,
    /// Instances by organization, on SQLite only: the embedded database belongs to this one
    /// process, so every instance write passes here and refreshes it. On PostgreSQL other
    /// servers write too.
    instances: Option<InstanceCache>,
}

pub type SharedStore = Arc<Store>;

/// Opens the store named by `url`: `sqlite://<path>` (or a bare path) or `postgres://…`.
/// Migrations are applied before it returns.
pub async fn open(url: &str) -> StoreResult<SharedStore> {
    open_in_schema(url, None).await
}

/// Like [`open`]; on PostgreSQL, keeps every table in `schema` (created if missing).
pub async fn open_in_schema(url: &str, schema: Option<&str>) -> StoreResult<SharedStore> {
    let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Store {
            backend: Backend::connect_postgres(url, schema).await?,
            instances: None,
        }
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Store {
            backend: Backend::open_sqlite(path).await?,
            instances: Some(InstanceCache::default()),
        }
    };
    store
        .write("migrate", async |db| schema::migrate(db).await)
        .await?;
    Ok(Arc::new(store))
}

impl Store {
    /// Whether the database answers and its schema is the one this code writes.
    pub async fn ready(&self) -> StoreResult<bool> {
        let version = self
            .read("schema_version", async |db| schema::version(db).await)
            .await?;
        Ok(version == schema::VERSION)
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Runs a read-only operation, traced under its name.
    async fn read<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        self.backend
            .read(operation, f)
            .instrument(tracing::debug_span!("store", operation))
            .await
    }

    /// Runs a writing operation in one transaction, traced under its name.
    async fn write<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        self.backend
            .write(operation, Statements::Any, f)
            .instrument(tracing::debug_span!("store", operation))
            .await
    }

    /// Runs a write of exactly one statement, which commits by itself (no transaction round
    /// trips); a second statement is refused before it runs.
    async fn write_one<T, F>(&self, operation: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'d, 'c> AsyncFnOnce(&'d mut Db<'c>) -> StoreResult<T> + Send + 'static,
    {
        self.backend
            .write(operation, Statements::One, f)
            .instrument(tracing::debug_span!("store", operation))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Sql;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_single_statement_write_refuses_its_second_statement_before_running_it() {
        static PUT: Sql = Sql::new("INSERT INTO meta (key, value) VALUES ($1, '1')");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open(&format!("sqlite://{}", dir.path().join("s.db").display()))
            .await
            .expect("open");
        let e = store
            .write_one("two_statements", async |db| {
                db.execute(&PUT, &[&"first"]).await?;
                db.execute(&PUT, &[&"second"]).await
            })
            .await
            .expect_err("refused");
        assert_eq!(e.operation(), "two_statements");
        assert!(e.to_string().contains("second statement"), "{e}");
        assert_eq!(
            store.get_meta("first").await.expect("get").as_deref(),
            Some("1")
        );
        assert_eq!(store.get_meta("second").await.expect("get"), None);
    }

    /// A write whose caller goes away mid-transaction (a client hanging up) must not hand its
    /// open transaction to the next user of the connection.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_abandoned_postgres_write_leaves_nothing_behind() {
        static PUT: Sql = Sql::new("INSERT INTO meta (key, value) VALUES ($1, '1')");
        let Ok(url) = std::env::var("IIC_TEST_POSTGRES_URL") else {
            eprintln!("SKIPPED: PostgreSQL store test (IIC_TEST_POSTGRES_URL not set)");
            return;
        };
        let schema = format!("iic_test_{}", &iic_domain::ids::hex32()[..12]);
        let store = open_in_schema(&url, Some(&schema)).await.expect("open");
        let abandoned = store.clone();
        let task = tokio::spawn(async move {
            abandoned
                .write("abandoned", async |db| {
                    db.execute(&PUT, &[&"abandoned"]).await?;
                    std::future::pending::<()>().await;
                    Ok(())
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        task.abort();
        assert!(task.await.is_err(), "the write was cut short");
        for i in 0..40 {
            store
                .put_meta_if_absent(&format!("after-{i}"), "v")
                .await
                .expect("a later write");
        }
        let left = store.get_meta("abandoned").await.expect("get");
        let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        admin
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await
            .expect("drop schema");
        assert_eq!(
            left, None,
            "the abandoned insert was committed by a later write"
        );
    }
}
