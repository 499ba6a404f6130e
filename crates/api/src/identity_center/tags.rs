//! Tags of permission sets (`/v1/instances/identitycenter:permissionset/{id}/tags…`).

use super::administered_organization;
use super::permission_sets::save;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging::{self, Page};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::organizations::Tag;
use iic_domain::permission_set::{self as ps, PermissionSet};
use iic_domain::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

const RESOURCE_TYPE: &str = "identitycenter:permissionset";
const MAX_TAGS: usize = 50;

/// The tagged permission set, looked up in the instances of the caller's organization.
async fn tagged_set(
    state: &AppState,
    caller: &Caller,
    resource_type: &str,
    resource_id: &str,
) -> Result<PermissionSet, Failure> {
    let org = administered_organization(state, caller).await?;
    if resource_type != RESOURCE_TYPE {
        return Err(ApiError::bad_request(format!("resource_type must be {RESOURCE_TYPE}")).into());
    }
    iic_domain::validate::simple_id("resource_id", resource_id, 130)?;
    for instance in state.store.list_instances(&org, Page::first(100)).await? {
        if let Some(set) = state
            .store
            .get_permission_set(&instance.instance_id, resource_id)
            .await?
        {
            return Ok(set);
        }
    }
    Err(ps::set_not_found().into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTagsBody {
    tags: Vec<Tag>,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<CreateTagsBody>,
) -> Result<(), Failure> {
    let mut set = tagged_set(&state, &caller, &resource_type, &resource_id).await?;
    ps::validate_tags(&b.tags, MAX_TAGS)?;
    for t in b.tags {
        match set.content.tags.iter_mut().find(|x| x.key == t.key) {
            Some(existing) => existing.value = t.value,
            None => set.content.tags.push(t),
        }
    }
    if set.content.tags.len() > MAX_TAGS {
        return Err(ApiError::bad_request(format!(
            "a permission set carries at most {MAX_TAGS} tags"
        ))
        .into());
    }
    save(&state, set).await.map(|_| ())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTag {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTagsBody {
    tags: Vec<DeleteTag>,
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<DeleteTagsBody>,
) -> Result<(), Failure> {
    let mut set = tagged_set(&state, &caller, &resource_type, &resource_id).await?;
    if b.tags.is_empty() || b.tags.len() > 20 {
        return Err(ApiError::bad_request("tags must hold between 1 and 20 items").into());
    }
    for t in &b.tags {
        iic_domain::validate::length("tags.key", &t.key, 1, 128)?;
        set.content
            .tags
            .retain(|x| !(x.key == t.key && t.value.as_ref().is_none_or(|v| *v == x.value)));
    }
    save(&state, set).await.map(|_| ())
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((resource_type, resource_id)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let set = tagged_set(&state, &caller, &resource_type, &resource_id).await?;
    let scope = format!("tags:{}", set.permission_set_id);
    let page = paging::page(&query, &state.keys.markers, &scope, 100)?;
    let after = usize::try_from(page.after_seq()).unwrap_or(0);
    let rows: Vec<(i64, Tag)> = set
        .content
        .tags
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, t)| (i as i64 + 1, t))
        .skip(after)
        .take(page.lookahead().rows())
        .collect();
    let (rows, info) = paging::finish(rows, page, &state.keys.markers, &scope, |(seq, _)| *seq);
    let tags: Vec<Tag> = rows.into_iter().map(|(_, t)| t).collect();
    Ok(Json(json!({ "tags": tags, "page_info": info })))
}
