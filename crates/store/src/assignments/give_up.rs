//! Giving up the job of an asynchronous request: the request fails visibly and gives its
//! in-flight slot back, in one transaction with the job.

use super::in_flight::RELEASE_SLOTS;
use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::jobs::fail_job;
use crate::{Job, Store, StoreResult};
use iic_domain::assignment::{RequestFailure, RequestStatus};
use iic_domain::names::Named;

/// The request's instance and slot, if it is still in progress ($2); locked.
static LOCK_IN_PROGRESS: Sql = Sql::new(
    "SELECT instance_id, slot FROM async_requests WHERE request_id = $1 AND status = $2 FOR UPDATE",
);
static FAIL_REQUEST: Sql = Sql::new(
    "UPDATE async_requests SET status = $2, failure_reason = $3, updated_at = $4 WHERE request_id = $1",
);

/// Where a request's in-flight slot came from.
struct Slot {
    instance_id: String,
    slot: i32,
}

impl FromRow for Slot {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Slot {
            instance_id: r.get(0)?,
            slot: r.get(1)?,
        })
    }
}

impl Store {
    /// Gives up the request named by `job` (assignment creation or deletion, provisioning):
    /// still in progress, it fails with an internal-failure reason and gives back its
    /// in-flight slot; the job fails with `note`. A request already finished or gone is left
    /// alone.
    pub async fn give_up_request(&self, job: &Job, note: &str, now: i64) -> StoreResult<()> {
        let (job_id, request_id, note) = (job.id.clone(), job.payload.clone(), note.to_string());
        self.write("give_up_request", async move |db| {
            let in_progress = RequestStatus::InProgress.name();
            if let Some(s) = db
                .query_opt::<Slot>(&LOCK_IN_PROGRESS, &[&request_id, &in_progress])
                .await?
            {
                db.execute(
                    &FAIL_REQUEST,
                    &[
                        &request_id,
                        &RequestStatus::Failed.name(),
                        &RequestFailure::Internal.reason(),
                        &now,
                    ],
                )
                .await?;
                db.execute(&RELEASE_SLOTS, &[&s.instance_id, &s.slot, &1_i64])
                    .await?;
            }
            fail_job(db, &job_id, &note, now).await
        })
        .await
    }
}
