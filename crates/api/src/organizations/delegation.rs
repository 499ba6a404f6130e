//! Delegated administrators, trusted services, and the services that can be either.

use super::{as_management, as_management_or_delegate, body, page};
use crate::caller::Caller;
use crate::envelope::{Failure, RawBody};
use crate::extract::Path;
use crate::extract::QueryParams;
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::names::Named;
use iic_domain::organizations::{self as orgs, iso8601};
use iic_domain::{clock, ApiError};
use iic_store::{Delegation, OrgOutcome};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationBody {
    service_principal: String,
    account_id: String,
}

pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<StatusCode, Failure> {
    let org = as_management(&state, &caller).await?;
    let b: DelegationBody = body(&raw)?;
    orgs::validate_service_principal(&b.service_principal)?;
    orgs::validate_account_id("account_id", &b.account_id)?;
    match state
        .store
        .register_delegated_admin(
            &Delegation {
                organization_id: org.id.clone(),
                account_id: b.account_id.clone(),
                service_principal: b.service_principal.clone(),
            },
            clock::now_millis(),
        )
        .await?
    {
        OrgOutcome::Done => Ok(StatusCode::CREATED),
        OrgOutcome::NotFound => {
            Err(orgs::not_found(format!("account {} in the organization", b.account_id)).into())
        }
        OrgOutcome::Refused(r) => Err(ApiError::from(r).into()),
    }
}

pub async fn deregister(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: DelegationBody = body(&raw)?;
    orgs::validate_service_principal(&b.service_principal)?;
    orgs::validate_account_id("account_id", &b.account_id)?;
    match state
        .store
        .deregister_delegated_admin(&Delegation {
            organization_id: org.id.clone(),
            account_id: b.account_id.clone(),
            service_principal: b.service_principal.clone(),
        })
        .await?
    {
        OrgOutcome::Done => Ok(()),
        _ => Err(orgs::not_found(format!(
            "account {} is not a delegated administrator for {}",
            b.account_id, b.service_principal
        ))
        .into()),
    }
}

pub async fn list_delegated_admins(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let principal = query.get("service_principal");
    if let Some(p) = principal {
        orgs::validate_service_principal(p)?;
    }
    let scope = format!("delegated-administrators:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_delegated_admins(&org.id, principal, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |d| d.seq);
    let mut admins = Vec::with_capacity(rows.len());
    for d in rows {
        let account = state.store.get_account(&d.account_id).await?;
        admins.push(json!({
            "account_id": d.account_id,
            "account_urn": orgs::account_urn(&org.management_account_id, &org.id, &d.account_id),
            "account_name": account.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            "join_method": account.as_ref().map(|a| a.join_method.name()).unwrap_or_default(),
            "joined_at": iso8601(account.as_ref().map_or(0, |a| a.joined_at)),
            "delegation_enabled_at": iso8601(d.enabled_at),
        }));
    }
    Ok(Json(
        json!({ "delegated_administrators": admins, "page_info": info }),
    ))
}

pub async fn list_delegated_services(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    orgs::validate_account_id("account_id", &account_id)?;
    match state.store.get_account(&account_id).await? {
        Some(a) if a.organization_id.as_deref() == Some(org.id.as_str()) => {}
        _ => {
            return Err(orgs::not_found(format!("account {account_id} in the organization")).into())
        }
    }
    let scope = format!("delegated-services:{}:{account_id}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_delegated_services(&org.id, &account_id, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |d| d.seq);
    let services: Vec<Value> = rows
        .iter()
        .map(|d| json!({ "service_principal": d.service_principal, "delegation_enabled_at": iso8601(d.enabled_at) }))
        .collect();
    Ok(Json(
        json!({ "delegated_services": services, "page_info": info }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedBody {
    service_principal: String,
}

pub async fn enable_trusted(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: TrustedBody = body(&raw)?;
    orgs::validate_service_principal(&b.service_principal)?;
    state
        .store
        .enable_trusted_service(&org.id, &b.service_principal, clock::now_millis())
        .await?;
    Ok(())
}

pub async fn disable_trusted(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: TrustedBody = body(&raw)?;
    orgs::validate_service_principal(&b.service_principal)?;
    if state
        .store
        .disable_trusted_service(&org.id, &b.service_principal)
        .await?
    {
        Ok(())
    } else {
        Err(orgs::not_found(format!(
            "{} is not a trusted service of the organization",
            b.service_principal
        ))
        .into())
    }
}

pub async fn list_trusted(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let scope = format!("trusted-services:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_trusted_services(&org.id, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |t| t.seq);
    let services: Vec<Value> = rows
        .iter()
        .map(|t| json!({ "service_principal": t.service_principal, "enabled_at": iso8601(t.enabled_at) }))
        .collect();
    Ok(Json(
        json!({ "trusted_services": services, "page_info": info }),
    ))
}

pub async fn list_services(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, Failure> {
    as_management_or_delegate(&state, &caller).await?;
    Ok(Json(json!({ "services": orgs::SERVICES })))
}
