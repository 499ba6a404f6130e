//! Attributes for access control of an instance (`Create`, `Describe`, `Update` and
//! `DeleteInstanceAccessControlAttributeConfiguration`).

use super::administered_organization;
use super::instances::{instance_not_found, owned_instance};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::access_control::{Configuration, STATUS_ENABLED};
use iic_domain::{clock, ApiError};
use iic_store::AccessControlWrite;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    instance_access_control_attribute_configuration: Configuration,
}

#[derive(Serialize)]
pub struct DescribeResponse {
    instance_access_control_attribute_configuration: Configuration,
    status: &'static str,
}

/// 404: the instance has no configuration (Create makes one).
fn none_configured(instance_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "access control attribute configuration of instance {instance_id}; create one first"
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<Body>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let configuration = body.instance_access_control_attribute_configuration;
    configuration.validate()?;
    match state
        .store
        .create_access_control_configuration(
            &instance.instance_id,
            &configuration,
            clock::now_millis(),
        )
        .await?
    {
        AccessControlWrite::Done => Ok(()),
        AccessControlWrite::NoSuchInstance => Err(instance_not_found(&instance_id).into()),
        AccessControlWrite::AlreadyExists => Err(ApiError::conflict(
            "IIC.1007",
            format!(
                "Data modification failed: instance {instance_id} already has an access control attribute configuration; update or delete it."
            ),
        )
        .into()),
    }
}

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<Json<DescribeResponse>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let stored = state
        .store
        .access_control_configuration(&instance.instance_id)
        .await?
        .ok_or_else(|| none_configured(&instance_id))?;
    Ok(Json(DescribeResponse {
        instance_access_control_attribute_configuration: stored.configuration,
        status: STATUS_ENABLED,
    }))
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<Body>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let configuration = body.instance_access_control_attribute_configuration;
    configuration.validate()?;
    if state
        .store
        .update_access_control_configuration(
            &instance.instance_id,
            &configuration,
            clock::now_millis(),
        )
        .await?
    {
        Ok(())
    } else {
        Err(none_configured(&instance_id).into())
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    if state
        .store
        .delete_access_control_configuration(&instance.instance_id)
        .await?
    {
        Ok(())
    } else {
        Err(none_configured(&instance_id).into())
    }
}
