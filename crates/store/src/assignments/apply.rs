//! Running the requests of a batch of jobs: assignments made and removed, permission sets
//! provisioned, requests and jobs finished, slots given back, in one transaction.

use super::in_flight::{slot_counts, RELEASE_SLOTS};
use crate::db::{Db, FromRow, Param, Row, Sql, Statement, TextList};
use crate::error::BoxError;
use crate::jobs::{self, JobEnd};
use crate::{AsyncRequest, Job, Store, StoreError, StoreResult};
use iic_domain::assignment::{PrincipalType, RequestFailure, RequestKind, RequestStatus};
use iic_domain::names::Named;
use iic_domain::organizations::AccountStatus;

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
/// Seconds of the session duration a provisioned snapshot (written above) carries.
pub(crate) fn snapshot_session_secs(snapshot: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(snapshot).ok()?;
    iic_domain::permission_set::parse_duration(v.get("session_duration")?.as_str()?)
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

impl Store {
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
}
