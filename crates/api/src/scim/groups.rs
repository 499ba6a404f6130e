//! SCIM Groups: the identity store's groups and their members. A group and its members are
//! written in one transaction ([`iic_store::Store::write_group`]).

use super::auth::Tenant;
use super::body;
use super::listing;
use super::query::{parse_list, parse_projection, Projection};
use super::reply::{self, not_found, ScimFailure};
use crate::envelope::RawBody;
use crate::extract::Path;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use iic_domain::directory::group::{Group, MAX_GROUPS_PER_USER};
use iic_domain::directory::principal_id;
use iic_domain::scim::group_patch::{plan_group_patch, MemberChange};
use iic_domain::scim::resource::{group_from_scim, group_to_scim, with_external_id};
use iic_domain::scim::{parse_patch, ResourceType, ScimError};
use iic_store::{GroupRow, GroupWrite, MemberDelta};
use serde_json::Value;

fn name_taken(display_name: &str) -> ScimFailure {
    ScimFailure(ScimError::uniqueness(format!(
        "displayName {display_name} is taken by another group of this identity store"
    )))
}

async fn existing(state: &AppState, tenant: &Tenant, group_id: &str) -> Result<Group, ScimFailure> {
    if group_id.len() > 64 {
        return Err(not_found("Group", group_id));
    }
    state
        .store
        .get_group(tenant.store_id(), group_id)
        .await?
        .ok_or_else(|| not_found("Group", group_id))
}

/// The group rendered (its members read only when they are returned), projected.
async fn shown(
    state: &AppState,
    tenant: &Tenant,
    group: &Group,
    projection: &Projection,
) -> Result<Value, ScimFailure> {
    let members = match projection.returns("members") {
        true => Some(
            state
                .store
                .group_member_ids(tenant.store_id(), &group.group_id)
                .await?,
        ),
        false => None,
    };
    let mut value = group_to_scim(group, members.as_deref(), tenant.origin());
    iic_domain::scim::projection::project(
        &mut value,
        &projection.attributes,
        &projection.excluded,
        ResourceType::Group,
    );
    Ok(value)
}

/// Writes the group and its members in one transaction, or answers why nothing was written.
async fn write(
    state: &AppState,
    row: GroupRow,
    members: MemberDelta,
    name: &str,
    group_id: &str,
) -> Result<(), ScimFailure> {
    let now = iic_domain::clock::now_millis();
    let outcome = state
        .store
        .write_group(row, members, MAX_GROUPS_PER_USER, now)
        .await?;
    match outcome {
        GroupWrite::Done => Ok(()),
        GroupWrite::NameTaken => Err(name_taken(name)),
        GroupWrite::NoSuchGroup | GroupWrite::NoSuchStore => Err(not_found("Group", group_id)),
        GroupWrite::QuotaExceeded => Err(ScimError::new(
            400,
            None,
            format!(
                "the identity store already holds its quota of {} groups",
                state.limits.groups_quota
            ),
        )
        .into()),
        GroupWrite::UnknownUsers(ids) => Err(ScimError::invalid_value(format!(
            "members.value names no user of this identity store: {}",
            ids.join(", ")
        ))
        .into()),
        GroupWrite::TooManyGroups(user) => Err(ScimError::invalid_value(format!(
            "user {user} already belongs to {MAX_GROUPS_PER_USER} groups, the most a user may"
        ))
        .into()),
    }
}

/// `current` with a new name and external id, validated, stamped by the tenant.
fn changed(
    tenant: &Tenant,
    current: &Group,
    display_name: Option<String>,
    external_id: Option<Option<String>>,
) -> Result<Group, ScimFailure> {
    let mut group = current.clone();
    if let Some(name) = display_name {
        group.profile.display_name = name;
        group.profile.validate().map_err(|e| {
            ScimError::invalid_value(e.message.replace("display_name", "displayName"))
        })?;
    }
    if let Some(ext) = external_id {
        group.external_ids =
            with_external_id(group.external_ids, &tenant.tenant.tenant_id, ext.as_deref());
    }
    group.updated_at = iic_domain::clock::now_millis().max(current.updated_at + 1);
    group.updated_by = tenant.actor();
    Ok(group)
}

/// The id in a replacement body, when it names another group.
fn check_id(body: &Value, group_id: &str) -> Result<(), ScimFailure> {
    match body.get("id").and_then(Value::as_str) {
        Some(id) if id != group_id => Err(ScimError::mutability(format!(
            "id {id} differs from the group addressed ({group_id}); id cannot change"
        ))
        .into()),
        _ => Ok(()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let input = group_from_scim(&body::json(&raw)?)?;
    let projection = parse_projection(uri.query())?;
    let now = iic_domain::clock::now_millis();
    let group = Group {
        seq: 0,
        group_id: principal_id(tenant.store_id()),
        identity_store_id: tenant.store_id().to_string(),
        profile: input.profile,
        external_ids: with_external_id(
            Vec::new(),
            &tenant.tenant.tenant_id,
            input.external_id.as_deref(),
        ),
        created_at: now,
        created_by: tenant.actor(),
        updated_at: now,
        updated_by: tenant.actor(),
    };
    let row = GroupRow::Create {
        group: group.clone(),
        quota: state.limits.groups_quota,
    };
    let members = MemberDelta {
        add: input.members,
        ..MemberDelta::default()
    };
    let name = group.profile.display_name.clone();
    write(&state, row, members, &name, &group.group_id).await?;
    let value = shown(&state, &tenant, &group, &projection).await?;
    Ok(reply::resource(StatusCode::CREATED, value))
}

pub async fn get(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Path((_, group_id)): Path<(String, String)>,
) -> Result<Response, ScimFailure> {
    let projection = parse_projection(uri.query())?;
    let group = existing(&state, &tenant, &group_id).await?;
    let value = shown(&state, &tenant, &group, &projection).await?;
    Ok(reply::resource(StatusCode::OK, value))
}

pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
) -> Result<Response, ScimFailure> {
    let query = parse_list(uri.query())?;
    listing::answer(&state, &tenant, query, ResourceType::Group).await
}

/// `POST /Groups/.search` (RFC 7644 §3.4.3).
pub async fn search(
    State(state): State<AppState>,
    tenant: Tenant,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let query = super::query::parse_search(&body::json(&raw)?)?;
    listing::answer(&state, &tenant, query, ResourceType::Group).await
}

pub async fn patch(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((_, group_id)): Path<(String, String)>,
    Extension(raw): Extension<RawBody>,
) -> Result<StatusCode, ScimFailure> {
    let request = parse_patch(&body::json(&raw)?)?;
    let current = existing(&state, &tenant, &group_id).await?;
    let plan = plan_group_patch(&group_id, &request)?;
    let (row, name) = match (plan.display_name, plan.external_id) {
        (None, None) => {
            let row = GroupRow::Keep {
                identity_store_id: tenant.store_id().to_string(),
                group_id: group_id.clone(),
            };
            (row, current.profile.display_name.clone())
        }
        (name, ext) => {
            let next = changed(&tenant, &current, name, ext)?;
            let name = next.profile.display_name.clone();
            (GroupRow::Update(next), name)
        }
    };
    let members = match plan.members {
        MemberChange::Keep => MemberDelta::default(),
        MemberChange::Replace(all) => MemberDelta {
            replace: Some(all),
            ..MemberDelta::default()
        },
        MemberChange::Delta { add, remove } => MemberDelta {
            replace: None,
            add,
            remove,
        },
    };
    write(&state, row, members, &name, &group_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn replace(
    State(state): State<AppState>,
    tenant: Tenant,
    uri: Uri,
    Path((_, group_id)): Path<(String, String)>,
    Extension(raw): Extension<RawBody>,
) -> Result<Response, ScimFailure> {
    let body = body::json(&raw)?;
    let projection = parse_projection(uri.query())?;
    let current = existing(&state, &tenant, &group_id).await?;
    check_id(&body, &group_id)?;
    let input = group_from_scim(&body)?;
    let next = changed(
        &tenant,
        &current,
        Some(input.profile.display_name),
        Some(input.external_id),
    )?;
    let name = next.profile.display_name.clone();
    let members = MemberDelta {
        replace: Some(input.members),
        ..MemberDelta::default()
    };
    write(
        &state,
        GroupRow::Update(next.clone()),
        members,
        &name,
        &group_id,
    )
    .await?;
    let value = shown(&state, &tenant, &next, &projection).await?;
    Ok(reply::resource(StatusCode::OK, value))
}

pub async fn delete(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((_, group_id)): Path<(String, String)>,
) -> Result<StatusCode, ScimFailure> {
    if group_id.len() > 64
        || !state
            .store
            .delete_group(tenant.store_id(), &group_id)
            .await?
    {
        return Err(not_found("Group", &group_id));
    }
    Ok(StatusCode::NO_CONTENT)
}
