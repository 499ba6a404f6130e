//! What a permission set carries: system-defined policies and roles, a custom identity policy
//! and a custom role.

use super::permission_sets::{owned_set, save};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::permission_set::{self as ps, AttachedPolicy, PermissionSet, SystemPolicyKind};
use iic_domain::policy::PolicyKind;
use iic_domain::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

fn check_room(state: &AppState, set: &PermissionSet) -> Result<(), ApiError> {
    if set.content.policy_count() >= state.limits.policies_per_set {
        return Err(ApiError::bad_request(format!(
            "a permission set carries at most {} policies",
            state.limits.policies_per_set
        )));
    }
    Ok(())
}

fn attached_mut<'a>(
    set: &'a mut PermissionSet,
    kind: &SystemPolicyKind,
) -> &'a mut Vec<AttachedPolicy> {
    match kind {
        SystemPolicyKind::Policy => &mut set.content.managed_policies,
        SystemPolicyKind::Role => &mut set.content.managed_roles,
    }
}

async fn attach(
    state: &AppState,
    caller: &Caller,
    (instance_id, set_id): (String, String),
    kind: SystemPolicyKind,
    id: &str,
    field: &str,
) -> Result<(), Failure> {
    let mut set = owned_set(state, caller, &instance_id, &set_id).await?;
    iic_domain::validate::simple_id(field, id, 64)?;
    let entry = state
        .catalog
        .get(id, kind.clone())
        .ok_or_else(|| ps::system_policy_not_found(id))?;
    if attached_mut(&mut set, &kind).iter().any(|p| p.id == id) {
        return Err(ps::policy_duplicate().into());
    }
    check_room(state, &set)?;
    let attached = AttachedPolicy {
        id: entry.id.clone(),
        name: entry.name.clone(),
    };
    attached_mut(&mut set, &kind).push(attached);
    save(state, set).await.map(|_| ())
}

async fn detach(
    state: &AppState,
    caller: &Caller,
    (instance_id, set_id): (String, String),
    kind: SystemPolicyKind,
    id: &str,
    field: &str,
) -> Result<(), Failure> {
    let mut set = owned_set(state, caller, &instance_id, &set_id).await?;
    iic_domain::validate::simple_id(field, id, 64)?;
    let list = attached_mut(&mut set, &kind);
    let before = list.len();
    list.retain(|p| p.id != id);
    if list.len() == before {
        return Err(ApiError::not_found(format!(
            "{field} {id} is not attached to the permission set"
        ))
        .into());
    }
    save(state, set).await.map(|_| ())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachPolicyBody {
    managed_policy_id: String,
    #[serde(default)]
    managed_policy_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachPolicyBody {
    managed_policy_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachRoleBody {
    managed_role_id: String,
    #[serde(default)]
    managed_role_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachRoleBody {
    managed_role_id: String,
}

fn check_name(field: &str, name: &Option<String>) -> Result<(), ApiError> {
    if let Some(n) = name {
        iic_domain::validate::length(field, n, 1, 128)?;
    }
    Ok(())
}

pub async fn attach_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<AttachPolicyBody>,
) -> Result<(), Failure> {
    check_name("managed_policy_name", &b.managed_policy_name)?;
    attach(
        &state,
        &caller,
        path,
        SystemPolicyKind::Policy,
        &b.managed_policy_id,
        "managed_policy_id",
    )
    .await
}

pub async fn detach_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<DetachPolicyBody>,
) -> Result<(), Failure> {
    detach(
        &state,
        &caller,
        path,
        SystemPolicyKind::Policy,
        &b.managed_policy_id,
        "managed_policy_id",
    )
    .await
}

pub async fn attach_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<AttachRoleBody>,
) -> Result<(), Failure> {
    check_name("managed_role_name", &b.managed_role_name)?;
    attach(
        &state,
        &caller,
        path,
        SystemPolicyKind::Role,
        &b.managed_role_id,
        "managed_role_id",
    )
    .await
}

pub async fn detach_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<DetachRoleBody>,
) -> Result<(), Failure> {
    detach(
        &state,
        &caller,
        path,
        SystemPolicyKind::Role,
        &b.managed_role_id,
        "managed_role_id",
    )
    .await
}

/// Lists attached policies or roles; positions in the set's list serve as the keyset.
async fn list_attached(
    state: &AppState,
    caller: &Caller,
    (instance_id, set_id): (String, String),
    query: &QueryParams,
    kind: SystemPolicyKind,
) -> Result<(Vec<AttachedPolicy>, paging::PageInfo), Failure> {
    let mut set = owned_set(state, caller, &instance_id, &set_id).await?;
    let scope = format!("{:?}:{}", kind, set.permission_set_id);
    let page = paging::page(query, &state.keys.markers, &scope, 100)?;
    let after = usize::try_from(page.after_seq()).unwrap_or(0);
    let all: Vec<(i64, AttachedPolicy)> = attached_mut(&mut set, &kind)
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, p)| (i as i64 + 1, p))
        .skip(after)
        .take(page.lookahead().rows())
        .collect();
    let (rows, info) = paging::finish(all, page, &state.keys.markers, &scope, |(seq, _)| *seq);
    Ok((rows.into_iter().map(|(_, p)| p).collect(), info))
}

pub async fn list_policies(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let (rows, info) =
        list_attached(&state, &caller, path, &query, SystemPolicyKind::Policy).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|p| json!({ "policy_id": p.id, "policy_name": p.name }))
        .collect();
    Ok(Json(
        json!({ "attached_managed_policies": items, "page_info": info }),
    ))
}

pub async fn list_roles(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let (rows, info) = list_attached(&state, &caller, path, &query, SystemPolicyKind::Role).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|p| json!({ "role_id": p.id, "role_name": p.name }))
        .collect();
    Ok(Json(
        json!({ "attached_managed_roles": items, "page_info": info }),
    ))
}

// --- custom policy and role ------------------------------------------------------------------

fn custom_mut(set: &mut PermissionSet, kind: PolicyKind) -> &mut Option<String> {
    match kind {
        PolicyKind::IdentityPolicy => &mut set.content.custom_policy,
        PolicyKind::Role => &mut set.content.custom_role,
    }
}

async fn put_custom(
    state: &AppState,
    caller: &Caller,
    (i, s): (String, String),
    kind: PolicyKind,
    field: &str,
    text: &str,
) -> Result<(), Failure> {
    let mut set = owned_set(state, caller, &i, &s).await?;
    ps::validate_custom(field, text, kind)?;
    if custom_mut(&mut set, kind).is_none() {
        check_room(state, &set)?;
    }
    *custom_mut(&mut set, kind) = Some(text.to_string());
    save(state, set).await.map(|_| ())
}

async fn get_custom(
    state: &AppState,
    caller: &Caller,
    (i, s): (String, String),
    kind: PolicyKind,
    field: &str,
) -> Result<Json<Value>, Failure> {
    let mut set = owned_set(state, caller, &i, &s).await?;
    let text = custom_mut(&mut set, kind)
        .clone()
        .ok_or_else(|| ApiError::not_found(format!("the permission set has no {field}")))?;
    Ok(Json(json!({ field: text })))
}

async fn delete_custom(
    state: &AppState,
    caller: &Caller,
    (i, s): (String, String),
    kind: PolicyKind,
    field: &str,
) -> Result<(), Failure> {
    let mut set = owned_set(state, caller, &i, &s).await?;
    if custom_mut(&mut set, kind).take().is_none() {
        return Err(ApiError::not_found(format!("the permission set has no {field}")).into());
    }
    save(state, set).await.map(|_| ())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPolicyBody {
    custom_policy: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleBody {
    custom_role: String,
}

pub async fn put_custom_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<CustomPolicyBody>,
) -> Result<(), Failure> {
    put_custom(
        &state,
        &caller,
        path,
        PolicyKind::IdentityPolicy,
        "custom_policy",
        &b.custom_policy,
    )
    .await
}

pub async fn get_custom_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    get_custom(
        &state,
        &caller,
        path,
        PolicyKind::IdentityPolicy,
        "custom_policy",
    )
    .await
}

pub async fn delete_custom_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
) -> Result<(), Failure> {
    delete_custom(
        &state,
        &caller,
        path,
        PolicyKind::IdentityPolicy,
        "custom_policy",
    )
    .await
}

pub async fn put_custom_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
    JsonBody(b): JsonBody<CustomRoleBody>,
) -> Result<(), Failure> {
    put_custom(
        &state,
        &caller,
        path,
        PolicyKind::Role,
        "custom_role",
        &b.custom_role,
    )
    .await
}

pub async fn get_custom_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    get_custom(&state, &caller, path, PolicyKind::Role, "custom_role").await
}

pub async fn delete_custom_role(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(path): Path<(String, String)>,
) -> Result<(), Failure> {
    delete_custom(&state, &caller, path, PolicyKind::Role, "custom_role").await
}
