//! The organization itself, its root and its organizational units.

use super::{as_management, as_management_or_delegate, body, caller_organization, page, views};
use crate::caller::Caller;
use crate::envelope::{Failure, RawBody};
use crate::extract::Path;
use crate::extract::QueryParams;
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::organizations::{self as orgs, Tag};
use iic_domain::{clock, ids, ApiError};
use iic_store::{OrgOutcome, Organization, OrganizationalUnit, Root};
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn create_organization(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let now = clock::now_millis();
    let org = Organization {
        id: ids::organization_id(),
        management_account_id: caller.account.id.clone(),
        created_at: now,
    };
    let root = Root {
        id: orgs::root_id(),
        organization_id: org.id.clone(),
        name: "root".into(),
        created_at: now,
    };
    match state.store.create_organization(&org, &root).await? {
        OrgOutcome::Done => {}
        OrgOutcome::NotFound => return Err(orgs::not_found("the calling account").into()),
        OrgOutcome::Refused(r) => return Err(ApiError::from(r).into()),
    }
    state.revoke_cached_callers().await;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "organization": views::organization(&org, &caller.account.name) })),
    ))
}

pub async fn show_organization(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, Failure> {
    let org = caller_organization(&state, &caller).await?;
    let name = state
        .store
        .get_account(&org.management_account_id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    Ok(Json(
        json!({ "organization": views::organization(&org, &name) }),
    ))
}

pub async fn delete_organization(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<StatusCode, Failure> {
    let org = as_management(&state, &caller).await?;
    match state.store.delete_organization(&org.id).await? {
        OrgOutcome::Done => {
            state.revoke_cached_callers().await;
            Ok(StatusCode::NO_CONTENT)
        }
        OrgOutcome::NotFound => Err(orgs::not_found(format!("organization {}", org.id)).into()),
        OrgOutcome::Refused(r) => Err(ApiError::from(r).into()),
    }
}

pub async fn list_roots(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    page(&state, &query, &format!("roots:{}", org.id))?;
    let roots: Vec<Value> = state
        .store
        .get_root(&org.id)
        .await?
        .iter()
        .map(|r| views::root(r, &org))
        .collect();
    let count = roots.len();
    Ok(Json(
        json!({ "roots": roots, "page_info": { "next_marker": null, "current_count": count } }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOuBody {
    name: String,
    parent_id: String,
    #[serde(default)]
    tags: Vec<Tag>,
}

pub async fn create_ou(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: CreateOuBody = body(&raw)?;
    orgs::validate_ou_name(&b.name)?;
    orgs::validate_parent_id("parent_id", &b.parent_id)?;
    orgs::validate_tags(&b.tags)?;
    let ou = OrganizationalUnit {
        seq: 0,
        id: orgs::organizational_unit_id(),
        organization_id: org.id.clone(),
        parent_id: b.parent_id.clone(),
        name: b.name,
        created_at: clock::now_millis(),
    };
    match state.store.create_ou(&ou).await? {
        OrgOutcome::Done => Ok((
            StatusCode::CREATED,
            Json(json!({ "organizational_unit": views::ou(&ou, &org) })),
        )),
        OrgOutcome::NotFound => Err(orgs::not_found(format!("parent {}", b.parent_id)).into()),
        OrgOutcome::Refused(r) => Err(ApiError::from(r).into()),
    }
}

pub async fn show_ou(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(ou_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    orgs::validate_parent_id("organizational_unit_id", &ou_id)?;
    let ou = state
        .store
        .get_ou(&org.id, &ou_id)
        .await?
        .ok_or_else(|| orgs::not_found(format!("organizational unit {ou_id}")))?;
    Ok(Json(json!({ "organizational_unit": views::ou(&ou, &org) })))
}

pub async fn list_ous(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let parent = query.get("parent_id");
    if let Some(p) = parent {
        orgs::validate_parent_id("parent_id", p)?;
    }
    let scope = format!("ous:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_ous(&org.id, parent, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |o| o.seq);
    let units: Vec<Value> = rows.iter().map(|o| views::ou(o, &org)).collect();
    Ok(Json(
        json!({ "organizational_units": units, "page_info": info }),
    ))
}
