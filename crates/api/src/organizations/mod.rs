//! The Organizations API (`GlobalCredentials`, `X-Domain-Id`): the organization, its root and OUs,
//! member accounts and their creation and closure, delegated administrators, trusted services.

pub mod accounts;
mod delegation;
mod structure;
mod views;

use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::QueryParams;
use crate::paging::{self, Page};
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use iic_domain::organizations as orgs;
use iic_domain::ApiError;
use iic_store::Organization;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/organizations",
            post(structure::create_organization)
                .get(structure::show_organization)
                .delete(structure::delete_organization),
        )
        .route("/v1/organizations/roots", get(structure::list_roots))
        .route(
            "/v1/organizations/organizational-units",
            post(structure::create_ou).get(structure::list_ous),
        )
        .route(
            "/v1/organizations/organizational-units/{organizational_unit_id}",
            get(structure::show_ou),
        )
        .route(
            "/v1/organizations/accounts",
            post(accounts::create).get(accounts::list),
        )
        .route("/v2/organizations/accounts", post(accounts::create_v2))
        .route(
            "/v1/organizations/accounts/{account_id}",
            get(accounts::show).patch(accounts::update),
        )
        .route(
            "/v1/organizations/accounts/{account_id}/move",
            post(accounts::move_account),
        )
        .route(
            "/v1/organizations/accounts/{account_id}/remove",
            post(accounts::remove),
        )
        .route(
            "/v1/organizations/accounts/{account_id}/close",
            post(accounts::close),
        )
        .route(
            "/v1/organizations/create-account-status",
            get(accounts::list_create_statuses),
        )
        .route(
            "/v1/organizations/create-account-status/{create_account_status_id}",
            get(accounts::show_create_status),
        )
        .route(
            "/v1/organizations/close-account-status",
            get(accounts::list_close_statuses),
        )
        .route(
            "/v1/organizations/delegated-administrators",
            get(delegation::list_delegated_admins),
        )
        .route(
            "/v1/organizations/delegated-administrators/register",
            post(delegation::register),
        )
        .route(
            "/v1/organizations/delegated-administrators/deregister",
            post(delegation::deregister),
        )
        .route(
            "/v1/organizations/accounts/{account_id}/delegated-services",
            get(delegation::list_delegated_services),
        )
        .route(
            "/v1/organizations/trusted-services",
            get(delegation::list_trusted),
        )
        .route(
            "/v1/organizations/trusted-services/enable",
            post(delegation::enable_trusted),
        )
        .route(
            "/v1/organizations/trusted-services/disable",
            post(delegation::disable_trusted),
        )
        .route("/v1/organizations/services", get(delegation::list_services))
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
