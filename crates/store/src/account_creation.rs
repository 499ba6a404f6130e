//! CreateAccount requests: recorded with their job, finished by it (or failed with it, when it is
//! given up).

use crate::accounts::{insert_account, insert_project};
use crate::db::{FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::jobs::{fail_job, finish_job, insert_job, JobEnd};
use crate::org_structure::management_of;
use crate::{
    account_codec, CreateAccountStatus, Job, OrgOutcome, Page, Project, Store, StoreResult,
};
use iic_domain::names::Named;
use iic_domain::organizations::{CreationFailure, CreationState, Refusal};

macro_rules! status_columns {
    () => {
        "seq, id, organization_id, account_id, account_name, state, failure_reason, created_at, completed_at, request"
    };
}

static ACCOUNT_NAME_TAKEN: Sql =
    Sql::new("SELECT 1 FROM accounts WHERE organization_id = $1 AND name = $2");
static NAME_PENDING: Sql = Sql::new(
    "SELECT 1 FROM create_account_statuses WHERE organization_id = $1 AND account_name = $2 AND state = $3",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO create_account_statuses (id, organization_id, account_id, account_name, state, request, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)",
);
static FINISH: Sql = Sql::new(
    "UPDATE create_account_statuses SET state = $2, failure_reason = $3, completed_at = $4 WHERE id = $1 AND state = $5",
);
static GET: Sql = Sql::new(concat!(
    "SELECT ",
    status_columns!(),
    " FROM create_account_statuses WHERE organization_id = $1 AND id = $2"
));
static LOCK: Sql = Sql::new(concat!(
    "SELECT ",
    status_columns!(),
    " FROM create_account_statuses WHERE id = $1 FOR UPDATE"
));
static PAGE: Sql = Sql::new(concat!(
    "SELECT ",
    status_columns!(),
    " FROM create_account_statuses WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static PAGE_IN: Sql = Sql::new(concat!(
        "SELECT ",
        status_columns!(),
        " FROM create_account_statuses WHERE organization_id = $1 AND seq > $2 AND state = ANY($4) ORDER BY seq LIMIT $3"
    ));

impl FromRow for CreateAccountStatus {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        let request: String = r.get(9)?;
        Ok(CreateAccountStatus {
            seq: r.get(0)?,
            id: r.get(1)?,
            organization_id: r.get(2)?,
            account_id: r.get(3)?,
            account_name: r.get(4)?,
            state: r.named(5)?,
            failure_reason: r.get(6)?,
            created_at: r.get(7)?,
            completed_at: r.get(8)?,
            request: account_codec::decode(&request)
                .map_err(|e| format!("column 9: stored account request: {e}"))?,
        })
    }
}

impl Store {
    /// Records a CreateAccount request and queues its job, unless the name is taken.
    pub async fn request_account_creation(
        &self,
        status: &CreateAccountStatus,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let (st, job) = (status.clone(), job.clone());
        let request = account_codec::encode(&st.request);
        self.write("request_account_creation", async move |db| {
            let (org, name) = (&st.organization_id, &st.account_name);
            let taken = Refusal::AccountNameTaken(name.clone());
            let pending = CreationState::InProgress.name();
            if db.exists(&ACCOUNT_NAME_TAKEN, &[org, name]).await?
                || db.exists(&NAME_PENDING, &[org, name, &pending]).await?
            {
                return Ok(OrgOutcome::Refused(taken));
            }
            let inserted = db
                .execute(
                    &INSERT,
                    &[
                        &st.id,
                        org,
                        &st.account_id,
                        name,
                        &pending,
                        &request,
                        &st.created_at,
                    ],
                )
                .await;
            match inserted {
                Ok(_) => {}
                // A concurrent request for the same name won the unique index.
                Err(e) if e.is_conflict() => {
                    db.discard();
                    return Ok(OrgOutcome::Refused(taken));
                }
                Err(e) => return Err(e),
            }
            insert_job(db, &job).await?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    pub async fn get_create_account_status(
        &self,
        organization_id: &str,
        id: &str,
    ) -> StoreResult<Option<CreateAccountStatus>> {
        let (org, id) = (organization_id.to_string(), id.to_string());
        self.read("get_create_account_status", async move |db| {
            db.query_opt(&GET, &[&org, &id]).await
        })
        .await
    }

    /// Creation statuses of the organization, of any of `states` (all when empty).
    pub async fn list_create_account_statuses(
        &self,
        organization_id: &str,
        states: &[CreationState],
        page: Page,
    ) -> StoreResult<Vec<CreateAccountStatus>> {
        let org = organization_id.to_string();
        let states: Vec<String> = states.iter().map(|s| s.name().to_string()).collect();
        self.read("list_create_account_statuses", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            if states.is_empty() {
                db.query(&PAGE, &[&org, &after, &limit]).await
            } else {
                db.query(&PAGE_IN, &[&org, &after, &limit, &TextList(&states)])
                    .await
            }
        })
        .await
    }

    /// Creates the account of a CreateAccount request (and its project) and finishes the
    /// request and its job, all in one transaction; returns the request's final state.
    pub async fn finish_account_creation(
        &self,
        job: &Job,
        status_id: &str,
        project: &Project,
        now: i64,
    ) -> StoreResult<CreationState> {
        let (job_id, status_id, project) = (job.id.clone(), status_id.to_string(), project.clone());
        self.write("finish_account_creation", async move |db| {
            let Some(status) = db
                .query_opt::<CreateAccountStatus>(&LOCK, &[&status_id])
                .await?
            else {
                finish_job(db, &job_id, JobEnd::Abandoned, now).await?;
                return Ok(CreationState::Failed);
            };
            if status.state != CreationState::InProgress {
                finish_job(db, &job_id, JobEnd::Done, now).await?;
                return Ok(status.state);
            }
            let org = &status.organization_id;
            let failure = if management_of(db, org).await?.is_none() {
                Some(CreationFailure::OrganizationGone)
            } else if db
                .exists(&ACCOUNT_NAME_TAKEN, &[org, &status.account_name])
                .await?
            {
                Some(CreationFailure::NameTaken)
            } else {
                let mut account = status.request.clone();
                account.joined_at = now;
                insert_account(db, &account).await?;
                insert_project(db, &project).await?;
                None
            };
            let state = match failure {
                None => CreationState::Succeeded,
                Some(_) => CreationState::Failed,
            };
            db.execute(
                &FINISH,
                &[
                    &status_id,
                    &state.name(),
                    &failure.map(CreationFailure::reason),
                    &now,
                    &CreationState::InProgress.name(),
                ],
            )
            .await?;
            finish_job(db, &job_id, JobEnd::Done, now).await?;
            Ok(state)
        })
        .await
    }

    /// Gives up a CreateAccount request whose job kept failing: the request, still in
    /// progress, fails with an internal-failure reason, which frees its account name, and the
    /// job fails with `note`; in one transaction. Nothing of the account was written (the
    /// transaction that would have written it failed).
    pub async fn give_up_account_creation(
        &self,
        job: &Job,
        status_id: &str,
        note: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (job_id, status_id, note) = (job.id.clone(), status_id.to_string(), note.to_string());
        self.write("give_up_account_creation", async move |db| {
            db.execute(
                &FINISH,
                &[
                    &status_id,
                    &CreationState::Failed.name(),
                    &CreationFailure::Internal.reason(),
                    &now,
                    &CreationState::InProgress.name(),
                ],
            )
            .await?;
            fail_job(db, &job_id, &note, now).await
        })
        .await
    }
}
