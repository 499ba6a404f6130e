//! The PostgreSQL implementation of account assignments, provisioning and asynchronous requests.

use super::{map_err, PgStore};
use crate::assignment_sql as sql;
use crate::org_sql::FINISH_JOB;
use crate::*;
use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

async fn exists<C: GenericClient>(c: &C, q: &str, p: &[&(dyn ToSql + Sync)]) -> StoreResult<bool> {
    Ok(c.query_opt(q, p).await.map_err(map_err)?.is_some())
}

fn request(r: &Row) -> StoreResult<AsyncRequest> {
    Ok(AsyncRequest {
        seq: r.try_get(0)?,
        request_id: r.try_get(1)?,
        instance_id: r.try_get(2)?,
        kind: r.try_get(3)?,
        status: r.try_get(4)?,
        failure_reason: r.try_get(5)?,
        permission_set_id: r.try_get(6)?,
        principal_type: r.try_get(7)?,
        principal_id: r.try_get(8)?,
        target_id: r.try_get(9)?,
        created_at: r.try_get(10)?,
        updated_at: r.try_get(11)?,
    })
}

fn assignment(r: &Row) -> StoreResult<AccountAssignment> {
    Ok(AccountAssignment {
        seq: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        permission_set_id: r.try_get(2)?,
        principal_type: r.try_get(3)?,
        principal_id: r.try_get(4)?,
        account_id: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

fn provisioned(r: &Row) -> StoreResult<ProvisionedSet> {
    Ok(ProvisionedSet {
        seq: r.try_get(0)?,
        instance_id: r.try_get(1)?,
        permission_set_id: r.try_get(2)?,
        account_id: r.try_get(3)?,
        version: r.try_get(4)?,
        snapshot: r.try_get(5)?,
        updated_at: r.try_get(6)?,
    })
}

/// The request to run (locked), if it is still in progress; otherwise the job just ends.
async fn pending(
    tx: &Transaction<'_>,
    job_id: &str,
    request_id: &str,
    now: i64,
) -> StoreResult<Result<AsyncRequest, String>> {
    let req = tx
        .query_opt(
            &format!(
                "SELECT {} FROM async_requests WHERE request_id = $1 FOR UPDATE",
                sql::REQUEST_COLUMNS
            ),
            &[&request_id],
        )
        .await
        .map_err(map_err)?
        .map(|r| request(&r))
        .transpose()?;
    match req {
        Some(r) if r.status == "IN_PROGRESS" => Ok(Ok(r)),
        other => {
            tx.execute(FINISH_JOB, &[&job_id, &"done", &now])
                .await
                .map_err(map_err)?;
            Ok(Err(other
                .map(|r| r.status)
                .unwrap_or_else(|| "FAILED".into())))
        }
    }
}

async fn finish(
    tx: Transaction<'_>,
    job_id: &str,
    req: &AsyncRequest,
    failure: Option<&str>,
    now: i64,
) -> StoreResult<String> {
    let status = if failure.is_some() {
        "FAILED"
    } else {
        "SUCCEEDED"
    };
    tx.execute(
        sql::FINISH_REQUEST,
        &[&req.request_id, &status, &failure, &now],
    )
    .await
    .map_err(map_err)?;
    tx.execute(sql::RELEASE_SLOT, &[&req.instance_id, &req.request_id])
        .await
        .map_err(map_err)?;
    tx.execute(FINISH_JOB, &[&job_id, &"done", &now])
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(status.to_string())
}

async fn set_state(
    tx: &Transaction<'_>,
    instance_id: &str,
    set_id: &str,
) -> StoreResult<Option<(i64, String)>> {
    tx.query_opt(
        &format!("{} FOR SHARE", sql::SET_ROW),
        &[&instance_id, &set_id],
    )
    .await
    .map_err(map_err)?
    .map(|r| -> StoreResult<_> {
        let (v, d, c): (i64, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        Ok((v, sql::snapshot(&d, &c)))
    })
    .transpose()
}

/// Counter rows per instance (see `assignment_sql`): concurrent requests mostly lock different
/// rows, so their commits overlap instead of queueing behind one row lock.
const SHARDS: i64 = 16;
const ENSURE_COUNTERS: &str = "INSERT INTO instance_request_counts (instance_id, shard, in_flight)
     SELECT $1, s, 0 FROM generate_series(0, $2::int - 1) s ON CONFLICT DO NOTHING";

/// Takes one in-flight slot of the instance; returns the shard it came from, or None when every
/// shard is at its share of the bound. The conditional increment holds the bound across servers:
/// a shard's row stays locked until commit.
async fn take_slot(
    tx: &Transaction<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
) -> StoreResult<Option<i32>> {
    if let Some(shard) = try_shards(tx, instance_id, request_id, max_in_flight).await? {
        return Ok(Some(shard));
    }
    // An instance's counter rows are made by its first requests (several may race to make them:
    // the losers wait for the winner's rows); then every shard is tried once more.
    tx.execute(ENSURE_COUNTERS, &[&instance_id, &(SHARDS as i32)])
        .await?;
    try_shards(tx, instance_id, request_id, max_in_flight).await
}

/// Tries every shard once, starting at the request's own.
async fn try_shards(
    tx: &Transaction<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
) -> StoreResult<Option<i32>> {
    for shard in sql::shard_order(request_id, SHARDS) {
        let capacity = sql::shard_capacity(max_in_flight, SHARDS, shard);
        let shard = shard as i32;
        if capacity > 0
            && tx
                .execute(sql::TAKE_SLOT, &[&instance_id, &shard, &capacity])
                .await?
                == 1
        {
            return Ok(Some(shard));
        }
    }
    Ok(None)
}

#[async_trait]
impl AssignmentStore for PgStore {
    async fn enqueue_request(
        &self,
        r: &AsyncRequest,
        j: &Job,
        max_in_flight: i64,
    ) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let Some(shard) = take_slot(&tx, &r.instance_id, &r.request_id, max_in_flight).await?
        else {
            return Ok(false);
        };
        tx.execute(
            sql::INSERT_REQUEST,
            &[
                &r.request_id,
                &r.instance_id,
                &r.kind,
                &r.permission_set_id,
                &r.principal_type,
                &r.principal_id,
                &r.target_id,
                &r.created_at,
                &shard,
            ],
        )
        .await
        .map_err(map_err)?;
        tx.execute(
            crate::org_sql::INSERT_JOB,
            &[&j.id, &j.kind, &j.payload, &j.run_after, &j.created_at],
        )
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn get_request(
        &self,
        instance_id: &str,
        kind: &str,
        request_id: &str,
    ) -> StoreResult<Option<AsyncRequest>> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(&format!(
                "SELECT {} FROM async_requests WHERE request_id = $1",
                sql::REQUEST_COLUMNS
            ))
            .await
            .map_err(map_err)?;
        // By the unique request id alone, so the unique index serves it; then the owner check.
        Ok(c.query_opt(&st, &[&request_id])
            .await
            .map_err(map_err)?
            .map(|r| request(&r))
            .transpose()?
            .filter(|r| r.instance_id == instance_id && r.kind == kind))
    }

    async fn list_requests(
        &self,
        instance_id: &str,
        kind: &str,
        status: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AsyncRequest>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match status {
            None => c.query(&format!("SELECT {} FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::REQUEST_COLUMNS), &[&instance_id, &kind, &after, &limit]).await,
            Some(s) => c.query(&format!("SELECT {} FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 AND status = $5 ORDER BY seq LIMIT $4", sql::REQUEST_COLUMNS), &[&instance_id, &kind, &after, &limit, &s]).await,
        }
        .map_err(map_err)?;
        Ok(rows.iter().map(request).collect::<StoreResult<Vec<_>>>()?)
    }

    async fn apply_assignment_create(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let req = match pending(&tx, job_id, request_id, now).await? {
            Ok(r) => r,
            Err(status) => {
                tx.commit().await.map_err(map_err)?;
                return Ok(status);
            }
        };
        let (ptype, pid, account) = (
            req.principal_type.clone().unwrap_or_default(),
            req.principal_id.clone().unwrap_or_default(),
            req.target_id.clone().unwrap_or_default(),
        );
        let Some((version, snapshot)) =
            set_state(&tx, &req.instance_id, &req.permission_set_id).await?
        else {
            return finish(
                tx,
                job_id,
                &req,
                Some("the permission set no longer exists"),
                now,
            )
            .await;
        };
        let principal_query = if ptype == "GROUP" {
            sql::GROUP_IN_INSTANCE
        } else {
            sql::USER_IN_INSTANCE
        };
        if !exists(
            &tx,
            &format!("{principal_query} FOR SHARE"),
            &[&req.instance_id, &pid],
        )
        .await?
        {
            return finish(
                tx,
                job_id,
                &req,
                Some("the principal does not exist in the identity store"),
                now,
            )
            .await;
        }
        if !exists(
            &tx,
            &format!("{} FOR SHARE", sql::ACCOUNT_IN_INSTANCE),
            &[&req.instance_id, &account],
        )
        .await?
        {
            return finish(
                tx,
                job_id,
                &req,
                Some("the target account is not an active account of the organization"),
                now,
            )
            .await;
        }
        tx.execute(
            sql::INSERT_ASSIGNMENT,
            &[
                &req.instance_id,
                &req.permission_set_id,
                &ptype,
                &pid,
                &account,
                &now,
            ],
        )
        .await
        .map_err(map_err)?;
        if !exists(
            &tx,
            sql::PROVISIONED_EXISTS,
            &[&req.permission_set_id, &account],
        )
        .await?
        {
            tx.execute(
                sql::UPSERT_PROVISIONED,
                &[
                    &req.instance_id,
                    &req.permission_set_id,
                    &account,
                    &version,
                    &snapshot,
                    &now,
                ],
            )
            .await
            .map_err(map_err)?;
        }
        finish(tx, job_id, &req, None, now).await
    }

    async fn apply_assignment_delete(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let req = match pending(&tx, job_id, request_id, now).await? {
            Ok(r) => r,
            Err(status) => {
                tx.commit().await.map_err(map_err)?;
                return Ok(status);
            }
        };
        let n = tx
            .execute(
                sql::DELETE_ASSIGNMENT,
                &[
                    &req.instance_id,
                    &req.permission_set_id,
                    &req.principal_type,
                    &req.principal_id,
                    &req.target_id,
                ],
            )
            .await
            .map_err(map_err)?;
        if n == 0 {
            return finish(
                tx,
                job_id,
                &req,
                Some("the account assignment does not exist"),
                now,
            )
            .await;
        }
        tx.execute(
            sql::DEPROVISION_IF_UNUSED,
            &[&req.permission_set_id, &req.target_id],
        )
        .await
        .map_err(map_err)?;
        finish(tx, job_id, &req, None, now).await
    }

    async fn apply_provision(
        &self,
        job_id: &str,
        request_id: &str,
        now: i64,
    ) -> StoreResult<String> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        let req = match pending(&tx, job_id, request_id, now).await? {
            Ok(r) => r,
            Err(status) => {
                tx.commit().await.map_err(map_err)?;
                return Ok(status);
            }
        };
        let Some((version, snapshot)) =
            set_state(&tx, &req.instance_id, &req.permission_set_id).await?
        else {
            return finish(
                tx,
                job_id,
                &req,
                Some("the permission set no longer exists"),
                now,
            )
            .await;
        };
        match &req.target_id {
            Some(account) => {
                if !exists(&tx, sql::ACCOUNT_IN_INSTANCE, &[&req.instance_id, account]).await? {
                    return finish(
                        tx,
                        job_id,
                        &req,
                        Some("the target account is not an active account of the organization"),
                        now,
                    )
                    .await;
                }
                tx.execute(
                    sql::UPSERT_PROVISIONED,
                    &[
                        &req.instance_id,
                        &req.permission_set_id,
                        account,
                        &version,
                        &snapshot,
                        &now,
                    ],
                )
                .await
                .map_err(map_err)?;
            }
            None => {
                tx.execute(
                    sql::REPROVISION_ALL,
                    &[&req.permission_set_id, &version, &snapshot, &now],
                )
                .await
                .map_err(map_err)?;
            }
        }
        finish(tx, job_id, &req, None, now).await
    }

    async fn list_assignments(
        &self,
        instance_id: &str,
        account_id: &str,
        permission_set_id: Option<&str>,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AccountAssignment>> {
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match permission_set_id {
            None => c.query(&format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::ASSIGNMENT_COLUMNS), &[&instance_id, &account_id, &after, &limit]).await,
            Some(p) => c.query(&format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 AND permission_set_id = $5 ORDER BY seq LIMIT $4", sql::ASSIGNMENT_COLUMNS), &[&instance_id, &account_id, &after, &limit, &p]).await,
        }
        .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(assignment)
            .collect::<StoreResult<Vec<_>>>()?)
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
        let c = self.client().await?;
        let after = after_seq.unwrap_or(0);
        let rows = match account_id {
            None => c.query(&format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 ORDER BY seq LIMIT $5", sql::ASSIGNMENT_COLUMNS), &[&instance_id, &principal_id, &principal_type, &after, &limit]).await,
            Some(a) => c.query(&format!("SELECT {} FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 AND account_id = $6 ORDER BY seq LIMIT $5", sql::ASSIGNMENT_COLUMNS), &[&instance_id, &principal_id, &principal_type, &after, &limit, &a]).await,
        }
        .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(assignment)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn disassociate_principal(
        &self,
        instance_id: &str,
        principal_type: &str,
        principal_id: &str,
    ) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(map_err)?;
        tx.execute(sql::DEPROVISION_FOR_PRINCIPAL, &[&principal_id])
            .await
            .map_err(map_err)?;
        let n = tx
            .execute(
                sql::DELETE_PRINCIPAL_ASSIGNMENTS,
                &[&instance_id, &principal_type, &principal_id],
            )
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(n)
    }

    async fn list_provisioned_for_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("SELECT {} FROM provisioned_sets WHERE instance_id = $1 AND permission_set_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::PROVISIONED_COLUMNS), &[&instance_id, &permission_set_id, &after_seq.unwrap_or(0), &limit])
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(provisioned)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn list_provisioned_for_account(
        &self,
        instance_id: &str,
        account_id: &str,
        after_seq: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let c = self.client().await?;
        let rows = c
            .query(&format!("SELECT {} FROM provisioned_sets WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4", sql::PROVISIONED_COLUMNS), &[&instance_id, &account_id, &after_seq.unwrap_or(0), &limit])
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(provisioned)
            .collect::<StoreResult<Vec<_>>>()?)
    }

    async fn is_provisioned(&self, permission_set_id: &str) -> StoreResult<bool> {
        let c = self.client().await?;
        exists(&c, sql::IS_PROVISIONED, &[&permission_set_id]).await
    }
}
