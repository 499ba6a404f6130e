//! The IAM Identity Center admin API (`GlobalCredentials`, `X-Domain-Id`).

mod instances;
mod regions;
mod service;

use crate::caller::Caller;
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use iic_domain::ApiError;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/identity-center-service/status", get(service::status))
        .route("/v1/service/start", post(service::start))
        .route("/v1/service/delete", post(service::delete))
        .route("/v1/instances", get(instances::list))
        .route(
            "/v1/instances/{instance_id}/alias",
            post(instances::create_alias),
        )
        .route(
            "/v1/instances/{instance_id}/identity-store-associations",
            get(instances::identity_store_associations),
        )
        .route("/v1/registered-regions", get(regions::list))
        .route("/v1/register-regions", post(regions::register))
}

/// The admin API answers only the management account of an organization (and, once delegation
/// exists, a delegated administrator). Returns the organization the caller administers.
pub(crate) fn administered_organization<'c>(
    caller: &'c Caller,
    action: &str,
) -> Result<&'c str, ApiError> {
    match (
        &caller.account.organization_id,
        caller.account.is_management,
    ) {
        (Some(org), true) => Ok(org.as_str()),
        (None, _) => Err(ApiError::not_admin(
            action,
            format!(
                "account {} does not belong to an organization",
                caller.account.id
            ),
        )),
        (Some(org), false) => Err(ApiError::not_admin(
            action,
            format!(
                "account {} is a member of organization {org}, not its management account",
                caller.account.id
            ),
        )),
    }
}
