//! The PostgreSQL implementation of the store traits.

use super::migrations::LOCK_KEY;
use super::{map_err, PgStore};
use crate::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

const INSTANCE_COLUMNS: &str =
    "seq, instance_id, identity_store_id, organization_id, region, alias, created_at";

fn instance(r: &Row) -> StoreResult<Instance> {
    Ok(Instance {
        seq: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        identity_store_id: r.try_get(2)?,
        organization_id: r.try_get(3)?,
        region: r.try_get(4)?,
        alias: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

const CREDENTIAL_COLUMNS: &str =
    "access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at";

fn credential(r: &Row) -> StoreResult<Credential> {
    Ok(Credential {
        access_key: r.try_get(0)?,
        account_id: r.try_get(1)?,
        secret_sealed: r.try_get(2)?,
        security_token_sha256: r.try_get(3)?,
        expires_at: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

pub(crate) fn account(r: &Row) -> StoreResult<Account> {
    Ok(Account {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        name: r.try_get(2)?,
        organization_id: r.try_get(3)?,
        created_at: r.try_get(4)?,
        email: r.try_get(5)?,
        phone: r.try_get(6)?,
        description: r.try_get(7)?,
        join_method: r.try_get(8)?,
        status: r.try_get(9)?,
        parent_id: r.try_get(10)?,
        joined_at: r.try_get(11)?,
    })
}

pub(crate) fn organization(r: &Row) -> StoreResult<Organization> {
    Ok(Organization {
        id: r.try_get(0)?,
        management_account_id: r.try_get(1)?,
        created_at: r.try_get(2)?,
    })
}

async fn meta<C: GenericClient>(c: &C, key: &str) -> StoreResult<Option<String>> {
    c.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
        .await
        .map_err(map_err)?
        .map(|r| r.try_get(0).map_err(map_err))
        .transpose()
}

pub(crate) async fn insert_account<C: GenericClient>(c: &C, a: &Account) -> StoreResult<()> {
    c.execute(
        crate::org_sql::INSERT_ACCOUNT,
        &[
            &a.id,
            &a.name,
            &a.organization_id,
            &a.created_at,
            &a.email,
            &a.phone,
            &a.description,
            &a.join_method,
            &a.status,
            &a.parent_id,
            &a.joined_at,
        ],
    )
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn insert_project<C: GenericClient>(c: &C, p: &Project) -> StoreResult<()> {
    c.execute(
        "INSERT INTO projects (id, account_id, region) VALUES ($1, $2, $3)",
        &[&p.id, &p.account_id, &p.region],
    )
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn insert_credential<C: GenericClient>(c: &C, cr: &Credential) -> StoreResult<()> {
    c.execute(
        "INSERT INTO credentials (access_key, account_id, secret_sealed, security_token_sha256, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &cr.access_key,
            &cr.account_id,
            &cr.secret_sealed,
            &cr.security_token_sha256,
            &cr.expires_at,
            &cr.created_at,
        ],
    )
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn existing_bootstrap<C: GenericClient>(
    c: &C,
    org_id: &str,
    plan: &BootstrapPlan,
) -> StoreResult<Bootstrapped> {
    let organization = organization(
        &c.query_one(
            "SELECT id, management_account_id, created_at FROM organizations WHERE id = $1",
            &[&org_id],
        )
        .await
        .map_err(map_err)?,
    )?;
    let account = account(
        &c.query_one(
            &format!(
                "SELECT {} FROM accounts WHERE id = $1",
                crate::org_sql::ACCOUNT_COLUMNS
            ),
            &[&organization.management_account_id],
        )
        .await
        .map_err(map_err)?,
    )?;
    let region = &plan.project.region;
    let project = match c
        .query_opt(
            "SELECT id FROM projects WHERE account_id = $1 AND region = $2",
            &[&account.id, region],
        )
        .await
        .map_err(map_err)?
    {
        Some(r) => Project {
            id: r.try_get(0)?,
            account_id: account.id.clone(),
            region: region.clone(),
        },
        None => {
            let p = Project {
                id: plan.project.id.clone(),
                account_id: account.id.clone(),
                region: region.clone(),
            };
            insert_project(c, &p).await?;
            p
        }
    };
    let root_access_key = meta(c, "bootstrap.root_access_key")
        .await?
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
impl OrganizationStore for PgStore {
    async fn bootstrap(&self, plan: &BootstrapPlan) -> StoreResult<Bootstrapped> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .await
            .map_err(map_err)?;
        let out = if let Some(org_id) = meta(&tx, "bootstrap.organization_id").await? {
            existing_bootstrap(&tx, &org_id, plan).await?
        } else {
            let o = &plan.organization;
            tx.execute(
                "INSERT INTO organizations (id, management_account_id, created_at) VALUES ($1, $2, $3)",
                &[&o.id, &o.management_account_id, &o.created_at],
            )
            .await
            .map_err(map_err)?;
            tx.execute(
                crate::org_sql::INSERT_ROOT,
                &[
                    &plan.root.id,
                    &plan.root.organization_id,
                    &plan.root.name,
                    &plan.root.created_at,
                ],
            )
            .await
            .map_err(map_err)?;
            insert_account(&tx, &plan.account).await?;
            insert_project(&tx, &plan.project).await?;
            insert_credential(&tx, &plan.credential).await?;
            for (k, v) in [
                ("bootstrap.organization_id", &o.id),
                ("bootstrap.root_access_key", &plan.credential.access_key),
            ] {
                tx.execute("INSERT INTO meta (key, value) VALUES ($1, $2)", &[&k, v])
                    .await
                    .map_err(map_err)?;
            }
            Bootstrapped {
                organization: plan.organization.clone(),
                account: plan.account.clone(),
                project: plan.project.clone(),
                root_access_key: plan.credential.access_key.clone(),
                created_now: true,
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }

    async fn get_account(&self, account_id: &str) -> StoreResult<Option<Account>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM accounts WHERE id = $1",
                crate::org_sql::ACCOUNT_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query_opt(&st, &[&account_id])
            .await
            .map_err(map_err)?
            .map(|r| account(&r))
            .transpose()?)
    }

    async fn get_organization(&self, organization_id: &str) -> StoreResult<Option<Organization>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT id, management_account_id, created_at FROM organizations WHERE id = $1",
            )
            .await
            .map_err(map_err)?;
        Ok(c.query_opt(&st, &[&organization_id])
            .await
            .map_err(map_err)?
            .map(|r| organization(&r))
            .transpose()?)
    }

    async fn list_projects(&self, account_id: &str) -> StoreResult<Vec<Project>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT id, account_id, region FROM projects WHERE account_id = $1 ORDER BY region",
            )
            .await
            .map_err(map_err)?;
        Ok(c.query(&st, &[&account_id])
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| -> StoreResult<_> {
                Ok(Project {
                    id: r.try_get(0)?,
                    account_id: r.try_get(1)?,
                    region: r.try_get(2)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn insert_account(&self, account: &Account) -> StoreResult<()> {
        insert_account(&self.client().await?, account).await
    }

    async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        insert_project(&self.client().await?, project).await
    }
}

#[async_trait]
impl CredentialStore for PgStore {
    async fn insert_credential(&self, cred: &Credential) -> StoreResult<()> {
        insert_credential(&self.client().await?, cred).await
    }

    async fn get_credential(&self, access_key: &str) -> StoreResult<Option<Credential>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE access_key = $1"
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query_opt(&st, &[&access_key])
            .await
            .map_err(map_err)?
            .map(|r| credential(&r))
            .transpose()?)
    }

    async fn list_credentials(&self, account_id: &str) -> StoreResult<Vec<Credential>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE account_id = $1 ORDER BY created_at, access_key"
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query(&st, &[&account_id])
            .await
            .map_err(map_err)?
            .iter()
            .map(credential)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn delete_credential(&self, access_key: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            "DELETE FROM credentials WHERE access_key = $1",
            &[&access_key],
        )
        .await
        .map_err(map_err)?
            > 0)
    }
}

#[async_trait]
impl InstanceStore for PgStore {
    async fn create_instance_if_absent(&self, i: &Instance) -> StoreResult<(Instance, bool)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let inserted = tx
            .query_opt(
                &format!(
                    "INSERT INTO instances (instance_id, identity_store_id, organization_id, region, alias, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (organization_id, region) DO NOTHING
                     RETURNING {INSTANCE_COLUMNS}"
                ),
                &[&i.instance_id, &i.identity_store_id, &i.organization_id, &i.region, &i.alias, &i.created_at],
            )
            .await
            .map_err(map_err)?;
        let out = match inserted {
            Some(row) => {
                let created = instance(&row)?;
                tx.execute(
                    "INSERT INTO identity_stores (identity_store_id, instance_id, organization_id) VALUES ($1, $2, $3)",
                    &[&created.identity_store_id, &created.instance_id, &created.organization_id],
                )
                .await
                .map_err(map_err)?;
                (created, true)
            }
            None => {
                let row = tx
                    .query_one(
                        &format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE organization_id = $1 AND region = $2"),
                        &[&i.organization_id, &i.region],
                    )
                    .await
                    .map_err(map_err)?;
                (instance(&row)?, false)
            }
        };
        tx.commit().await.map_err(map_err)?;
        Ok(out)
    }

    async fn get_instance(&self, instance_id: &str) -> StoreResult<Option<Instance>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = $1"
            ))
            .await
            .map_err(map_err)?;
        Ok(c.query_opt(&st, &[&instance_id])
            .await
            .map_err(map_err)?
            .map(|r| instance(&r))
            .transpose()?)
    }

    async fn list_instances(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Instance>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances
                 WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
            ))
            .await
            .map_err(map_err)?;
        Ok(
            c.query(&st, &[&organization_id, &after_seq.unwrap_or(0), &limit])
                .await
                .map_err(map_err)?
                .iter()
                .map(instance)
                .collect::<StoreResult<Vec<_>>>()?,
        )
    }

    async fn set_alias(&self, instance_id: &str, alias: &str) -> StoreResult<SetAliasOutcome> {
        let c = self.client().await?;
        let updated = c
            .execute(
                "UPDATE instances SET alias = $1 WHERE instance_id = $2 AND alias IS NULL",
                &[&alias, &instance_id],
            )
            .await;
        match updated {
            Ok(1) => Ok(SetAliasOutcome::Set),
            Ok(_) => {
                let exists = c
                    .query_opt(
                        "SELECT 1 FROM instances WHERE instance_id = $1",
                        &[&instance_id],
                    )
                    .await
                    .map_err(map_err)?;
                Ok(if exists.is_some() {
                    SetAliasOutcome::AlreadySet
                } else {
                    SetAliasOutcome::NoSuchInstance
                })
            }
            Err(e) => match map_err(e) {
                StoreError::Conflict(_) => Ok(SetAliasOutcome::Taken),
                other => Err(other),
            },
        }
    }

    async fn delete_instances(&self, organization_id: &str) -> StoreResult<u64> {
        let c = self.client().await?;
        c.execute(
            "DELETE FROM instances WHERE organization_id = $1",
            &[&organization_id],
        )
        .await
        .map_err(map_err)
    }

    async fn register_region(&self, organization_id: &str, region_id: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            "INSERT INTO registered_regions (organization_id, region_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&organization_id, &region_id, &iic_domain::clock::now_millis()],
        )
        .await
        .map_err(map_err)?
            > 0)
    }

    async fn list_regions(&self, organization_id: &str) -> StoreResult<Vec<String>> {
        let c = self.client().await?;
        Ok(c.query(
            "SELECT region_id FROM registered_regions WHERE organization_id = $1 ORDER BY region_id",
            &[&organization_id],
        )
        .await
        .map_err(map_err)?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?)
    }
}

#[async_trait]
impl MetaStore for PgStore {
    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        meta(&self.client().await?, key).await
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &value],
        )
        .await
        .map_err(map_err)?;
        Ok(
            c.query_one("SELECT value FROM meta WHERE key = $1", &[&key])
                .await
                .map_err(map_err)?
                .try_get(0)?,
        )
    }

    async fn increment_meta(&self, key: &str) -> StoreResult<i64> {
        let c = self.client().await?;
        Ok(c.query_one(
            "INSERT INTO meta (key, value) VALUES ($1, '1')
                 ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text
                 RETURNING value::bigint",
            &[&key],
        )
        .await?
        .try_get(0)?)
    }
}
