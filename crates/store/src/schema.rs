//! The schema, declared once for both databases. A migration's text is shared; the few words
//! in which the two dialects differ are tokens filled in by [`dialect_words`], the one place
//! that lists them. A migration whose steps differ altogether (SQLite cannot change a primary
//! key in place) is given per dialect. Append a migration; never edit one that has shipped.

use crate::db::{Db, Dialect, Serialize, Sql};
use crate::error::{StoreError, StoreResult};

enum Migration {
    /// One text for both databases, with dialect tokens.
    Same(&'static str),
    PerDialect {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

/// The words the two schemas spell differently: `{seq}` the keyset-paging key that is also the
/// primary key, `{int}` a 64-bit integer, `{bytes}` a byte string, `{bytewise}` a text column
/// that must sort by bytes (for prefix ranges), `{random_hex16}` 16 random hex digits.
fn dialect_words(dialect: Dialect) -> [(&'static str, &'static str); 5] {
    match dialect {
        Dialect::Sqlite => [
            ("{seq}", "INTEGER PRIMARY KEY AUTOINCREMENT"),
            ("{int}", "INTEGER"),
            ("{bytes}", "BLOB"),
            ("{bytewise}", ""),
            ("{random_hex16}", "lower(hex(randomblob(8)))"),
        ],
        Dialect::Postgres => [
            ("{seq}", "BIGSERIAL PRIMARY KEY"),
            ("{int}", "BIGINT"),
            ("{bytes}", "BYTEA"),
            ("{bytewise}", " COLLATE \"C\""),
            ("{random_hex16}", "substr(md5(random()::text || id), 1, 16)"),
        ],
    }
}

fn render(text: &str, dialect: Dialect) -> String {
    dialect_words(dialect)
        .iter()
        .fold(text.to_string(), |t, (token, word)| t.replace(token, word))
}

impl Migration {
    fn text(&self, dialect: Dialect) -> String {
        match (self, dialect) {
            (Migration::Same(text), _) => render(text, dialect),
            (Migration::PerDialect { sqlite, .. }, Dialect::Sqlite) => render(sqlite, dialect),
            (Migration::PerDialect { postgres, .. }, Dialect::Postgres) => {
                render(postgres, dialect)
            }
        }
    }
}

const TRACKING: &str =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version {int} PRIMARY KEY, applied_at {int} NOT NULL)";
static CURRENT: Sql = Sql::new("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
static RECORD: Sql =
    Sql::new("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)");

/// Version `n` is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[Migration] = &[
    // 1
    Migration::Same(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE organizations (
             id TEXT PRIMARY KEY,
             management_account_id TEXT NOT NULL,
             created_at {int} NOT NULL);
         CREATE TABLE accounts (
             seq {seq},
             id TEXT NOT NULL UNIQUE,
             name TEXT NOT NULL,
             organization_id TEXT REFERENCES organizations(id),
             created_at {int} NOT NULL);
         CREATE UNIQUE INDEX accounts_org_name ON accounts(organization_id, name);
         CREATE TABLE projects (
             id TEXT PRIMARY KEY,
             account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
             region TEXT NOT NULL,
             UNIQUE (account_id, region));
         CREATE TABLE credentials (
             access_key TEXT PRIMARY KEY,
             account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
             secret_sealed {bytes} NOT NULL,
             security_token_sha256 TEXT,
             expires_at {int},
             created_at {int} NOT NULL);
         CREATE INDEX credentials_account ON credentials(account_id);
         CREATE TABLE instances (
             seq {seq},
             instance_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL REFERENCES organizations(id),
             region TEXT NOT NULL,
             alias TEXT UNIQUE,
             created_at {int} NOT NULL,
             UNIQUE (organization_id, region));
         CREATE INDEX instances_org_seq ON instances(organization_id, seq);
         CREATE TABLE registered_regions (
             organization_id TEXT NOT NULL REFERENCES organizations(id),
             region_id TEXT NOT NULL,
             created_at {int} NOT NULL,
             PRIMARY KEY (organization_id, region_id));",
    ),
    // 2
    Migration::Same(
        "CREATE TABLE identity_stores (
             identity_store_id TEXT PRIMARY KEY,
             instance_id TEXT NOT NULL UNIQUE REFERENCES instances(instance_id) ON DELETE CASCADE,
             organization_id TEXT NOT NULL,
             users_count {int} NOT NULL DEFAULT 0,
             groups_count {int} NOT NULL DEFAULT 0,
             password_policy TEXT);
         INSERT INTO identity_stores (identity_store_id, instance_id, organization_id)
             SELECT identity_store_id, instance_id, organization_id FROM instances;
         CREATE TABLE users (
             seq {seq},
             user_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_name_lower TEXT NOT NULL,
             primary_email_lower TEXT,
             profile TEXT NOT NULL,
             external_ids TEXT NOT NULL,
             enabled BOOLEAN NOT NULL,
             email_verified BOOLEAN NOT NULL,
             password_hash TEXT,
             password_reset_email_owed BOOLEAN NOT NULL,
             created_at {int} NOT NULL,
             created_by TEXT NOT NULL,
             updated_at {int} NOT NULL,
             updated_by TEXT NOT NULL);
         CREATE UNIQUE INDEX users_store_name ON users(identity_store_id, user_name_lower);
         CREATE INDEX users_store_seq ON users(identity_store_id, seq);
         CREATE INDEX users_store_email ON users(identity_store_id, primary_email_lower);
         CREATE TABLE directory_groups (
             seq {seq},
             group_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             display_name_lower TEXT{bytewise} NOT NULL,
             profile TEXT NOT NULL,
             external_ids TEXT NOT NULL,
             created_at {int} NOT NULL,
             created_by TEXT NOT NULL,
             updated_at {int} NOT NULL,
             updated_by TEXT NOT NULL);
         CREATE UNIQUE INDEX groups_store_name ON directory_groups(identity_store_id, display_name_lower);
         CREATE INDEX groups_store_seq ON directory_groups(identity_store_id, seq);
         CREATE TABLE memberships (
             seq {seq},
             membership_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             group_id TEXT NOT NULL REFERENCES directory_groups(group_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             created_at {int} NOT NULL,
             UNIQUE (group_id, user_id));
         CREATE INDEX memberships_user ON memberships(user_id, seq);
         CREATE INDEX memberships_group ON memberships(group_id, seq);
         CREATE TABLE external_ids (
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             kind TEXT NOT NULL,
             issuer TEXT NOT NULL,
             external_id TEXT NOT NULL,
             principal_id TEXT NOT NULL,
             PRIMARY KEY (identity_store_id, kind, issuer, external_id));
         CREATE INDEX external_ids_principal ON external_ids(principal_id);",
    ),
    // 3
    Migration::Same(
        "ALTER TABLE accounts ADD COLUMN email TEXT;
         ALTER TABLE accounts ADD COLUMN phone TEXT;
         ALTER TABLE accounts ADD COLUMN description TEXT;
         ALTER TABLE accounts ADD COLUMN join_method TEXT NOT NULL DEFAULT 'created';
         ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
         ALTER TABLE accounts ADD COLUMN parent_id TEXT;
         ALTER TABLE accounts ADD COLUMN joined_at {int} NOT NULL DEFAULT 0;
         CREATE INDEX accounts_org_seq ON accounts(organization_id, seq);
         CREATE INDEX accounts_parent_seq ON accounts(parent_id, seq);
         CREATE TABLE roots (
             id TEXT PRIMARY KEY,
             organization_id TEXT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
             name TEXT NOT NULL,
             created_at {int} NOT NULL);
         CREATE TABLE organizational_units (
             seq {seq},
             id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             parent_id TEXT NOT NULL,
             name TEXT NOT NULL,
             created_at {int} NOT NULL,
             UNIQUE (parent_id, name));
         CREATE INDEX ous_org_seq ON organizational_units(organization_id, seq);
         CREATE TABLE create_account_statuses (
             seq {seq},
             id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL,
             account_id TEXT NOT NULL,
             account_name TEXT NOT NULL,
             state TEXT NOT NULL,
             failure_reason TEXT,
             request TEXT NOT NULL,
             created_at {int} NOT NULL,
             completed_at {int});
         CREATE INDEX car_org_seq ON create_account_statuses(organization_id, seq);
         CREATE UNIQUE INDEX car_pending_name ON create_account_statuses(organization_id, account_name) WHERE state = 'in_progress';
         CREATE TABLE close_account_statuses (
             seq {seq},
             account_id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL,
             state TEXT NOT NULL,
             failure_reason TEXT,
             created_at {int} NOT NULL,
             updated_at {int} NOT NULL);
         CREATE TABLE delegated_administrators (
             seq {seq},
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             account_id TEXT NOT NULL,
             service_principal TEXT NOT NULL,
             enabled_at {int} NOT NULL,
             UNIQUE (account_id, service_principal));
         CREATE INDEX delegated_org_seq ON delegated_administrators(organization_id, seq);
         CREATE TABLE trusted_services (
             seq {seq},
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             service_principal TEXT NOT NULL,
             enabled_at {int} NOT NULL,
             UNIQUE (organization_id, service_principal));
         CREATE TABLE jobs (
             seq {seq},
             id TEXT NOT NULL UNIQUE,
             kind TEXT NOT NULL,
             payload TEXT NOT NULL,
             state TEXT NOT NULL,
             attempts {int} NOT NULL DEFAULT 0,
             run_after {int} NOT NULL,
             locked_by TEXT,
             locked_until {int},
             created_at {int} NOT NULL,
             finished_at {int});
         CREATE INDEX jobs_ready ON jobs(state, run_after, seq);
         INSERT INTO roots (id, organization_id, name, created_at)
             SELECT 'r-' || {random_hex16}, id, 'root', created_at FROM organizations;
         UPDATE accounts SET parent_id = (SELECT r.id FROM roots r WHERE r.organization_id = accounts.organization_id),
             joined_at = created_at
             WHERE organization_id IS NOT NULL;",
    ),
    // 4
    Migration::Same(
        "CREATE TABLE permission_sets (
             seq {seq},
             permission_set_id TEXT NOT NULL UNIQUE,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             name TEXT NOT NULL,
             name_lower TEXT NOT NULL,
             description TEXT,
             relay_state TEXT,
             session_duration TEXT NOT NULL,
             content TEXT NOT NULL,
             version {int} NOT NULL,
             created_at {int} NOT NULL,
             updated_at {int} NOT NULL,
             UNIQUE (instance_id, name_lower));
         CREATE INDEX permission_sets_instance_seq ON permission_sets(instance_id, seq);",
    ),
    // 5
    Migration::Same(
        "CREATE TABLE account_assignments (
             seq {seq},
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             permission_set_id TEXT NOT NULL REFERENCES permission_sets(permission_set_id) ON DELETE CASCADE,
             principal_type TEXT NOT NULL,
             principal_id TEXT NOT NULL,
             account_id TEXT NOT NULL,
             created_at {int} NOT NULL,
             UNIQUE (instance_id, permission_set_id, principal_type, principal_id, account_id));
         CREATE INDEX assignments_account ON account_assignments(instance_id, account_id, seq);
         CREATE INDEX assignments_principal ON account_assignments(instance_id, principal_id, seq);
         CREATE TABLE provisioned_sets (
             seq {seq},
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             permission_set_id TEXT NOT NULL REFERENCES permission_sets(permission_set_id) ON DELETE CASCADE,
             account_id TEXT NOT NULL,
             version {int} NOT NULL,
             snapshot TEXT NOT NULL,
             updated_at {int} NOT NULL,
             UNIQUE (permission_set_id, account_id));
         CREATE INDEX provisioned_account ON provisioned_sets(instance_id, account_id, seq);
         CREATE TABLE async_requests (
             seq {seq},
             request_id TEXT NOT NULL UNIQUE,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             kind TEXT NOT NULL,
             status TEXT NOT NULL,
             failure_reason TEXT,
             permission_set_id TEXT NOT NULL,
             principal_type TEXT,
             principal_id TEXT,
             target_id TEXT,
             created_at {int} NOT NULL,
             updated_at {int} NOT NULL);
         CREATE INDEX requests_instance_kind ON async_requests(instance_id, kind, seq);
         CREATE INDEX requests_in_flight ON async_requests(instance_id, status);",
    ),
    // 6
    Migration::Same(
        "CREATE INDEX jobs_state_seq ON jobs(state, seq);
         CREATE TABLE instance_request_counts (
             instance_id TEXT PRIMARY KEY REFERENCES instances(instance_id) ON DELETE CASCADE,
             in_flight BIGINT NOT NULL);
         INSERT INTO instance_request_counts (instance_id, in_flight)
             SELECT instance_id, COUNT(*) FROM async_requests WHERE status = 'IN_PROGRESS' GROUP BY instance_id;",
    ),
    // 7: the in-flight counter of an instance becomes several rows ("shards").
    Migration::PerDialect {
        sqlite: "CREATE TABLE instance_request_counts_7 (
                     instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
                     shard INTEGER NOT NULL DEFAULT 0,
                     in_flight BIGINT NOT NULL,
                     PRIMARY KEY (instance_id, shard));
                 INSERT INTO instance_request_counts_7 (instance_id, shard, in_flight)
                     SELECT instance_id, 0, in_flight FROM instance_request_counts;
                 DROP TABLE instance_request_counts;
                 ALTER TABLE instance_request_counts_7 RENAME TO instance_request_counts;
                 ALTER TABLE async_requests ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;",
        postgres: "ALTER TABLE instance_request_counts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
                   ALTER TABLE instance_request_counts DROP CONSTRAINT instance_request_counts_pkey;
                   ALTER TABLE instance_request_counts ADD PRIMARY KEY (instance_id, shard);
                   ALTER TABLE async_requests ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;",
    },
    // 8: listing requests by status reads only requests of that status (the old index served
    // a count of requests in flight, which counter rows replaced in 6).
    Migration::Same(
        "CREATE INDEX requests_instance_kind_status ON async_requests(instance_id, kind, status, seq);
         DROP INDEX requests_in_flight;",
    ),
    // 9: why a job last failed, kept for operators beside its attempt count.
    Migration::Same("ALTER TABLE jobs ADD COLUMN last_error TEXT;"),
    // 10: OIDC clients, device grants, authorization codes and tokens; secrets, codes and tokens kept as SHA-256
    // hashes. A token names its session by id only (sessions are another area's table).
    Migration::Same(
        "CREATE TABLE oidc_clients (
             client_id TEXT PRIMARY KEY,
             secret_sha256 TEXT NOT NULL,
             name TEXT NOT NULL,
             client_type TEXT NOT NULL,
             scopes TEXT NOT NULL,
             grant_types TEXT NOT NULL,
             issued_at {int} NOT NULL,
             expires_at {int} NOT NULL);
         CREATE INDEX oidc_clients_expiry ON oidc_clients(expires_at);
         CREATE TABLE oidc_device_grants (
             device_code_sha256 TEXT PRIMARY KEY,
             user_code TEXT NOT NULL UNIQUE,
             client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
             instance_id TEXT NOT NULL,
             identity_store_id TEXT NOT NULL,
             scopes TEXT NOT NULL,
             state TEXT NOT NULL,
             interval_secs {int} NOT NULL,
             last_poll_at {int},
             expires_at {int} NOT NULL,
             forget_at {int} NOT NULL,
             user_id TEXT,
             session_id TEXT,
             created_at {int} NOT NULL);
         CREATE INDEX oidc_device_grants_client ON oidc_device_grants(client_id);
         CREATE INDEX oidc_device_grants_forget ON oidc_device_grants(forget_at);
         CREATE TABLE oidc_tokens (
             access_sha256 TEXT PRIMARY KEY,
             refresh_sha256 TEXT UNIQUE,
             client_id TEXT NOT NULL,
             instance_id TEXT NOT NULL,
             identity_store_id TEXT NOT NULL,
             user_id TEXT NOT NULL,
             session_id TEXT,
             scopes TEXT NOT NULL,
             access_expires_at {int} NOT NULL,
             refresh_expires_at {int} NOT NULL,
             revoked_at {int},
             created_at {int} NOT NULL);
         CREATE INDEX oidc_tokens_session ON oidc_tokens(session_id);
         CREATE INDEX oidc_tokens_expiry ON oidc_tokens(access_expires_at);
         CREATE TABLE oidc_auth_codes (
             code_sha256 TEXT PRIMARY KEY,
             client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
             redirect_uri TEXT NOT NULL,
             code_challenge TEXT,
             instance_id TEXT NOT NULL,
             identity_store_id TEXT NOT NULL,
             user_id TEXT NOT NULL,
             session_id TEXT NOT NULL,
             scopes TEXT NOT NULL,
             expires_at {int} NOT NULL,
             redeemed_at {int});
         CREATE INDEX oidc_auth_codes_client ON oidc_auth_codes(client_id);
         CREATE INDEX oidc_auth_codes_expiry ON oidc_auth_codes(expires_at);",
    ),
    // 11: browser sign-in sessions (only the SHA-256 of a cookie's secret is kept) and the SSO
    // configuration of instances that set one. A user's sessions are ended, not deleted, when
    // the user is disabled or deleted; the sweep removes ended and expired rows.
    Migration::Same(
        "CREATE TABLE sessions (
             seq {seq},
             session_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL,
             secret_sha256 {bytes} NOT NULL,
             created_at {int} NOT NULL,
             not_valid_after {int} NOT NULL,
             ip_address TEXT,
             user_agent TEXT,
             ended_at {int});
         CREATE INDEX sessions_user_seq ON sessions(identity_store_id, user_id, seq);
         CREATE INDEX sessions_not_valid_after ON sessions(not_valid_after);
         CREATE INDEX sessions_ended_at ON sessions(ended_at);
         CREATE TABLE sso_configurations (
             instance_id TEXT PRIMARY KEY REFERENCES instances(instance_id) ON DELETE CASCADE,
             configuration TEXT NOT NULL,
             updated_at {int} NOT NULL);",
    ),
    // 12: sign-in. A user whose password is a one-time password (every stored hash so far) must
    // change it at the next sign-in. Failed sign-ins are counted per throttle key (a user name,
    // a source address, a device-code entry of a session) in a window, and lock the key.
    Migration::Same(
        "ALTER TABLE users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;
         UPDATE users SET password_must_change = TRUE WHERE password_hash IS NOT NULL;
         CREATE TABLE sign_in_failures (
             throttle_key TEXT PRIMARY KEY,
             failures {int} NOT NULL,
             window_started_at {int} NOT NULL,
             locked_until {int});
         CREATE INDEX sign_in_failures_window ON sign_in_failures(window_started_at);",
    ),
    // 13: temporary credentials the portal issues carry where they came from (user, identity
    // store, instance, permission set and the provisioned version of its policies, session, MFA)
    // and are revoked with their session; permanent keys leave these columns NULL. The portal
    // reads a user's assignments by principal from an index that holds all it needs (SQLite
    // otherwise prefers the covering unique index and reads the whole instance).
    Migration::Same(
        "ALTER TABLE credentials ADD COLUMN user_id TEXT;
         ALTER TABLE credentials ADD COLUMN identity_store_id TEXT;
         ALTER TABLE credentials ADD COLUMN instance_id TEXT;
         ALTER TABLE credentials ADD COLUMN permission_set_id TEXT;
         ALTER TABLE credentials ADD COLUMN policy_version {int};
         ALTER TABLE credentials ADD COLUMN policy_provisioned_at {int};
         ALTER TABLE credentials ADD COLUMN session_id TEXT;
         ALTER TABLE credentials ADD COLUMN mfa_present BOOLEAN;
         ALTER TABLE credentials ADD COLUMN revoked_at {int};
         CREATE INDEX credentials_session ON credentials(session_id);
         CREATE INDEX credentials_expiry ON credentials(expires_at);
         CREATE INDEX assignments_holder ON account_assignments(instance_id, principal_id, principal_type, account_id, permission_set_id);",
    ),
    // 14: the mail outbox. A mail is due from `send_after`; claiming it pushes `send_after` past
    // a lease. `message_id` is fixed when the mail is queued. A sent or refused mail keeps no body.
    Migration::Same(
        "CREATE TABLE outbox (
             seq {seq},
             message_id TEXT NOT NULL UNIQUE,
             recipient TEXT NOT NULL,
             subject TEXT NOT NULL,
             body TEXT NOT NULL,
             state TEXT NOT NULL,
             attempts {int} NOT NULL,
             send_after {int} NOT NULL,
             created_at {int} NOT NULL,
             finished_at {int},
             last_error TEXT);
         CREATE INDEX outbox_due ON outbox(state, send_after);",
    ),
    // 15: MFA devices of users (a TOTP secret is kept sealed, with the last time step accepted
    // so that a code is accepted once), the one-time enrolment links of
    // RegisterMfaDeviceForUser (only the SHA-256 of their work_flow value is kept), and what
    // users of an identity store may do with their own devices.
    Migration::Same(
        "CREATE TABLE mfa_devices (
             seq {seq},
             device_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             mfa_type TEXT NOT NULL,
             device_name TEXT NOT NULL,
             display_name TEXT NOT NULL,
             secret_sealed {bytes},
             last_step {int},
             registered_at {int} NOT NULL,
             last_used_at {int});
         CREATE INDEX mfa_devices_user_seq ON mfa_devices(identity_store_id, user_id, seq);
         CREATE TABLE mfa_enrolments (
             work_flow_sha256 {bytes} PRIMARY KEY,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             created_at {int} NOT NULL,
             expires_at {int} NOT NULL);
         CREATE INDEX mfa_enrolments_expires_at ON mfa_enrolments(expires_at);
         CREATE TABLE mfa_device_management (
             identity_store_id TEXT PRIMARY KEY REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_permission TEXT NOT NULL,
             updated_at {int} NOT NULL);",
    ),
    // 16: whether a session's sign-in proved a second factor; the browsers a user proved one
    // on (for CONTEXT_AWARE MFA: the SHA-256 of the browser's cookie value with the user, the
    // address of the last sign-in from it, and how long it is remembered).
    Migration::Same(
        "ALTER TABLE sessions ADD COLUMN mfa_present BOOLEAN NOT NULL DEFAULT FALSE;
         CREATE TABLE remembered_browsers (
             browser_sha256 {bytes} NOT NULL,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             identity_store_id TEXT NOT NULL,
             ip_address TEXT NOT NULL,
             created_at {int} NOT NULL,
             expires_at {int} NOT NULL,
             PRIMARY KEY (browser_sha256, user_id));
         CREATE INDEX remembered_browsers_expires_at ON remembered_browsers(expires_at);",
    ),
    // 17: one-time secrets mailed to users (only hashes are kept): links that set a password or
    // verify the e-mail address they were sent to, at most one live link per user and purpose,
    // and e-mail sign-in codes, one per user, with the wrong tries counted against it.
    Migration::Same(
        "CREATE TABLE mailed_links (
             token_sha256 {bytes} PRIMARY KEY,
             purpose TEXT NOT NULL,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             email TEXT NOT NULL,
             created_at {int} NOT NULL,
             expires_at {int} NOT NULL);
         CREATE UNIQUE INDEX mailed_links_user ON mailed_links(user_id, purpose);
         CREATE INDEX mailed_links_expires_at ON mailed_links(expires_at);
         CREATE TABLE email_codes (
             user_id TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             code_hash {bytes} NOT NULL,
             failures {int} NOT NULL,
             created_at {int} NOT NULL,
             expires_at {int} NOT NULL);
         CREATE INDEX email_codes_expires_at ON email_codes(expires_at);",
    ),
    // 18: WebAuthn devices keep their credential (the relying party's serialized public key,
    // counter and flags, nothing secret) with its id, unique over all devices, and the last
    // signature counter accepted; the state of a half-done ceremony is kept until it is taken
    // once or expires.
    Migration::Same(
        "ALTER TABLE mfa_devices ADD COLUMN credential_id TEXT;
         ALTER TABLE mfa_devices ADD COLUMN credential TEXT;
         ALTER TABLE mfa_devices ADD COLUMN sign_count {int};
         CREATE UNIQUE INDEX mfa_devices_credential_id ON mfa_devices(credential_id);
         CREATE TABLE webauthn_ceremonies (
             ceremony_id TEXT PRIMARY KEY,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
             purpose TEXT NOT NULL,
             state TEXT NOT NULL,
             expires_at {int} NOT NULL);
         CREATE INDEX webauthn_ceremonies_expires_at ON webauthn_ceremonies(expires_at);",
    ),
    // 19: attributes for access control (ABAC): an instance's configuration (its attributes as
    // the wire's JSON array), and the principal tags (a JSON object of key to value) resolved
    // from it when a session opens, which every temporary credential of the session copies.
    Migration::Same(
        "CREATE TABLE access_control_attribute_configurations (
             instance_id TEXT PRIMARY KEY REFERENCES instances(instance_id) ON DELETE CASCADE,
             attributes TEXT NOT NULL,
             created_at {int} NOT NULL,
             updated_at {int} NOT NULL);
         ALTER TABLE sessions ADD COLUMN principal_tags TEXT NOT NULL DEFAULT '{}';
         ALTER TABLE credentials ADD COLUMN principal_tags TEXT NOT NULL DEFAULT '{}';",
    ),
    // 20: SCIM provisioning: the tenants of an identity store (its SCIM endpoints) and the
    // bearer tokens a tenant accepts, kept only as the SHA-256 (hex) of their value.
    Migration::Same(
        "CREATE TABLE scim_tenants (
             seq {seq},
             tenant_id TEXT NOT NULL UNIQUE,
             identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
             created_at {int} NOT NULL);
         CREATE INDEX scim_tenants_store ON scim_tenants(identity_store_id, seq);
         CREATE TABLE scim_tokens (
             seq {seq},
             token_id TEXT NOT NULL UNIQUE,
             tenant_id TEXT NOT NULL REFERENCES scim_tenants(tenant_id) ON DELETE CASCADE,
             token_sha256 TEXT NOT NULL,
             created_at {int} NOT NULL,
             expires_at {int} NOT NULL);
         CREATE UNIQUE INDEX scim_tokens_sha256 ON scim_tokens(token_sha256);
         CREATE INDEX scim_tokens_tenant ON scim_tokens(tenant_id, seq);",
    ),
    // 21: whether a user's SCIM `active` is assigned (a SCIM client may remove it).
    Migration::Same("ALTER TABLE users ADD COLUMN active_assigned BOOLEAN NOT NULL DEFAULT TRUE;"),
];

/// The schema version this code writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema up to [`VERSION`], in one transaction; several servers starting at once
/// take turns. A schema newer than this code knows is refused: an older server would write
/// rows the newer one no longer reads as it expects.
pub(crate) async fn migrate(db: &mut Db<'_>) -> StoreResult<()> {
    let dialect = db.dialect();
    db.serialize(Serialize::Schema).await?;
    db.batch(&render(TRACKING, dialect)).await?;
    let current: i64 = db.query_one(&CURRENT, &[]).await?;
    if current > VERSION {
        return Err(StoreError::Backend {
            operation: "migrate",
            statement: None,
            source: format!(
                "the database schema is at version {current}, newer than this iic knows \
                 ({VERSION}); run the newer iic, or restore a backup taken before the upgrade"
            )
            .into(),
        });
    }
    for (version, migration) in (1..).zip(MIGRATIONS) {
        if version > current {
            db.batch(&migration.text(dialect)).await?;
            db.execute(&RECORD, &[&version, &iic_domain::clock::now_millis()])
                .await?;
        }
    }
    Ok(())
}

/// The version the schema is at.
pub(crate) async fn version(db: &mut Db<'_>) -> StoreResult<i64> {
    db.query_one(&CURRENT, &[]).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_is_filled_in_for_both_dialects() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            for m in MIGRATIONS {
                let text = m.text(dialect).replace("'{}'", "");
                assert!(!text.contains('{'), "{dialect:?}: {text}");
            }
        }
    }
}
