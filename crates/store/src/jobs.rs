//! Durable background work: claimed by one worker at a time under a lease, finished exactly
//! once, in the same transaction as the work it did.

use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::org_structure::{FINISH_CLOSE, SET_STATUS};
use crate::{Claim, Job, Store, StoreResult};
use iic_domain::job::JobKind;
use iic_domain::names::Named;
use iic_domain::organizations::{AccountStatus, ClosureState};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    Pending,
    Running,
    Done,
    /// Its work was gone when it ran (e.g. its request was deleted).
    Abandoned,
}

impl Named for JobState {
    const WHAT: &'static str = "job state";
    const ALL: &'static [Self] = &[Self::Pending, Self::Running, Self::Done, Self::Abandoned];
    fn name(self) -> &'static str {
        match self {
            Self::Pending => PENDING,
            Self::Running => "running",
            Self::Done => "done",
            Self::Abandoned => "abandoned",
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
    "UPDATE jobs SET state = $3, run_after = $2, locked_by = NULL, locked_until = NULL WHERE id = $1",
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

    /// Puts a job back to be tried again at `run_after`.
    pub async fn retry_job(&self, job_id: &str, run_after: i64) -> StoreResult<()> {
        let id = job_id.to_string();
        self.write_one("retry_job", async move |db| {
            db.execute(&RETRY, &[&id, &run_after, &JobState::Pending.name()])
                .await?;
            Ok(())
        })
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
}
