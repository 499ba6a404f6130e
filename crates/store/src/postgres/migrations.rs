//! Schema of the PostgreSQL backend. Append a migration; never edit one that has shipped.

use tokio_postgres::Client;

/// Key of the advisory lock that serializes migrations (and bootstraps) across servers.
pub(crate) const LOCK_KEY: i64 = 0x6969_6300_0000_0001;

const MIGRATIONS: &[(i64, &str)] = &[
    (
    1,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE organizations (
         id TEXT PRIMARY KEY,
         management_account_id TEXT NOT NULL,
         created_at BIGINT NOT NULL);
     CREATE TABLE accounts (
         seq BIGSERIAL PRIMARY KEY,
         id TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         organization_id TEXT REFERENCES organizations(id),
         created_at BIGINT NOT NULL);
     CREATE UNIQUE INDEX accounts_org_name ON accounts(organization_id, name);
     CREATE TABLE projects (
         id TEXT PRIMARY KEY,
         account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
         region TEXT NOT NULL,
         UNIQUE (account_id, region));
     CREATE TABLE credentials (
         access_key TEXT PRIMARY KEY,
         account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
         secret_sealed BYTEA NOT NULL,
         security_token_sha256 TEXT,
         expires_at BIGINT,
         created_at BIGINT NOT NULL);
     CREATE INDEX credentials_account ON credentials(account_id);
     CREATE TABLE instances (
         seq BIGSERIAL PRIMARY KEY,
         instance_id TEXT NOT NULL UNIQUE,
         identity_store_id TEXT NOT NULL UNIQUE,
         organization_id TEXT NOT NULL REFERENCES organizations(id),
         region TEXT NOT NULL,
         alias TEXT UNIQUE,
         created_at BIGINT NOT NULL,
         UNIQUE (organization_id, region));
     CREATE INDEX instances_org_seq ON instances(organization_id, seq);
     CREATE TABLE registered_regions (
         organization_id TEXT NOT NULL REFERENCES organizations(id),
         region_id TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         PRIMARY KEY (organization_id, region_id));",
    ),
    (
    2,
    "CREATE TABLE identity_stores (
         identity_store_id TEXT PRIMARY KEY,
         instance_id TEXT NOT NULL UNIQUE REFERENCES instances(instance_id) ON DELETE CASCADE,
         organization_id TEXT NOT NULL,
         users_count BIGINT NOT NULL DEFAULT 0,
         groups_count BIGINT NOT NULL DEFAULT 0,
         password_policy TEXT);
     INSERT INTO identity_stores (identity_store_id, instance_id, organization_id)
         SELECT identity_store_id, instance_id, organization_id FROM instances;
     CREATE TABLE users (
         seq BIGSERIAL PRIMARY KEY,
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
         created_at BIGINT NOT NULL,
         created_by TEXT NOT NULL,
         updated_at BIGINT NOT NULL,
         updated_by TEXT NOT NULL);
     CREATE UNIQUE INDEX users_store_name ON users(identity_store_id, user_name_lower);
     CREATE INDEX users_store_seq ON users(identity_store_id, seq);
     CREATE INDEX users_store_email ON users(identity_store_id, primary_email_lower);
     CREATE TABLE directory_groups (
         seq BIGSERIAL PRIMARY KEY,
         group_id TEXT NOT NULL UNIQUE,
         identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
         display_name_lower TEXT COLLATE \"C\" NOT NULL,
         profile TEXT NOT NULL,
         external_ids TEXT NOT NULL,
         created_at BIGINT NOT NULL,
         created_by TEXT NOT NULL,
         updated_at BIGINT NOT NULL,
         updated_by TEXT NOT NULL);
     CREATE UNIQUE INDEX groups_store_name ON directory_groups(identity_store_id, display_name_lower);
     CREATE INDEX groups_store_seq ON directory_groups(identity_store_id, seq);
     CREATE TABLE memberships (
         seq BIGSERIAL PRIMARY KEY,
         membership_id TEXT NOT NULL UNIQUE,
         identity_store_id TEXT NOT NULL REFERENCES identity_stores(identity_store_id) ON DELETE CASCADE,
         group_id TEXT NOT NULL REFERENCES directory_groups(group_id) ON DELETE CASCADE,
         user_id TEXT NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
         created_at BIGINT NOT NULL,
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
    (
        3,
        "ALTER TABLE accounts ADD COLUMN email TEXT;
         ALTER TABLE accounts ADD COLUMN phone TEXT;
         ALTER TABLE accounts ADD COLUMN description TEXT;
         ALTER TABLE accounts ADD COLUMN join_method TEXT NOT NULL DEFAULT 'created';
         ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
         ALTER TABLE accounts ADD COLUMN parent_id TEXT;
         ALTER TABLE accounts ADD COLUMN joined_at BIGINT NOT NULL DEFAULT 0;
         CREATE INDEX accounts_org_seq ON accounts(organization_id, seq);
         CREATE INDEX accounts_parent_seq ON accounts(parent_id, seq);
         CREATE TABLE roots (
             id TEXT PRIMARY KEY,
             organization_id TEXT NOT NULL UNIQUE REFERENCES organizations(id) ON DELETE CASCADE,
             name TEXT NOT NULL,
             created_at BIGINT NOT NULL);
         CREATE TABLE organizational_units (
             seq BIGSERIAL PRIMARY KEY,
             id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             parent_id TEXT NOT NULL,
             name TEXT NOT NULL,
             created_at BIGINT NOT NULL,
             UNIQUE (parent_id, name));
         CREATE INDEX ous_org_seq ON organizational_units(organization_id, seq);
         CREATE TABLE create_account_statuses (
             seq BIGSERIAL PRIMARY KEY,
             id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL,
             account_id TEXT NOT NULL,
             account_name TEXT NOT NULL,
             state TEXT NOT NULL,
             failure_reason TEXT,
             request TEXT NOT NULL,
             created_at BIGINT NOT NULL,
             completed_at BIGINT);
         CREATE INDEX car_org_seq ON create_account_statuses(organization_id, seq);
         CREATE UNIQUE INDEX car_pending_name ON create_account_statuses(organization_id, account_name) WHERE state = 'in_progress';
         CREATE TABLE close_account_statuses (
             seq BIGSERIAL PRIMARY KEY,
             account_id TEXT NOT NULL UNIQUE,
             organization_id TEXT NOT NULL,
             state TEXT NOT NULL,
             failure_reason TEXT,
             created_at BIGINT NOT NULL,
             updated_at BIGINT NOT NULL);
         CREATE TABLE delegated_administrators (
             seq BIGSERIAL PRIMARY KEY,
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             account_id TEXT NOT NULL,
             service_principal TEXT NOT NULL,
             enabled_at BIGINT NOT NULL,
             UNIQUE (account_id, service_principal));
         CREATE INDEX delegated_org_seq ON delegated_administrators(organization_id, seq);
         CREATE TABLE trusted_services (
             seq BIGSERIAL PRIMARY KEY,
             organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
             service_principal TEXT NOT NULL,
             enabled_at BIGINT NOT NULL,
             UNIQUE (organization_id, service_principal));
         CREATE TABLE jobs (
             seq BIGSERIAL PRIMARY KEY,
             id TEXT NOT NULL UNIQUE,
             kind TEXT NOT NULL,
             payload TEXT NOT NULL,
             state TEXT NOT NULL,
             attempts BIGINT NOT NULL DEFAULT 0,
             run_after BIGINT NOT NULL,
             locked_by TEXT,
             locked_until BIGINT,
             created_at BIGINT NOT NULL,
             finished_at BIGINT);
         CREATE INDEX jobs_ready ON jobs(state, run_after, seq);
         INSERT INTO roots (id, organization_id, name, created_at)
             SELECT 'r-' || substr(md5(random()::text || id), 1, 16), id, 'root', created_at FROM organizations;
         UPDATE accounts SET parent_id = (SELECT r.id FROM roots r WHERE r.organization_id = accounts.organization_id),
             joined_at = created_at
             WHERE organization_id IS NOT NULL;",
    ),
    (
        4,
        "CREATE TABLE permission_sets (
             seq BIGSERIAL PRIMARY KEY,
             permission_set_id TEXT NOT NULL UNIQUE,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             name TEXT NOT NULL,
             name_lower TEXT NOT NULL,
             description TEXT,
             relay_state TEXT,
             session_duration TEXT NOT NULL,
             content TEXT NOT NULL,
             version BIGINT NOT NULL,
             created_at BIGINT NOT NULL,
             updated_at BIGINT NOT NULL,
             UNIQUE (instance_id, name_lower));
         CREATE INDEX permission_sets_instance_seq ON permission_sets(instance_id, seq);",
    ),
    (
        5,
        "CREATE TABLE account_assignments (
             seq BIGSERIAL PRIMARY KEY,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             permission_set_id TEXT NOT NULL REFERENCES permission_sets(permission_set_id) ON DELETE CASCADE,
             principal_type TEXT NOT NULL,
             principal_id TEXT NOT NULL,
             account_id TEXT NOT NULL,
             created_at BIGINT NOT NULL,
             UNIQUE (instance_id, permission_set_id, principal_type, principal_id, account_id));
         CREATE INDEX assignments_account ON account_assignments(instance_id, account_id, seq);
         CREATE INDEX assignments_principal ON account_assignments(instance_id, principal_id, seq);
         CREATE TABLE provisioned_sets (
             seq BIGSERIAL PRIMARY KEY,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             permission_set_id TEXT NOT NULL REFERENCES permission_sets(permission_set_id) ON DELETE CASCADE,
             account_id TEXT NOT NULL,
             version BIGINT NOT NULL,
             snapshot TEXT NOT NULL,
             updated_at BIGINT NOT NULL,
             UNIQUE (permission_set_id, account_id));
         CREATE INDEX provisioned_account ON provisioned_sets(instance_id, account_id, seq);
         CREATE TABLE async_requests (
             seq BIGSERIAL PRIMARY KEY,
             request_id TEXT NOT NULL UNIQUE,
             instance_id TEXT NOT NULL REFERENCES instances(instance_id) ON DELETE CASCADE,
             kind TEXT NOT NULL,
             status TEXT NOT NULL,
             failure_reason TEXT,
             permission_set_id TEXT NOT NULL,
             principal_type TEXT,
             principal_id TEXT,
             target_id TEXT,
             created_at BIGINT NOT NULL,
             updated_at BIGINT NOT NULL);
         CREATE INDEX requests_instance_kind ON async_requests(instance_id, kind, seq);
         CREATE INDEX requests_in_flight ON async_requests(instance_id, status);",
    ),
    (
        6,
        "CREATE INDEX jobs_state_seq ON jobs(state, seq);
         CREATE TABLE instance_request_counts (
             instance_id TEXT PRIMARY KEY REFERENCES instances(instance_id) ON DELETE CASCADE,
             in_flight BIGINT NOT NULL);
         INSERT INTO instance_request_counts (instance_id, in_flight)
             SELECT instance_id, COUNT(*) FROM async_requests WHERE status = 'IN_PROGRESS' GROUP BY instance_id;",
    ),
    (
        7,
        "ALTER TABLE instance_request_counts ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE instance_request_counts DROP CONSTRAINT instance_request_counts_pkey;
         ALTER TABLE instance_request_counts ADD PRIMARY KEY (instance_id, shard);
         ALTER TABLE async_requests ADD COLUMN slot INTEGER NOT NULL DEFAULT 0;",
    ),
];

pub async fn apply(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .try_get(0)?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            &[version, &iic_domain::clock::now_millis()],
        )
        .await?;
    }
    tx.commit().await
}
