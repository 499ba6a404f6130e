//! Delegated administrators and trusted services of organizations.

use crate::db::{FromRow, Row, Sql};
use crate::error::BoxError;
use crate::{
    DelegatedAdministrator, Delegation, OrgOutcome, Page, Store, StoreResult, TrustedService,
};
use iic_domain::organizations::Refusal;

macro_rules! delegated_columns {
    () => {
        "seq, organization_id, account_id, service_principal, enabled_at"
    };
}

static MEMBER_OF: Sql =
    Sql::new("SELECT 1 FROM accounts WHERE id = $1 AND organization_id = $2 FOR UPDATE");
static IS_TRUSTED: Sql = Sql::new(
    "SELECT 1 FROM trusted_services WHERE organization_id = $1 AND service_principal = $2",
);
static IS_DELEGATED: Sql = Sql::new(
    "SELECT 1 FROM delegated_administrators WHERE account_id = $1 AND service_principal = $2",
);
static INSERT: Sql = Sql::new(
    "INSERT INTO delegated_administrators (organization_id, account_id, service_principal, enabled_at) VALUES ($1, $2, $3, $4)",
);
static DELETE: Sql = Sql::new(
    "DELETE FROM delegated_administrators WHERE organization_id = $1 AND account_id = $2 AND service_principal = $3",
);
static DELETE_FOR_SERVICE: Sql = Sql::new(
    "DELETE FROM delegated_administrators WHERE organization_id = $1 AND service_principal = $2",
);
static ADMINS: Sql = Sql::new(concat!(
    "SELECT ",
    delegated_columns!(),
    " FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
));
static ADMINS_FOR: Sql = Sql::new(concat!(
    "SELECT ",
    delegated_columns!(),
    " FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND service_principal = $4 ORDER BY seq LIMIT $3"
));
static SERVICES_OF: Sql = Sql::new(concat!(
    "SELECT ",
    delegated_columns!(),
    " FROM delegated_administrators WHERE organization_id = $1 AND seq > $2 AND account_id = $4 ORDER BY seq LIMIT $3"
));
static TRUST: Sql = Sql::new(
    "INSERT INTO trusted_services (organization_id, service_principal, enabled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
);
static DISTRUST: Sql =
    Sql::new("DELETE FROM trusted_services WHERE organization_id = $1 AND service_principal = $2");
static TRUSTED: Sql = Sql::new(
    "SELECT seq, organization_id, service_principal, enabled_at FROM trusted_services
     WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
);

impl FromRow for DelegatedAdministrator {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(DelegatedAdministrator {
            seq: r.get(0)?,
            organization_id: r.get(1)?,
            account_id: r.get(2)?,
            service_principal: r.get(3)?,
            enabled_at: r.get(4)?,
        })
    }
}

impl FromRow for TrustedService {
    fn from_row(r: &Row<'_>) -> Result<Self, BoxError> {
        Ok(TrustedService {
            seq: r.get(0)?,
            organization_id: r.get(1)?,
            service_principal: r.get(2)?,
            enabled_at: r.get(3)?,
        })
    }
}

impl Store {
    /// Makes a member account a delegated administrator of a trusted service.
    pub async fn register_delegated_admin(
        &self,
        delegation: &Delegation,
        now: i64,
    ) -> StoreResult<OrgOutcome> {
        let d = delegation.clone();
        self.write("register_delegated_admin", async move |db| {
            let (org, account, service) = (&d.organization_id, &d.account_id, &d.service_principal);
            if !db.exists(&MEMBER_OF, &[account, org]).await? {
                return Ok(OrgOutcome::NotFound);
            }
            let management = crate::org_structure::management_of(db, org).await?;
            if management.as_deref() == Some(account.as_str()) {
                return Ok(OrgOutcome::Refused(Refusal::DelegateManagement));
            }
            if !db.exists(&IS_TRUSTED, &[org, service]).await? {
                return Ok(OrgOutcome::Refused(Refusal::NotTrusted(service.clone())));
            }
            let already = Refusal::AlreadyDelegated(service.clone());
            if db.exists(&IS_DELEGATED, &[account, service]).await? {
                return Ok(OrgOutcome::Refused(already));
            }
            match db.execute(&INSERT, &[org, account, service, &now]).await {
                Ok(_) => Ok(OrgOutcome::Done),
                Err(e) if e.is_conflict() => {
                    db.discard();
                    Ok(OrgOutcome::Refused(already))
                }
                Err(e) => Err(e),
            }
        })
        .await
    }

    pub async fn deregister_delegated_admin(
        &self,
        delegation: &Delegation,
    ) -> StoreResult<OrgOutcome> {
        let d = delegation.clone();
        self.write_one("deregister_delegated_admin", async move |db| {
            let deleted = db
                .execute(
                    &DELETE,
                    &[&d.organization_id, &d.account_id, &d.service_principal],
                )
                .await?;
            Ok(if deleted == 0 {
                OrgOutcome::NotFound
            } else {
                OrgOutcome::Done
            })
        })
        .await
    }

    /// The organization's delegated administrators, or those of one service.
    pub async fn list_delegated_admins(
        &self,
        organization_id: &str,
        service_principal: Option<&str>,
        page: Page,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let (org, service) = (
            organization_id.to_string(),
            service_principal.map(str::to_string),
        );
        self.read("list_delegated_admins", async move |db| {
            let (after, limit) = (page.after_seq(), page.limit);
            match service {
                None => db.query(&ADMINS, &[&org, &after, &limit]).await,
                Some(s) => db.query(&ADMINS_FOR, &[&org, &after, &limit, &s]).await,
            }
        })
        .await
    }

    /// The services an account is a delegated administrator of.
    pub async fn list_delegated_services(
        &self,
        organization_id: &str,
        account_id: &str,
        page: Page,
    ) -> StoreResult<Vec<DelegatedAdministrator>> {
        let (org, account) = (organization_id.to_string(), account_id.to_string());
        self.read("list_delegated_services", async move |db| {
            db.query(
                &SERVICES_OF,
                &[&org, &page.after_seq(), &page.limit, &account],
            )
            .await
        })
        .await
    }

    pub async fn is_delegated_admin(
        &self,
        account_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let (account, service) = (account_id.to_string(), service_principal.to_string());
        self.read("is_delegated_admin", async move |db| {
            db.exists(&IS_DELEGATED, &[&account, &service]).await
        })
        .await
    }

    /// True when the service was not trusted before.
    pub async fn enable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let (org, service) = (organization_id.to_string(), service_principal.to_string());
        self.write_one("enable_trusted_service", async move |db| {
            Ok(db.execute(&TRUST, &[&org, &service, &now]).await? > 0)
        })
        .await
    }

    /// Also deregisters the service's delegated administrators. True when it was trusted.
    pub async fn disable_trusted_service(
        &self,
        organization_id: &str,
        service_principal: &str,
    ) -> StoreResult<bool> {
        let (org, service) = (organization_id.to_string(), service_principal.to_string());
        self.write("disable_trusted_service", async move |db| {
            db.execute(&DELETE_FOR_SERVICE, &[&org, &service]).await?;
            Ok(db.execute(&DISTRUST, &[&org, &service]).await? > 0)
        })
        .await
    }

    pub async fn list_trusted_services(
        &self,
        organization_id: &str,
        page: Page,
    ) -> StoreResult<Vec<TrustedService>> {
        let org = organization_id.to_string();
        self.read("list_trusted_services", async move |db| {
            db.query(&TRUSTED, &[&org, &page.after_seq(), &page.limit])
                .await
        })
        .await
    }
}
