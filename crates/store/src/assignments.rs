//! Account assignments, provisioning, and the asynchronous requests that change them.

use crate::db::{Db, Dialect, FromRow, Row, Sql};
use crate::directory::deprovision_for_principal;
use crate::error::BoxError;
use crate::jobs::{finish_job, insert_job, JobEnd};
use crate::{
    AccountAssignment, AccountAssignments, AsyncRequest, Job, Page, ProvisionedSet, Store,
    StoreResult,
};
use iic_domain::assignment::{
    Principal, PrincipalType, RequestFailure, RequestKind, RequestStatus,
};
use iic_domain::names::Named;

macro_rules! request_columns {
    () => {
        "seq, request_id, instance_id, kind, status, failure_reason, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at"
    };
}
macro_rules! assignment_columns {
    () => {
        "seq, instance_id, permission_set_id, principal_type, principal_id, account_id, created_at"
    };
}
macro_rules! provisioned_columns {
    () => {
        "seq, instance_id, permission_set_id, account_id, version, snapshot, updated_at"
    };
}

// --- the in-flight bound ---------------------------------------------------------------------

/// The in-flight count of an instance is kept in counter rows, so that checking the bound costs
/// the same however many requests are in progress. On PostgreSQL an instance has several counter
/// rows ("shards", each with its share of the bound) so that concurrent requests lock different
/// rows and their commits overlap; SQLite runs one write at a time, and one row serves. A request
/// records the shard it took, and its completion gives that slot back.
fn in_flight_shards(dialect: Dialect) -> i64 {
    match dialect {
        Dialect::Sqlite => 1,
        Dialect::Postgres => 16,
    }
}

static ENSURE_COUNTER: Sql = Sql::new(
    "INSERT INTO instance_request_counts (instance_id, shard, in_flight) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
);
static TAKE_SLOT: Sql = Sql::new(
    "UPDATE instance_request_counts SET in_flight = in_flight + 1 WHERE instance_id = $1 AND shard = $2 AND in_flight < $3",
);
static RELEASE_SLOT: Sql = Sql::new(
    "UPDATE instance_request_counts SET in_flight = in_flight - 1
     WHERE instance_id = $1 AND shard = (SELECT slot FROM async_requests WHERE request_id = $2) AND in_flight > 0",
);

/// Shard `shard`'s share of a bound of `max` spread over `shards` rows; the shares sum to `max`.
fn shard_capacity(max: i64, shards: i64, shard: i64) -> i64 {
    max / shards + i64::from(shard < max % shards)
}

/// The shards to try, in order: all of them, starting at one picked from the (random) request id
/// so that concurrent requests start on different rows.
fn shard_order(request_id: &str, shards: i64) -> impl Iterator<Item = i64> {
    let start = request_id
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % shards);
    (0..shards).map(move |i| (start + i) % shards)
}

/// Takes one in-flight slot of the instance; returns the shard it came from, or None when every
/// shard is at its share of the bound. The conditional increment holds the bound across
/// servers: a shard's row stays locked until commit.
async fn take_slot(
    db: &mut Db<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
) -> StoreResult<Option<i32>> {
    let shards = in_flight_shards(db.dialect());
    if let Some(shard) = try_shards(db, instance_id, request_id, max_in_flight, shards).await? {
        return Ok(Some(shard));
    }
    // An instance's counter rows are made by its first requests (several may race to make them:
    // the losers wait for the winner's rows); then every shard is tried once more.
    for shard in 0..shards {
        let shard = shard as i32;
        db.execute(&ENSURE_COUNTER, &[&instance_id, &shard]).await?;
    }
    try_shards(db, instance_id, request_id, max_in_flight, shards).await
}

async fn try_shards(
    db: &mut Db<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
    shards: i64,
) -> StoreResult<Option<i32>> {
    for shard in shard_order(request_id, shards) {
        let capacity = shard_capacity(max_in_flight, shards, shard);
        let shard = shard as i32;
        if capacity > 0
            && db
                .execute(&TAKE_SLOT, &[&instance_id, &shard, &capacity])
                .await?
                == 1
        {
            return Ok(Some(shard));
        }
    }
    Ok(None)
}

// --- requests ----------------------------------------------------------------------------------

static INSERT_REQUEST: Sql = Sql::new(
    "INSERT INTO async_requests (request_id, instance_id, kind, status, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at, slot)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
);
static GET_REQUEST: Sql = Sql::new(concat!(
    "SELECT ",
    request_columns!(),
    " FROM async_requests WHERE request_id = $1"
));
/// The request a job runs, locked so that one job at a time finishes it.
static LOCK_REQUEST: Sql = Sql::new(concat!(
    "SELECT ",
    request_columns!(),
    " FROM async_requests WHERE request_id = $1 FOR UPDATE"
));
static REQUESTS: Sql = Sql::new(concat!(
    "SELECT ",
    request_columns!(),
    " FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static REQUESTS_WITH_STATUS: Sql = Sql::new(concat!(
    "SELECT ",
    request_columns!(),
    " FROM async_requests WHERE instance_id = $1 AND kind = $2 AND seq > $3 AND status = $5 ORDER BY seq LIMIT $4"
));
static FINISH_REQUEST: Sql = Sql::new(
    "UPDATE async_requests SET status = $2, failure_reason = $3, updated_at = $4 WHERE request_id = $1",
);

// --- what a request does -----------------------------------------------------------------------

/// The permission set's version, session duration and content, while it exists (it stays, until
/// the job ends, under a shared lock).
static SET_STATE: Sql = Sql::new(
    "SELECT version, session_duration, content FROM permission_sets WHERE instance_id = $1 AND permission_set_id = $2 FOR SHARE",
);
static USER_IN_INSTANCE: Sql = Sql::new(
    "SELECT 1 FROM users u JOIN instances i ON i.identity_store_id = u.identity_store_id
     WHERE i.instance_id = $1 AND u.user_id = $2 FOR SHARE OF u",
);
static GROUP_IN_INSTANCE: Sql = Sql::new(
    "SELECT 1 FROM directory_groups g JOIN instances i ON i.identity_store_id = g.identity_store_id
     WHERE i.instance_id = $1 AND g.group_id = $2 FOR SHARE OF g",
);
static ACCOUNT_IN_INSTANCE: Sql = Sql::new(
    "SELECT 1 FROM accounts a JOIN instances i ON i.organization_id = a.organization_id
     WHERE i.instance_id = $1 AND a.id = $2 AND a.status = $3 FOR SHARE OF a",
);
static INSERT_ASSIGNMENT: Sql = Sql::new(
    "INSERT INTO account_assignments (instance_id, permission_set_id, principal_type, principal_id, account_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
);
static DELETE_ASSIGNMENT: Sql = Sql::new(
    "DELETE FROM account_assignments WHERE instance_id = $1 AND permission_set_id = $2 AND principal_type = $3 AND principal_id = $4 AND account_id = $5",
);
/// Provisions the set to the account unless it is there already.
static PROVISION_IF_ABSENT: Sql = Sql::new(
    "INSERT INTO provisioned_sets (instance_id, permission_set_id, account_id, version, snapshot, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (permission_set_id, account_id) DO NOTHING",
);
static PROVISION: Sql = Sql::new(
    "INSERT INTO provisioned_sets (instance_id, permission_set_id, account_id, version, snapshot, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (permission_set_id, account_id) DO UPDATE SET version = $4, snapshot = $5, updated_at = $6",
);
static REPROVISION_ALL: Sql = Sql::new(
    "UPDATE provisioned_sets SET version = $2, snapshot = $3, updated_at = $4 WHERE permission_set_id = $1",
);
/// After an assignment goes: the set leaves the account when no assignment of it remains there.
static DEPROVISION_IF_UNUSED: Sql = Sql::new(
    "DELETE FROM provisioned_sets WHERE permission_set_id = $1 AND account_id = $2
     AND NOT EXISTS (SELECT 1 FROM account_assignments WHERE permission_set_id = $1 AND account_id = $2)",
);

// --- listings ------------------------------------------------------------------------------------

static OF_ACCOUNT: Sql = Sql::new(concat!(
    "SELECT ",
    assignment_columns!(),
    " FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static OF_ACCOUNT_AND_SET: Sql = Sql::new(concat!(
    "SELECT ",
    assignment_columns!(),
    " FROM account_assignments WHERE instance_id = $1 AND account_id = $2 AND seq > $3 AND permission_set_id = $5 ORDER BY seq LIMIT $4"
));
static OF_PRINCIPAL: Sql = Sql::new(concat!(
    "SELECT ",
    assignment_columns!(),
    " FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 ORDER BY seq LIMIT $5"
));
static OF_PRINCIPAL_IN_ACCOUNT: Sql = Sql::new(concat!(
    "SELECT ",
    assignment_columns!(),
    " FROM account_assignments WHERE instance_id = $1 AND principal_id = $2 AND principal_type = $3 AND seq > $4 AND account_id = $6 ORDER BY seq LIMIT $5"
));
static DELETE_OF_PRINCIPAL: Sql = Sql::new(
    "DELETE FROM account_assignments WHERE instance_id = $1 AND principal_type = $2 AND principal_id = $3",
);
static PROVISIONED_FOR_SET: Sql = Sql::new(concat!(
    "SELECT ",
    provisioned_columns!(),
    " FROM provisioned_sets WHERE instance_id = $1 AND permission_set_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static PROVISIONED_FOR_ACCOUNT: Sql = Sql::new(concat!(
    "SELECT ",
    provisioned_columns!(),
    " FROM provisioned_sets WHERE instance_id = $1 AND account_id = $2 AND seq > $3 ORDER BY seq LIMIT $4"
));
static IS_PROVISIONED: Sql =
    Sql::new("SELECT 1 FROM provisioned_sets WHERE permission_set_id = $1 LIMIT 1");

impl FromRow for AsyncRequest {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AsyncRequest {
            seq: r.get(0)?,
            request_id: r.get(1)?,
            instance_id: r.get(2)?,
            kind: r.named(3)?,
            status: r.named(4)?,
            failure_reason: r.get(5)?,
            permission_set_id: r.get(6)?,
            principal_type: r.named_opt(7)?,
            principal_id: r.get(8)?,
            target_id: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
        })
    }
}

impl FromRow for AccountAssignment {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(AccountAssignment {
            seq: r.get(0)?,
            instance_id: r.get(1)?,
            permission_set_id: r.get(2)?,
            principal_type: r.named(3)?,
            principal_id: r.get(4)?,
            account_id: r.get(5)?,
            created_at: r.get(6)?,
        })
    }
}

impl FromRow for ProvisionedSet {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
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
}

/// A permission set as a provisioned agency carries it: its version and a snapshot of its
/// session duration and content.
struct SetState {
    version: i64,
    snapshot: String,
}

impl FromRow for SetState {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let (duration, content): (String, String) = (r.get(1)?, r.get(2)?);
        Ok(SetState {
            version: r.get(0)?,
            snapshot: format!(
                "{{\"session_duration\":{},\"content\":{}}}",
                serde_json::Value::String(duration),
                content
            ),
        })
    }
}

async fn set_state(db: &mut Db<'_>, req: &AsyncRequest) -> StoreResult<Option<SetState>> {
    db.query_opt(&SET_STATE, &[&req.instance_id, &req.permission_set_id])
        .await
}

async fn account_is_active(
    db: &mut Db<'_>,
    instance_id: &str,
    account_id: &str,
) -> StoreResult<bool> {
    use iic_domain::organizations::AccountStatus;
    db.exists(
        &ACCOUNT_IN_INSTANCE,
        &[&instance_id, &account_id, &AccountStatus::Active.name()],
    )
    .await
}

/// Assigns the principal to the account, provisioning the set there if needed.
async fn create_assignment(
    db: &mut Db<'_>,
    req: &AsyncRequest,
    now: i64,
) -> StoreResult<Option<RequestFailure>> {
    let Some(set) = set_state(db, req).await? else {
        return Ok(Some(RequestFailure::PermissionSetGone));
    };
    let (Some(kind), Some(principal)) = (req.principal_type, &req.principal_id) else {
        return Ok(Some(RequestFailure::PrincipalGone));
    };
    let in_instance = match kind {
        PrincipalType::User => &USER_IN_INSTANCE,
        PrincipalType::Group => &GROUP_IN_INSTANCE,
    };
    if !db
        .exists(in_instance, &[&req.instance_id, principal])
        .await?
    {
        return Ok(Some(RequestFailure::PrincipalGone));
    }
    let Some(account) = &req.target_id else {
        return Ok(Some(RequestFailure::AccountNotActive));
    };
    if !account_is_active(db, &req.instance_id, account).await? {
        return Ok(Some(RequestFailure::AccountNotActive));
    }
    db.execute(
        &INSERT_ASSIGNMENT,
        &[
            &req.instance_id,
            &req.permission_set_id,
            &kind.name(),
            principal,
            account,
            &now,
        ],
    )
    .await?;
    db.execute(
        &PROVISION_IF_ABSENT,
        &[
            &req.instance_id,
            &req.permission_set_id,
            account,
            &set.version,
            &set.snapshot,
            &now,
        ],
    )
    .await?;
    Ok(None)
}

/// Removes the assignment; the set leaves the account with its last assignment there.
async fn delete_assignment(
    db: &mut Db<'_>,
    req: &AsyncRequest,
) -> StoreResult<Option<RequestFailure>> {
    let deleted = db
        .execute(
            &DELETE_ASSIGNMENT,
            &[
                &req.instance_id,
                &req.permission_set_id,
                &req.principal_type.map(PrincipalType::name),
                &req.principal_id,
                &req.target_id,
            ],
        )
        .await?;
    if deleted == 0 {
        return Ok(Some(RequestFailure::NoSuchAssignment));
    }
    db.execute(
        &DEPROVISION_IF_UNUSED,
        &[&req.permission_set_id, &req.target_id],
    )
    .await?;
    Ok(None)
}

/// Provisions the set's current version to one account, or again to every account it is
/// provisioned to.
async fn provision(
    db: &mut Db<'_>,
    req: &AsyncRequest,
    now: i64,
) -> StoreResult<Option<RequestFailure>> {
    let Some(set) = set_state(db, req).await? else {
        return Ok(Some(RequestFailure::PermissionSetGone));
    };
    match &req.target_id {
        Some(account) => {
            if !account_is_active(db, &req.instance_id, account).await? {
                return Ok(Some(RequestFailure::AccountNotActive));
            }
            db.execute(
                &PROVISION,
                &[
                    &req.instance_id,
                    &req.permission_set_id,
                    account,
                    &set.version,
                    &set.snapshot,
                    &now,
                ],
            )
            .await?;
        }
        None => {
            db.execute(
                &REPROVISION_ALL,
                &[&req.permission_set_id, &set.version, &set.snapshot, &now],
            )
            .await?;
        }
    }
    Ok(None)
}

/// Runs the request a job names and finishes both; a request no longer in progress just ends
/// the job.
async fn apply(db: &mut Db<'_>, job: &Job, now: i64) -> StoreResult<RequestStatus> {
    let req: Option<AsyncRequest> = db.query_opt(&LOCK_REQUEST, &[&job.payload]).await?;
    let req = match req {
        Some(r) if r.status == RequestStatus::InProgress => r,
        other => {
            finish_job(db, &job.id, JobEnd::Done, now).await?;
            return Ok(other.map_or(RequestStatus::Failed, |r| r.status));
        }
    };
    let failure = match req.kind {
        RequestKind::AssignmentCreate => create_assignment(db, &req, now).await?,
        RequestKind::AssignmentDelete => delete_assignment(db, &req).await?,
        RequestKind::Provision => provision(db, &req, now).await?,
    };
    let status = match failure {
        None => RequestStatus::Succeeded,
        Some(_) => RequestStatus::Failed,
    };
    db.execute(
        &FINISH_REQUEST,
        &[
            &req.request_id,
            &status.name(),
            &failure.map(RequestFailure::reason),
            &now,
        ],
    )
    .await?;
    db.execute(&RELEASE_SLOT, &[&req.instance_id, &req.request_id])
        .await?;
    finish_job(db, &job.id, JobEnd::Done, now).await?;
    Ok(status)
}

impl Store {
    /// Records a request and queues its job, unless `max_in_flight` requests of the instance
    /// are still in progress (then false, nothing written).
    pub async fn enqueue_request(
        &self,
        request: &AsyncRequest,
        job: &Job,
        max_in_flight: i64,
    ) -> StoreResult<bool> {
        let (r, job) = (request.clone(), job.clone());
        self.write("enqueue_request", async move |db| {
            let Some(shard) = take_slot(db, &r.instance_id, &r.request_id, max_in_flight).await?
            else {
                return Ok(false);
            };
            db.execute(
                &INSERT_REQUEST,
                &[
                    &r.request_id,
                    &r.instance_id,
                    &r.kind.name(),
                    &RequestStatus::InProgress.name(),
                    &r.permission_set_id,
                    &r.principal_type.map(PrincipalType::name),
                    &r.principal_id,
                    &r.target_id,
                    &r.created_at,
                    &shard,
                ],
            )
            .await?;
            insert_job(db, &job).await?;
            Ok(true)
        })
        .await
    }

    /// The request of this instance and kind.
    pub async fn get_request(
        &self,
        instance_id: &str,
        kind: RequestKind,
        request_id: &str,
    ) -> StoreResult<Option<AsyncRequest>> {
        let (instance, id) = (instance_id.to_string(), request_id.to_string());
        self.read("get_request", async move |db| {
            // By the unique request id alone, so the unique index serves it; then the owner check.
            let found: Option<AsyncRequest> = db.query_opt(&GET_REQUEST, &[&id]).await?;
            Ok(found.filter(|r| r.instance_id == instance && r.kind == kind))
        })
        .await
    }

    pub async fn list_requests(
        &self,
        instance_id: &str,
        kind: RequestKind,
        status: Option<RequestStatus>,
        page: Page,
    ) -> StoreResult<Vec<AsyncRequest>> {
        let instance = instance_id.to_string();
        self.read("list_requests", async move |db| {
            let (kind, after, limit) = (kind.name(), page.after_seq(), page.limit);
            match status {
                None => {
                    db.query(&REQUESTS, &[&instance, &kind, &after, &limit])
                        .await
                }
                Some(s) => {
                    db.query(
                        &REQUESTS_WITH_STATUS,
                        &[&instance, &kind, &after, &limit, &s.name()],
                    )
                    .await
                }
            }
        })
        .await
    }

    /// Runs the request named by `job` (assignment creation or deletion, provisioning),
    /// checking that what it needs still exists, and finishes request and job in the same
    /// transaction. Returns the request's final status.
    pub async fn apply_request(&self, job: &Job, now: i64) -> StoreResult<RequestStatus> {
        let job = job.clone();
        self.write("apply_request", async move |db| apply(db, &job, now).await)
            .await
    }

    pub async fn list_assignments(
        &self,
        instance_id: &str,
        of: AccountAssignments<'_>,
        page: Page,
    ) -> StoreResult<Vec<AccountAssignment>> {
        let (instance, account, set) = (
            instance_id.to_string(),
            of.account_id.to_string(),
            of.permission_set_id.map(str::to_string),
        );
        self.read("list_assignments", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match set {
                None => {
                    db.query(&OF_ACCOUNT, &[&instance, &account, &after, &limit])
                        .await
                }
                Some(s) => {
                    db.query(
                        &OF_ACCOUNT_AND_SET,
                        &[&instance, &account, &after, &limit, &s],
                    )
                    .await
                }
            }
        })
        .await
    }

    /// The principal's assignments, in every account or in one.
    pub async fn list_assignments_for_principal(
        &self,
        instance_id: &str,
        principal: &Principal,
        account_id: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<AccountAssignment>> {
        let (instance, p, account) = (
            instance_id.to_string(),
            principal.clone(),
            account_id.map(str::to_string),
        );
        self.read("list_assignments_for_principal", async move |db| {
            let (kind, after, limit) = (p.kind.name(), page.after_seq(), page.limit);
            match account {
                None => {
                    db.query(&OF_PRINCIPAL, &[&instance, &p.id, &kind, &after, &limit])
                        .await
                }
                Some(a) => {
                    db.query(
                        &OF_PRINCIPAL_IN_ACCOUNT,
                        &[&instance, &p.id, &kind, &after, &limit, &a],
                    )
                    .await
                }
            }
        })
        .await
    }

    /// Removes every assignment of a principal (and the agencies only it held); returns how
    /// many.
    pub async fn disassociate_principal(
        &self,
        instance_id: &str,
        principal: &Principal,
    ) -> StoreResult<u64> {
        let (instance, p) = (instance_id.to_string(), principal.clone());
        self.write("disassociate_principal", async move |db| {
            deprovision_for_principal(db, &p.id).await?;
            db.execute(&DELETE_OF_PRINCIPAL, &[&instance, &p.kind.name(), &p.id])
                .await
        })
        .await
    }

    pub async fn list_provisioned_for_set(
        &self,
        instance_id: &str,
        permission_set_id: &str,
        page: Page,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let (instance, set) = (instance_id.to_string(), permission_set_id.to_string());
        self.read("list_provisioned_for_set", async move |db| {
            db.query(
                &PROVISIONED_FOR_SET,
                &[&instance, &set, &page.after_seq(), &page.limit],
            )
            .await
        })
        .await
    }

    pub async fn list_provisioned_for_account(
        &self,
        instance_id: &str,
        account_id: &str,
        page: Page,
    ) -> StoreResult<Vec<ProvisionedSet>> {
        let (instance, account) = (instance_id.to_string(), account_id.to_string());
        self.read("list_provisioned_for_account", async move |db| {
            db.query(
                &PROVISIONED_FOR_ACCOUNT,
                &[&instance, &account, &page.after_seq(), &page.limit],
            )
            .await
        })
        .await
    }

    /// Whether the set is provisioned to any account.
    pub async fn is_provisioned(&self, permission_set_id: &str) -> StoreResult<bool> {
        let set = permission_set_id.to_string();
        self.read("is_provisioned", async move |db| {
            db.exists(&IS_PROVISIONED, &[&set]).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_shares_sum_to_the_bound() {
        for (max, shards) in [(10_000, 16), (5, 16), (1, 1), (17, 16), (0, 4)] {
            let shares: Vec<i64> = (0..shards)
                .map(|s| shard_capacity(max, shards, s))
                .collect();
            assert_eq!(shares.iter().sum::<i64>(), max, "{max} over {shards}");
            assert!(shares.iter().max().unwrap_or(&0) - shares.iter().min().unwrap_or(&0) <= 1);
        }
    }

    #[test]
    fn every_shard_is_tried_once() {
        for id in ["a", "0123456789abcdef0123456789abcdef", ""] {
            let mut order: Vec<i64> = shard_order(id, 16).collect();
            order.sort();
            assert_eq!(order, (0..16).collect::<Vec<_>>());
        }
        assert_eq!(shard_order("x", 1).collect::<Vec<_>>(), vec![0]);
    }
}
