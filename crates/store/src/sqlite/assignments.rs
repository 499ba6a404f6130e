//! The SQLite implementation of account assignments, provisioning and asynchronous requests.

use super::{map_err, numbered, SqliteStore};
use crate::assignment_sql as sql;
use crate::org_sql::FINISH_JOB;
use crate::*;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

fn prep<'c>(c: &'c Connection, q: &str) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    c.prepare_cached(&numbered(q))
}

fn exists(c: &Connection, q: &str, p: impl rusqlite::Params) -> Result<bool, StoreError> {
    prep(c, q).and_then(|mut st| st.exists(p)).map_err(map_err)
}

fn request_from_row(r: &Row<'_>) -> rusqlite::Result<AsyncRequest> {
    Ok(AsyncRequest {
        seq: r.get(0)?,
        request_id: r.get(1)?,
        instance_id: r.get(2)?,
        kind: r.get(3)?,
        status: r.get(4)?,
        failure_reason: r.get(5)?,
        permission_set_id: r.get(6)?,
        principal_type: r.get(7)?,
        principal_id: r.get(8)?,
        target_id: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

fn assignment_from_row(r: &Row<'_>) -> rusqlite::Result<AccountAssignment> {
    Ok(AccountAssignment {
        seq: r.get(0)?,
        instance_id: r.get(1)?,
        permission_set_id: r.get(2)?,
        principal_type: r.get(3)?,
        principal_id: r.get(4)?,
        account_id: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn provisioned_from_row(r: &Row<'_>) -> rusqlite::Result<ProvisionedSet> {
    Ok(ProvisionedSet {
        seq: r.get(0)?,
        instance_id: r.get(1)?,
        permission_set_id: r.get(2)?,
        account_id: r.get(3)?,
        version: r.get(4)?,
        snapshot: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

/// The request to run, if it is still in progress (otherwise the job just ends).
fn pending(
    tx: &Connection,
    job_id: &str,
    request_id: &str,
    now: i64,
) -> Result<Result<AsyncRequest, String>, StoreError> {
    let req = prep(
        tx,
        &format!(
            "SELECT {} FROM async_requests WHERE request_id = $1",
            sql::REQUEST_COLUMNS
        ),
    )
    .and_then(|mut st| st.query_row([request_id], request_from_row).optional())
    .map_err(map_err)?;
    match req {
        Some(r) if r.status == "IN_PROGRESS" => Ok(Ok(r)),
        other => {
            tx.execute(&numbered(FINISH_JOB), params![job_id, "done", now])
                .map_err(map_err)?;
            Ok(Err(other
                .map(|r| r.status)
                .unwrap_or_else(|| "FAILED".into())))
        }
    }
}

fn finish(
    tx: &Connection,
    job_id: &str,
    req: &AsyncRequest,
    failure: Option<&str>,
    now: i64,
) -> Result<String, StoreError> {
    let status = if failure.is_some() {
        "FAILED"
    } else {
        "SUCCEEDED"
    };
    tx.execute(
        &numbered(sql::FINISH_REQUEST),
        params![req.request_id, status, failure, now],
    )
    .map_err(map_err)?;
    tx.execute(
        &numbered(sql::RELEASE_SLOT),
        [&req.instance_id, &req.request_id],
    )
    .map_err(map_err)?;
    tx.execute(&numbered(FINISH_JOB), params![job_id, "done", now])
        .map_err(map_err)?;
    Ok(status.to_string())
}

/// The set's version and snapshot, if it still exists.
fn set_state(
    tx: &Connection,
    instance_id: &str,
    set_id: &str,
) -> Result<Option<(i64, String)>, StoreError> {
    prep(tx, sql::SET_ROW)
        .and_then(|mut st| {
            st.query_row([instance_id, set_id], |r| {
                let (v, d, c): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok((v, sql::snapshot(&d, &c)))
            })
            .optional()
        })
        .map_err(map_err)
}

#[async_trait]
impl AssignmentStore for SqliteStore {
    async fn enqueue_request(
        &self,
        request: &AsyncRequest,
        job: &Job,
        max_in_flight: i64,
    ) -> StoreResult<bool> {
        let (r, j) = (request.clone(), job.clone());
        self.write(move |tx| {
            // One writer at a time: a single counter row serves, shard 0.
            tx.execute(&numbered(sql::ENSURE_COUNTER), params![r.instance_id, 0])
                .map_err(map_err)?;
            if tx
                .execute(
                    &numbered(sql::TAKE_SLOT),
                    params![r.instance_id, 0, max_in_flight],
                )
                .map_err(map_err)?
                == 0
            {
                return Ok(false);
            }
            tx.execute(
                &numbered(sql::INSERT_REQUEST),
                params![
                    r.request_id,
                    r.instance_id,
                    r.kind,
                    r.permission_set_id,
                    r.principal_type,
                    r.principal_id,
                    r.target_id,
                    r.created_at,
                    0
                ],
            )
            .map_err(map_err)?;
            tx.execute(
                &numbered(crate::org_sql::INSERT_JOB),
                params![j.id, j.kind, j.payload, j.run_after, j.created_at],
            )
            .map_err(map_err)?;
            Ok(true)
        })
        .await
    }

    async fn get_request(
        &self,
        instance_id: &str,
        kind: &str,
        request_id: &str,
    ) -> StoreResult<Option<AsyncRequest>> {
        let (i, k, r) = (
            instance_id.to_string(),
            kind.to_string(),
            request_id.to_string(),
        );
        self.read(move |c| {
            // By the unique request id alone, so the unique index serves it; then the owner check.
            let found = prep(
                c,
                &format!(
                    "SELECT {} FROM async_requests WHERE request_id = $1",
                    sql::REQUEST_COLUMNS
                ),
            )?
            .query_row([r], request_from_row)
            .optional()?;
            Ok(found.filter(|x| x.instance_id == i && x.kind == k))
        })
        .await
    }

    async fn list_requests(
        &self,
        instance_id: &str,
        kind: &str,
        status: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AsyncRequest>> {
        let (i, k, s) = (
            instance_id.to_string(),
            kind.to_string(),
            status.map(str::to_string),
        );
        self.read(move |c| match s {
            None => prep(c, &format!("SELECT {} FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::REQUEST_COLUMNS))?
                .query_map(params![i, k, after_seq.unwrap_or(0), limit], request_from_row)?
                .collect(),
            Some(s) => prep(c, &format!("SELECT {} FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 AND status = $5 ORDER BY seq LIMIT $4", sql::REQUEST_COLUMNS))?
                .query_map(params![i, k, after_seq.unwrap_or(0), limit, s], request_from_row)?
                .collect(),
        })
        .await
    }

    async fn apply_assignment_create(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let (job, rid) = (job_id.to_string(), request_id.to_string());
        self.write(move |tx| {
            let req = match pending(tx, &job, &rid, now)? {
                Ok(r) => r,
                Err(status) => return Ok(status),
            };
            let (ptype, pid, account) = (
                req.principal_type.clone().unwrap_or_default(),
                req.principal_id.clone().unwrap_or_default(),
                req.target_id.clone().unwrap_or_default(),
            );
            let Some((version, snapshot)) =
                set_state(tx, &req.instance_id, &req.permission_set_id)?
            else {
                return finish(
                    tx,
                    &job,
                    &req,
                    Some("the permission set no longer exists"),
                    now,
                );
            };
            let principal_query = if ptype == "GROUP" {
                sql::GROUP_IN_INSTANCE
            } else {
                sql::USER_IN_INSTANCE
            };
            if !exists(tx, principal_query, params![req.instance_id, pid])? {
                return finish(
                    tx,
                    &job,
                    &req,
                    Some("the principal does not exist in the identity store"),
                    now,
                );
            }
            if !exists(
                tx,
                sql::ACCOUNT_IN_INSTANCE,
                params![req.instance_id, account],
            )? {
                return finish(
                    tx,
                    &job,
                    &req,
                    Some("the target account is not an active account of the organization"),
                    now,
                );
            }
            tx.execute(
                &numbered(sql::INSERT_ASSIGNMENT),
                params![
                    req.instance_id,
                    req.permission_set_id,
                    ptype,
                    pid,
                    account,
                    now
                ],
            )
            .map_err(map_err)?;
            if !exists(
                tx,
                sql::PROVISIONED_EXISTS,
                params![req.permission_set_id, account],
            )? {
                tx.execute(
                    &numbered(sql::UPSERT_PROVISIONED),
                    params![
                        req.instance_id,
                        req.permission_set_id,
                        account,
                        version,
                        snapshot,
                        now
                    ],
                )
                .map_err(map_err)?;
            }
            finish(tx, &job, &req, None, now)
        })
        .await
    }

    async fn apply_assignment_delete(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let (job, rid) = (job_id.to_string(), request_id.to_string());
        self.write(move |tx| {
            let req = match pending(tx, &job, &rid, now)? {
                Ok(r) => r,
                Err(status) => return Ok(status),
            };
            let n = tx
                .execute(
                    &numbered(sql::DELETE_ASSIGNMENT),
                    params![
                        req.instance_id,
                        req.permission_set_id,
                        req.principal_type,
                        req.principal_id,
                        req.target_id
                    ],
                )
                .map_err(map_err)?;
            if n == 0 {
                return finish(
                    tx,
                    &job,
                    &req,
                    Some("the account assignment does not exist"),
                    now,
                );
            }
            tx.execute(
                &numbered(sql::DEPROVISION_IF_UNUSED),
                params![req.permission_set_id, req.target_id],
            )
            .map_err(map_err)?;
            finish(tx, &job, &req, None, now)
        })
        .await
    }

    async fn apply_provision(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let (job, rid) = (job_id.to_string(), request_id.to_string());
        self.write(move |tx| {
            let req = match pending(tx, &job, &rid, now)? {
                Ok(r) => r,
                Err(status) => return Ok(status),
            };
            let Some((version, snapshot)) =
                set_state(tx, &req.instance_id, &req.permission_set_id)?
            else {
                return finish(
                    tx,
                    &job,
                    &req,
                    Some("the permission set no longer exists"),
                    now,
                );
            };
            match &req.target_id {
                Some(account) => {
                    if !exists(
                        tx,
                        sql::ACCOUNT_IN_INSTANCE,
                        params![req.instance_id, account],
                    )? {
                        return finish(
                            tx,
                            &job,
                            &req,
                            Some("the target account is not an active account of the organization"),
                            now,
                        );
                    }
                    tx.execute(
                        &numbered(sql::UPSERT_PROVISIONED),
                        params![
                            req.instance_id,
                            req.permission_set_id,
                            account,
                            version,
                            snapshot,
                            now
                        ],
                    )
                    .map_err(map_err)?;
                }
                None => {
                    tx.execute(
                        &numbered(sql::REPROVISION_ALL),
                        params![req.permission_set_id, version, snapshot, now],
                    )
                    .map_err(map_err)?;
                }
            }
            finish(tx, &job, &req, None, now)
        })
        .await
    }

    async fn list_assignments(
        &self,
        instance_id: &str,
        account_id: &str,
        permission_set_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AccountAssignment>> {
        let (i, a, p) = (
            instance_id.to_string(),
            account_id.to_string(),
            permission_set_id.map(str::to_string),
        );
        self.read(move |c| match p {
            None => prep(c, &format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::ASSIGNMENT_COLUMNS))?
                .query_map(params![i, a, after_seq.unwrap_or(0), limit], assignment_from_row)?
                .collect(),
            Some(p) => prep(c, &format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 AND permission_set_id = $5 ORDER BY seq LIMIT $4", sql::ASSIGNMENT_COLUMNS))?
                .query_map(params![i, a, after_seq.unwrap_or(0), limit, p], assignment_from_row)?
                .collect(),
        })
        .await
    }

    async fn list_assignments_for_principal(
        &self,
        instance_id: &str,
        principal_type: &str,
        principal_id: &str,
        account_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AccountAssignment>> {
        let (i, t, p, a) = (
            instance_id.to_string(),
            principal_type.to_string(),
            principal_id.to_string(),
            account_id.map(str::to_string),
        );
        self.read(move |c| match a {
            None => prep(c, &format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 ORDER BY seq LIMIT $5", sql::ASSIGNMENT_COLUMNS))?
                .query_map(params![i, p, t, after_seq.unwrap_or(0), limit], assignment_from_row)?
                .collect(),
            Some(a) => prep(c, &format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 AND account_id = $6 ORDER BY seq LIMIT $5", sql::ASSIGNMENT_COLUMNS))?
                .query_map(params![i, p, t, after_seq.unwrap_or(0), limit, a], assignment_from_row)?
                .collect(),
        })
        .await
    }

    async fn disassociate_principal(
        &self,
        instance_id: &str,
        principal_type: &str,
        principal_id: &str,
    ) -> StoreResult<u64> {
        let (i, t, p) = (
            instance_id.to_string(),
            principal_type.to_string(),
            principal_id.to_string(),
        );
        self.write(move |tx| {
            tx.execute(&numbered(sql::DEPROVISION_FOR_PRINCIPAL), [&p])
                .map_err(map_err)?;
            tx.execute(
                &numbered(sql::DELETE_PRINCIPAL_ASSIGNMENTS),
                params![i, t, p],
            )
            .map(|n| n as u64)
            .map_err(map_err)
        })
        .await
    }

    async fn list_provisioned_for_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let (i, p) = (instance_id.to_string(), permission_set_id.to_string());
        self.read(move |c| {
            prep(c, &format!("SELECT {} FROM provisioned_sets WHERE instance_id = $1 AND permission_set_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::PROVISIONED_COLUMNS))?
                .query_map(params![i, p, after_seq.unwrap_or(0), limit], provisioned_from_row)?
                .collect()
        })
        .await
    }

    async fn list_provisioned_for_account(
        &self,
        instance_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let (i, a) = (instance_id.to_string(), account_id.to_string());
        self.read(move |c| {
            prep(c, &format!("SELECT {} FROM provisioned_sets WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::PROVISIONED_COLUMNS))?
                .query_map(params![i, a, after_seq.unwrap_or(0), limit], provisioned_from_row)?
                .collect()
        })
        .await
    }

    async fn is_provisioned(&self, permission_set_id: &str) -> StoreResult<bool> {
        let p = permission_set_id.to_string();
        self.read(move |c| prep(c, sql::IS_PROVISIONED)?.exists([p]))
            .await
    }
}
