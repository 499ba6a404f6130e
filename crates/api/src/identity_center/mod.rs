//! The IAM Identity Center admin API (`GlobalCredentials`, `X-Domain-Id`).

mod instances;
mod regions;
mod service;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

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

pub(crate) use crate::authorize::administered_organization;
