//! Instances: list, alias, identity store association.

use super::administered_organization;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::instance::{validate_alias, Instance};
use iic_domain::{ids, ApiError};
use iic_store::SetAliasOutcome;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<ListInstancesResponse>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let org = org.as_str();
    let scope = format!("instances:{org}");
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state.store.list_instances(org, page.lookahead()).await?;
    let (rows, page_info) = paging::finish(rows, page, &state.keys.markers, &scope, |i| i.seq);
    let instances = rows
        .into_iter()
        .map(|i| InstanceEntry {
            instance_urn: ids::instance_urn(&i.instance_id),
            instance_id: i.instance_id,
            identity_store_id: i.identity_store_id,
            alias: i.alias,
        })
        .collect();
    Ok(Json(ListInstancesResponse {
        instances,
        page_info,
    }))
}

#[derive(Serialize)]
pub struct InstanceEntry {
    instance_id: String,
    identity_store_id: String,
    alias: Option<String>,
    instance_urn: String,
}

#[derive(Serialize)]
pub struct ListInstancesResponse {
    instances: Vec<InstanceEntry>,
    page_info: paging::PageInfo,
}

/// The instance named in the path, if it belongs to the caller's organization; another
/// organization's instance is indistinguishable from a missing one.
pub(crate) async fn owned_instance(
    state: &AppState,
    org: &str,
    instance_id: &str,
) -> Result<Instance, Failure> {
    iic_domain::validate::simple_id("instance_id", instance_id, 64)?;
    match state.store.get_instance(instance_id).await? {
        Some(i) if i.organization_id == org => Ok(i),
        _ => Err(instance_not_found(instance_id).into()),
    }
}

/// 404: no instance of this id in the caller's organization.
pub(crate) fn instance_not_found(instance_id: &str) -> ApiError {
    ApiError::not_found(format!("instance {instance_id}"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAliasBody {
    alias: String,
}

pub async fn create_alias(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<CreateAliasBody>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let org = org.as_str();
    let instance = owned_instance(&state, org, &instance_id).await?;
    validate_alias(&body.alias)?;
    match state
        .store
        .set_alias(&instance.instance_id, &body.alias)
        .await?
    {
        SetAliasOutcome::Set => Ok(()),
        SetAliasOutcome::NoSuchInstance => {
            Err(ApiError::not_found(format!("instance {instance_id}")).into())
        }
        SetAliasOutcome::AlreadySet => Err(ApiError::conflict(
            "IIC.1007",
            "Data modification failed: the alias of an instance can be set only once.",
        )
        .into()),
        SetAliasOutcome::Taken => Err(ApiError::conflict(
            "IIC.1007",
            format!(
                "Data modification failed: the alias {} is already in use.",
                body.alias
            ),
        )
        .into()),
    }
}

pub async fn identity_store_associations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let org = org.as_str();
    let instance = owned_instance(&state, org, &instance_id).await?;
    Ok(Json(json!({
        "identity_store_associations": [{
            "identity_store_id": instance.identity_store_id,
            "identity_store_type": "UserPool",
            "authentication_type": "DEFAULT",
            "provisioning_type": ["DEFAULT"],
            "status": "ENABLED",
        }]
    })))
}
