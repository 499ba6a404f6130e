//! Permission sets: create, describe, update, delete, list, summary.

use super::administered_organization;
use super::instances::owned_instance;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging::{self, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::organizations::Tag;
use iic_domain::permission_set::{self as ps, PermissionSet, PermissionSetContent};
use iic_domain::{clock, ApiError};
use iic_store::{CreateOutcome, UpdateOutcome};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

pub fn view(p: &PermissionSet) -> Value {
    let mut v = json!({
        "permission_set_id": p.permission_set_id,
        "permission_urn": ps::permission_set_urn(&p.permission_set_id),
        "name": p.name,
        "session_duration": p.session_duration,
        "created_date": p.created_at,
    });
    if let Some(d) = &p.description {
        v["description"] = json!(d);
    }
    if let Some(r) = &p.relay_state {
        v["relay_state"] = json!(r);
    }
    v
}

/// The permission set named in the path, within an instance of the caller's organization.
pub(crate) async fn owned_set(
    state: &AppState,
    caller: &Caller,
    instance_id: &str,
    permission_set_id: &str,
) -> Result<PermissionSet, Failure> {
    let org = administered_organization(state, caller).await?;
    owned_instance(state, &org, instance_id).await?;
    iic_domain::validate::simple_id("permission_set_id", permission_set_id, 64)?;
    state
        .store
        .get_permission_set(instance_id, permission_set_id)
        .await?
        .ok_or_else(|| ps::set_not_found().into())
}

/// Writes a changed set (version bumped), mapping outcomes to the catalogued errors.
pub(crate) async fn save(
    state: &AppState,
    mut set: PermissionSet,
) -> Result<PermissionSet, Failure> {
    set.version += 1;
    set.updated_at = clock::now_millis();
    match state.store.save_permission_set(&set).await? {
        UpdateOutcome::Updated => Ok(set),
        UpdateOutcome::NotFound => Err(ps::set_not_found().into()),
        UpdateOutcome::NameTaken => Err(ps::name_taken().into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    relay_state: Option<String>,
    #[serde(default)]
    session_duration: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(b): JsonBody<CreateBody>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    ps::validate_name(&b.name)?;
    if let Some(d) = &b.description {
        ps::validate_description(d)?;
    }
    if let Some(r) = &b.relay_state {
        ps::validate_relay_state(r)?;
    }
    if let Some(d) = &b.session_duration {
        ps::validate_session_duration(d)?;
    }
    ps::validate_tags(&b.tags, 50)?;
    let now = clock::now_millis();
    let set = PermissionSet {
        seq: 0,
        permission_set_id: ps::permission_set_id(),
        instance_id: instance.instance_id,
        name: b.name,
        description: b.description.filter(|d| !d.is_empty()),
        relay_state: b.relay_state.filter(|r| !r.is_empty()),
        session_duration: b
            .session_duration
            .unwrap_or_else(|| ps::DEFAULT_SESSION_DURATION.into()),
        content: PermissionSetContent {
            tags: b.tags,
            ..Default::default()
        },
        version: 1,
        created_at: now,
        updated_at: now,
    };
    match state
        .store
        .create_permission_set(&set, state.limits.permission_sets_quota)
        .await?
    {
        CreateOutcome::Created => Ok(Json(json!({ "permission_set": view(&set) }))),
        CreateOutcome::NameTaken => Err(ps::name_taken().into()),
        CreateOutcome::QuotaExceeded => Err(ApiError::bad_request(format!(
            "the instance already holds {} permission sets, its quota",
            state.limits.permission_sets_quota
        ))
        .into()),
        CreateOutcome::NoSuchStore => {
            Err(ApiError::not_found(format!("instance {instance_id}")).into())
        }
    }
}

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, set_id)): Path<(String, String)>,
) -> Result<Json<Value>, Failure> {
    let set = owned_set(&state, &caller, &instance_id, &set_id).await?;
    Ok(Json(json!({ "permission_set": view(&set) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    relay_state: Option<String>,
    #[serde(default)]
    session_duration: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, set_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let mut set = owned_set(&state, &caller, &instance_id, &set_id).await?;
    if let Some(d) = b.description {
        ps::validate_description(&d)?;
        set.description = Some(d).filter(|d| !d.is_empty());
    }
    if let Some(r) = b.relay_state {
        ps::validate_relay_state(&r)?;
        set.relay_state = Some(r).filter(|r| !r.is_empty());
    }
    if let Some(d) = b.session_duration {
        ps::validate_session_duration(&d)?;
        set.session_duration = d;
    }
    save(&state, set).await.map(|_| ())
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((instance_id, set_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let set = owned_set(&state, &caller, &instance_id, &set_id).await?;
    if state.store.is_provisioned(&set.permission_set_id).await? {
        return Err(ApiError::conflict(
            "IIC.1210",
            "The permission set has been attached to accounts and cannot be deleted.",
        )
        .into());
    }
    if state
        .store
        .delete_permission_set(&set.instance_id, &set.permission_set_id)
        .await?
    {
        Ok(())
    } else {
        Err(ps::set_not_found().into())
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    let scope = format!("permission-sets:{}", instance.instance_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    // A filter names at most one set: look it up instead of scanning.
    let by_id = query
        .get("permission_set_id")
        .map(str::to_string)
        .or_else(|| {
            query
                .get("permission_urn")
                .map(|u| u.rsplit(':').next().unwrap_or(u).to_string())
        });
    let filtered = if let Some(id) = by_id {
        Some(
            state
                .store
                .get_permission_set(&instance.instance_id, &id)
                .await?,
        )
    } else if let Some(name) = query.get("name") {
        Some(
            state
                .store
                .find_permission_set_by_name(&instance.instance_id, name)
                .await?,
        )
    } else {
        None
    };
    let (rows, info) = match filtered {
        Some(found) => {
            let rows: Vec<PermissionSet> = found
                .into_iter()
                .filter(|p| {
                    query
                        .get("name")
                        .is_none_or(|n| p.name.eq_ignore_ascii_case(n))
                })
                .collect();
            paging::finish(
                rows,
                Page::first(page.limit),
                &state.keys.markers,
                &scope,
                |p| p.seq,
            )
        }
        None => {
            let rows = state
                .store
                .list_permission_sets(&instance.instance_id, page.lookahead())
                .await?;
            paging::finish(rows, page, &state.keys.markers, &scope, |p| p.seq)
        }
    };
    let sets: Vec<Value> = rows.iter().map(view).collect();
    Ok(Json(json!({ "permission_sets": sets, "page_info": info })))
}

pub async fn summary(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, &org, &instance_id).await?;
    let count = state
        .store
        .count_permission_sets(&instance.instance_id)
        .await?;
    Ok(Json(json!({
        "permission_sets": count,
        "permission_sets_quota": state.limits.permission_sets_quota,
        "permission_policy_count_quota": state.limits.policies_per_set,
        "permission_policy_quota": ps::CUSTOM_POLICY_MAX,
    })))
}
