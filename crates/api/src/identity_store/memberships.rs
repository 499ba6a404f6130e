//! Group memberships.

use super::{owned_store, path_id};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging::{self, PageInfo};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::directory::group::{Membership, MAX_GROUPS_PER_USER};
use iic_domain::directory::{principal_id, validate_principal_id};
use iic_domain::{clock, ApiError};
use iic_store::{MemberOf, MembershipOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

#[derive(Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct MemberId {
    user_id: String,
}

#[derive(Serialize)]
pub struct MembershipView {
    membership_id: String,
    identity_store_id: String,
    group_id: String,
    member_id: MemberId,
}

impl From<Membership> for MembershipView {
    fn from(m: Membership) -> Self {
        MembershipView {
            membership_id: m.membership_id,
            identity_store_id: m.identity_store_id,
            group_id: m.group_id,
            member_id: MemberId { user_id: m.user_id },
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    group_id: String,
    member_id: MemberId,
}

impl MembershipBody {
    fn validate(&self) -> Result<(), ApiError> {
        validate_principal_id("group_id", &self.group_id)?;
        validate_principal_id("member_id.user_id", &self.member_id.user_id)
    }
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<MembershipBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    body.validate()?;
    let m = Membership {
        seq: 0,
        membership_id: principal_id(&store.identity_store_id),
        identity_store_id: store.identity_store_id.clone(),
        group_id: body.group_id.clone(),
        user_id: body.member_id.user_id.clone(),
        created_at: clock::now_millis(),
    };
    match state.store.create_membership(&m, MAX_GROUPS_PER_USER).await? {
        MembershipOutcome::Created => Ok(Json(json!({
            "membership_id": m.membership_id,
            "identity_store_id": m.identity_store_id,
        }))),
        MembershipOutcome::AlreadyMember(existing) => Err(ApiError::conflict(
            "IIC.1007",
            format!("Data modification failed: user {} is already a member of group {} (membership {existing}).", m.user_id, m.group_id),
        )
        .into()),
        MembershipOutcome::NoSuchUser => Err(ApiError::not_found(format!("user {}", m.user_id)).into()),
        MembershipOutcome::NoSuchGroup => Err(ApiError::not_found(format!("group {}", m.group_id)).into()),
        MembershipOutcome::TooManyGroups => Err(ApiError::bad_request(format!(
            "user {} already belongs to {MAX_GROUPS_PER_USER} groups, the most a user may belong to",
            m.user_id
        ))
        .into()),
    }
}

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, membership_id)): Path<(String, String)>,
) -> Result<Json<MembershipView>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("membership_id", &membership_id)?;
    let m = state
        .store
        .get_membership(&store.identity_store_id, &membership_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("group membership {membership_id}")))?;
    Ok(Json(m.into()))
}

pub async fn get_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<MembershipBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    body.validate()?;
    let id = state
        .store
        .find_membership_id(
            &store.identity_store_id,
            MemberOf {
                group_id: &body.group_id,
                user_id: &body.member_id.user_id,
            },
        )
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "membership of user {} in group {}",
                body.member_id.user_id, body.group_id
            ))
        })?;
    Ok(Json(
        json!({ "membership_id": id, "identity_store_id": store.identity_store_id }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, membership_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("membership_id", &membership_id)?;
    if state
        .store
        .delete_membership(&store.identity_store_id, &membership_id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("group membership {membership_id}")).into())
    }
}

#[derive(Serialize)]
pub struct ListMembershipsResponse {
    group_memberships: Vec<MembershipView>,
    page_info: PageInfo,
}

fn required<'q>(query: &'q QueryParams, name: &str) -> Result<&'q str, ApiError> {
    let v = query
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))?;
    path_id(name, v)?;
    Ok(v)
}

pub async fn list_for_group(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListMembershipsResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let group_id = required(&query, "group_id")?;
    if state
        .store
        .get_group(&store.identity_store_id, group_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("group {group_id}")).into());
    }
    let scope = format!("group-memberships:{}:{group_id}", store.identity_store_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_memberships_of_group(&store.identity_store_id, group_id, page.lookahead())
        .await?;
    let (rows, page_info) = paging::finish(rows, page, &state.keys.markers, &scope, |m| m.seq);
    Ok(Json(ListMembershipsResponse {
        group_memberships: rows.into_iter().map(MembershipView::from).collect(),
        page_info,
    }))
}

pub async fn list_for_member(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListMembershipsResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user_id = required(&query, "user_id")?;
    if state
        .store
        .get_user(&store.identity_store_id, user_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("user {user_id}")).into());
    }
    let scope = format!(
        "memberships-for-member:{}:{user_id}",
        store.identity_store_id
    );
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_memberships_of_user(&store.identity_store_id, user_id, page.lookahead())
        .await?;
    let (rows, page_info) = paging::finish(rows, page, &state.keys.markers, &scope, |m| m.seq);
    Ok(Json(ListMembershipsResponse {
        group_memberships: rows.into_iter().map(MembershipView::from).collect(),
        page_info,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsMemberBody {
    group_ids: Vec<String>,
    member_id: MemberId,
}

pub async fn is_member_in_groups(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<IsMemberBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    super::batch_ids("group_ids", &body.group_ids, 100)?;
    validate_principal_id("member_id.user_id", &body.member_id.user_id)?;
    let user_id = &body.member_id.user_id;
    if state
        .store
        .get_user(&store.identity_store_id, user_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("user {user_id}")).into());
    }
    let member_of = state
        .store
        .groups_containing(&store.identity_store_id, user_id, &body.group_ids)
        .await?;
    let results: Vec<Value> = body
        .group_ids
        .iter()
        .map(|g| {
            json!({
                "group_id": g,
                "member_id": body.member_id,
                "membership_exists": member_of.contains(g),
            })
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}
