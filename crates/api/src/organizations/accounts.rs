//! Member accounts: asynchronous creation and closure, listing, moves, removal.

use super::{as_management, as_management_or_delegate, body, page, views};
use crate::caller::Caller;
use crate::envelope::{Failure, RawBody};
use crate::extract::Path;
use crate::extract::QueryParams;
use crate::paging;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::job::JobKind;
use iic_domain::names::Named;
use iic_domain::organizations::{self as orgs, Tag};
use iic_domain::organizations::{AccountStatus, ClosureState, CreationState, JoinMethod};
use iic_domain::{clock, ids, ApiError};
use iic_store::{Account, AccountMove, CreateAccountStatus, Job, OrgOutcome, Organization};
use serde::Deserialize;
use serde_json::{json, Value};

/// Job kinds this module queues; the server's workers run them.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountBody {
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    agency_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountV2Body {
    name: String,
    #[serde(default)]
    agency_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<Tag>,
}

async fn request_creation(
    state: &AppState,
    org: &Organization,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    description: Option<String>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let root = state
        .store
        .get_root(&org.id)
        .await?
        .ok_or_else(|| orgs::not_found("the root of the organization"))?;
    let now = clock::now_millis();
    let status = CreateAccountStatus {
        seq: 0,
        id: orgs::create_account_status_id(),
        organization_id: org.id.clone(),
        account_id: ids::hex32(),
        account_name: name.clone(),
        state: CreationState::InProgress,
        failure_reason: None,
        created_at: now,
        completed_at: None,
        request: Account {
            seq: 0,
            id: String::new(),
            name,
            organization_id: Some(org.id.clone()),
            created_at: now,
            email,
            phone,
            description,
            join_method: JoinMethod::Created,
            status: AccountStatus::Active,
            parent_id: Some(root.id),
            joined_at: now,
        },
    };
    let mut status = status;
    status.request.id = status.account_id.clone();
    let job = Job {
        id: ids::hex32(),
        kind: JobKind::CreateAccount,
        payload: json!({ "status_id": status.id, "account_id": status.account_id }).to_string(),
        attempts: 0,
        run_after: now + state.limits.account_creation_delay_ms,
        created_at: now,
    };
    match state.store.request_account_creation(&status, &job).await? {
        OrgOutcome::Done => {}
        OrgOutcome::NotFound => return Err(orgs::not_found("the organization").into()),
        OrgOutcome::Refused(r) => return Err(ApiError::from(r).into()),
    }
    state.jobs.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "create_account_status": views::create_status(&status) })),
    ))
}

fn check_common(
    agency_name: &Option<String>,
    description: &Option<String>,
    tags: &[Tag],
) -> Result<(), ApiError> {
    if let Some(a) = agency_name {
        orgs::validate_word("agency_name", a, 1, 32)?;
    }
    if let Some(d) = description {
        orgs::validate_description(d)?;
    }
    orgs::validate_tags(tags)
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: CreateAccountBody = body(&raw)?;
    orgs::validate_account_name("name", &b.name, 1, 64)?;
    if let Some(e) = &b.email {
        orgs::validate_email(e)?;
    }
    if let Some(p) = &b.phone {
        orgs::validate_phone(p)?;
    }
    check_common(&b.agency_name, &b.description, &b.tags)?;
    request_creation(&state, &org, b.name, b.email, b.phone, b.description).await
}

pub async fn create_v2(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: CreateAccountV2Body = body(&raw)?;
    orgs::validate_account_name("name", &b.name, 6, 32)?;
    check_common(&b.agency_name, &b.description, &b.tags)?;
    request_creation(&state, &org, b.name, None, None, b.description).await
}

fn boolean(query: &QueryParams, name: &str) -> Result<(), ApiError> {
    match query.get(name) {
        None | Some("true") | Some("false") => Ok(()),
        Some(_) => Err(orgs::bad_request(format!("{name} must be true or false"))),
    }
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    boolean(&query, "with_register_contact_info")?;
    let parent = query.get("parent_id");
    if let Some(p) = parent {
        orgs::validate_parent_id("parent_id", p)?;
    }
    let scope = format!("accounts:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_accounts(&org.id, parent, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |a| a.seq);
    let accounts: Vec<Value> = rows.iter().map(|a| views::account(a, &org)).collect();
    Ok(Json(json!({ "accounts": accounts, "page_info": info })))
}

async fn member(
    state: &AppState,
    org: &Organization,
    account_id: &str,
) -> Result<Account, Failure> {
    orgs::validate_account_id("account_id", account_id)?;
    match state.store.get_account(account_id).await? {
        Some(a) if a.organization_id.as_deref() == Some(org.id.as_str()) => Ok(a),
        _ => Err(orgs::not_found(format!("account {account_id} in the organization")).into()),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    boolean(&query, "with_register_contact_info")?;
    let a = member(&state, &org, &account_id).await?;
    Ok(Json(json!({ "account": views::account(&a, &org) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    description: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
    Path(account_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let org = as_management(&state, &caller).await?;
    let b: UpdateBody = body(&raw)?;
    if let Some(d) = &b.description {
        orgs::validate_description(d)?;
    }
    member(&state, &org, &account_id).await?;
    match state
        .store
        .update_account_description(&org.id, &account_id, b.description.as_deref())
        .await?
    {
        OrgOutcome::Done => {}
        _ => {
            return Err(orgs::not_found(format!("account {account_id} in the organization")).into())
        }
    }
    let a = member(&state, &org, &account_id).await?;
    Ok(Json(json!({ "account": views::account(&a, &org) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    source_parent_id: String,
    destination_parent_id: String,
}

fn outcome(o: OrgOutcome, what: &str) -> Result<(), Failure> {
    match o {
        OrgOutcome::Done => Ok(()),
        OrgOutcome::NotFound => Err(orgs::not_found(what).into()),
        OrgOutcome::Refused(r) => Err(ApiError::from(r).into()),
    }
}

pub async fn move_account(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Extension(raw): Extension<RawBody>,
    Path(account_id): Path<String>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    let b: MoveBody = body(&raw)?;
    orgs::validate_account_id("account_id", &account_id)?;
    orgs::validate_parent_id("source_parent_id", &b.source_parent_id)?;
    orgs::validate_parent_id("destination_parent_id", &b.destination_parent_id)?;
    let o = state
        .store
        .move_account(&AccountMove {
            organization_id: org.id.clone(),
            account_id: account_id.clone(),
            source_parent_id: b.source_parent_id,
            destination_parent_id: b.destination_parent_id,
        })
        .await?;
    outcome(o, &format!("account {account_id} in the organization"))
}

pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    orgs::validate_account_id("account_id", &account_id)?;
    let o = state.store.remove_account(&org.id, &account_id).await?;
    outcome(o, &format!("account {account_id} in the organization"))?;
    state.revoke_cached_callers().await;
    Ok(())
}

pub async fn close(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(account_id): Path<String>,
) -> Result<(), Failure> {
    let org = as_management(&state, &caller).await?;
    orgs::validate_account_id("account_id", &account_id)?;
    let now = clock::now_millis();
    let job = Job {
        id: ids::hex32(),
        kind: JobKind::CloseAccount,
        payload: account_id.clone(),
        attempts: 0,
        run_after: now + state.limits.account_creation_delay_ms,
        created_at: now,
    };
    let o = state
        .store
        .close_account(&org.id, &account_id, &job)
        .await?;
    outcome(o, &format!("account {account_id} in the organization"))?;
    state.jobs.notify_one();
    Ok(())
}

/// The `states` filter: at most as many values as there are states, each one of them.
fn states<T: Named>(query: &QueryParams) -> Result<Vec<T>, ApiError> {
    let states = query.all("states");
    if states.len() > T::ALL.len() {
        return Err(orgs::bad_request(format!(
            "states may hold at most {} values",
            T::ALL.len()
        )));
    }
    states
        .iter()
        .map(|s| {
            T::from_name(s).ok_or_else(|| {
                let all: Vec<&str> = T::ALL.iter().map(|v| v.name()).collect();
                orgs::bad_request(format!("states must be among {}", all.join(", ")))
            })
        })
        .collect()
}

pub async fn list_create_statuses(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let wanted = states::<CreationState>(&query)?;
    let scope = format!("create-account-status:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_create_account_statuses(&org.id, &wanted, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |s| s.seq);
    let statuses: Vec<Value> = rows.iter().map(views::create_status).collect();
    Ok(Json(
        json!({ "create_account_statuses": statuses, "page_info": info }),
    ))
}

pub async fn show_create_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let well_formed = id.strip_prefix("car-").is_some_and(|r| {
        (8..=32).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    });
    if !well_formed {
        return Err(orgs::bad_request(
            "create_account_status_id must be car- followed by 8-32 lowercase letters or digits",
        )
        .into());
    }
    let s = state
        .store
        .get_create_account_status(&org.id, &id)
        .await?
        .ok_or_else(|| orgs::not_found(format!("create account status {id}")))?;
    Ok(Json(
        json!({ "create_account_status": views::create_status(&s) }),
    ))
}

pub async fn list_close_statuses(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: QueryParams,
) -> Result<Json<Value>, Failure> {
    let org = as_management_or_delegate(&state, &caller).await?;
    let wanted = states::<ClosureState>(&query)?;
    let scope = format!("close-account-status:{}", org.id);
    let req = page(&state, &query, &scope)?;
    let rows = state
        .store
        .list_close_account_statuses(&org.id, &wanted, req.lookahead())
        .await?;
    let (rows, info) = paging::finish(rows, req, &state.keys.markers, &scope, |s| s.seq);
    let statuses: Vec<Value> = rows.iter().map(views::close_status).collect();
    Ok(Json(
        json!({ "close_account_statuses": statuses, "page_info": info }),
    ))
}
