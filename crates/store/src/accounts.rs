//! Organizations, their accounts and projects, and the one-time bootstrap.

use crate::db::{Db, FromRow, Row, Serialize, Sql};
use crate::error::BoxError;
use crate::meta::{BOOTSTRAP_ORGANIZATION, BOOTSTRAP_ROOT_KEY};
use crate::{
    credentials, meta, Account, BootstrapPlan, Bootstrapped, Organization, Project, Root, Store,
    StoreResult,
};

macro_rules! account_columns {
    () => {
        "seq, id, name, organization_id, created_at, email, phone, description, join_method, status, parent_id, joined_at"
    };
}
pub(crate) use account_columns;

static INSERT_ACCOUNT: Sql = Sql::new(
    "INSERT INTO accounts (id, name, organization_id, created_at, email, phone, description, join_method, status, parent_id, joined_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
);
static GET_ACCOUNT: Sql = Sql::new(concat!(
    "SELECT ",
    account_columns!(),
    " FROM accounts WHERE id = $1"
));
static INSERT_ORGANIZATION: Sql = Sql::new(
    "INSERT INTO organizations (id, management_account_id, created_at) VALUES ($1, $2, $3)",
);
static GET_ORGANIZATION: Sql =
    Sql::new("SELECT id, management_account_id, created_at FROM organizations WHERE id = $1");
static INSERT_ROOT: Sql =
    Sql::new("INSERT INTO roots (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)");
static INSERT_PROJECT: Sql =
    Sql::new("INSERT INTO projects (id, account_id, region) VALUES ($1, $2, $3)");
static PROJECTS_OF: Sql =
    Sql::new("SELECT id, account_id, region FROM projects WHERE account_id = $1 ORDER BY region");
static PROJECT_IN_REGION: Sql =
    Sql::new("SELECT id, account_id, region FROM projects WHERE account_id = $1 AND region = $2");

impl FromRow for Account {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Account {
            seq: r.get(0)?,
            id: r.get(1)?,
            name: r.get(2)?,
            organization_id: r.get(3)?,
            created_at: r.get(4)?,
            email: r.get(5)?,
            phone: r.get(6)?,
            description: r.get(7)?,
            join_method: r.named(8)?,
            status: r.named(9)?,
            parent_id: r.get(10)?,
            joined_at: r.get(11)?,
        })
    }
}

impl FromRow for Organization {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Organization {
            id: r.get(0)?,
            management_account_id: r.get(1)?,
            created_at: r.get(2)?,
        })
    }
}

impl FromRow for Project {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(Project {
            id: r.get(0)?,
            account_id: r.get(1)?,
            region: r.get(2)?,
        })
    }
}

pub(crate) async fn insert_account(db: &mut Db<'_>, a: &Account) -> StoreResult<()> {
    use iic_domain::names::Named;
    db.execute(
        &INSERT_ACCOUNT,
        &[
            &a.id,
            &a.name,
            &a.organization_id,
            &a.created_at,
            &a.email,
            &a.phone,
            &a.description,
            &a.join_method.name(),
            &a.status.name(),
            &a.parent_id,
            &a.joined_at,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn insert_project(db: &mut Db<'_>, p: &Project) -> StoreResult<()> {
    db.execute(&INSERT_PROJECT, &[&p.id, &p.account_id, &p.region])
        .await?;
    Ok(())
}

pub(crate) async fn insert_organization(
    db: &mut Db<'_>,
    org: &Organization,
    root: &Root,
) -> StoreResult<()> {
    db.execute(
        &INSERT_ORGANIZATION,
        &[&org.id, &org.management_account_id, &org.created_at],
    )
    .await?;
    db.execute(
        &INSERT_ROOT,
        &[
            &root.id,
            &root.organization_id,
            &root.name,
            &root.created_at,
        ],
    )
    .await?;
    Ok(())
}

/// What an earlier bootstrap created; a start in a new region adds the account's project there.
async fn existing_bootstrap(
    db: &mut Db<'_>,
    organization_id: &str,
    plan: &BootstrapPlan,
) -> StoreResult<Bootstrapped> {
    let organization: Organization = db.query_one(&GET_ORGANIZATION, &[&organization_id]).await?;
    let account: Account = db
        .query_one(&GET_ACCOUNT, &[&organization.management_account_id])
        .await?;
    let region = &plan.project.region;
    let project = match db
        .query_opt::<Project>(&PROJECT_IN_REGION, &[&account.id, region])
        .await?
    {
        Some(p) => p,
        None => {
            let p = Project {
                id: plan.project.id.clone(),
                account_id: account.id.clone(),
                region: region.clone(),
            };
            insert_project(db, &p).await?;
            p
        }
    };
    let root_access_key = meta::get(db, BOOTSTRAP_ROOT_KEY).await?.unwrap_or_default();
    Ok(Bootstrapped {
        organization,
        account,
        project,
        root_access_key,
        created_now: false,
    })
}

impl Store {
    /// Creates the organization, its management account, project and root credential unless an
    /// organization was bootstrapped already; either way returns what is stored. Atomic, and
    /// servers starting at once on one database take turns.
    pub async fn bootstrap(&self, plan: &BootstrapPlan) -> StoreResult<Bootstrapped> {
        let plan = plan.clone();
        self.write("bootstrap", async move |db| {
            db.serialize(Serialize::Schema).await?;
            if let Some(org_id) = meta::get(db, BOOTSTRAP_ORGANIZATION).await? {
                return existing_bootstrap(db, &org_id, &plan).await;
            }
            insert_organization(db, &plan.organization, &plan.root).await?;
            insert_account(db, &plan.account).await?;
            insert_project(db, &plan.project).await?;
            credentials::insert(db, &plan.credential).await?;
            meta::put(db, BOOTSTRAP_ORGANIZATION, &plan.organization.id).await?;
            meta::put(db, BOOTSTRAP_ROOT_KEY, &plan.credential.access_key).await?;
            Ok(Bootstrapped {
                organization: plan.organization,
                account: plan.account,
                project: plan.project,
                root_access_key: plan.credential.access_key.clone(),
                created_now: true,
            })
        })
        .await
    }

    pub async fn get_account(&self, account_id: &str) -> StoreResult<Option<Account>> {
        let id = account_id.to_string();
        self.read("get_account", async move |db| {
            db.query_opt(&GET_ACCOUNT, &[&id]).await
        })
        .await
    }

    pub async fn get_organization(
        &self,
        organization_id: &str,
    ) -> StoreResult<Option<Organization>> {
        let id = organization_id.to_string();
        self.read("get_organization", async move |db| {
            db.query_opt(&GET_ORGANIZATION, &[&id]).await
        })
        .await
    }

    pub async fn list_projects(&self, account_id: &str) -> StoreResult<Vec<Project>> {
        let id = account_id.to_string();
        self.read("list_projects", async move |db| {
            db.query(&PROJECTS_OF, &[&id]).await
        })
        .await
    }

    /// Adds an account (used by bootstrap, the Organizations API and test fixtures).
    pub async fn insert_account(&self, account: &Account) -> StoreResult<()> {
        let a = account.clone();
        self.write_one("insert_account", async move |db| {
            insert_account(db, &a).await
        })
        .await
    }

    pub async fn insert_project(&self, project: &Project) -> StoreResult<()> {
        let p = project.clone();
        self.write_one("insert_project", async move |db| {
            insert_project(db, &p).await
        })
        .await
    }
}
