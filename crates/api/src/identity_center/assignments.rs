//! Account assignments: asynchronous creation and deletion with pollable statuses, listings,
//! and removal of all of a principal's assignments.

use super::administered_organization;
use super::instances::{instance_not_found, owned_instance};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::assignment::{Principal, PrincipalType, RequestKind, RequestStatus};
use iic_domain::instance::Instance;
use iic_domain::job::JobKind;
use iic_domain::names::{self, Named};
use iic_domain::organizations::AccountStatus;
use iic_domain::permission_set as ps;
use iic_domain::{clock, ids, ApiError};
use iic_store::{AccountAssignments, AsyncRequest, Job};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

pub fn status_view(r: &AsyncRequest) -> Value {
    let mut v = json!({
        "request_id": r.request_id,
        "status": r.status.name(),
        "permission_set_id": r.permission_set_id,
        "principal_type": r.principal_type.map(PrincipalType::name),
        "principal_id": r.principal_id,
        "target_id": r.target_id,
        "target_type": "ACCOUNT",
        "created_date": r.created_at,
    });
    if let Some(f) = &r.failure_reason {
        v["failure_reason"] = json!(f);
    }
    v
}

/// Queues an asynchronous request of the instance, refusing beyond the in-flight bound.
pub(crate) async fn enqueue(state: &AppState, request: &AsyncRequest) -> Result<(), Failure> {
    let job = Job {
        id: ids::hex32(),
        kind: JobKind::Request(request.kind),
        payload: request.request_id.clone(),
        attempts: 0,
        run_after: request.created_at + state.limits.async_delay_ms,
        created_at: request.created_at,
    };
    if !state
        .store
        .enqueue_request(request, &job, state.limits.max_requests_in_flight)
        .await?
    {
        return Err(ApiError::new(
            409,
            "IIC.1006",
            format!(
                "Concurrency conflicts. Try again later: {} requests of this instance are in progress.",
                state.limits.max_requests_in_flight
            ),
        )
        .into());
    }
    state.jobs.notify_one();
    Ok(())
}

/// Checks a target account: an active account of the organization (400 `IIC.1210` otherwise).
pub(crate) async fn check_account(
    state: &AppState,
    instance: &Instance,
    account_id: &str,
) -> Result<(), Failure> {
    iic_domain::validate::simple_id("target_id", account_id, 64)?;
    match state.store.get_account(account_id).await? {
        Some(a)
            if a.organization_id.as_deref() == Some(instance.organization_id.as_str())
                && a.status == AccountStatus::Active =>
        {
            Ok(())
        }
        _ => Err(account_not_found().into()),
    }
}

/// 400 `IIC.1210`: the target is not an active account of the instance's organization.
fn account_not_found() -> ApiError {
    ApiError::new(400, "IIC.1210", "Account not found.")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignmentBody {
    permission_set_id: String,
    principal_id: String,
    principal_type: String,
    target_id: String,
    target_type: String,
}

async fn request_for(
    state: &AppState,
    caller: &Caller,
    instance_id: &str,
    b: &AssignmentBody,
    kind: RequestKind,
) -> Result<AsyncRequest, Failure> {
    let org = administered_organization(state, caller).await?;
    iic_domain::validate::simple_id("instance_id", instance_id, 64)?;
    // One look-up finds the instance and what the request names; the checks below keep the
    // order of the errors: the instance, the fields, then what they name.
    let principal_type = names::parse::<PrincipalType>("principal_type", &b.principal_type);
    let principal = Principal {
        kind: *principal_type.as_ref().unwrap_or(&PrincipalType::User),
        id: b.principal_id.clone(),
    };
    let (instance, found) = match state
        .store
        .assignment_targets(instance_id, &b.permission_set_id, &principal, &b.target_id)
        .await?
    {
        Some((i, found)) if i.organization_id == org => (i, found),
        _ => return Err(instance_not_found(instance_id).into()),
    };
    iic_domain::validate::simple_id("permission_set_id", &b.permission_set_id, 64)?;
    iic_domain::validate::simple_id("principal_id", &b.principal_id, 64)?;
    let principal_type = principal_type?;
    if b.target_type != "ACCOUNT" {
        return Err(ApiError::bad_request("target_type must be ACCOUNT").into());
    }
    if !found.permission_set {
        return Err(ps::set_not_found().into());
    }
    if kind == RequestKind::AssignmentCreate {
        if !found.principal {
            return Err(ApiError::not_found(format!(
                "{} {} in the identity store",
                b.principal_type.to_lowercase(),
                b.principal_id
            ))
            .into());
        }
        iic_domain::validate::simple_id("target_id", &b.target_id, 64)?;
        if !found.account {
            return Err(account_not_found().into());
        }
    } else {
        iic_domain::validate::simple_id("target_id", &b.target_id, 64)?;
    }
    let now = clock::now_millis();
    Ok(AsyncRequest {
        seq: 0,
        request_id: ids::uuid_v4(),
        instance_id: instance.instance_id,
        kind,
        status: RequestStatus::InProgress,
        failure_reason: None,
        permission_set_id: b.permission_set_id.clone(),
        principal_type: Some(principal_type),
        principal_id: Some(b.principal_id.clone()),
        target_id: Some(b.target_id.clone()),
        created_at: now,
        updated_at: now,
    })
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(b): JsonBody<AssignmentBody>,
) -> Result<Json<Value>, Failure> {
    let r = request_for(
        &state,
        &caller,
        &instance_id,
        &b,
        RequestKind::AssignmentCreate,
    )
    .await?;
    enqueue(&state, &r).await?;
    Ok(Json(
        json!({ "account_assignment_creation_status": status_view(&r) }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(b): JsonBody<AssignmentBody>,
) -> Result<Json<Value>, Failure> {
    let r = request_for(
        &state,
        &caller,
        &instance_id,
        &b,
        RequestKind::AssignmentDelete,
    )
    .await?;
    enqueue(&state, &r).await?;
    Ok(Json(
        json!({ "account_assignment_deletion_status": status_view(&r) }),
    ))
}

async fn describe(
    state: &AppState,
    caller: &Caller,
    instance_id: &str,
    request_id: &str,
    kind: RequestKind,
) -> Result<AsyncRequest, Failure> {
    let org = administered_organization(state, caller).await?;
    let instance = owned_instance(state, &org, instance_id).await?;
    iic_domain::validate::simple_id("request_id", request_id, 64)?;
    state
        .store
        .get_request(&instance.instance_id, kind, request_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("request {request_id}")).into())
}

pub async fn creation_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let r = describe(
        &state,
        &caller,
        &instance_id,
        &request_id,
        RequestKind::AssignmentCreate,
    )
    .await?;
    Ok(Json(
        json!({ "account_assignment_creation_status": status_view(&r) }),
    ))
}

pub async fn deletion_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, request_id)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let r = describe(
        &state,
        &caller,
        &instance_id,
        &request_id,
        RequestKind::AssignmentDelete,
    )
    .await?;
    Ok(Json(
        json!({ "account_assignment_deletion_status": status_view(&r) }),
    ))
}

/// Lists requests of one kind with the optional `status` filter; rows as `{created_date,
/// request_id, status}`.
pub(crate) async fn list_statuses(
    state: &AppState,
    caller: &Caller,
    instance_id: &str,
    query: &QueryParams,
    kind: RequestKind,
) -> Result<(Vec<Value>, paging::PageInfo), Failure> {
    let org = administered_organization(state, caller).await?;
    let instance = owned_instance(state, &org, instance_id).await?;
    let status = query
        .get("status")
        .map(|s| names::parse::<RequestStatus>("status", s))
        .transpose()?;
    let scope = format!("requests:{}:{}", kind.name(), instance.instance_id);
    let page = paging::page(query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_requests(&instance.instance_id, kind, status, page.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |r| r.seq);
    let items = rows
        .iter()
        .map(|r| json!({ "created_date": r.created_at, "request_id": r.request_id, "status": r.status.name() }))
        .collect();
    Ok((items, info))
}

pub async fn creation_statuses(
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
        RequestKind::AssignmentCreate,
    )
    .await?;
    Ok(Json(
        json!({ "account_assignments_creation_status": items, "page_info": info }),
    ))
}

pub async fn deletion_statuses(
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
        RequestKind::AssignmentDelete,
    )
    .await?;
    Ok(Json(
        json!({ "account_assignments_deletion_status": items, "page_info": info }),
    ))
}

fn assignment_view(a: &iic_store::AccountAssignment) -> Value {
    json!({
        "account_id": a.account_id,
        "permission_set_id": a.permission_set_id,
        "principal_id": a.principal_id,
        "principal_type": a.principal_type.name(),
    })
}

pub async fn list(
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
    let set = query.get("permission_set_id");
    if let Some(p) = set {
        iic_domain::validate::simple_id("permission_set_id", p, 64)?;
    }
    let scope = format!("assignments:{}:{account}", instance.instance_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_assignments(
            &instance.instance_id,
            AccountAssignments {
                account_id: account,
                permission_set_id: set,
            },
            page.lookahead(),
        )
        .await?;
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |a| a.seq);
    let items: Vec<Value> = rows.iter().map(assignment_view).collect();
    Ok(Json(
        json!({ "account_assignments": items, "page_info": info }),
    ))
}

pub async fn list_for_principal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    let principal = query
        .get("principal_id")
        .ok_or_else(|| ApiError::bad_request("principal_id is required"))?;
    iic_domain::validate::simple_id("principal_id", principal, 64)?;
    let kind: PrincipalType = names::parse(
        "principal_type",
        query
            .get("principal_type")
            .ok_or_else(|| ApiError::bad_request("principal_type is required"))?,
    )?;
    let account = query.get("account_id");
    let scope = format!("assignments-for:{}:{principal}", instance.instance_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_assignments_for_principal(
            &instance.instance_id,
            &Principal {
                kind,
                id: principal.to_string(),
            },
            account,
            page.lookahead(),
        )
        .await?;
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |a| a.seq);
    let items: Vec<Value> = rows.iter().map(assignment_view).collect();
    Ok(Json(
        json!({ "account_assignments": items, "page_info": info }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisassociateBody {
    id: String,
    accessor_type: String,
    identity_store_id: String,
}

pub async fn disassociate_profile(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(b): JsonBody<DisassociateBody>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    iic_domain::validate::simple_id("id", &b.id, 64)?;
    let kind: PrincipalType = names::parse("accessor_type", &b.accessor_type)?;
    if b.identity_store_id != instance.identity_store_id {
        return Err(ApiError::not_found(format!("identity store {}", b.identity_store_id)).into());
    }
    state
        .store
        .disassociate_principal(
            &instance.instance_id,
            &Principal {
                kind,
                id: b.id.clone(),
            },
        )
        .await?;
    Ok(())
}
