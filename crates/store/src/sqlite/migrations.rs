//! Schema of the SQLite backend. Append a migration; never edit one that has shipped.

use rusqlite::Connection;

const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE organizations (
         id TEXT PRIMARY KEY,
         management_account_id TEXT NOT NULL,
         created_at INTEGER NOT NULL);
     CREATE TABLE accounts (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         id TEXT NOT NULL UNIQUE,
         name TEXT NOT NULL,
         organization_id TEXT REFERENCES organizations(id),
         created_at INTEGER NOT NULL);
     CREATE UNIQUE INDEX accounts_org_name ON accounts(organization_id, name);
     CREATE TABLE projects (
         id TEXT PRIMARY KEY,
         account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
         region TEXT NOT NULL,
         UNIQUE (account_id, region));
     CREATE TABLE credentials (
         access_key TEXT PRIMARY KEY,
         account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
         secret_sealed BLOB NOT NULL,
         security_token_sha256 TEXT,
         expires_at INTEGER,
         created_at INTEGER NOT NULL);
     CREATE INDEX credentials_account ON credentials(account_id);
     CREATE TABLE instances (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         instance_id TEXT NOT NULL UNIQUE,
         identity_store_id TEXT NOT NULL UNIQUE,
         organization_id TEXT NOT NULL REFERENCES organizations(id),
         region TEXT NOT NULL,
         alias TEXT UNIQUE,
         created_at INTEGER NOT NULL,
         UNIQUE (organization_id, region));
     CREATE INDEX instances_org_seq ON instances(organization_id, seq);
     CREATE TABLE registered_regions (
         organization_id TEXT NOT NULL REFERENCES organizations(id),
         region_id TEXT NOT NULL,
         created_at INTEGER NOT NULL,
         PRIMARY KEY (organization_id, region_id));",
)];

pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![version, iic_domain::clock::now_millis()],
        )?;
    }
    tx.commit()
}
