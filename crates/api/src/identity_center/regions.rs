//! The region the service is registered in.

use super::administered_organization;
use crate::authorize::managed_organization;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let org = org.as_str();
    let regions: Vec<Value> = state
        .store
        .list_regions(org)
        .await?
        .into_iter()
        .map(|r| json!({ "region_id": r }))
        .collect();
    Ok(Json(json!({ "regions": regions })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRegionBody {
    region_id: String,
}

/// An organization runs the service in one region: registering it again is a no-op, registering
/// another one is a conflict.
pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<RegisterRegionBody>,
) -> Result<(), Failure> {
    let org = managed_organization(&caller)?;
    let org = org.as_str();
    iic_domain::validate::simple_id("region_id", &body.region_id, 64)?;
    if body.region_id != *state.region {
        return Err(ApiError::bad_request(format!(
            "region_id {} is not served here; this server serves {}",
            body.region_id, state.region
        ))
        .into());
    }
    let existing = state.store.list_regions(org).await?;
    if existing.iter().any(|r| *r != body.region_id) {
        return Err(ApiError::conflict(
            "IIC.1007",
            format!(
                "Data modification failed: the service is already registered in region {}.",
                existing.join(", ")
            ),
        )
        .into());
    }
    state.store.register_region(org, &body.region_id).await?;
    Ok(())
}
