//! Account assignments, provisioning, and the asynchronous requests that change them: requests
//! are submitted (`submission.rs`) within a bound on those in flight (`in_flight.rs`) and run by
//! jobs (`apply.rs`); this file reads what they made.

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

mod apply;
mod give_up;
mod in_flight;
mod submission;

pub(crate) use apply::snapshot_session_secs;

use crate::db::{FromRow, Row, Sql};
use crate::directory::deprovision_for_principal;
use crate::error::BoxError;
use crate::{
    AccountAssignment, AccountAssignments, AsyncRequest, Page, ProvisionedSet, Store, StoreResult,
};
use iic_domain::assignment::{Principal, RequestKind, RequestStatus};
use iic_domain::names::Named;

static GET_REQUEST: Sql = Sql::new(concat!(
    "SELECT ",
    request_columns!(),
    " FROM async_requests WHERE request_id = $1"
));
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

impl Store {
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
