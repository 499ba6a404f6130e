//! Groups of an identity store.

use super::{actor, batch_ids, owned_store, path_id, AlternateIdentifierBody, Lookup};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging::{self, PageInfo};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::directory::group::{Group, GroupProfile};
use iic_domain::directory::update::{self, Operation};
use iic_domain::directory::{principal_id, ExternalId};
use iic_domain::{clock, ApiError};
use iic_store::{CreateOutcome, IdentityStoreInfo, PrincipalKey, UpdateOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

#[derive(Serialize)]
pub struct GroupView {
    group_id: String,
    identity_store_id: String,
    #[serde(flatten)]
    profile: GroupProfile,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_ids: Vec<ExternalId>,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        GroupView {
            group_id: g.group_id,
            identity_store_id: g.identity_store_id,
            profile: g.profile,
            external_ids: g.external_ids,
            created_at: g.created_at,
            created_by: g.created_by,
            updated_at: g.updated_at,
            updated_by: g.updated_by,
        }
    }
}

fn group_not_found(group_id: &str) -> Failure {
    ApiError::not_found(format!("group {group_id}")).into()
}

fn name_taken(name: &str) -> Failure {
    ApiError::conflict(
        "IIC.1007",
        format!(
            "Data modification failed: a group named {name} already exists in this identity store."
        ),
    )
    .into()
}

async fn existing_group(
    state: &AppState,
    store: &IdentityStoreInfo,
    group_id: &str,
) -> Result<Group, Failure> {
    path_id("group_id", group_id)?;
    state
        .store
        .get_group(&store.identity_store_id, group_id)
        .await?
        .ok_or_else(|| group_not_found(group_id))
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(profile): JsonBody<GroupProfile>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    profile.validate()?;
    let now = clock::now_millis();
    let group = Group {
        seq: 0,
        group_id: principal_id(&store.identity_store_id),
        identity_store_id: store.identity_store_id.clone(),
        profile,
        external_ids: vec![],
        created_at: now,
        created_by: actor(&caller),
        updated_at: now,
        updated_by: actor(&caller),
    };
    match state.store.create_group(&group, state.limits.groups_quota).await? {
        CreateOutcome::Created => Ok((
            StatusCode::CREATED,
            Json(json!({ "group_id": group.group_id, "identity_store_id": group.identity_store_id })),
        )),
        CreateOutcome::NameTaken => Err(name_taken(&group.profile.display_name)),
        CreateOutcome::QuotaExceeded => Err(ApiError::conflict(
            "IIC.1007",
            format!(
                "Data modification failed: the identity store already holds its quota of {} groups.",
                state.limits.groups_quota
            ),
        )
        .into()),
        CreateOutcome::NoSuchStore => Err(ApiError::not_found(format!("identity store {store_id}")).into()),
    }
}

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, group_id)): Path<(String, String)>,
) -> Result<Json<GroupView>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    Ok(Json(
        existing_group(&state, &store, &group_id).await?.into(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeGroupsBody {
    group_ids: Vec<String>,
}

pub async fn describe_many(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<DescribeGroupsBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    batch_ids("group_ids", &body.group_ids, 100)?;
    let groups: Vec<GroupView> = state
        .store
        .get_groups(&store.identity_store_id, &body.group_ids)
        .await?
        .into_iter()
        .map(GroupView::from)
        .collect();
    Ok(Json(json!({ "groups": groups })))
}

pub async fn get_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<AlternateIdentifierBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let key = match body.alternate_identifier.lookup()? {
        Lookup::External { issuer, id } => PrincipalKey::External { issuer, id },
        Lookup::Attribute { path, value } => match path.as_str() {
            "display_name" | "displayName" | "DisplayName" => PrincipalKey::Name(value),
            other => {
                return Err(ApiError::bad_request(format!(
                    "alternate_identifier.unique_attribute.attribute_path {other} is not a unique group attribute (use display_name)"
                ))
                .into())
            }
        },
    };
    let group_id = state
        .store
        .find_group_id(&store.identity_store_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no group matches the alternate identifier"))?;
    Ok(Json(
        json!({ "group_id": group_id, "identity_store_id": store.identity_store_id }),
    ))
}

#[derive(Serialize)]
pub struct ListGroupsResponse {
    groups: Vec<GroupView>,
    page_info: PageInfo,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListGroupsResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let scope = format!("groups:{}", store.identity_store_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_groups(
            &store.identity_store_id,
            query.get("display_name"),
            page.lookahead(),
        )
        .await?;
    let (rows, page_info) = paging::finish(rows, page, &state.keys.markers, &scope, |g| g.seq);
    Ok(Json(ListGroupsResponse {
        groups: rows.into_iter().map(GroupView::from).collect(),
        page_info,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    operations: Vec<Operation>,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, group_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let mut group = existing_group(&state, &store, &group_id).await?;
    let mut doc = match serde_json::to_value(&group.profile) {
        Ok(Value::Object(m)) => m,
        _ => return Err(ApiError::internal().into()),
    };
    update::apply(&mut doc, &body.operations, update::group_path)?;
    group.profile = serde_json::from_value(Value::Object(doc))
        .map_err(|e| ApiError::bad_request(format!("the updated group is not valid: {e}")))?;
    group.profile.validate()?;
    group.updated_at = clock::now_millis();
    group.updated_by = actor(&caller);
    match state.store.update_group(&group).await? {
        UpdateOutcome::Updated => Ok(()),
        UpdateOutcome::NotFound => Err(group_not_found(&group_id)),
        UpdateOutcome::NameTaken => Err(name_taken(&group.profile.display_name)),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, group_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("group_id", &group_id)?;
    if state
        .store
        .delete_group(&store.identity_store_id, &group_id)
        .await?
    {
        Ok(())
    } else {
        Err(group_not_found(&group_id))
    }
}
