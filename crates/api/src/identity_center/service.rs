//! Service lifecycle: status, start (creates the instance and its identity store once), delete.

use super::administered_organization;
use crate::authorize::managed_organization;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::paging::Page;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::instance::Instance;
use iic_domain::{ids, ApiError};
use serde_json::{json, Value};

pub async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let org = org.as_str();
    let enabled = !state
        .store
        .list_instances(org, Page::first(1))
        .await?
        .is_empty();
    Ok(Json(json!({
        "serviceStatus": if enabled { "ENABLED" } else { "DISABLED" },
        "serviceStatusReasons": [],
    })))
}

pub async fn start(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(), Failure> {
    let org = managed_organization(&caller)?;
    let org = org.as_str();
    let candidate = Instance {
        seq: 0,
        instance_id: ids::instance_id(),
        identity_store_id: ids::identity_store_id(),
        organization_id: org.to_string(),
        region: state.region.to_string(),
        alias: None,
        created_at: iic_domain::clock::now_millis(),
    };
    let (instance, created) = state.store.create_instance_if_absent(&candidate).await?;
    state.store.register_region(org, &instance.region).await?;
    // Starting the service enables its trusted access in the organization (the documented
    // dependency organizations:trustedServices:enable).
    state
        .store
        .enable_trusted_service(
            org,
            iic_domain::organizations::IDENTITY_CENTER,
            iic_domain::clock::now_millis(),
        )
        .await?;
    if created {
        tracing::info!(instance_id = %instance.instance_id, organization_id = %org, "service started");
    }
    Ok(())
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(), Failure> {
    let org = managed_organization(&caller)?;
    let org = org.as_str();
    let removed = state.store.delete_instances(org).await?;
    if removed == 0 {
        return Err(ApiError::not_found(
            "IAM Identity Center is not enabled for this organization",
        )
        .into());
    }
    tracing::info!(organization_id = %org, "service deleted");
    Ok(())
}
