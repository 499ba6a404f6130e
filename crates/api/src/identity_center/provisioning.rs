//! Provisioning permission sets to accounts, and what is provisioned where.

use super::administered_organization;
use super::assignments::{check_account, enqueue, list_statuses};
use super::instances::owned_instance;
use super::permission_sets::owned_set;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::assignment::{RequestKind, RequestStatus};
use iic_domain::names::Named;
use iic_domain::organizations::iso8601;
use iic_domain::{clock, ids, ApiError};
use iic_store::{AsyncRequest, ProvisionedSet};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

fn view(r: &AsyncRequest) -> Value {
    let mut v = json!({
        "request_id": r.request_id,
        "status": r.status.name(),
        "permission_set_id": r.permission_set_id,
        "account_id": r.target_id,
        "created_date": iso8601(r.created_at),
    });
    if let Some(f) = &r.failure_reason {
        v["failure_reason"] = json!(f);
    }
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionBody {
    #[serde(default)]
    target_id: Option<String>,
    target_type: String,
}

pub async fn provision(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, set_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<ProvisionBody>,
) -> Result<Json<Value>, Failure> {
    let set = owned_set(&state, &caller, &instance_id, &set_id).await?;
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    let target = match (b.target_type.as_str(), &b.target_id) {
        ("ACCOUNT", Some(account)) => {
            check_account(&state, &instance, account).await?;
            Some(account.clone())
        }
        ("ACCOUNT", None) => {
            return Err(
                ApiError::bad_request("target_id is required when target_type is ACCOUNT").into(),
            )
        }
        ("ALL_PROVISIONED_ACCOUNTS", _) => None,
        _ => {
            return Err(ApiError::bad_request(
                "target_type must be ACCOUNT or ALL_PROVISIONED_ACCOUNTS",
            )
            .into())
        }
    };
    let now = clock::now_millis();
    let request = AsyncRequest {
        seq: 0,
        request_id: ids::uuid_v4(),
        instance_id: set.instance_id.clone(),
        kind: RequestKind::Provision,
        status: RequestStatus::InProgress,
        failure_reason: None,
        permission_set_id: set.permission_set_id.clone(),
        principal_type: None,
        principal_id: None,
        target_id: target,
        created_at: now,
        updated_at: now,
    };
    enqueue(&state, &request).await?;
    Ok(Json(
        json!({ "permission_set_provisioning_status": view(&request) }),
    ))
}

pub async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    iic_domain::validate::simple_id("request_id", &request_id, 64)?;
    let r = state
        .store
        .get_request(&instance.instance_id, RequestKind::Provision, &request_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("request {request_id}")))?;
    Ok(Json(
        json!({ "permission_set_provisioning_status": view(&r) }),
    ))
}

pub async fn statuses(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let (items, info) = list_statuses(
        &state,
        &caller,
        &instance_id,
        &query,
        RequestKind::Provision,
    )
    .await?;
    Ok(Json(
        json!({ "permission_sets_provisioning_status": items, "page_info": info }),
    ))
}

/// `LATEST_PERMISSION_SET_PROVISIONED` / `…_NOT_PROVISIONED` filter (None: both).
fn provisioning_filter(query: &QueryParams) -> Result<Option<bool>, ApiError> {
    match query.get("provisioning_status") {
        None => Ok(None),
        Some("LATEST_PERMISSION_SET_PROVISIONED") => Ok(Some(true)),
        Some("LATEST_PERMISSION_SET_NOT_PROVISIONED") => Ok(Some(false)),
        Some(_) => Err(ApiError::bad_request(
            "provisioning_status must be LATEST_PERMISSION_SET_PROVISIONED or LATEST_PERMISSION_SET_NOT_PROVISIONED",
        )),
    }
}

pub async fn accounts_for_set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, set_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let set = owned_set(&state, &caller, &instance_id, &set_id).await?;
    let latest = provisioning_filter(&query)?;
    let scope = format!("provisioned-accounts:{}", set.permission_set_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_provisioned_for_set(&set.instance_id, &set.permission_set_id, page.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |p| p.seq);
    let ids: Vec<&str> = rows
        .iter()
        .filter(|p| latest.is_none_or(|l| (p.version >= set.version) == l))
        .map(|p| p.account_id.as_str())
        .collect();
    Ok(Json(json!({ "account_ids": ids, "page_info": info })))
}

pub async fn sets_for_account(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    let account = query
        .get("account_id")
        .ok_or_else(|| ApiError::bad_request("account_id is required"))?;
    iic_domain::validate::simple_id("account_id", account, 64)?;
    let latest = provisioning_filter(&query)?;
    let scope = format!("provisioned-sets:{}:{account}", instance.instance_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows: Vec<ProvisionedSet> = state
        .store
        .list_provisioned_for_account(&instance.instance_id, account, page.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |p| p.seq);
    let mut ids = Vec::with_capacity(rows.len());
    for p in &rows {
        let current = state
            .store
            .get_permission_set(&instance.instance_id, &p.permission_set_id)
            .await?;
        let is_latest = current.is_some_and(|s| p.version >= s.version);
        if latest.is_none_or(|l| l == is_latest) {
            ids.push(p.permission_set_id.clone());
        }
    }
    Ok(Json(json!({ "permission_sets": ids, "page_info": info })))
}
