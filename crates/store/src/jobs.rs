//! Durable background work: claimed by one worker at a time under a lease, finished exactly
//! once, in the same transaction as the work it did.

use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::org_structure::{FINISH_CLOSE, SET_STATUS};
use crate::{Claim, Job, JobRecord, Store, StoreResult};
use iic_domain::job::JobKind;
use iic_domain::names::Named;
use iic_domain::organizations::{AccountStatus, ClosureFailure, ClosureState};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Running,
    Done,
    /// Its work was gone when it ran (e.g. its request was deleted).
    Abandoned,
    /// It kept failing, or failed in a way that would repeat, and was given up; its work
    /// failed visibly with it.
    Failed,
}

impl Named for JobState {
    const WHAT: &'static str = "job state";
    const ALL: &'static [Self] = &[
        Self::Pending,
        Self::Running,
        Self::Done,
        Self::Abandoned,
        Self::Failed,
    ];
    fn name(self) -> &'static str {
        match self {
            Self::Pending => PENDING,
            Self::Running => "running",
            Self::Done => "done",
            Self::Abandoned => "abandoned",
            Self::Failed => "failed",
        }
    }
}

/// The state of a job [`INSERT`] makes ($4).
pub(crate) const PENDING: &str = "pending";

/// How a job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobEnd {
    Done,
    Abandoned,
}

impl JobEnd {
    /// The state the job is left in, for [`FINISH`] ($2).
    pub(crate) fn state(self) -> &'static str {
        match self {
            JobEnd::Done => JobState::Done.name(),
            JobEnd::Abandoned => JobState::Abandoned.name(),
        }
    }
}

pub(crate) static INSERT: Sql = Sql::new(
    "INSERT INTO jobs (id, kind, payload, state, attempts, run_after, created_at) VALUES ($1, $2, $3, $4, 0, $5, $6)",
);
pub(crate) static FINISH: Sql = Sql::new(
    "UPDATE jobs SET state = $2, finished_at = $3, locked_by = NULL, locked_until = NULL WHERE id = $1",
);
/// Ends the jobs named in $1 alike.
pub(crate) static FINISH_ALL: Sql = Sql::new("UPDATE jobs SET state = $2, finished_at = $3, locked_by = NULL, locked_until = NULL WHERE id = ANY($1)");
static RETRY: Sql = Sql::new(
    "UPDATE jobs SET state = $3, run_after = $2, last_error = $4, locked_by = NULL, locked_until = NULL WHERE id = $1",
);
static FAIL: Sql = Sql::new(
    "UPDATE jobs SET state = $2, finished_at = $3, last_error = $4, locked_by = NULL, locked_until = NULL WHERE id = $1",
);
static GET: Sql = Sql::new(
    "SELECT id, kind, payload, attempts, run_after, created_at, state, last_error FROM jobs WHERE id = $1",
);
/// Puts a closing account back to active, if it is still closing ($3).
static REOPEN: Sql = Sql::new("UPDATE accounts SET status = $2 WHERE id = $1 AND status = $3");
static FAIL_CLOSE: Sql = Sql::new(
    "UPDATE close_account_statuses SET failure_reason = $2, updated_at = $3 WHERE account_id = $1 AND state = $4",
);
/// Claims the oldest runnable jobs: pending and due ($6 = pending, $7 = $1), then running with
/// an expired lease ($6 = running, compared with `locked_until`) — two indexed look-ups rather
/// than one `OR` that would scan the table. Only kinds this server knows are claimed, so that
/// during an upgrade an older server leaves a newer server's jobs alone. `SKIP LOCKED` lets
/// several servers on one PostgreSQL database claim different jobs at once.
static CLAIM_DUE: Sql = Sql::new(
    "UPDATE jobs SET state = $7, attempts = attempts + 1, locked_by = $2, locked_until = $3
     WHERE id IN (SELECT id FROM jobs WHERE state = $6 AND run_after <= $1 AND kind = ANY($5)
                  ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts, run_after, created_at, seq",
);
static CLAIM_EXPIRED: Sql = Sql::new(
    "UPDATE jobs SET state = $6, attempts = attempts + 1, locked_by = $2, locked_until = $3
     WHERE id IN (SELECT id FROM jobs WHERE state = $6 AND locked_until < $1 AND kind = ANY($5)
                  ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts, run_after, created_at, seq",
);

impl FromRow for Job {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Job {
            id: r.get(0)?,
            kind: r.named(1)?,
            payload: r.get(2)?,
            attempts: r.get(3)?,
            run_after: r.get(4)?,
            created_at: r.get(5)?,
        })
    }
}

impl FromRow for JobRecord {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(JobRecord {
            job: Job::from_row(r)?,
            state: r.named(6)?,
            last_error: r.get(7)?,
        })
    }
}

/// A claimed job and its place in the queue.
struct Claimed(i64, Job);

impl FromRow for Claimed {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Claimed(r.get(6)?, Job::from_row(r)?))
    }
}

pub(crate) async fn insert_job(db: &mut Db<'_>, job: &Job) -> StoreResult<()> {
    db.execute(
        &INSERT,
        &[
            &job.id,
            &job.kind.name(),
            &job.payload,
            &PENDING,
            &job.run_after,
            &job.created_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn finish_job(
    db: &mut Db<'_>,
    job_id: &str,
    end: JobEnd,
    now: i64,
) -> StoreResult<()> {
    db.execute(&FINISH, &[&job_id, &end.state(), &now]).await?;
    Ok(())
}

/// Ends a job as failed, keeping `note` (why) beside it.
pub(crate) async fn fail_job(
    db: &mut Db<'_>,
    job_id: &str,
    note: &str,
    now: i64,
) -> StoreResult<()> {
    db.execute(&FAIL, &[&job_id, &JobState::Failed.name(), &now, &note])
        .await?;
    Ok(())
}

impl Store {
    /// Claims up to `claim.limit` runnable jobs, oldest first: pending and due, then running
    /// with an expired lease. Each is leased to `claim.worker` until `now + lease_ms`.
    pub async fn claim_jobs(&self, claim: Claim<'_>) -> StoreResult<Vec<Job>> {
        let worker = claim.worker.to_string();
        let (now, until, limit) = (claim.now, claim.now + claim.lease_ms, claim.limit);
        self.write("claim_jobs", async move |db| {
            let kinds: Vec<String> = JobKind::ALL.iter().map(|k| k.name().to_string()).collect();
            let kinds = TextList(&kinds);
            let (pending, running) = (JobState::Pending.name(), JobState::Running.name());
            let mut claimed: Vec<Claimed> = Vec::with_capacity(limit);
            let wanted = i64::try_from(limit).unwrap_or(i64::MAX);
            claimed.extend(
                db.query::<Claimed>(
                    &CLAIM_DUE,
                    &[&now, &worker, &until, &wanted, &kinds, &pending, &running],
                )
                .await?,
            );
            let wanted = wanted - claimed.len() as i64;
            if wanted > 0 {
                claimed.extend(
                    db.query::<Claimed>(
                        &CLAIM_EXPIRED,
                        &[&now, &worker, &until, &wanted, &kinds, &running],
                    )
                    .await?,
                );
            }
            // RETURNING gives no order.
            claimed.sort_by_key(|c| c.0);
            Ok(claimed.into_iter().map(|c| c.1).collect())
        })
        .await
    }

    /// Puts a job back to be tried again at `run_after`; `note` says why its run failed.
    pub async fn retry_job(&self, job_id: &str, run_after: i64, note: &str) -> StoreResult<()> {
        let (id, note) = (job_id.to_string(), note.to_string());
        self.write_one("retry_job", async move |db| {
            db.execute(&RETRY, &[&id, &run_after, &JobState::Pending.name(), &note])
                .await?;
            Ok(())
        })
        .await
    }

    /// Ends a job as failed (`note` says why) when it stands for no work that could fail with
    /// it, e.g. its payload cannot be read.
    pub async fn fail_job(&self, job_id: &str, note: &str, now: i64) -> StoreResult<()> {
        let (id, note) = (job_id.to_string(), note.to_string());
        self.write_one("fail_job", async move |db| {
            fail_job(db, &id, &note, now).await
        })
        .await
    }

    /// A job as it is stored, whatever its state.
    pub async fn get_job(&self, job_id: &str) -> StoreResult<Option<JobRecord>> {
        let id = job_id.to_string();
        self.read("get_job", async move |db| db.query_opt(&GET, &[&id]).await)
            .await
    }

    /// Finishes a job whose work is gone (e.g. its request was deleted).
    pub async fn abandon_job(&self, job_id: &str, now: i64) -> StoreResult<()> {
        let id = job_id.to_string();
        self.write_one("abandon_job", async move |db| {
            finish_job(db, &id, JobEnd::Abandoned, now).await
        })
        .await
    }

    /// Suspends the closing account named by the job and finishes the job, in one transaction.
    pub async fn finish_account_closure(&self, job: &Job, now: i64) -> StoreResult<()> {
        let (job_id, account_id) = (job.id.clone(), job.payload.clone());
        self.write("finish_account_closure", async move |db| {
            db.execute(
                &SET_STATUS,
                &[&account_id, &AccountStatus::Suspended.name()],
            )
            .await?;
            db.execute(
                &FINISH_CLOSE,
                &[&account_id, &now, &ClosureState::Suspended.name()],
            )
            .await?;
            finish_job(db, &job_id, JobEnd::Done, now).await
        })
        .await
    }

    /// Gives up the closure of the account named by the job: the account, still closing, is
    /// active again (it may be closed again), its closure status keeps its state and shows
    /// why it failed, and the job fails with `note`; in one transaction.
    pub async fn give_up_account_closure(
        &self,
        job: &Job,
        note: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (job_id, account_id, note) = (job.id.clone(), job.payload.clone(), note.to_string());
        self.write("give_up_account_closure", async move |db| {
            let (closing, pending) = (
                AccountStatus::PendingClosure.name(),
                ClosureState::PendingClosure.name(),
            );
            db.execute(
                &REOPEN,
                &[&account_id, &AccountStatus::Active.name(), &closing],
            )
            .await?;
            db.execute(
                &FAIL_CLOSE,
                &[
                    &account_id,
                    &ClosureFailure::Internal.reason(),
                    &now,
                    &pending,
                ],
            )
            .await?;
            fail_job(db, &job_id, &note, now).await
        })
        .await
    }
}
