//! The Organizations API (`GlobalCredentials`, `X-Domain-Id`): the organization, its root and OUs,
//! member accounts and their creation and closure, delegated administrators, trusted services.

pub mod accounts;
mod delegation;
mod structure;
mod views;

use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::QueryParams;
use crate::operation::{Op, Routes, Service};
use crate::paging::{self, Page};
use crate::state::AppState;
use iic_domain::organizations as orgs;
use iic_domain::ApiError;
use iic_store::Organization;

pub fn routes() -> Routes {
    Routes::new(Service::Organizations)
        .add(
            Op::post("CreateOrganization", "/v1/organizations").no_body(),
            structure::create_organization,
        )
        .add(
            Op::get("ShowOrganization", "/v1/organizations"),
            structure::show_organization,
        )
        .add(
            Op::delete("DeleteOrganization", "/v1/organizations"),
            structure::delete_organization,
        )
        .add(
            Op::get("ListRoots", "/v1/organizations/roots"),
            structure::list_roots,
        )
        .add(
            Op::post(
                "CreateOrganizationalUnit",
                "/v1/organizations/organizational-units",
            ),
            structure::create_ou,
        )
        .add(
            Op::get(
                "ListOrganizationalUnits",
                "/v1/organizations/organizational-units",
            ),
            structure::list_ous,
        )
        .add(
            Op::get(
                "ShowOrganizationalUnit",
                "/v1/organizations/organizational-units/{organizational_unit_id}",
            ),
            structure::show_ou,
        )
        .add(
            Op::post("CreateAccount", "/v1/organizations/accounts"),
            accounts::create,
        )
        .add(
            Op::get("ListAccounts", "/v1/organizations/accounts"),
            accounts::list,
        )
        .add(
            Op::post("CreateResourceAccount", "/v2/organizations/accounts"),
            accounts::create_v2,
        )
        .add(
            Op::get("ShowAccount", "/v1/organizations/accounts/{account_id}"),
            accounts::show,
        )
        .add(
            Op::patch("UpdateAccount", "/v1/organizations/accounts/{account_id}"),
            accounts::update,
        )
        .add(
            Op::post(
                "MoveAccount",
                "/v1/organizations/accounts/{account_id}/move",
            ),
            accounts::move_account,
        )
        .add(
            Op::post(
                "RemoveAccount",
                "/v1/organizations/accounts/{account_id}/remove",
            )
            .no_body(),
            accounts::remove,
        )
        .add(
            Op::post(
                "CloseAccount",
                "/v1/organizations/accounts/{account_id}/close",
            )
            .no_body(),
            accounts::close,
        )
        .add(
            Op::get(
                "ListCreateAccountStatuses",
                "/v1/organizations/create-account-status",
            ),
            accounts::list_create_statuses,
        )
        .add(
            Op::get(
                "ShowCreateAccountStatus",
                "/v1/organizations/create-account-status/{create_account_status_id}",
            ),
            accounts::show_create_status,
        )
        .add(
            Op::get(
                "ListCloseAccountStatuses",
                "/v1/organizations/close-account-status",
            ),
            accounts::list_close_statuses,
        )
        .add(
            Op::get(
                "ListDelegatedAdministrators",
                "/v1/organizations/delegated-administrators",
            ),
            delegation::list_delegated_admins,
        )
        .add(
            Op::post(
                "RegisterDelegatedAdministrator",
                "/v1/organizations/delegated-administrators/register",
            ),
            delegation::register,
        )
        .add(
            Op::post(
                "DeregisterDelegatedAdministrator",
                "/v1/organizations/delegated-administrators/deregister",
            ),
            delegation::deregister,
        )
        .add(
            Op::get(
                "ListDelegatedServices",
                "/v1/organizations/accounts/{account_id}/delegated-services",
            ),
            delegation::list_delegated_services,
        )
        .add(
            Op::get("ListTrustedServices", "/v1/organizations/trusted-services"),
            delegation::list_trusted,
        )
        .add(
            Op::post(
                "EnableTrustedService",
                "/v1/organizations/trusted-services/enable",
            ),
            delegation::enable_trusted,
        )
        .add(
            Op::post(
                "DisableTrustedService",
                "/v1/organizations/trusted-services/disable",
            ),
            delegation::disable_trusted,
        )
        .add(
            Op::get("ListServices", "/v1/organizations/services"),
            delegation::list_services,
        )
}

/// The caller's organization, with its management account.
pub(crate) async fn caller_organization(
    state: &AppState,
    caller: &Caller,
) -> Result<Organization, Failure> {
    let org_id =
        caller.account.organization_id.as_deref().ok_or_else(|| {
            orgs::not_found("the calling account does not belong to an organization")
        })?;
    state.store.get_organization(org_id).await?.ok_or_else(|| {
        orgs::not_found("the calling account does not belong to an organization").into()
    })
}

/// Only the management account (401 `Organizations.1001` otherwise).
pub(crate) async fn as_management(
    state: &AppState,
    caller: &Caller,
) -> Result<Organization, Failure> {
    let org = caller_organization(state, caller)
        .await
        .map_err(|_| Failure(orgs::not_management()))?;
    if org.management_account_id != caller.account.id {
        return Err(orgs::not_management().into());
    }
    Ok(org)
}

/// The management account or a delegated administrator of any service (401
/// `Organizations.1002` otherwise).
pub(crate) async fn as_management_or_delegate(
    state: &AppState,
    caller: &Caller,
) -> Result<Organization, Failure> {
    let org = caller_organization(state, caller)
        .await
        .map_err(|_| Failure(orgs::not_management_or_delegate()))?;
    if org.management_account_id == caller.account.id {
        return Ok(org);
    }
    let delegated = state
        .store
        .list_delegated_services(&org.id, &caller.account.id, Page::first(1))
        .await?;
    if delegated.is_empty() {
        return Err(orgs::not_management_or_delegate().into());
    }
    Ok(org)
}

pub(crate) const MAX_PAGE: i64 = 2000;
pub(crate) const DEFAULT_PAGE: i64 = 200;

/// Organizations paging: `limit` 1–2000 (default 200), errors in the Organizations family.
pub(crate) fn page(state: &AppState, query: &QueryParams, scope: &str) -> Result<Page, ApiError> {
    paging::page_with_default(query, &state.keys.markers, scope, MAX_PAGE, DEFAULT_PAGE)
        .map_err(orgs::as_org_error)
}

/// Parses an Organizations JSON body, reporting problems as `Organizations.400`.
pub(crate) fn body<T: serde::de::DeserializeOwned>(
    raw: &crate::envelope::RawBody,
) -> Result<T, ApiError> {
    crate::extract::parse_json(&raw.0).map_err(orgs::as_org_error)
}
