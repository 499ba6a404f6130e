//! SCIM Users: the identity store's users, as a provisioning tenant sees them.

use super::auth::Tenant;
use super::body;
use super::listing;
use super::query::{parse_list, parse_projection};
use super::reply::{self, not_found, ScimFailure};
use crate::envelope::RawBody;
use crate::extract::Path;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use iic_domain::directory::principal_id;
use iic_domain::directory::user::User;
use iic_domain::scim::apply::apply_patch;
use iic_domain::scim::resource::{user_from_scim, user_to_scim, with_external_id, ScimUser};
use iic_domain::scim::{parse_patch, ResourceType, ScimError};
use iic_store::{CreateOutcome, UpdateOutcome};
use serde_json::Value;

fn name_taken(user_name: &str) -> ScimFailure {
    ScimFailure(ScimError::uniqueness(format!(
        "userName {user_name} is taken by another user of this identity store"
    )))
}

fn quota_reached(state: &AppState) -> ScimFailure {
    ScimFailure(ScimError::new(
        400,
        None,
        format!(
            "the identity store already holds its quota of {} users",
            state.limits.users_quota
        ),
    ))
}

async fn existing(state: &AppState, tenant: &Tenant, user_id: &str) -> Result<User, ScimFailure> {
    if user_id.len() > 64 {
        return Err(not_found("User", user_id));
    }
    state
        .store
        .get_user(tenant.store_id(), user_id)
        .await?
        .ok_or_else(|| not_found("User", user_id))
}

/// The user rendered, projected as the query asks.
fn shown(user: &User, tenant: &Tenant, uri: &Uri) -> Result<Value, ScimFailure> {
    let projection = parse_projection(uri.query())?;
    let mut value = user_to_scim(user, tenant.origin());
    iic_domain::scim::projection::project(
        &mut value,
        &projection.attributes,
        &projection.excluded,
        ResourceType::User,
    );
    Ok(value)
}

pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let ScimUser {
        profile,
        active,
        external_id,
    } = user_from_scim(&body::json(&raw)?)?;
    let now = iic_domain::clock::now_millis();
    let user = User {
        seq: 0,
        user_id: principal_id(tenant.store_id()),
        identity_store_id: tenant.store_id().to_string(),
        external_ids: with_external_id(
            Vec::new(),
            &tenant.tenant.tenant_id,
            external_id.as_deref(),
        ),
        profile,
        enabled: active.unwrap_or(true),
        active_assigned: active.is_some(),
        email_verified: false,
        password_hash: None,
        password_reset_email_owed: false,
        password_must_change: false,
        created_at: now,
        created_by: tenant.actor(),
        updated_at: now,
        updated_by: tenant.actor(),
    };
    match state
        .store
        .create_user(&user, state.limits.users_quota)
        .await?
    {
        CreateOutcome::Created => {}
        CreateOutcome::NameTaken => return Err(name_taken(&user.profile.user_name)),
        CreateOutcome::QuotaExceeded => return Err(quota_reached(&state)),
        CreateOutcome::NoSuchStore => return Err(not_found("identity store", tenant.store_id())),
    }
    Ok(reply::resource(
        StatusCode::CREATED,
        shown(&user, &tenant, &uri)?,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<Response, ScimFailure> {
    let user = existing(&state, &tenant, &user_id).await?;
    Ok(reply::resource(
        StatusCode::OK,
        shown(&user, &tenant, &uri)?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
) -> Result<Response, ScimFailure> {
    let query = parse_list(uri.query())?;
    listing::answer(&state, &tenant, query, ResourceType::User).await
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search(
    State(state): State<AppState>,
    tenant: Tenant,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let query = super::query::parse_search(&body::json(&raw)?)?;
    listing::answer(&state, &tenant, query, ResourceType::User).await
}

/// What a write does to `active` when the new representation has none.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unstated {
    /// PUT: the user stays as enabled or disabled as it was.
    Keeps,
    /// PATCH that removed it: unassigned; the user stays as enabled or disabled as it was
    /// (removing `active` never re-enables anyone).
    Unassigns,
}

/// Writes `next` over `current` and answers it.
async fn save(
    state: &AppState,
    tenant: &Tenant,
    uri: &Uri,
    current: User,
    next: ScimUser,
    unstated: Unstated,
) -> Result<Response, ScimFailure> {
    let (enabled, active_assigned) = match (next.active, unstated) {
        (Some(active), _) => (active, true),
        (None, Unstated::Keeps) => (current.enabled, current.active_assigned),
        (None, Unstated::Unassigns) => (current.enabled, false),
    };
    let disabling = current.enabled && !enabled;
    let user = User {
        enabled,
        active_assigned,
        external_ids: with_external_id(
            current.external_ids.clone(),
            &tenant.tenant.tenant_id,
            next.external_id.as_deref(),
        ),
        profile: next.profile,
        updated_at: iic_domain::clock::now_millis().max(current.updated_at + 1),
        updated_by: tenant.actor(),
        ..current
    };
    match state.store.replace_user(&user).await? {
        UpdateOutcome::Updated => {}
        UpdateOutcome::NotFound => return Err(not_found("User", &user.user_id)),
        UpdateOutcome::NameTaken => return Err(name_taken(&user.profile.user_name)),
    }
    if disabling {
        // Disabling ended the user's sessions; their temporary credentials go with them.
        state.callers.clear();
    }
    Ok(reply::resource(StatusCode::OK, shown(&user, tenant, uri)?))
}

pub async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Path((_, user_id)): Path<(String, String)>,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let current = existing(&state, &tenant, &user_id).await?;
    let body = body::json(&raw)?;
    if let Some(id) = body.get("id").and_then(Value::as_str) {
        if id != user_id {
            return Err(ScimError::mutability(format!(
                "id {id} differs from the user addressed ({user_id}); id cannot change"
            ))
            .into());
        }
    }
    let next = user_from_scim(&body)?;
    save(&state, &tenant, &uri, current, next, Unstated::Keeps).await
}

pub async fn patch(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Path((_, user_id)): Path<(String, String)>,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let request = parse_patch(&body::json(&raw)?)?;
    let current = existing(&state, &tenant, &user_id).await?;
    let mut resource = user_to_scim(&current, tenant.origin());
    apply_patch(&mut resource, &request, ResourceType::User)?;
    let next = user_from_scim(&resource)?;
    save(&state, &tenant, &uri, current, next, Unstated::Unassigns).await
}

pub async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((_, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ScimFailure> {
    if user_id.len() > 64 || !state.store.delete_user(tenant.store_id(), &user_id).await? {
        return Err(not_found("User", &user_id));
    }
    Ok(StatusCode::NO_CONTENT)
}
