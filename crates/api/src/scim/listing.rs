//! List requests: a filter answered by an index where one exists (`id`, `userName`,
//! `externalId`, a group's `displayName` or member), else matched over the whole store when the
//! store is small enough, else refused as too costly; then `startIndex`/`count` paging.

use super::auth::Tenant;
use super::query::{ListQuery, Projection};
use super::reply::{Scim, ScimFailure};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use iic_domain::directory::group::Group;
use iic_domain::directory::user::User;
use iic_domain::scim::resource::{group_to_scim, user_to_scim};
use iic_domain::scim::{
    classify, matches, Filter, IndexKey, Lookup, Plan, ResourceType, ScimError,
};
use iic_store::PrincipalKey;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Resources read per round trip while scanning.
const SCAN_CHUNK: i64 = 1_000;

/// A page of results and how many there are in all.
struct Found {
    total: i64,
    items: Vec<Value>,
}

fn response(total: i64, start_index: i64, resources: Vec<Value>) -> Response {
    let body = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "startIndex": start_index,
        "Resources": resources,
    });
    Scim(StatusCode::OK, body).into_response()
}

/// Lists resources of type `rt` as `query` asks, each projected.
pub async fn answer(
    state: &AppState,
    tenant: &Tenant,
    query: ListQuery,
    rt: ResourceType,
) -> Result<Response, ScimFailure> {
    let Found { total, items } = match rt {
        ResourceType::User => users(state, tenant, &query).await?,
        ResourceType::Group => groups(state, tenant, &query).await?,
    };
    let p = &query.projection;
    let resources = items
        .into_iter()
        .map(|mut v| {
            iic_domain::scim::projection::project(&mut v, &p.attributes, &p.excluded, rt);
            v
        })
        .collect();
    Ok(response(total, query.start_index, resources))
}

/// The 1-based window `[start, start + count)` of `all`.
fn window<T>(all: Vec<T>, query: &ListQuery) -> Vec<T> {
    let skip = usize::try_from(query.start_index - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(query.count).unwrap_or(0);
    all.into_iter().skip(skip).take(take).collect()
}

fn too_costly(state: &AppState, kind: &str, indexed: &str) -> ScimFailure {
    let limit = state.limits.scim_scan_limit;
    ScimFailure(ScimError::invalid_filter(format!(
        "this filter would be matched against every {kind} of a store of more than {limit}; \
         use a filter on {indexed} (alone, or joined to the rest with and)"
    )))
}

/// Users matching the query's filter, the page it asks for, and the total.
async fn users(state: &AppState, tenant: &Tenant, q: &ListQuery) -> Result<Found, ScimFailure> {
    let store = tenant.store_id();
    let Some(filter) = &q.filter else {
        let (total, _) = state.store.directory_counts(store).await?;
        let offset = q.start_index - 1;
        let page = state.store.users_from(store, offset, q.count).await?;
        let items = page
            .iter()
            .map(|u| user_to_scim(u, tenant.origin()))
            .collect();
        return Ok(Found { total, items });
    };
    let matched = match classify(filter, ResourceType::User) {
        Plan::Exact(lookup) | Plan::Narrowed(lookup) => users_by(state, tenant, &lookup)
            .await?
            .iter()
            .map(|u| user_to_scim(u, tenant.origin()))
            .filter(|v| matches(filter, v, &ResourceType::User))
            .collect::<Vec<_>>(),
        Plan::Scan => scan_users(state, tenant, filter).await?,
    };
    Ok(Found {
        total: matched.len() as i64,
        items: window(matched, q),
    })
}

async fn users_by(state: &AppState, tenant: &Tenant, l: &Lookup) -> Result<Vec<User>, ScimFailure> {
    let store = tenant.store_id();
    let id = match l.key {
        IndexKey::Id => Some(l.value.clone()),
        IndexKey::UserName => {
            state
                .store
                .find_user_id(store, &PrincipalKey::Name(l.value.clone()))
                .await?
        }
        IndexKey::ExternalId => {
            let key = PrincipalKey::External {
                issuer: tenant.tenant.tenant_id.clone(),
                id: l.value.clone(),
            };
            state.store.find_user_id(store, &key).await?
        }
        IndexKey::DisplayName | IndexKey::MemberValue => None,
    };
    match id {
        Some(id) if id.len() <= 64 => Ok(state
            .store
            .get_user(store, &id)
            .await?
            .into_iter()
            .collect()),
        _ => Ok(Vec::new()),
    }
}

async fn scan_users(
    state: &AppState,
    tenant: &Tenant,
    filter: &Filter,
) -> Result<Vec<Value>, ScimFailure> {
    let store = tenant.store_id();
    let (total, _) = state.store.directory_counts(store).await?;
    if total > state.limits.scim_scan_limit {
        return Err(too_costly(
            state,
            "user",
            "userName, externalId or id with eq",
        ));
    }
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let chunk = state.store.users_from(store, offset, SCAN_CHUNK).await?;
        let n = chunk.len() as i64;
        out.extend(
            chunk
                .iter()
                .map(|u| user_to_scim(u, tenant.origin()))
                .filter(|v| matches(filter, v, &ResourceType::User)),
        );
        if n < SCAN_CHUNK {
            return Ok(out);
        }
        offset += n;
    }
}

/// Whether members must be read: they are returned, or the filter looks at them.
fn needs_members(projection: &Projection, filter: Option<&Filter>) -> bool {
    projection.returns("members") || filter.is_some_and(|f| f.reads_attribute("members"))
}

async fn render_groups(
    state: &AppState,
    tenant: &Tenant,
    groups: &[Group],
    with_members: bool,
) -> Result<Vec<Value>, ScimFailure> {
    let mut members: HashMap<String, Vec<String>> = if with_members && !groups.is_empty() {
        let ids: Vec<String> = groups.iter().map(|g| g.group_id.clone()).collect();
        state
            .store
            .group_member_ids_of(tenant.store_id(), &ids)
            .await?
    } else {
        HashMap::new()
    };
    Ok(groups
        .iter()
        .map(|g| {
            let m = with_members.then(|| members.remove(&g.group_id).unwrap_or_default());
            group_to_scim(g, m.as_deref(), tenant.origin())
        })
        .collect())
}

/// Groups matching the query's filter, the page it asks for, and the total.
async fn groups(state: &AppState, tenant: &Tenant, q: &ListQuery) -> Result<Found, ScimFailure> {
    let store = tenant.store_id();
    let with_members = needs_members(&q.projection, q.filter.as_ref());
    let Some(filter) = &q.filter else {
        let (_, total) = state.store.directory_counts(store).await?;
        let page = state
            .store
            .groups_from(store, q.start_index - 1, q.count)
            .await?;
        let items = render_groups(state, tenant, &page, with_members).await?;
        return Ok(Found { total, items });
    };
    let candidates = match classify(filter, ResourceType::Group) {
        Plan::Exact(lookup) | Plan::Narrowed(lookup) => {
            let groups = groups_by(state, tenant, &lookup).await?;
            render_groups(state, tenant, &groups, with_members).await?
        }
        Plan::Scan => {
            let (_, total) = state.store.directory_counts(store).await?;
            if total > state.limits.scim_scan_limit {
                return Err(too_costly(
                    state,
                    "group",
                    "displayName, externalId, id or members.value with eq",
                ));
            }
            let mut out = Vec::new();
            let mut offset = 0;
            loop {
                let chunk = state.store.groups_from(store, offset, SCAN_CHUNK).await?;
                let n = chunk.len() as i64;
                out.extend(render_groups(state, tenant, &chunk, with_members).await?);
                if n < SCAN_CHUNK {
                    break;
                }
                offset += n;
            }
            out
        }
    };
    let matched: Vec<Value> = candidates
        .into_iter()
        .filter(|v| matches(filter, v, &ResourceType::Group))
        .collect();
    Ok(Found {
        total: matched.len() as i64,
        items: window(matched, q),
    })
}

async fn groups_by(
    state: &AppState,
    tenant: &Tenant,
    l: &Lookup,
) -> Result<Vec<Group>, ScimFailure> {
    let store = tenant.store_id();
    let id = match l.key {
        IndexKey::Id => Some(l.value.clone()),
        IndexKey::DisplayName => {
            state
                .store
                .find_group_id(store, &PrincipalKey::Name(l.value.clone()))
                .await?
        }
        IndexKey::ExternalId => {
            let key = PrincipalKey::External {
                issuer: tenant.tenant.tenant_id.clone(),
                id: l.value.clone(),
            };
            state.store.find_group_id(store, &key).await?
        }
        IndexKey::MemberValue => {
            if l.value.len() > 64 {
                return Ok(Vec::new());
            }
            return Ok(state.store.groups_with_member(store, &l.value).await?);
        }
        IndexKey::UserName => None,
    };
    match id {
        Some(id) if id.len() <= 64 => Ok(state
            .store
            .get_group(store, &id)
            .await?
            .into_iter()
            .collect()),
        _ => Ok(Vec::new()),
    }
}
