//! The IAM Identity Center admin API (`GlobalCredentials`, `X-Domain-Id`).

mod assignments;
pub(crate) mod instances;
pub mod permission_sets;
mod provisioning;
mod regions;
mod service;
mod set_policies;
mod tags;

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
        .route(
            "/v1/instances/{instance_id}/permission-sets",
            post(permission_sets::create).get(permission_sets::list),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}",
            get(permission_sets::describe)
                .put(permission_sets::update)
                .delete(permission_sets::delete),
        )
        .route(
            "/v1/instances/{instance_id}/permission-set-summary",
            get(permission_sets::summary),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/attach-managed-policy",
            post(set_policies::attach_policy),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/detach-managed-policy",
            post(set_policies::detach_policy),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/managed-policies",
            get(set_policies::list_policies),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/attach-managed-role",
            post(set_policies::attach_role),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/detach-managed-role",
            post(set_policies::detach_role),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/managed-roles",
            get(set_policies::list_roles),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-policy",
            get(set_policies::get_custom_policy)
                .put(set_policies::put_custom_policy)
                .delete(set_policies::delete_custom_policy),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-role",
            get(set_policies::get_custom_role)
                .put(set_policies::put_custom_role)
                .delete(set_policies::delete_custom_role),
        )
        .route(
            "/v1/instances/{instance_id}/{resource_id}/tags/create",
            post(tags::create),
        )
        .route(
            "/v1/instances/{instance_id}/{resource_id}/tags/delete",
            post(tags::delete),
        )
        .route(
            "/v1/instances/{instance_id}/{resource_id}/tags",
            get(tags::list),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/create",
            post(assignments::create),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/delete",
            post(assignments::delete),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/creation-status/{request_id}",
            get(assignments::creation_status),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/deletion-status/{request_id}",
            get(assignments::deletion_status),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/creation-statuses",
            get(assignments::creation_statuses),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments/deletion-statuses",
            get(assignments::deletion_statuses),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments",
            get(assignments::list),
        )
        .route(
            "/v1/instances/{instance_id}/account-assignments-for-principals",
            get(assignments::list_for_principal),
        )
        .route(
            "/v1/instances/{instance_id}/disassociate-profile",
            post(assignments::disassociate_profile),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/provision",
            post(provisioning::provision),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/provisioning-status/{request_id}",
            get(provisioning::status),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/provisioning-statuses",
            get(provisioning::statuses),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/accounts",
            get(provisioning::accounts_for_set),
        )
        .route(
            "/v1/instances/{instance_id}/permission-sets/provisioned-to-accounts",
            get(provisioning::sets_for_account),
        )
        .route("/v1/registered-regions", get(regions::list))
        .route("/v1/register-regions", post(regions::register))
}

pub(crate) use crate::authorize::administered_organization;
