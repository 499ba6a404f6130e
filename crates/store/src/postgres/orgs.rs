//! The PostgreSQL implementation of the organization structure and of the job queue.

use super::queries::{account, insert_account, insert_project};
use super::{map_err, PgStore};
use crate::org_sql as sql;
use crate::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

async fn exists<C: GenericClient>(c: &C, q: &str, p: &[&(dyn ToSql + Sync)]) -> StoreResult<bool> {
    Ok(c.query_opt(q, p).await.map_err(map_err)?.is_some())
}

fn ou(r: &Row) -> StoreResult<OrganizationalUnit> {
    Ok(OrganizationalUnit {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        organization_id: r.try_get(2)?,
        parent_id: r.try_get(3)?,
        name: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

fn car(r: &Row) -> StoreResult<CreateAccountStatus> {
    let request: String = r.try_get(9)?;
    Ok(CreateAccountStatus {
        seq: r.try_get(0)?,
        id: r.try_get(1)?,
        organization_id: r.try_get(2)?,
        account_id: r.try_get(3)?,
        account_name: r.try_get(4)?,
        state: r.try_get(5)?,
        failure_reason: r.try_get(6)?,
        created_at: r.try_get(7)?,
        completed_at: r.try_get(8)?,
        request: crate::account_codec::decode(&request).map_err(StoreError::Backend)?,
    })
}

fn close(r: &Row) -> StoreResult<CloseAccountStatus> {
    Ok(CloseAccountStatus {
        seq: r.try_get(0)?,
        account_id: r.try_get(1)?,
        organization_id: r.try_get(2)?,
        state: r.try_get(3)?,
        failure_reason: r.try_get(4)?,
        created_at: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

fn delegated(r: &Row) -> StoreResult<DelegatedAdministrator> {
    Ok(DelegatedAdministrator {
        seq: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        account_id: r.try_get(2)?,
        service_principal: r.try_get(3)?,
        enabled_at: r.try_get(4)?,
    })
}

fn job(r: &Row) -> StoreResult<Job> {
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        payload: r.try_get(2)?,
        attempts: r.try_get(3)?,
        run_after: r.try_get(4)?,
        created_at: r.try_get(5)?,
    })
}

async fn insert_job<C: GenericClient>(c: &C, job: &Job) -> StoreResult<()> {
    c.execute(
        sql::INSERT_JOB,
        &[
            &job.id,
            &job.kind,
            &job.payload,
            &job.run_after,
            &job.created_at,
        ],
    )
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn parent_exists<C: GenericClient>(c: &C, org: &str, parent: &str) -> StoreResult<bool> {
    if parent.starts_with("r-") {
        let root: Option<String> = c
            .query_opt(sql::GET_ROOT, &[&org])
            .await
            .map_err(map_err)?
            .map(|r| r.try_get(0))
            .transpose()?;
        Ok(root.as_deref() == Some(parent))
    } else {
        exists(c, sql::OU_EXISTS, &[&org, &parent]).await
    }
}

type Place = Option<(Option<String>, Option<String>, String)>;

/// The account's organization, parent and status; the row is locked for the transaction.
async fn account_place<C: GenericClient>(c: &C, account_id: &str) -> StoreResult<Place> {
    c.query_opt(
        &format!("{} FOR UPDATE", sql::ACCOUNT_IN_ORG),
        &[&account_id],
    )
    .await
    .map_err(map_err)?
    .map(|r| -> StoreResult<_> { Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)) })
    .transpose()
}

async fn management_of<C: GenericClient>(c: &C, org: &str) -> StoreResult<Option<String>> {
    Ok(c.query_opt(
        "SELECT management_account_id FROM organizations WHERE id = $1",
        &[&org],
    )
    .await
    .map_err(map_err)?
    .map(|r| r.try_get(0))
    .transpose()?)
}

fn in_org(place: &Place, org: &str) -> bool {
    matches!(place, Some((Some(o), _, _)) if o == org)
}

fn states_clause(states: &[String]) -> &'static str {
    if states.is_empty() {
        ""
    } else {
        " AND state = ANY($4)"
    }
}

#[async_trait]
impl OrgStructureStore for PgStore {
    async fn create_organization(
        &self,
        org: &Organization,
        root: &Root,
    ) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        match account_place(&tx, &org.management_account_id).await? {
            None => return Ok(OrgOutcome::NotFound),
            Some((Some(_), _, _)) => {
                return Ok(OrgOutcome::Conflict(
                    "the account already belongs to an organization".into(),
                ))
            }
            Some((None, _, _)) => {}
        }
        tx.execute(
            sql::INSERT_ORGANIZATION,
            &[&org.id, &org.management_account_id, &org.created_at],
        )
        .await
        .map_err(map_err)?;
        tx.execute(
            sql::INSERT_ROOT,
            &[
                &root.id,
                &root.organization_id,
                &root.name,
                &root.created_at,
            ],
        )
        .await
        .map_err(map_err)?;
        tx.execute(
            sql::JOIN_ORGANIZATION,
            &[
                &org.management_account_id,
                &org.id,
                &root.id,
                &org.created_at,
            ],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn delete_organization(&self, organization_id: &str) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let Some(mgmt) = tx
            .query_opt(
                "SELECT management_account_id FROM organizations WHERE id = $1 FOR UPDATE",
                &[&organization_id],
            )
            .await
            .map_err(map_err)?
            .map(|r| r.try_get::<_, String>(0))
            .transpose()?
        else {
            return Ok(OrgOutcome::NotFound);
        };
        let members: i64 = tx
            .query_one(sql::MEMBER_COUNT, &[&organization_id, &mgmt])
            .await
            .map_err(map_err)?
            .try_get(0)?;
        if members > 0 {
            return Ok(OrgOutcome::Conflict(format!(
                "the organization still has {members} member accounts"
            )));
        }
        let instances: i64 = tx
            .query_one(sql::INSTANCE_COUNT, &[&organization_id])
            .await
            .map_err(map_err)?
            .try_get(0)?;
        if instances > 0 {
            return Ok(OrgOutcome::Conflict(
                "delete the IAM Identity Center instance of the organization first".into(),
            ));
        }
        tx.execute(sql::LEAVE_ORGANIZATION, &[&mgmt])
            .await
            .map_err(map_err)?;
        for q in [
            "DELETE FROM registered_regions WHERE organization_id = $1",
            "DELETE FROM create_account_statuses WHERE organization_id = $1",
            "DELETE FROM close_account_statuses WHERE organization_id = $1",
            sql::DELETE_ORGANIZATION,
        ] {
            tx.execute(q, &[&organization_id]).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn get_root(&self, organization_id: &str) -> StoreResult<Option<Root>> {
        let c = self.client().await?;
        Ok(c.query_opt(sql::GET_ROOT, &[&organization_id])
            .await
            .map_err(map_err)?
            .map(|r| -> StoreResult<_> {
                Ok(Root {
                    id: r.try_get(0)?,
                    organization_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                })
            })
            .transpose()?)
    }

    async fn create_ou(&self, o: &OrganizationalUnit) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if !parent_exists(&tx, &o.organization_id, &o.parent_id).await? {
            return Ok(OrgOutcome::NotFound);
        }
        let taken = OrgOutcome::Conflict(format!(
            "an organizational unit named {} already exists under {}",
            o.name, o.parent_id
        ));
        if exists(&tx, sql::OU_NAME_TAKEN, &[&o.parent_id, &o.name]).await? {
            return Ok(taken);
        }
        match tx
            .execute(
                sql::INSERT_OU,
                &[
                    &o.id,
                    &o.organization_id,
                    &o.parent_id,
                    &o.name,
                    &o.created_at,
                ],
            )
            .await
            .map_err(map_err)
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(taken),
            Err(e) => return Err(e),
        }
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn get_ou(
        &self,
        organization_id: &str,
        ou_id: &str,
    ) -> StoreResult<Option<OrganizationalUnit>> {
        let c = self.client().await?;
        Ok(c.query_opt(
            &format!(
                "SELECT {} FROM organizational_units WHERE organization_id = $1 AND id = $2",
                sql::OU_COLUMNS
            ),
            &[&organization_id, &ou_id],
        )
        .await
        .map_err(map_err)?
        .map(|r| ou(&r))
        .transpose()?)
    }

    async fn list_ous(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<OrganizationalUnit>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match parent_id {
            None => c.query(&format!("SELECT {} FROM organizational_units WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::OU_COLUMNS), &[&organization_id, &after, &limit]).await,
            Some(p) => c.query(&format!("SELECT {} FROM organizational_units WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3", sql::OU_COLUMNS), &[&organization_id, &after, &limit, &p]).await,
        }
        .map_err(map_err)?;
        Ok(rows.iter().map(ou).collect::<StoreResult<Vec<_>>>()?)
    }

    async fn list_accounts(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Account>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match parent_id {
            None => c.query(&format!("SELECT {} FROM accounts WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::ACCOUNT_COLUMNS), &[&organization_id, &after, &limit]).await,
            Some(p) => c.query(&format!("SELECT {} FROM accounts WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3", sql::ACCOUNT_COLUMNS), &[&organization_id, &after, &limit, &p]).await,
        }
        .map_err(map_err)?;
        Ok(rows.iter().map(account).collect::<StoreResult<Vec<_>>>()?)
    }

    async fn update_account_description(
        &self,
        organization_id: &str,
        account_id: &str,
        description: Option<&str>,
    ) -> StoreResult<OrgOutcome> {
        let c = self.client().await?;
        let n = c
            .execute(
                sql::SET_DESCRIPTION,
                &[&organization_id, &account_id, &description],
            )
            .await
            .map_err(map_err)?;
        Ok(if n == 0 {
            OrgOutcome::NotFound
        } else {
            OrgOutcome::Done
        })
    }

    async fn move_account(
        &self,
        organization_id: &str,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let place = account_place(&tx, account_id).await?;
        if !in_org(&place, organization_id) {
            return Ok(OrgOutcome::NotFound);
        }
        if place.and_then(|(_, p, _)| p).as_deref() != Some(source) {
            return Ok(OrgOutcome::Conflict(format!(
                "the account is not under source_parent_id {source}"
            )));
        }
        if !parent_exists(&tx, organization_id, destination).await? {
            return Ok(OrgOutcome::Conflict(format!(
                "destination_parent_id {destination} does not exist in the organization"
            )));
        }
        tx.execute(
            sql::SET_PARENT,
            &[&organization_id, &account_id, &destination],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn remove_account(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if !in_org(&account_place(&tx, account_id).await?, organization_id) {
            return Ok(OrgOutcome::NotFound);
        }
        if management_of(&tx, organization_id).await?.as_deref() == Some(account_id) {
            return Ok(OrgOutcome::Conflict(
                "the management account cannot be removed from its organization".into(),
            ));
        }
        if exists(&tx, sql::DELEGATED_ANY, &[&account_id]).await? {
            return Ok(OrgOutcome::Conflict(
                "the account is a delegated administrator; deregister it first".into(),
            ));
        }
        for q in [
            sql::DELETE_ACCOUNT_ASSIGNMENTS,
            sql::DELETE_ACCOUNT_PROVISIONED,
            sql::LEAVE_ORGANIZATION,
        ] {
            tx.execute(q, &[&account_id]).await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn close_account(
        &self,
        organization_id: &str,
        account_id: &str,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let place = account_place(&tx, account_id).await?;
        if !in_org(&place, organization_id) {
            return Ok(OrgOutcome::NotFound);
        }
        if management_of(&tx, organization_id).await?.as_deref() == Some(account_id) {
            return Ok(OrgOutcome::Conflict(
                "the management account cannot be closed".into(),
            ));
        }
        if place.is_some_and(|(_, _, status)| status != "active") {
            return Ok(OrgOutcome::Conflict(
                "the account is already closing or closed".into(),
            ));
        }
        tx.execute(sql::SET_ACCOUNT_STATUS, &[&account_id, &"pending_closure"])
            .await
            .map_err(map_err)?;
        tx.execute(
            sql::UPSERT_CLOSE,
            &[&account_id, &organization_id, &job.created_at],
        )
        .await
        .map_err(map_err)?;
        insert_job(&tx, job).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn list_close_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CloseAccountStatus>> {
        let c = self.client().await?;
        let q = format!(
            "SELECT {} FROM close_account_statuses WHERE organization_id = $1 AND seq > $2{} ORDER BY seq LIMIT $3",
            sql::CLOSE_COLUMNS,
            states_clause(states)
        );
        let after = after_seq.unwrap_or(0);
        let rows = if states.is_empty() {
            c.query(&q, &[&organization_id, &after, &limit]).await
        } else {
            c.query(&q, &[&organization_id, &after, &limit, &states])
                .await
        }
        .map_err(map_err)?;
        Ok(rows.iter().map(close).collect::<StoreResult<Vec<_>>>()?)
    }

    async fn register_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<OrgOutcome> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if !in_org(&account_place(&tx, account_id).await?, organization_id) {
            return Ok(OrgOutcome::NotFound);
        }
        if management_of(&tx, organization_id).await?.as_deref() == Some(account_id) {
            return Ok(OrgOutcome::Conflict(
                "the management account cannot be a delegated administrator".into(),
            ));
        }
        if !exists(
            &tx,
            sql::IS_TRUSTED,
            &[&organization_id, &service_principal],
        )
        .await?
        {
            return Ok(OrgOutcome::Conflict(format!(
                "{service_principal} is not enabled as a trusted service of the organization"
            )));
        }
        let already = OrgOutcome::Conflict(format!(
            "the account is already a delegated administrator for {service_principal}"
        ));
        if exists(&tx, sql::IS_DELEGATED, &[&account_id, &service_principal]).await? {
            return Ok(already);
        }
        tx.execute(
            sql::INSERT_DELEGATED,
            &[&organization_id, &account_id, &service_principal, &now],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn deregister_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<OrgOutcome> {
        let c = self.client().await?;
        let n = c
            .execute(
                sql::DELETE_DELEGATED,
                &[&organization_id, &account_id, &service_principal],
            )
            .await
            .map_err(map_err)?;
        Ok(if n == 0 {
            OrgOutcome::NotFound
        } else {
            OrgOutcome::Done
        })
    }

    async fn list_delegated_admins(
        &self,
        organization_id: &str,
        service_principal: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match service_principal {
            None => c.query(&format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS), &[&organization_id, &after, &limit]).await,
            Some(sp) => c.query(&format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND service_principal = $4 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS), &[&organization_id, &after, &limit, &sp]).await,
        }
        .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(delegated)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn list_delegated_services(
        &self,
        organization_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND account_id = $4 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS),
                &[&organization_id, &after_seq.unwrap_or(0), &limit, &account_id],
            )
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(delegated)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn is_delegated_admin(
        &self,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql::IS_DELEGATED).await.map_err(map_err)?;
        Ok(c.query_opt(&st, &[&account_id, &service_principal])
            .await
            .map_err(map_err)?
            .is_some())
    }

    async fn enable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            sql::INSERT_TRUSTED,
            &[&organization_id, &service_principal, &now],
        )
        .await
        .map_err(map_err)?
            > 0)
    }

    async fn disable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        tx.execute(
            sql::DELETE_DELEGATED_FOR_SERVICE,
            &[&organization_id, &service_principal],
        )
        .await
        .map_err(map_err)?;
        let n = tx
            .execute(sql::DELETE_TRUSTED, &[&organization_id, &service_principal])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(n > 0)
    }

    async fn list_trusted_services(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<TrustedService>> {
        let c = self.client().await?;
        let rows = c
            .query(
                &format!("SELECT {} FROM trusted_services WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::TRUSTED_COLUMNS),
                &[&organization_id, &after_seq.unwrap_or(0), &limit],
            )
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|r| -> StoreResult<_> {
                Ok(TrustedService {
                    seq: r.try_get(0)?,
                    organization_id: r.try_get(1)?,
                    service_principal: r.try_get(2)?,
                    enabled_at: r.try_get(3)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn request_account_creation(
        &self,
        st: &CreateAccountStatus,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let request = crate::account_codec::encode(&st.request);
        let taken = OrgOutcome::Conflict(format!(
            "an account named {} already exists in the organization",
            st.account_name
        ));
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        if exists(
            &tx,
            sql::ACCOUNT_NAME_TAKEN,
            &[&st.organization_id, &st.account_name],
        )
        .await?
            || exists(
                &tx,
                sql::CAR_NAME_PENDING,
                &[&st.organization_id, &st.account_name],
            )
            .await?
        {
            return Ok(taken);
        }
        match tx
            .execute(
                sql::INSERT_CAR,
                &[
                    &st.id,
                    &st.organization_id,
                    &st.account_id,
                    &st.account_name,
                    &request,
                    &st.created_at,
                ],
            )
            .await
            .map_err(map_err)
        {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => return Ok(taken),
            Err(e) => return Err(e),
        }
        insert_job(&tx, job).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(OrgOutcome::Done)
    }

    async fn get_create_account_status(
        &self,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<CreateAccountStatus>> {
        let c = self.client().await?;
        c.query_opt(
            &format!(
                "SELECT {} FROM create_account_statuses WHERE organization_id = $1 AND id = $2",
                sql::CAR_COLUMNS
            ),
            &[&organization_id, &id],
        )
        .await
        .map_err(map_err)?
        .map(|r| car(&r))
        .transpose()
    }

    async fn list_create_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CreateAccountStatus>> {
        let c = self.client().await?;
        let q = format!(
            "SELECT {} FROM create_account_statuses WHERE organization_id = $1 AND seq > $2{} ORDER BY seq LIMIT $3",
            sql::CAR_COLUMNS,
            states_clause(states)
        );
        let after = after_seq.unwrap_or(0);
        let rows = if states.is_empty() {
            c.query(&q, &[&organization_id, &after, &limit]).await
        } else {
            c.query(&q, &[&organization_id, &after, &limit, &states])
                .await
        }
        .map_err(map_err)?;
        rows.iter().map(car).collect()
    }
}

#[async_trait]
impl JobStore for PgStore {
    async fn claim_jobs(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let c = self.client().await?;
        // SKIP LOCKED: several servers on one database each claim different jobs, never the
        // same. Pending-and-due first, then expired leases: each an indexed look-up.
        let mut jobs: Vec<(i64, Job)> = Vec::with_capacity(limit);
        for condition in [
            "state = 'pending' AND run_after <= $1",
            "state = 'running' AND locked_until < $1",
        ] {
            let wanted = (limit - jobs.len()) as i64;
            if wanted == 0 {
                break;
            }
            let rows = c
                .query(
                    &format!(
                        "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $2, locked_until = $3
                         WHERE id IN (SELECT id FROM jobs WHERE {condition}
                                      ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED)
                         RETURNING {}, seq",
                        sql::JOB_COLUMNS
                    ),
                    &[&now, &worker, &(now + lease_ms), &wanted],
                )
                .await
                .map_err(map_err)?;
            for r in &rows {
                jobs.push((r.try_get::<_, i64>(6)?, job(r)?));
            }
        }
        jobs.sort_by_key(|(seq, _)| *seq);
        Ok(jobs.into_iter().map(|(_, j)| j).collect())
    }

    async fn retry_job(&self, job_id: &str, run_after: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(sql::RETRY_JOB, &[&job_id, &run_after])
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn finish_account_creation(
        &self,
        job_id: &str,
        status_id: &str,
        project: &Project,
        now: i64,
    ) -> StoreResult<String> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let status = tx
            .query_opt(
                &format!(
                    "SELECT {} FROM create_account_statuses WHERE id = $1 FOR UPDATE",
                    sql::CAR_COLUMNS
                ),
                &[&status_id],
            )
            .await
            .map_err(map_err)?
            .map(|r| car(&r))
            .transpose()?;
        let Some(status) = status else {
            tx.execute(sql::FINISH_JOB, &[&job_id, &"abandoned", &now])
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok("failed".to_string());
        };
        if status.state != "in_progress" {
            tx.execute(sql::FINISH_JOB, &[&job_id, &"done", &now])
                .await
                .map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            return Ok(status.state);
        }
        let org_exists = management_of(&tx, &status.organization_id).await?.is_some();
        let (state, reason) = if !org_exists {
            ("failed", Some("the organization no longer exists"))
        } else if exists(
            &tx,
            sql::ACCOUNT_NAME_TAKEN,
            &[&status.organization_id, &status.account_name],
        )
        .await?
        {
            ("failed", Some("an account with this name already exists"))
        } else {
            let mut a = status.request.clone();
            a.joined_at = now;
            insert_account(&tx, &a).await?;
            insert_project(&tx, project).await?;
            ("succeeded", None)
        };
        tx.execute(sql::FINISH_CAR, &[&status_id, &state, &reason, &now])
            .await
            .map_err(map_err)?;
        tx.execute(sql::FINISH_JOB, &[&job_id, &"done", &now])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(state.to_string())
    }

    async fn finish_account_closure(
        &self,
        job_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        tx.execute(sql::SET_ACCOUNT_STATUS, &[&account_id, &"suspended"])
            .await
            .map_err(map_err)?;
        tx.execute(sql::FINISH_CLOSE, &[&account_id, &now])
            .await
            .map_err(map_err)?;
        tx.execute(sql::FINISH_JOB, &[&job_id, &"done", &now])
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn abandon_job(&self, job_id: &str, now: i64) -> StoreResult<()> {
        let c = self.client().await?;
        c.execute(sql::FINISH_JOB, &[&job_id, &"abandoned", &now])
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
