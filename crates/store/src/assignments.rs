//! Account assignments, provisioning, and the asynchronous requests that change them.

use crate::db::{Db, Dialect, FromRow, Param, Row, Sql, Statement, TextList};
use crate::directory::deprovision_for_principal;
use crate::error::BoxError;
use crate::jobs::{self, JobEnd};
use crate::{
    AccountAssignment, AccountAssignments, AssignmentTargets, AsyncRequest, Instance, Job, Page,
    ProvisionedSet, Store, StoreError, StoreResult,
};
use iic_domain::assignment::{
    Principal, PrincipalType, RequestFailure, RequestKind, RequestStatus,
};
use iic_domain::names::Named;
use iic_domain::organizations::AccountStatus;

use crate::instances::instance_columns;

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
/// Gives back $3 slots of one counter row.
static RELEASE_SLOTS: Sql = Sql::new(
    "UPDATE instance_request_counts SET in_flight = CASE WHEN in_flight > $3 THEN in_flight - $3 ELSE 0 END
     WHERE instance_id = $1 AND shard = $2",
);

/// The values that record a request holding a slot of counter row `shard`, and queue its job.
struct Queued<'a> {
    r: &'a AsyncRequest,
    job: &'a Job,
    shard: i32,
    kind: &'static str,
    status: &'static str,
    principal_type: Option<&'static str>,
    job_kind: &'static str,
}

impl<'a> Queued<'a> {
    fn new(r: &'a AsyncRequest, job: &'a Job, shard: i32) -> Queued<'a> {
        Queued {
            r,
            job,
            shard,
            kind: r.kind.name(),
            status: RequestStatus::InProgress.name(),
            principal_type: r.principal_type.map(PrincipalType::name),
            job_kind: job.kind.name(),
        }
    }

    fn request(&self) -> [&dyn Param; 10] {
        [
            &self.r.request_id,
            &self.r.instance_id,
            &self.kind,
            &self.status,
            &self.r.permission_set_id,
            &self.principal_type,
            &self.r.principal_id,
            &self.r.target_id,
            &self.r.created_at,
            &self.shard,
        ]
    }

    fn job(&self) -> [&dyn Param; 6] {
        [
            &self.job.id,
            &self.job_kind,
            &self.job.payload,
            &jobs::PENDING,
            &self.job.run_after,
            &self.job.created_at,
        ]
    }
}

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
/// The requests jobs run, locked so that one job at a time finishes each, with the slot each
/// holds and what running it needs: the permission set's version, session duration and content
/// (NULL when it is gone), whether the principal is in the instance's identity store ($2 names
/// the group type) and whether the account is an active one ($3) of the organization. Principal
/// and account rows stay under a shared lock until the transaction ends (the permission set is
/// held by the foreign keys of what the job writes).
static LOCK_AND_CHECK: Sql = Sql::new(
    "SELECT r.seq, r.request_id, r.instance_id, r.kind, r.status, r.failure_reason,
            r.permission_set_id, r.principal_type, r.principal_id, r.target_id,
            r.created_at, r.updated_at, r.slot, p.version, p.session_duration, p.content,
       CASE WHEN r.principal_type = $2
         THEN EXISTS (SELECT 1 FROM directory_groups g JOIN instances i ON i.identity_store_id = g.identity_store_id
                      WHERE i.instance_id = r.instance_id AND g.group_id = r.principal_id FOR SHARE OF g)
         ELSE EXISTS (SELECT 1 FROM users u JOIN instances i ON i.identity_store_id = u.identity_store_id
                      WHERE i.instance_id = r.instance_id AND u.user_id = r.principal_id FOR SHARE OF u)
       END,
       EXISTS (SELECT 1 FROM accounts a JOIN instances i ON i.organization_id = a.organization_id
               WHERE i.instance_id = r.instance_id AND a.id = r.target_id AND a.status = $3 FOR SHARE OF a)
     FROM async_requests r
     LEFT JOIN permission_sets p ON p.instance_id = r.instance_id AND p.permission_set_id = r.permission_set_id
     WHERE r.request_id = ANY($1) FOR UPDATE OF r",
);
/// Finishes the requests named in $1 alike.
static FINISH_REQUESTS: Sql = Sql::new("UPDATE async_requests SET status = $2, failure_reason = $3, updated_at = $4 WHERE request_id = ANY($1)");
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

/// The instance an assignment request is for and what it names, looked up in one statement
/// when it is submitted.
static TARGETS_OF_USER: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    ",
       EXISTS (SELECT 1 FROM permission_sets p WHERE p.instance_id = i.instance_id AND p.permission_set_id = $2),
       EXISTS (SELECT 1 FROM users u WHERE u.identity_store_id = i.identity_store_id AND u.user_id = $3),
       EXISTS (SELECT 1 FROM accounts a WHERE a.id = $4 AND a.organization_id = i.organization_id AND a.status = $5)
     FROM instances i WHERE i.instance_id = $1"
));
static TARGETS_OF_GROUP: Sql = Sql::new(concat!(
    "SELECT ",
    instance_columns!(),
    ",
       EXISTS (SELECT 1 FROM permission_sets p WHERE p.instance_id = i.instance_id AND p.permission_set_id = $2),
       EXISTS (SELECT 1 FROM directory_groups g WHERE g.identity_store_id = i.identity_store_id AND g.group_id = $3),
       EXISTS (SELECT 1 FROM accounts a WHERE a.id = $4 AND a.organization_id = i.organization_id AND a.status = $5)
     FROM instances i WHERE i.instance_id = $1"
));

struct InstanceTargets(Instance, AssignmentTargets);

impl FromRow for InstanceTargets {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(InstanceTargets(
            Instance::from_row(r)?,
            AssignmentTargets {
                permission_set: r.get(7)?,
                principal: r.get(8)?,
                account: r.get(9)?,
            },
        ))
    }
}

// --- what a request does -----------------------------------------------------------------------

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

/// A request a job runs, locked, with what running it needs.
struct Locked {
    request: AsyncRequest,
    /// The counter row its in-flight slot came from.
    slot: i32,
    /// The permission set as a provisioned agency carries it, while the set exists.
    set: Option<SetState>,
    principal_ok: bool,
    account_ok: bool,
}

/// A permission set's version and a snapshot of its session duration and content.
struct SetState {
    version: i64,
    snapshot: String,
}

impl FromRow for Locked {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let version: Option<i64> = r.get(13)?;
        let set = match version {
            None => None,
            Some(version) => {
                let (duration, content): (String, String) = (r.get(14)?, r.get(15)?);
                Some(SetState {
                    version,
                    snapshot: format!(
                        "{{\"session_duration\":{},\"content\":{}}}",
                        serde_json::Value::String(duration),
                        content
                    ),
                })
            }
        };
        Ok(Locked {
            request: AsyncRequest::from_row(r)?,
            slot: r.get(12)?,
            set,
            principal_ok: r.get(16)?,
            account_ok: r.get(17)?,
        })
    }
}

/// What a job's request came to, decided before anything is written.
enum Outcome<'a> {
    /// The request is gone, finished already, or named twice in the batch: the job just ends.
    Ended(RequestStatus),
    Failed(RequestFailure),
    /// The request's permission set, as it is now (none for a deletion).
    Succeeded(Option<&'a SetState>),
}

impl Outcome<'_> {
    fn status(&self) -> RequestStatus {
        match self {
            Outcome::Ended(status) => *status,
            Outcome::Failed(_) => RequestStatus::Failed,
            Outcome::Succeeded(_) => RequestStatus::Succeeded,
        }
    }
}

/// How a request ends: its status and failure reason, as stored.
type End = (&'static str, Option<&'static str>);

/// What a creation or a provisioning comes to, from what was found when it was locked.
fn judge(l: &Locked) -> Outcome<'_> {
    let Some(set) = &l.set else {
        return Outcome::Failed(RequestFailure::PermissionSetGone);
    };
    let failure = match l.request.kind {
        RequestKind::AssignmentCreate if !l.principal_ok => Some(RequestFailure::PrincipalGone),
        RequestKind::AssignmentCreate if !l.account_ok => Some(RequestFailure::AccountNotActive),
        RequestKind::Provision if l.request.target_id.is_some() && !l.account_ok => {
            Some(RequestFailure::AccountNotActive)
        }
        _ => None,
    };
    failure.map_or(Outcome::Succeeded(Some(set)), Outcome::Failed)
}

/// Runs the requests the jobs name, finishes requests and jobs and commits, in two or three
/// round trips whatever the number of jobs: one statement locks every request and reads what
/// running it needs (and begins the transaction); deletions delete together; then every
/// write, the requests and jobs finished, the slots given back, and the commit. A request no
/// longer in progress just ends its job.
async fn apply(db: &mut Db<'_>, jobs: &[Job], now: i64) -> StoreResult<Vec<RequestStatus>> {
    let ids: Vec<String> = jobs.iter().map(|j| j.payload.clone()).collect();
    let (group, active) = (PrincipalType::Group.name(), AccountStatus::Active.name());
    let locked: Vec<Locked> = db
        .query(&LOCK_AND_CHECK, &[&TextList(&ids), &group, &active])
        .await?;
    // The request each job runs: in progress, and not run by an earlier job of the batch (a
    // job naming it again reports that job's status).
    let mut runs: Vec<Option<&Locked>> = Vec::with_capacity(jobs.len());
    let mut outcomes: Vec<Outcome<'_>> = Vec::with_capacity(jobs.len());
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        let found = locked.iter().find(|l| l.request.request_id == job.payload);
        let earlier = runs
            .iter()
            .position(|r| r.is_some_and(|r| r.request.request_id == job.payload));
        match (found, earlier) {
            (Some(l), None) if l.request.status == RequestStatus::InProgress => {
                runs.push(Some(l));
                outcomes.push(match l.request.kind {
                    // Decided by the deletion itself, below.
                    RequestKind::AssignmentDelete => Outcome::Succeeded(None),
                    _ => judge(l),
                });
            }
            (found, earlier) => {
                if let Some(first) = earlier {
                    repeats.push((i, first));
                }
                runs.push(None);
                outcomes.push(Outcome::Ended(
                    found.map_or(RequestStatus::Failed, |l| l.request.status),
                ));
            }
        }
    }

    // Deletions: whether the assignment was there is what they find.
    let deleting: Vec<(usize, &Locked, Option<&'static str>)> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|l| (i, l)))
        .filter(|(_, l)| l.request.kind == RequestKind::AssignmentDelete)
        .map(|(i, l)| (i, l, l.request.principal_type.map(PrincipalType::name)))
        .collect();
    if !deleting.is_empty() {
        let params: Vec<[&dyn Param; 5]> = deleting
            .iter()
            .map(|(_, l, principal_type)| -> [&dyn Param; 5] {
                let r = &l.request;
                [
                    &r.instance_id,
                    &r.permission_set_id,
                    principal_type,
                    &r.principal_id,
                    &r.target_id,
                ]
            })
            .collect();
        let statements: Vec<Statement<'_>> = params
            .iter()
            .map(|p| (&DELETE_ASSIGNMENT, &p[..]))
            .collect();
        let deleted = db.execute_all(&statements).await?;
        for ((i, _, _), n) in deleting.iter().zip(deleted) {
            if n == 0 {
                outcomes[*i] = Outcome::Failed(RequestFailure::NoSuchAssignment);
            }
        }
    }

    // What succeeded requests change.
    let principal_types: Vec<Option<&'static str>> = runs
        .iter()
        .map(|r| r.and_then(|l| l.request.principal_type.map(PrincipalType::name)))
        .collect();
    let mut writes: Vec<(&Sql, Vec<&dyn Param>)> = Vec::new();
    for ((run, outcome), principal_type) in runs.iter().zip(&outcomes).zip(&principal_types) {
        let (Some(l), Outcome::Succeeded(set)) = (run, outcome) else {
            continue;
        };
        let r = &l.request;
        match (r.kind, set, &r.target_id) {
            (RequestKind::AssignmentCreate, Some(set), _) => {
                writes.push((
                    &INSERT_ASSIGNMENT,
                    vec![
                        &r.instance_id,
                        &r.permission_set_id,
                        principal_type,
                        &r.principal_id,
                        &r.target_id,
                        &now,
                    ],
                ));
                writes.push((
                    &PROVISION_IF_ABSENT,
                    vec![
                        &r.instance_id,
                        &r.permission_set_id,
                        &r.target_id,
                        &set.version,
                        &set.snapshot,
                        &now,
                    ],
                ));
            }
            (RequestKind::AssignmentDelete, _, _) => writes.push((
                &DEPROVISION_IF_UNUSED,
                vec![&r.permission_set_id, &r.target_id],
            )),
            (RequestKind::Provision, Some(set), Some(_)) => writes.push((
                &PROVISION,
                vec![
                    &r.instance_id,
                    &r.permission_set_id,
                    &r.target_id,
                    &set.version,
                    &set.snapshot,
                    &now,
                ],
            )),
            (RequestKind::Provision, Some(set), None) => writes.push((
                &REPROVISION_ALL,
                vec![&r.permission_set_id, &set.version, &set.snapshot, &now],
            )),
            (_, None, _) => {}
        }
    }

    // The requests run here finish alike per status and reason; every job ends.
    let mut ends: Vec<(End, Vec<String>)> = Vec::new();
    for (run, outcome) in runs.iter().zip(&outcomes) {
        if let Some(l) = run {
            let reason = match outcome {
                Outcome::Failed(f) => Some(f.reason()),
                _ => None,
            };
            let end = (outcome.status().name(), reason);
            match ends.iter_mut().find(|(e, _)| *e == end) {
                Some((_, ids)) => ids.push(l.request.request_id.clone()),
                None => ends.push((end, vec![l.request.request_id.clone()])),
            }
        }
    }
    let job_ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let request_lists: Vec<TextList<'_>> = ends.iter().map(|(_, ids)| TextList(ids)).collect();
    let job_list = TextList(&job_ids);
    for (((status, reason), _), list) in ends.iter().zip(&request_lists) {
        writes.push((&FINISH_REQUESTS, vec![list, status, reason, &now]));
    }
    let done = JobEnd::Done.state();
    writes.push((&jobs::FINISH_ALL, vec![&job_list, &done, &now]));

    // The slots go back last, so that their counter rows stay locked for one round trip only,
    // and in the rows' order, so that two transactions giving back the same rows cannot
    // deadlock.
    let slots = slot_counts(
        runs.iter()
            .flatten()
            .map(|l| (l.request.instance_id.clone(), l.slot))
            .collect(),
    );
    for (instance, slot, n) in &slots {
        writes.push((&RELEASE_SLOTS, vec![instance, slot, n]));
    }
    let statements: Vec<Statement<'_>> = writes.iter().map(|(sql, p)| (*sql, &p[..])).collect();
    db.commit_with(&statements).await?;
    let mut statuses: Vec<RequestStatus> = outcomes.iter().map(Outcome::status).collect();
    for (repeat, first) in repeats {
        statuses[repeat] = statuses[first];
    }
    Ok(statuses)
}

/// How many slots each counter row gets back, in the rows' order.
fn slot_counts(mut released: Vec<(String, i32)>) -> Vec<(String, i32, i64)> {
    released.sort();
    let mut counts: Vec<(String, i32, i64)> = Vec::new();
    for (instance, slot) in released {
        match counts.last_mut() {
            Some((i, s, n)) if *i == instance && *s == slot => *n += 1,
            _ => counts.push((instance, slot, 1)),
        }
    }
    counts
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
        // Nearly always the first counter row a request tries has room: take it, record the
        // request and queue its job in one round trip, and undo it all when the row was full
        // or not made yet. Then the rows are tried one by one.
        let (r, j) = (request.clone(), job.clone());
        let took = self
            .write("enqueue_request", async move |db| {
                let shards = in_flight_shards(db.dialect());
                let Some(shard) = shard_order(&r.request_id, shards).next() else {
                    return Ok(false);
                };
                let capacity = shard_capacity(max_in_flight, shards, shard);
                let q = Queued::new(&r, &j, shard as i32);
                let slot: [&dyn Param; 3] = [&r.instance_id, &q.shard, &capacity];
                let (request, job) = (q.request(), q.job());
                let counts = db
                    .execute_all(&[
                        (&TAKE_SLOT, &slot),
                        (&INSERT_REQUEST, &request),
                        (&jobs::INSERT, &job),
                    ])
                    .await?;
                if counts.first() == Some(&1) {
                    return Ok(true);
                }
                db.discard();
                Ok(false)
            })
            .await?;
        if took {
            return Ok(true);
        }
        let (r, j) = (request.clone(), job.clone());
        self.write("enqueue_request", async move |db| {
            let Some(shard) = take_slot(db, &r.instance_id, &r.request_id, max_in_flight).await?
            else {
                return Ok(false);
            };
            let q = Queued::new(&r, &j, shard);
            let (request, job) = (q.request(), q.job());
            db.commit_with(&[(&INSERT_REQUEST, &request), (&jobs::INSERT, &job)])
                .await?;
            Ok(true)
        })
        .await
    }
    /// The instance an assignment request is for, and which of the permission set, principal
    /// and account it names exist; None when there is no such instance.
    pub async fn assignment_targets(
        &self,
        instance_id: &str,
        permission_set_id: &str,
        principal: &Principal,
        account_id: &str,
    ) -> StoreResult<Option<(Instance, AssignmentTargets)>> {
        let (instance, set, p, account) = (
            instance_id.to_string(),
            permission_set_id.to_string(),
            principal.clone(),
            account_id.to_string(),
        );
        self.read("assignment_targets", async move |db| {
            let targets = match p.kind {
                PrincipalType::User => &TARGETS_OF_USER,
                PrincipalType::Group => &TARGETS_OF_GROUP,
            };
            let active = AccountStatus::Active.name();
            let found: Option<InstanceTargets> = db
                .query_opt(targets, &[&instance, &set, &p.id, &account, &active])
                .await?;
            Ok(found.map(|InstanceTargets(i, t)| (i, t)))
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
        let statuses = self.apply_requests(std::slice::from_ref(job), now).await?;
        statuses
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::backend("apply_request", "no status for the job's request"))
    }

    /// Like [`Store::apply_request`] for several jobs, in one transaction: one commit for all,
    /// and the in-flight slots given back together at its end. When it fails nothing is
    /// written; run the jobs one by one to find the one that fails.
    pub async fn apply_requests(&self, jobs: &[Job], now: i64) -> StoreResult<Vec<RequestStatus>> {
        let jobs = jobs.to_vec();
        self.write("apply_requests", async move |db| {
            apply(db, &jobs, now).await
        })
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
