//! The SQLite implementation of the store traits.

use super::{map_err, SqliteStore};
use crate::*;
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row, Transaction};

const INSTANCE_COLUMNS: &str =
    "seq, instance_id, identity_store_id, organization_id, region, alias, created_at";

fn instance_from_row(r: &Row<'_>) -> rusqlite::Result<Instance> {
    Ok(Instance {
        seq: r.get(0)?,
        instance_id: r.get(1)?,
        identity_store_id: r.get(2)?,
        organization_id: r.get(3)?,
        region: r.get(4)?,
        alias: r.get(5)?,
        created_at: r.get(6)?,
    })
}

const CREDENTIAL_COLUMNS: &str =
    "access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at";

fn credential_from_row(r: &Row<'_>) -> rusqlite::Result<Credential> {
    Ok(Credential {
        access_key: r.get(0)?,
        account_id: r.get(1)?,
        secret_sealed: r.get(2)?,
        security_token_sha256: r.get(3)?,
        expires_at: r.get(4)?,
        created_at: r.get(5)?,
    })
}

pub(crate) fn account_from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        seq: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        organization_id: r.get(3)?,
        created_at: r.get(4)?,
        email: r.get(5)?,
        phone: r.get(6)?,
        description: r.get(7)?,
        join_method: r.get(8)?,
        status: r.get(9)?,
        parent_id: r.get(10)?,
        joined_at: r.get(11)?,
    })
}

fn meta(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row("SELECT value FROM meta WHERE key = $1", [key], |r| r.get(0))
        .optional()
}

pub(crate) fn insert_account(tx: &rusqlite::Connection, a: &Account) -> rusqlite::Result<()> {
    tx.execute(
        crate::org_sql::INSERT_ACCOUNT,
        params![
            a.id,
            a.name,
            a.organization_id,
            a.created_at,
            a.email,
            a.phone,
            a.description,
            a.join_method,
            a.status,
            a.parent_id,
            a.joined_at
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_project(tx: &rusqlite::Connection, p: &Project) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO projects (id, account_id, region) VALUES ($1, $2, $3)",
        params![p.id, p.account_id, p.region],
    )?;
    Ok(())
}

fn insert_credential(tx: &rusqlite::Connection, c: &Credential) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO credentials (access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            c.access_key,
            c.account_id,
            c.secret_sealed,
            c.security_token_sha256,
            c.expires_at,
            c.created_at
        ],
    )?;
    Ok(())
}

fn existing_bootstrap(
    tx: &Transaction<'_>,
    org_id: &str,
    plan: &BootstrapPlan,
) -> Result<Bootstrapped, StoreError> {
    let organization = tx
        .query_row(
            "SELECT id, management_account_id, created_at FROM organizations WHERE id = $1",
            [org_id],
            |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    management_account_id: r.get(1)?,
                    created_at: r.get(2)?,
                })
            },
        )
        .map_err(map_err)?;
    let account = tx
        .query_row(
            &format!(
                "SELECT {} FROM accounts WHERE id = $1",
                crate::org_sql::ACCOUNT_COLUMNS
            ),
            [&organization.management_account_id],
            account_from_row,
        )
        .map_err(map_err)?;
    let region = &plan.project.region;
    let project = match tx
        .query_row(
            "SELECT id FROM projects WHERE account_id = $1 AND region = $2",
            params![account.id, region],
            |r| r.get::<_, String>(0),
        )
        .optional()
        .map_err(map_err)?
    {
        Some(id) => Project {
            id,
            account_id: account.id.clone(),
            region: region.clone(),
        },
        None => {
            let p = Project {
                id: plan.project.id.clone(),
                account_id: account.id.clone(),
                region: region.clone(),
            };
            insert_project(tx, &p).map_err(map_err)?;
            p
        }
    };
    let root_access_key = meta(tx, "bootstrap.root_access_key")
        .map_err(map_err)?
        .unwrap_or_default();
    Ok(Bootstrapped {
        organization,
        account,
        project,
        root_access_key,
        created_now: false,
    })
}

#[async_trait]
impl OrganizationStore for SqliteStore {
    async fn bootstrap(&self, plan: &BootstrapPlan) -> StoreResult<Bootstrapped> {
        let plan = plan.clone();
        self.write(move |tx| {
            if let Some(org_id) = meta(tx, "bootstrap.organization_id").map_err(map_err)? {
                return existing_bootstrap(tx, &org_id, &plan);
            }
            let o = &plan.organization;
            tx.execute(
                "INSERT INTO organizations (id, management_account_id, created_at) VALUES ($1, $2, $3)",
                params![o.id, o.management_account_id, o.created_at],
            )
            .map_err(map_err)?;
            tx.execute(
                crate::org_sql::INSERT_ROOT,
                params![plan.root.id, plan.root.organization_id, plan.root.name, plan.root.created_at],
            )
            .map_err(map_err)?;
            insert_account(tx, &plan.account).map_err(map_err)?;
            insert_project(tx, &plan.project).map_err(map_err)?;
            insert_credential(tx, &plan.credential).map_err(map_err)?;
            for (k, v) in [
                ("bootstrap.organization_id", &o.id),
                ("bootstrap.root_access_key", &plan.credential.access_key),
            ] {
                tx.execute("INSERT INTO meta (key, value) VALUES ($1, $2)", params![k, v])
                    .map_err(map_err)?;
            }
            Ok(Bootstrapped {
                organization: plan.organization.clone(),
                account: plan.account.clone(),
                project: plan.project.clone(),
                root_access_key: plan.credential.access_key.clone(),
                created_now: true,
            })
        })
        .await
    }

    async fn get_account(&self, account_id: &str) -> StoreResult<Option<Account>> {
        let id = account_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {} FROM accounts WHERE id = $1",
                crate::org_sql::ACCOUNT_COLUMNS
            ))?
            .query_row([id], account_from_row)
            .optional()
        })
        .await
    }

    async fn get_organization(&self, organization_id: &str) -> StoreResult<Option<Organization>> {
        let id = organization_id.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, management_account_id, created_at FROM organizations WHERE id = $1",
            )?
            .query_row([id], |r| {
                Ok(Organization {
                    id: r.get(0)?,
                    management_account_id: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })
            .optional()
        })
        .await
    }

    async fn list_projects(&self, account_id: &str) -> StoreResult<Vec<Project>> {
        let id = account_id.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id, account_id, region FROM projects WHERE account_id = $1 ORDER BY region",
            )?
            .query_map([id], |r| {
                Ok(Project {
                    id: r.get(0)?,
                    account_id: r.get(1)?,
                    region: r.get(2)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn insert_account(&self, account: &Account) -> StoreResult<()> {
        let a = account.clone();
        self.write(move |tx| insert_account(tx, &a).map_err(map_err))
            .await
    }

    async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        let p = project.clone();
        self.write(move |tx| insert_project(tx, &p).map_err(map_err))
            .await
    }
}

#[async_trait]
impl CredentialStore for SqliteStore {
    async fn insert_credential(&self, cred: &Credential) -> StoreResult<()> {
        let c = cred.clone();
        self.write(move |tx| insert_credential(tx, &c).map_err(map_err))
            .await
    }

    async fn get_credential(&self, access_key: &str) -> StoreResult<Option<Credential>> {
        let ak = access_key.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE access_key = $1"
            ))?
            .query_row([ak], credential_from_row)
            .optional()
        })
        .await
    }

    async fn list_credentials(&self, account_id: &str) -> StoreResult<Vec<Credential>> {
        let id = account_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE account_id = $1 ORDER BY created_at, access_key"
            ))?
            .query_map([id], credential_from_row)?
            .collect()
        })
        .await
    }

    async fn delete_credential(&self, access_key: &str) -> StoreResult<bool> {
        let ak = access_key.to_string();
        self.write(move |tx| {
            tx.execute("DELETE FROM credentials WHERE access_key = $1", [ak])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }
}

#[async_trait]
impl InstanceStore for SqliteStore {
    async fn create_instance_if_absent(
        &self,
        instance: &Instance,
    ) -> StoreResult<(Instance, bool)> {
        let i = instance.clone();
        self.write_instances(move |tx| {
            let existing = tx
                .query_row(
                    &format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE organization_id = $1 AND region = $2"),
                    params![i.organization_id, i.region],
                    instance_from_row,
                )
                .optional()
                .map_err(map_err)?;
            if let Some(e) = existing {
                return Ok((e, false));
            }
            let created = tx
                .query_row(
                    &format!(
                        "INSERT INTO instances (instance_id, identity_store_id, organization_id, region, alias, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {INSTANCE_COLUMNS}"
                    ),
                    params![i.instance_id, i.identity_store_id, i.organization_id, i.region, i.alias, i.created_at],
                    instance_from_row,
                )
                .map_err(map_err)?;
            tx.execute(
                "INSERT INTO identity_stores (identity_store_id, instance_id, organization_id) VALUES ($1, $2, $3)",
                params![created.identity_store_id, created.instance_id, created.organization_id],
            )
            .map_err(map_err)?;
            Ok((created, true))
        })
        .await
    }

    async fn get_instance(&self, instance_id: &str) -> StoreResult<Option<Instance>> {
        let id = instance_id.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = $1"
            ))?
            .query_row([id], instance_from_row)
            .optional()
        })
        .await
    }

    async fn list_instances(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Instance>> {
        // An organization has one instance per region: the whole list is small, and cached.
        let all = match self.instances.get(organization_id) {
            Some(all) => all,
            None => {
                let generation = self.instances.generation();
                let org = organization_id.to_string();
                let loaded = Arc::new(
                    self.read(move |c| {
                        c.prepare_cached(&format!(
                            "SELECT {INSTANCE_COLUMNS} FROM instances WHERE organization_id = $1 ORDER BY seq"
                        ))?
                        .query_map([org], instance_from_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .await?,
                );
                self.instances
                    .put(organization_id, generation, loaded.clone());
                loaded
            }
        };
        let after = after_seq.unwrap_or(0);
        Ok(all
            .iter()
            .filter(|i| i.seq > after)
            .take(limit.max(0) as usize)
            .cloned()
            .collect())
    }

    async fn set_alias(&self, instance_id: &str, alias: &str) -> StoreResult<SetAliasOutcome> {
        let (id, alias) = (instance_id.to_string(), alias.to_string());
        self.write_instances(move |tx| {
            let current: Option<Option<String>> = tx
                .query_row(
                    "SELECT alias FROM instances WHERE instance_id = $1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(map_err)?;
            match current {
                None => return Ok(SetAliasOutcome::NoSuchInstance),
                Some(Some(_)) => return Ok(SetAliasOutcome::AlreadySet),
                Some(None) => {}
            }
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM instances WHERE alias = $1)",
                    [&alias],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if taken {
                return Ok(SetAliasOutcome::Taken);
            }
            tx.execute(
                "UPDATE instances SET alias = $1 WHERE instance_id = $2",
                params![alias, id],
            )
            .map_err(map_err)?;
            Ok(SetAliasOutcome::Set)
        })
        .await
    }

    async fn delete_instances(&self, organization_id: &str) -> StoreResult<u64> {
        let org = organization_id.to_string();
        self.write_instances(move |tx| {
            tx.execute("DELETE FROM instances WHERE organization_id = $1", [org])
                .map(|n| n as u64)
                .map_err(map_err)
        })
        .await
    }

    async fn register_region(&self, organization_id: &str, region_id: &str) -> StoreResult<bool> {
        let (org, region) = (organization_id.to_string(), region_id.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO registered_regions (organization_id, region_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                params![org, region, iic_domain::clock::now_millis()],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    async fn list_regions(&self, organization_id: &str) -> StoreResult<Vec<String>> {
        let org = organization_id.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT region_id FROM registered_regions WHERE organization_id = $1 ORDER BY region_id",
            )?
            .query_map([org], |r| r.get(0))?
            .collect()
        })
        .await
    }
}

#[async_trait]
impl MetaStore for SqliteStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let k = key.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT value FROM meta WHERE key = $1")?
                .query_row([k], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let (k, v) = (key.to_string(), value.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                params![k, v],
            )
            .map_err(map_err)?;
            tx.query_row("SELECT value FROM meta WHERE key = $1", [k], |r| r.get(0))
                .map_err(map_err)
        })
        .await
    }

    async fn increment_meta(&self, key: &str) -> StoreResult<i64> {
        let k = key.to_string();
        self.write(move |tx| {
            tx.query_row(
                "INSERT INTO meta (key, value) VALUES ($1, '1')
                 ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)
                 RETURNING CAST(value AS INTEGER)",
                [k],
                |r| r.get(0),
            )
            .map_err(map_err)
        })
        .await
    }
}
