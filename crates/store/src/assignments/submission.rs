//! Submitting an asynchronous request: what it names is looked up, an in-flight slot taken,
//! the request recorded and its job queued.

use super::in_flight::{in_flight_shards, shard_capacity, shard_order, take_slot, TAKE_SLOT};
use crate::db::{FromRow, Param, Row, Sql};
use crate::error::BoxError;
use crate::instances::instance_columns;
use crate::jobs;
use crate::{AssignmentTargets, AsyncRequest, Instance, Job, Store, StoreResult};
use iic_domain::assignment::{Principal, PrincipalType, RequestStatus};
use iic_domain::names::Named;
use iic_domain::organizations::AccountStatus;

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
static INSERT_REQUEST: Sql = Sql::new(
    "INSERT INTO async_requests (request_id, instance_id, kind, status, permission_set_id, principal_type, principal_id, target_id, created_at, updated_at, slot)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
);
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
}
