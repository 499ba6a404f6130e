//! The SQLite implementation of the organization structure and of the job queue.

use super::queries::{account_from_row, insert_account, insert_project};
use super::{map_err, numbered, SqliteStore};
use crate::org_sql as sql;
use crate::*;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

fn prep<'c>(c: &'c Connection, q: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    c.prepare_cached(&numbered(q))
}

fn exists(c: &Connection, q: &str, p: impl rusqlite::Params) -> Result<bool, StoreError> {
    prep(c, q).and_then(|mut st| st.exists(p)).map_err(map_err)
}

fn ou_from_row(r: &Row<'_>) -> rusqlite::Result<OrganizationalUnit> {
    Ok(OrganizationalUnit {
        seq: r.get(0)?,
        id: r.get(1)?,
        organization_id: r.get(2)?,
        parent_id: r.get(3)?,
        name: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn car_from_row(r: &Row<'_>) -> rusqlite::Result<CreateAccountStatus> {
    let request: String = r.get(9)?;
    Ok(CreateAccountStatus {
        seq: r.get(0)?,
        id: r.get(1)?,
        organization_id: r.get(2)?,
        account_id: r.get(3)?,
        account_name: r.get(4)?,
        state: r.get(5)?,
        failure_reason: r.get(6)?,
        created_at: r.get(7)?,
        completed_at: r.get(8)?,
        request: crate::account_codec::decode(&request).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(9, rusqlite::types::Type::Text, e.into())
        })?,
    })
}

fn close_from_row(r: &Row<'_>) -> rusqlite::Result<CloseAccountStatus> {
    Ok(CloseAccountStatus {
        seq: r.get(0)?,
        account_id: r.get(1)?,
        organization_id: r.get(2)?,
        state: r.get(3)?,
        failure_reason: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

fn delegated_from_row(r: &Row<'_>) -> rusqlite::Result<DelegatedAdministrator> {
    Ok(DelegatedAdministrator {
        seq: r.get(0)?,
        organization_id: r.get(1)?,
        account_id: r.get(2)?,
        service_principal: r.get(3)?,
        enabled_at: r.get(4)?,
    })
}

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        payload: r.get(2)?,
        attempts: r.get(3)?,
        run_after: r.get(4)?,
        created_at: r.get(5)?,
    })
}

fn insert_job(c: &Connection, job: &Job) -> Result<(), StoreError> {
    c.execute(
        &numbered(sql::INSERT_JOB),
        params![job.id, job.kind, job.payload, job.run_after, job.created_at],
    )
    .map_err(map_err)?;
    Ok(())
}

/// Whether `parent` is the organization's root or one of its OUs.
fn parent_exists(c: &Connection, org: &str, parent: &str) -> Result<bool, StoreError> {
    if parent.starts_with("r-") {
        let root: Option<String> = prep(c, sql::GET_ROOT)
            .and_then(|mut st| st.query_row([org], |r| r.get(0)).optional())
            .map_err(map_err)?;
        Ok(root.as_deref() == Some(parent))
    } else {
        exists(c, sql::OU_EXISTS, params![org, parent])
    }
}

/// An account's organization, parent and status.
type Place = Option<(Option<String>, Option<String>, String)>;

/// The account's organization, parent and status, if it exists.
fn account_place(c: &Connection, account_id: &str) -> Result<Place, StoreError> {
    prep(c, sql::ACCOUNT_IN_ORG)
        .and_then(|mut st| {
            st.query_row([account_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(map_err)
}

fn management_of(c: &Connection, org: &str) -> Result<Option<String>, StoreError> {
    c.query_row(
        "SELECT management_account_id FROM organizations WHERE id = ?1",
        [org],
        |r| r.get(0),
    )
    .optional()
    .map_err(map_err)
}

fn in_org(place: &Place, org: &str) -> bool {
    matches!(place, Some((Some(o), _, _)) if o == org)
}

fn states_clause(states: &[String], first: usize) -> String {
    if states.is_empty() {
        String::new()
    } else {
        format!(
            " AND state IN ({})",
            crate::directory_sql::placeholders(first, states.len())
        )
    }
}

#[async_trait]
impl OrgStructureStore for SqliteStore {
    async fn create_organization(
        &self,
        org: &Organization,
        root: &Root,
    ) -> StoreResult<OrgOutcome> {
        let (org, root) = (org.clone(), root.clone());
        self.write(move |tx| {
            match account_place(tx, &org.management_account_id)? {
                None => return Ok(OrgOutcome::NotFound),
                Some((Some(_), _, _)) => {
                    return Ok(OrgOutcome::Conflict(
                        "the account already belongs to an organization".into(),
                    ))
                }
                Some((None, _, _)) => {}
            }
            tx.execute(
                &numbered(sql::INSERT_ORGANIZATION),
                params![org.id, org.management_account_id, org.created_at],
            )
            .map_err(map_err)?;
            tx.execute(
                &numbered(sql::INSERT_ROOT),
                params![root.id, root.organization_id, root.name, root.created_at],
            )
            .map_err(map_err)?;
            tx.execute(
                &numbered(sql::JOIN_ORGANIZATION),
                params![org.management_account_id, org.id, root.id, org.created_at],
            )
            .map_err(map_err)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn delete_organization(&self, organization_id: &str) -> StoreResult<OrgOutcome> {
        let org = organization_id.to_string();
        self.write(move |tx| {
            let Some(mgmt) = management_of(tx, &org)? else {
                return Ok(OrgOutcome::NotFound);
            };
            let members: i64 = tx
                .query_row(&numbered(sql::MEMBER_COUNT), params![org, mgmt], |r| {
                    r.get(0)
                })
                .map_err(map_err)?;
            if members > 0 {
                return Ok(OrgOutcome::Conflict(format!(
                    "the organization still has {members} member accounts"
                )));
            }
            let instances: i64 = tx
                .query_row(&numbered(sql::INSTANCE_COUNT), [&org], |r| r.get(0))
                .map_err(map_err)?;
            if instances > 0 {
                return Ok(OrgOutcome::Conflict(
                    "delete the IAM Identity Center instance of the organization first".into(),
                ));
            }
            tx.execute(&numbered(sql::LEAVE_ORGANIZATION), [&mgmt])
                .map_err(map_err)?;
            for q in [
                "DELETE FROM registered_regions WHERE organization_id = ?1",
                "DELETE FROM create_account_statuses WHERE organization_id = ?1",
                "DELETE FROM close_account_statuses WHERE organization_id = ?1",
                sql::DELETE_ORGANIZATION,
            ] {
                tx.execute(&numbered(q), [&org]).map_err(map_err)?;
            }
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn get_root(&self, organization_id: &str) -> StoreResult<Option<Root>> {
        let org = organization_id.to_string();
        self.read(move |c| {
            prep(c, sql::GET_ROOT)?
                .query_row([org], |r| {
                    Ok(Root {
                        id: r.get(0)?,
                        organization_id: r.get(1)?,
                        name: r.get(2)?,
                        created_at: r.get(3)?,
                    })
                })
                .optional()
        })
        .await
    }

    async fn create_ou(&self, ou: &OrganizationalUnit) -> StoreResult<OrgOutcome> {
        let ou = ou.clone();
        self.write(move |tx| {
            if !parent_exists(tx, &ou.organization_id, &ou.parent_id)? {
                return Ok(OrgOutcome::NotFound);
            }
            if exists(tx, sql::OU_NAME_TAKEN, params![ou.parent_id, ou.name])? {
                return Ok(OrgOutcome::Conflict(format!(
                    "an organizational unit named {} already exists under {}",
                    ou.name, ou.parent_id
                )));
            }
            tx.execute(
                &numbered(sql::INSERT_OU),
                params![
                    ou.id,
                    ou.organization_id,
                    ou.parent_id,
                    ou.name,
                    ou.created_at
                ],
            )
            .map_err(map_err)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn get_ou(
        &self,
        organization_id: &str,
        ou_id: &str,
    ) -> StoreResult<Option<OrganizationalUnit>> {
        let (org, id) = (organization_id.to_string(), ou_id.to_string());
        self.read(move |c| {
            prep(
                c,
                &format!(
                    "SELECT {} FROM organizational_units WHERE organization_id = $1 AND id = $2",
                    sql::OU_COLUMNS
                ),
            )?
            .query_row([org, id], ou_from_row)
            .optional()
        })
        .await
    }

    async fn list_ous(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<OrganizationalUnit>> {
        let (org, parent) = (organization_id.to_string(), parent_id.map(str::to_string));
        self.read(move |c| match parent {
            None => prep(c, &format!("SELECT {} FROM organizational_units WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::OU_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit], ou_from_row)?
                .collect(),
            Some(p) => prep(c, &format!("SELECT {} FROM organizational_units WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3", sql::OU_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit, p], ou_from_row)?
                .collect(),
        })
        .await
    }

    async fn list_accounts(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Account>> {
        let (org, parent) = (organization_id.to_string(), parent_id.map(str::to_string));
        self.read(move |c| match parent {
            None => prep(c, &format!("SELECT {} FROM accounts WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::ACCOUNT_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit], account_from_row)?
                .collect(),
            Some(p) => prep(c, &format!("SELECT {} FROM accounts WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3", sql::ACCOUNT_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit, p], account_from_row)?
                .collect(),
        })
        .await
    }

    async fn update_account_description(
        &self,
        organization_id: &str,
        account_id: &str,
        description: Option<&str>,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, d) = (
            organization_id.to_string(),
            account_id.to_string(),
            description.map(str::to_string),
        );
        self.write(move |tx| {
            let n = tx
                .execute(&numbered(sql::SET_DESCRIPTION), params![org, id, d])
                .map_err(map_err)?;
            Ok(if n == 0 {
                OrgOutcome::NotFound
            } else {
                OrgOutcome::Done
            })
        })
        .await
    }

    async fn move_account(
        &self,
        organization_id: &str,
        account_id: &str,
        source: &str,
        destination: &str,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, src, dst) = (
            organization_id.to_string(),
            account_id.to_string(),
            source.to_string(),
            destination.to_string(),
        );
        self.write(move |tx| {
            let place = account_place(tx, &id)?;
            if !in_org(&place, &org) {
                return Ok(OrgOutcome::NotFound);
            }
            let current = place.and_then(|(_, p, _)| p);
            if current.as_deref() != Some(src.as_str()) {
                return Ok(OrgOutcome::Conflict(format!(
                    "the account is not under source_parent_id {src}"
                )));
            }
            if !parent_exists(tx, &org, &dst)? {
                return Ok(OrgOutcome::Conflict(format!(
                    "destination_parent_id {dst} does not exist in the organization"
                )));
            }
            tx.execute(&numbered(sql::SET_PARENT), params![org, id, dst])
                .map_err(map_err)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn remove_account(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> StoreResult<OrgOutcome> {
        let (org, id) = (organization_id.to_string(), account_id.to_string());
        self.write(move |tx| {
            if !in_org(&account_place(tx, &id)?, &org) {
                return Ok(OrgOutcome::NotFound);
            }
            if management_of(tx, &org)?.as_deref() == Some(id.as_str()) {
                return Ok(OrgOutcome::Conflict(
                    "the management account cannot be removed from its organization".into(),
                ));
            }
            if exists(tx, sql::DELEGATED_ANY, [&id])? {
                return Ok(OrgOutcome::Conflict(
                    "the account is a delegated administrator; deregister it first".into(),
                ));
            }
            for q in [
                sql::DELETE_ACCOUNT_ASSIGNMENTS,
                sql::DELETE_ACCOUNT_PROVISIONED,
                sql::LEAVE_ORGANIZATION,
            ] {
                tx.execute(&numbered(q), [&id]).map_err(map_err)?;
            }
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn close_account(
        &self,
        organization_id: &str,
        account_id: &str,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, job) = (
            organization_id.to_string(),
            account_id.to_string(),
            job.clone(),
        );
        self.write(move |tx| {
            let place = account_place(tx, &id)?;
            if !in_org(&place, &org) {
                return Ok(OrgOutcome::NotFound);
            }
            if management_of(tx, &org)?.as_deref() == Some(id.as_str()) {
                return Ok(OrgOutcome::Conflict(
                    "the management account cannot be closed".into(),
                ));
            }
            if place.is_some_and(|(_, _, status)| status != "active") {
                return Ok(OrgOutcome::Conflict(
                    "the account is already closing or closed".into(),
                ));
            }
            tx.execute(
                &numbered(sql::SET_ACCOUNT_STATUS),
                params![id, "pending_closure"],
            )
            .map_err(map_err)?;
            tx.execute(
                &numbered(sql::UPSERT_CLOSE),
                params![id, org, job.created_at],
            )
            .map_err(map_err)?;
            insert_job(tx, &job)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn list_close_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CloseAccountStatus>> {
        let (org, states) = (organization_id.to_string(), states.to_vec());
        self.read(move |c| {
            let q = format!(
                "SELECT {} FROM close_account_statuses WHERE organization_id = $1 AND seq > $2{} ORDER BY seq LIMIT $3",
                sql::CLOSE_COLUMNS,
                states_clause(&states, 4)
            );
            let mut values: Vec<rusqlite::types::Value> = vec![org.into(), after_seq.unwrap_or(0).into(), limit.into()];
            values.extend(states.into_iter().map(Into::into));
            prep(c, &q)?.query_map(rusqlite::params_from_iter(values), close_from_row)?.collect()
        })
        .await
    }

    async fn register_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, sp) = (
            organization_id.to_string(),
            account_id.to_string(),
            service_principal.to_string(),
        );
        self.write(move |tx| {
            if !in_org(&account_place(tx, &id)?, &org) {
                return Ok(OrgOutcome::NotFound);
            }
            if management_of(tx, &org)?.as_deref() == Some(id.as_str()) {
                return Ok(OrgOutcome::Conflict(
                    "the management account cannot be a delegated administrator".into(),
                ));
            }
            if !exists(tx, sql::IS_TRUSTED, params![org, sp])? {
                return Ok(OrgOutcome::Conflict(format!(
                    "{sp} is not enabled as a trusted service of the organization"
                )));
            }
            if exists(tx, sql::IS_DELEGATED, params![id, sp])? {
                return Ok(OrgOutcome::Conflict(format!(
                    "the account is already a delegated administrator for {sp}"
                )));
            }
            tx.execute(&numbered(sql::INSERT_DELEGATED), params![org, id, sp, now])
                .map_err(map_err)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn deregister_delegated_admin(
        &self,
        organization_id: &str,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, sp) = (
            organization_id.to_string(),
            account_id.to_string(),
            service_principal.to_string(),
        );
        self.write(move |tx| {
            let n = tx
                .execute(&numbered(sql::DELETE_DELEGATED), params![org, id, sp])
                .map_err(map_err)?;
            Ok(if n == 0 {
                OrgOutcome::NotFound
            } else {
                OrgOutcome::Done
            })
        })
        .await
    }

    async fn list_delegated_admins(
        &self,
        organization_id: &str,
        service_principal: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let (org, sp) = (
            organization_id.to_string(),
            service_principal.map(str::to_string),
        );
        self.read(move |c| match sp {
            None => prep(c, &format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit], delegated_from_row)?
                .collect(),
            Some(sp) => prep(c, &format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND service_principal = $4 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit, sp], delegated_from_row)?
                .collect(),
        })
        .await
    }

    async fn list_delegated_services(
        &self,
        organization_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let (org, id) = (organization_id.to_string(), account_id.to_string());
        self.read(move |c| {
            prep(c, &format!("SELECT {} FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND account_id = $4 ORDER BY seq LIMIT $3", sql::DELEGATED_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit, id], delegated_from_row)?
                .collect()
        })
        .await
    }

    async fn is_delegated_admin(
        &self,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let (id, sp) = (account_id.to_string(), service_principal.to_string());
        self.read(move |c| prep(c, sql::IS_DELEGATED)?.exists(params![id, sp]))
            .await
    }

    async fn enable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let (org, sp) = (organization_id.to_string(), service_principal.to_string());
        self.write(move |tx| {
            tx.execute(&numbered(sql::INSERT_TRUSTED), params![org, sp, now])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn disable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let (org, sp) = (organization_id.to_string(), service_principal.to_string());
        self.write(move |tx| {
            tx.execute(
                &numbered(sql::DELETE_DELEGATED_FOR_SERVICE),
                params![org, sp],
            )
            .map_err(map_err)?;
            tx.execute(&numbered(sql::DELETE_TRUSTED), params![org, sp])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn list_trusted_services(
        &self,
        organization_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<TrustedService>> {
        let org = organization_id.to_string();
        self.read(move |c| {
            prep(c, &format!("SELECT {} FROM trusted_services WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3", sql::TRUSTED_COLUMNS))?
                .query_map(params![org, after_seq.unwrap_or(0), limit], |r| {
                    Ok(TrustedService { seq: r.get(0)?, organization_id: r.get(1)?, service_principal: r.get(2)?, enabled_at: r.get(3)? })
                })?
                .collect()
        })
        .await
    }

    async fn request_account_creation(
        &self,
        status: &CreateAccountStatus,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let (st, job) = (status.clone(), job.clone());
        let request = crate::account_codec::encode(&st.request);
        self.write(move |tx| {
            if exists(
                tx,
                sql::ACCOUNT_NAME_TAKEN,
                params![st.organization_id, st.account_name],
            )? || exists(
                tx,
                sql::CAR_NAME_PENDING,
                params![st.organization_id, st.account_name],
            )? {
                return Ok(OrgOutcome::Conflict(format!(
                    "an account named {} already exists in the organization",
                    st.account_name
                )));
            }
            tx.execute(
                &numbered(sql::INSERT_CAR),
                params![
                    st.id,
                    st.organization_id,
                    st.account_id,
                    st.account_name,
                    request,
                    st.created_at
                ],
            )
            .map_err(map_err)?;
            insert_job(tx, &job)?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    async fn get_create_account_status(
        &self,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<CreateAccountStatus>> {
        let (org, id) = (organization_id.to_string(), id.to_string());
        self.read(move |c| {
            prep(
                c,
                &format!(
                    "SELECT {} FROM create_account_statuses WHERE organization_id = $1 AND id = $2",
                    sql::CAR_COLUMNS
                ),
            )?
            .query_row([org, id], car_from_row)
            .optional()
        })
        .await
    }

    async fn list_create_account_statuses(
        &self,
        organization_id: &str,
        states: &[String],
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CreateAccountStatus>> {
        let (org, states) = (organization_id.to_string(), states.to_vec());
        self.read(move |c| {
            let q = format!(
                "SELECT {} FROM create_account_statuses WHERE organization_id = $1 AND seq > $2{} ORDER BY seq LIMIT $3",
                sql::CAR_COLUMNS,
                states_clause(&states, 4)
            );
            let mut values: Vec<rusqlite::types::Value> = vec![org.into(), after_seq.unwrap_or(0).into(), limit.into()];
            values.extend(states.into_iter().map(Into::into));
            prep(c, &q)?.query_map(rusqlite::params_from_iter(values), car_from_row)?.collect()
        })
        .await
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_jobs(
        &self,
        worker: &str,
        now: i64,
        lease_ms: i64,
        limit: usize,
    ) -> StoreResult<Vec<Job>> {
        let worker = worker.to_string();
        self.write(move |tx| {
            // Two indexed look-ups (pending and due, then expired leases) rather than one OR
            // that would scan the table.
            let mut ids: Vec<String> = Vec::with_capacity(limit);
            for query in [
                "SELECT id FROM jobs WHERE state = 'pending' AND run_after <= ?1 ORDER BY seq LIMIT ?2",
                "SELECT id FROM jobs WHERE state = 'running' AND locked_until < ?1 ORDER BY seq LIMIT ?2",
            ] {
                let wanted = (limit - ids.len()) as i64;
                if wanted == 0 {
                    break;
                }
                let found = tx
                    .prepare_cached(query)
                    .and_then(|mut st| {
                        st.query_map(params![now, wanted], |r| r.get(0))?
                            .collect::<rusqlite::Result<Vec<String>>>()
                    })
                    .map_err(map_err)?;
                ids.extend(found);
            }
            let mut claim = tx
                .prepare_cached(&format!(
                    "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = ?2, locked_until = ?3
                     WHERE id = ?1 RETURNING {}",
                    sql::JOB_COLUMNS
                ))
                .map_err(map_err)?;
            ids.iter()
                .map(|id| {
                    claim
                        .query_row(params![id, worker, now + lease_ms], job_from_row)
                        .map_err(map_err)
                })
                .collect()
        })
        .await
    }

    async fn retry_job(&self, job_id: &str, run_after: i64) -> StoreResult<()> {
        let id = job_id.to_string();
        self.write(move |tx| {
            tx.execute(&numbered(sql::RETRY_JOB), params![id, run_after])
                .map(|_| ())
                .map_err(map_err)
        })
        .await
    }

    async fn finish_account_creation(
        &self,
        job_id: &str,
        status_id: &str,
        project: &Project,
        now: i64,
    ) -> StoreResult<String> {
        let (job, sid, project) = (job_id.to_string(), status_id.to_string(), project.clone());
        self.write(move |tx| {
            let status = prep(
                tx,
                &format!(
                    "SELECT {} FROM create_account_statuses WHERE id = $1",
                    sql::CAR_COLUMNS
                ),
            )
            .and_then(|mut st| st.query_row([&sid], car_from_row).optional())
            .map_err(map_err)?;
            let Some(status) = status else {
                tx.execute(&numbered(sql::FINISH_JOB), params![job, "abandoned", now])
                    .map_err(map_err)?;
                return Ok("failed".to_string());
            };
            if status.state != "in_progress" {
                tx.execute(&numbered(sql::FINISH_JOB), params![job, "done", now])
                    .map_err(map_err)?;
                return Ok(status.state);
            }
            let org_exists = management_of(tx, &status.organization_id)?.is_some();
            let (state, reason) = if !org_exists {
                ("failed", Some("the organization no longer exists"))
            } else if exists(
                tx,
                sql::ACCOUNT_NAME_TAKEN,
                params![status.organization_id, status.account_name],
            )? {
                ("failed", Some("an account with this name already exists"))
            } else {
                let mut account = status.request.clone();
                account.joined_at = now;
                insert_account(tx, &account).map_err(map_err)?;
                insert_project(tx, &project).map_err(map_err)?;
                ("succeeded", None)
            };
            tx.execute(&numbered(sql::FINISH_CAR), params![sid, state, reason, now])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::FINISH_JOB), params![job, "done", now])
                .map_err(map_err)?;
            Ok(state.to_string())
        })
        .await
    }

    async fn finish_account_closure(
        &self,
        job_id: &str,
        account_id: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (job, id) = (job_id.to_string(), account_id.to_string());
        self.write(move |tx| {
            tx.execute(&numbered(sql::SET_ACCOUNT_STATUS), params![id, "suspended"])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::FINISH_CLOSE), params![id, now])
                .map_err(map_err)?;
            tx.execute(&numbered(sql::FINISH_JOB), params![job, "done", now])
                .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn abandon_job(&self, job_id: &str, now: i64) -> StoreResult<()> {
        let id = job_id.to_string();
        self.write(move |tx| {
            tx.execute(&numbered(sql::FINISH_JOB), params![id, "abandoned", now])
                .map(|_| ())
                .map_err(map_err)
        })
        .await
    }
}
