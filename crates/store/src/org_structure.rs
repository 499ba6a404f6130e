//! The structure of organizations: creation and deletion, roots and OUs, where member accounts
//! sit, and their removal and closure.

use crate::accounts::{account_columns, insert_organization};
use crate::db::{Db, FromRow, Row, Sql, TextList};
use crate::error::BoxError;
use crate::jobs::insert_job;
use crate::{
    Account, AccountMove, CloseAccountStatus, Job, OrgOutcome, Organization, OrganizationalUnit,
    Page, Root, Store, StoreResult,
};
use iic_domain::names::Named;
use iic_domain::organizations::{AccountStatus, ClosureState, Refusal};

macro_rules! ou_columns {
    () => {
        "seq, id, organization_id, parent_id, name, created_at"
    };
}
macro_rules! close_columns {
    () => {
        "seq, account_id, organization_id, state, failure_reason, created_at, updated_at"
    };
}

/// The account's organization, parent and status; the row stays locked until the transaction
/// ends, so that concurrent changes to one account take turns.
static PLACE: Sql =
    Sql::new("SELECT organization_id, parent_id, status FROM accounts WHERE id = $1 FOR UPDATE");
static MANAGEMENT_OF: Sql =
    Sql::new("SELECT management_account_id FROM organizations WHERE id = $1");
static MANAGEMENT_OF_LOCKED: Sql =
    Sql::new("SELECT management_account_id FROM organizations WHERE id = $1 FOR UPDATE");
static JOIN_ORGANIZATION: Sql = Sql::new(
    "UPDATE accounts SET organization_id = $2, parent_id = $3, joined_at = $4 WHERE id = $1 AND organization_id IS NULL",
);
static LEAVE_ORGANIZATION: Sql =
    Sql::new("UPDATE accounts SET organization_id = NULL, parent_id = NULL WHERE id = $1");
static MEMBER_COUNT: Sql =
    Sql::new("SELECT COUNT(*) FROM accounts WHERE organization_id = $1 AND id <> $2");
static INSTANCE_COUNT: Sql = Sql::new("SELECT COUNT(*) FROM instances WHERE organization_id = $1");
static DELETE_ORGANIZATION_ROWS: [Sql; 4] = [
    Sql::new("DELETE FROM registered_regions WHERE organization_id = $1"),
    Sql::new("DELETE FROM create_account_statuses WHERE organization_id = $1"),
    Sql::new("DELETE FROM close_account_statuses WHERE organization_id = $1"),
    Sql::new("DELETE FROM organizations WHERE id = $1"),
];
static GET_ROOT: Sql =
    Sql::new("SELECT id, organization_id, name, created_at FROM roots WHERE organization_id = $1");
static OU_EXISTS: Sql =
    Sql::new("SELECT 1 FROM organizational_units WHERE organization_id = $1 AND id = $2");
static OU_NAME_TAKEN: Sql =
    Sql::new("SELECT 1 FROM organizational_units WHERE parent_id = $1 AND name = $2");
static INSERT_OU: Sql = Sql::new(
    "INSERT INTO organizational_units (id, organization_id, parent_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
);
static GET_OU: Sql = Sql::new(concat!(
    "SELECT ",
    ou_columns!(),
    " FROM organizational_units WHERE organization_id = $1 AND id = $2"
));
static OUS: Sql = Sql::new(concat!(
    "SELECT ",
    ou_columns!(),
    " FROM organizational_units WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static OUS_UNDER: Sql = Sql::new(concat!(
    "SELECT ",
    ou_columns!(),
    " FROM organizational_units WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3"
));
static ACCOUNTS: Sql = Sql::new(concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static ACCOUNTS_UNDER: Sql = Sql::new(concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE organization_id = $1 AND seq > $2 AND parent_id = $4 ORDER BY seq LIMIT $3"
));
static SET_DESCRIPTION: Sql =
    Sql::new("UPDATE accounts SET description = $3 WHERE organization_id = $1 AND id = $2");
static SET_PARENT: Sql =
    Sql::new("UPDATE accounts SET parent_id = $3 WHERE organization_id = $1 AND id = $2");
pub(crate) static SET_STATUS: Sql = Sql::new("UPDATE accounts SET status = $2 WHERE id = $1");
static DELEGATES_ANYTHING: Sql =
    Sql::new("SELECT 1 FROM delegated_administrators WHERE account_id = $1");
/// Leaving the organization takes the account's assignments and agencies with it.
static LEAVE_ROWS: [Sql; 2] = [
    Sql::new("DELETE FROM account_assignments WHERE account_id = $1"),
    Sql::new("DELETE FROM provisioned_sets WHERE account_id = $1"),
];
static UPSERT_CLOSE: Sql = Sql::new(
    "INSERT INTO close_account_statuses (account_id, organization_id, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (account_id) DO UPDATE SET state = $3, organization_id = $2, failure_reason = NULL, updated_at = $4",
);
pub(crate) static FINISH_CLOSE: Sql =
    Sql::new("UPDATE close_account_statuses SET state = $3, updated_at = $2 WHERE account_id = $1");
static CLOSE_STATUSES: Sql = Sql::new(concat!(
    "SELECT ",
    close_columns!(),
    " FROM close_account_statuses WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static CLOSE_STATUSES_IN: Sql = Sql::new(concat!(
        "SELECT ",
        close_columns!(),
        " FROM close_account_statuses WHERE organization_id = $1 AND seq > $2 AND state = ANY($4) ORDER BY seq LIMIT $3"
    ));

/// Where an account is.
struct Place {
    organization_id: Option<String>,
    parent_id: Option<String>,
    status: AccountStatus,
}

impl FromRow for Place {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Place {
            organization_id: r.get(0)?,
            parent_id: r.get(1)?,
            status: r.named(2)?,
        })
    }
}

impl FromRow for Root {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Root {
            id: r.get(0)?,
            organization_id: r.get(1)?,
            name: r.get(2)?,
            created_at: r.get(3)?,
        })
    }
}

impl FromRow for OrganizationalUnit {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(OrganizationalUnit {
            seq: r.get(0)?,
            id: r.get(1)?,
            organization_id: r.get(2)?,
            parent_id: r.get(3)?,
            name: r.get(4)?,
            created_at: r.get(5)?,
        })
    }
}

impl FromRow for CloseAccountStatus {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(CloseAccountStatus {
            seq: r.get(0)?,
            account_id: r.get(1)?,
            organization_id: r.get(2)?,
            state: r.named(3)?,
            failure_reason: r.get(4)?,
            created_at: r.get(5)?,
            updated_at: r.get(6)?,
        })
    }
}

/// The account, locked, if it is a member of `organization_id`.
async fn member_place(
    db: &mut Db<'_>,
    organization_id: &str,
    account_id: &str,
) -> StoreResult<Option<Place>> {
    Ok(db
        .query_opt::<Place>(&PLACE, &[&account_id])
        .await?
        .filter(|p| p.organization_id.as_deref() == Some(organization_id)))
}

pub(crate) async fn management_of(
    db: &mut Db<'_>,
    organization_id: &str,
) -> StoreResult<Option<String>> {
    db.query_opt(&MANAGEMENT_OF, &[&organization_id]).await
}

async fn is_management(
    db: &mut Db<'_>,
    organization_id: &str,
    account_id: &str,
) -> StoreResult<bool> {
    Ok(management_of(db, organization_id).await?.as_deref() == Some(account_id))
}

/// Whether `parent` is the organization's root or one of its OUs.
async fn parent_exists(db: &mut Db<'_>, organization_id: &str, parent: &str) -> StoreResult<bool> {
    if parent.starts_with("r-") {
        let root: Option<Root> = db.query_opt(&GET_ROOT, &[&organization_id]).await?;
        Ok(root.is_some_and(|r| r.id == parent))
    } else {
        db.exists(&OU_EXISTS, &[&organization_id, &parent]).await
    }
}

fn refused(r: Refusal) -> StoreResult<OrgOutcome> {
    Ok(OrgOutcome::Refused(r))
}

impl Store {
    /// Makes `org.management_account_id` (in no organization) the management account of a new
    /// organization with `root`.
    pub async fn create_organization(
        &self,
        org: &Organization,
        root: &Root,
    ) -> StoreResult<OrgOutcome> {
        let (org, root) = (org.clone(), root.clone());
        self.write("create_organization", async move |db| {
            match db
                .query_opt::<Place>(&PLACE, &[&org.management_account_id])
                .await?
            {
                None => return Ok(OrgOutcome::NotFound),
                Some(p) if p.organization_id.is_some() => {
                    return refused(Refusal::AlreadyInOrganization)
                }
                Some(_) => {}
            }
            insert_organization(db, &org, &root).await?;
            db.execute(
                &JOIN_ORGANIZATION,
                &[
                    &org.management_account_id,
                    &org.id,
                    &root.id,
                    &org.created_at,
                ],
            )
            .await?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    /// Deletes an organization that has no member accounts and no Identity Center instance.
    pub async fn delete_organization(&self, organization_id: &str) -> StoreResult<OrgOutcome> {
        let org = organization_id.to_string();
        self.write("delete_organization", async move |db| {
            let Some(management) = db
                .query_opt::<String>(&MANAGEMENT_OF_LOCKED, &[&org])
                .await?
            else {
                return Ok(OrgOutcome::NotFound);
            };
            let members: i64 = db.query_one(&MEMBER_COUNT, &[&org, &management]).await?;
            if members > 0 {
                return refused(Refusal::HasMembers(members));
            }
            let instances: i64 = db.query_one(&INSTANCE_COUNT, &[&org]).await?;
            if instances > 0 {
                return refused(Refusal::HasInstance);
            }
            db.execute(&LEAVE_ORGANIZATION, &[&management]).await?;
            for sql in &DELETE_ORGANIZATION_ROWS {
                db.execute(sql, &[&org]).await?;
            }
            Ok(OrgOutcome::Done)
        })
        .await
    }

    pub async fn get_root(&self, organization_id: &str) -> StoreResult<Option<Root>> {
        let org = organization_id.to_string();
        self.read("get_root", async move |db| {
            db.query_opt(&GET_ROOT, &[&org]).await
        })
        .await
    }

    /// Adds an OU under a root or OU of the organization; names are unique under one parent.
    pub async fn create_ou(&self, ou: &OrganizationalUnit) -> StoreResult<OrgOutcome> {
        let ou = ou.clone();
        self.write("create_ou", async move |db| {
            if !parent_exists(db, &ou.organization_id, &ou.parent_id).await? {
                return Ok(OrgOutcome::NotFound);
            }
            let taken = Refusal::OuNameTaken {
                name: ou.name.clone(),
                parent_id: ou.parent_id.clone(),
            };
            if db
                .exists(&OU_NAME_TAKEN, &[&ou.parent_id, &ou.name])
                .await?
            {
                return refused(taken);
            }
            let inserted = db
                .execute(
                    &INSERT_OU,
                    &[
                        &ou.id,
                        &ou.organization_id,
                        &ou.parent_id,
                        &ou.name,
                        &ou.created_at,
                    ],
                )
                .await;
            match inserted {
                Ok(_) => Ok(OrgOutcome::Done),
                Err(e) if e.is_conflict() => {
                    db.discard();
                    refused(taken)
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub async fn get_ou(
        &self,
        organization_id: &str,
        ou_id: &str,
    ) -> StoreResult<Option<OrganizationalUnit>> {
        let (org, id) = (organization_id.to_string(), ou_id.to_string());
        self.read("get_ou", async move |db| {
            db.query_opt(&GET_OU, &[&org, &id]).await
        })
        .await
    }

    /// The organization's OUs, or those directly under `parent_id`.
    pub async fn list_ous(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<OrganizationalUnit>> {
        let (org, parent) = (organization_id.to_string(), parent_id.map(str::to_string));
        self.read("list_ous", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match parent {
                None => db.query(&OUS, &[&org, &after, &limit]).await,
                Some(p) => db.query(&OUS_UNDER, &[&org, &after, &limit, &p]).await,
            }
        })
        .await
    }

    /// The organization's accounts, or those directly under `parent_id`.
    pub async fn list_accounts(
        &self,
        organization_id: &str,
        parent_id: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<Account>> {
        let (org, parent) = (organization_id.to_string(), parent_id.map(str::to_string));
        self.read("list_accounts", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match parent {
                None => db.query(&ACCOUNTS, &[&org, &after, &limit]).await,
                Some(p) => db.query(&ACCOUNTS_UNDER, &[&org, &after, &limit, &p]).await,
            }
        })
        .await
    }

    pub async fn update_account_description(
        &self,
        organization_id: &str,
        account_id: &str,
        description: Option<&str>,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, description) = (
            organization_id.to_string(),
            account_id.to_string(),
            description.map(str::to_string),
        );
        self.write_one("update_account_description", async move |db| {
            Ok(
                match db
                    .execute(&SET_DESCRIPTION, &[&org, &id, &description])
                    .await?
                {
                    0 => OrgOutcome::NotFound,
                    _ => OrgOutcome::Done,
                },
            )
        })
        .await
    }

    pub async fn move_account(&self, change: &AccountMove) -> StoreResult<OrgOutcome> {
        let m = change.clone();
        self.write("move_account", async move |db| {
            let Some(place) = member_place(db, &m.organization_id, &m.account_id).await? else {
                return Ok(OrgOutcome::NotFound);
            };
            if place.parent_id.as_deref() != Some(m.source_parent_id.as_str()) {
                return refused(Refusal::NotUnderSource(m.source_parent_id));
            }
            if !parent_exists(db, &m.organization_id, &m.destination_parent_id).await? {
                return refused(Refusal::NoSuchDestination(m.destination_parent_id));
            }
            db.execute(
                &SET_PARENT,
                &[&m.organization_id, &m.account_id, &m.destination_parent_id],
            )
            .await?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    /// Takes a member account out of the organization (it stands alone afterwards).
    pub async fn remove_account(
        &self,
        organization_id: &str,
        account_id: &str,
    ) -> StoreResult<OrgOutcome> {
        let (org, id) = (organization_id.to_string(), account_id.to_string());
        self.write("remove_account", async move |db| {
            if member_place(db, &org, &id).await?.is_none() {
                return Ok(OrgOutcome::NotFound);
            }
            if is_management(db, &org, &id).await? {
                return refused(Refusal::RemoveManagement);
            }
            if db.exists(&DELEGATES_ANYTHING, &[&id]).await? {
                return refused(Refusal::IsDelegatedAdministrator);
            }
            for sql in &LEAVE_ROWS {
                db.execute(sql, &[&id]).await?;
            }
            db.execute(&LEAVE_ORGANIZATION, &[&id]).await?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    /// Marks the account pending closure and queues `job` to finish it.
    pub async fn close_account(
        &self,
        organization_id: &str,
        account_id: &str,
        job: &Job,
    ) -> StoreResult<OrgOutcome> {
        let (org, id, job) = (
            organization_id.to_string(),
            account_id.to_string(),
            job.clone(),
        );
        self.write("close_account", async move |db| {
            let Some(place) = member_place(db, &org, &id).await? else {
                return Ok(OrgOutcome::NotFound);
            };
            if is_management(db, &org, &id).await? {
                return refused(Refusal::CloseManagement);
            }
            if place.status != AccountStatus::Active {
                return refused(Refusal::AlreadyClosing);
            }
            db.execute(&SET_STATUS, &[&id, &AccountStatus::PendingClosure.name()])
                .await?;
            db.execute(
                &UPSERT_CLOSE,
                &[
                    &id,
                    &org,
                    &ClosureState::PendingClosure.name(),
                    &job.created_at,
                ],
            )
            .await?;
            insert_job(db, &job).await?;
            Ok(OrgOutcome::Done)
        })
        .await
    }

    /// Closure statuses of the organization, of any of `states` (all when empty).
    pub async fn list_close_account_statuses(
        &self,
        organization_id: &str,
        states: &[ClosureState],
        page: Page,
    ) -> StoreResult<Vec<CloseAccountStatus>> {
        let org = organization_id.to_string();
        let states: Vec<String> = states.iter().map(|s| s.name().to_string()).collect();
        self.read("list_close_account_statuses", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            if states.is_empty() {
                db.query(&CLOSE_STATUSES, &[&org, &after, &limit]).await
            } else {
                db.query(
                    &CLOSE_STATUSES_IN,
                    &[&org, &after, &limit, &TextList(&states)],
                )
                .await
            }
        })
        .await
    }
}
