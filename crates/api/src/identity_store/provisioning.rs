//! SCIM automatic provisioning of an identity store: its provisioning tenants (SCIM endpoints)
//! and their bearer tokens. A token's value is shown once, when it is created; only its SHA-256
//! is kept.

use super::{owned_store, path_id};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::{clock, ids, oidc, ApiError};
use iic_store::{
    IdentityStoreInfo, ProvisioningCreated, ScimTenant, ScimToken, MAX_TENANTS_PER_STORE,
    MAX_TOKENS_PER_TENANT,
};
use serde::Serialize;

/// How long a bearer token is accepted: one year.
pub const TOKEN_VALIDITY_MS: i64 = 365 * 24 * 3600 * 1000;

/// A tenant as shown (`ProvisioningTenant`).
#[derive(Serialize)]
pub struct TenantView {
    tenant_id: String,
    scim_endpoint: String,
    creation_time: i64,
}

impl TenantView {
    fn new(state: &AppState, t: ScimTenant) -> Self {
        TenantView {
            scim_endpoint: scim_endpoint(&state.limits.oidc.public_url, &t.tenant_id),
            tenant_id: t.tenant_id,
            creation_time: t.created_at,
        }
    }
}

/// The SCIM base URL of a tenant.
pub fn scim_endpoint(public_url: &str, tenant_id: &str) -> String {
    format!("{public_url}/{tenant_id}/scim/v2")
}

#[derive(Serialize)]
pub struct ListTenantsResponse {
    provisioning_tenants: Vec<TenantView>,
}

/// A token as listed (`BearerToken`): never its value.
#[derive(Serialize)]
pub struct TokenView {
    token_id: String,
    creation_time: i64,
    expiration_time: i64,
}

impl From<ScimToken> for TokenView {
    fn from(k: ScimToken) -> Self {
        TokenView {
            token_id: k.token_id,
            creation_time: k.created_at,
            expiration_time: k.expires_at,
        }
    }
}

#[derive(Serialize)]
pub struct ListTokensResponse {
    bearer_tokens: Vec<TokenView>,
}

/// A new token with its value, the one time it is shown.
#[derive(Serialize)]
pub struct CreatedToken {
    token_id: String,
    token: String,
    creation_time: i64,
    expiration_time: i64,
}

/// Turns automatic provisioning on: a new tenant, whose SCIM endpoint takes bearer tokens
/// created for it.
pub async fn create_tenant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
) -> Result<(StatusCode, Json<TenantView>), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let tenant = ScimTenant {
        tenant_id: ids::uuid_v4(),
        identity_store_id: store.identity_store_id.clone(),
        created_at: clock::now_millis(),
    };
    match state.store.create_scim_tenant(&tenant).await? {
        ProvisioningCreated::Created => {
            Ok((StatusCode::CREATED, Json(TenantView::new(&state, tenant))))
        }
        ProvisioningCreated::Full => Err(ApiError::bad_request(format!(
            "automatic provisioning is enabled for identity store {} already: an identity store holds at most {MAX_TENANTS_PER_STORE} provisioning tenant",
            store.identity_store_id
        ))
        .into()),
        ProvisioningCreated::NoParent => {
            Err(ApiError::not_found(format!("identity store {store_id}")).into())
        }
    }
}

pub async fn list_tenants(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
) -> Result<Json<ListTenantsResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let tenants = state.store.scim_tenants(&store.identity_store_id).await?;
    Ok(Json(ListTenantsResponse {
        provisioning_tenants: tenants
            .into_iter()
            .map(|t| TenantView::new(&state, t))
            .collect(),
    }))
}

/// Turns automatic provisioning off: the tenant and its tokens are deleted; what it provisioned
/// stays.
pub async fn delete_tenant(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, tenant_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("tenant_id", &tenant_id)?;
    if state
        .store
        .delete_scim_tenant(&store.identity_store_id, &tenant_id)
        .await?
    {
        Ok(())
    } else {
        Err(tenant_not_found(&tenant_id).into())
    }
}

pub async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, tenant_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<CreatedToken>), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("tenant_id", &tenant_id)?;
    let now = clock::now_millis();
    let record = ScimToken {
        token_id: ids::uuid_v4(),
        tenant_id,
        created_at: now,
        expires_at: now + TOKEN_VALIDITY_MS,
    };
    let token = oidc::new_secret();
    match state
        .store
        .create_scim_token(&store.identity_store_id, &record, &token)
        .await?
    {
        ProvisioningCreated::Created => Ok((
            StatusCode::CREATED,
            Json(CreatedToken {
                token_id: record.token_id,
                token,
                creation_time: record.created_at,
                expiration_time: record.expires_at,
            }),
        )),
        ProvisioningCreated::Full => Err(ApiError::bad_request(format!(
            "provisioning tenant {} holds {MAX_TOKENS_PER_TENANT} bearer tokens already, the most it may hold; delete one first",
            record.tenant_id
        ))
        .into()),
        ProvisioningCreated::NoParent => Err(tenant_not_found(&record.tenant_id).into()),
    }
}

pub async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, tenant_id)): Path<(String, String)>,
) -> Result<Json<ListTokensResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    existing_tenant(&state, &store, &tenant_id).await?;
    let tokens = state
        .store
        .scim_tokens(&store.identity_store_id, &tenant_id)
        .await?;
    Ok(Json(ListTokensResponse {
        bearer_tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

pub async fn delete_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, tenant_id, token_id)): Path<(String, String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("tenant_id", &tenant_id)?;
    path_id("token_id", &token_id)?;
    existing_tenant(&state, &store, &tenant_id).await?;
    if state
        .store
        .delete_scim_token(&store.identity_store_id, &tenant_id, &token_id)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("bearer token {token_id}")).into())
    }
}

/// The tenant named in the path, of the store in the path.
async fn existing_tenant(
    state: &AppState,
    store: &IdentityStoreInfo,
    tenant_id: &str,
) -> Result<ScimTenant, Failure> {
    path_id("tenant_id", tenant_id)?;
    state
        .store
        .scim_tenant(&store.identity_store_id, tenant_id)
        .await?
        .ok_or_else(|| tenant_not_found(tenant_id).into())
}

fn tenant_not_found(tenant_id: &str) -> ApiError {
    ApiError::not_found(format!("provisioning tenant {tenant_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_the_tenant_under_the_public_url() {
        assert_eq!(
            scim_endpoint("https://iic.example", "t-1"),
            "https://iic.example/t-1/scim/v2"
        );
    }

    #[test]
    fn a_token_lives_one_year() {
        assert_eq!(TOKEN_VALIDITY_MS, 31_536_000_000);
    }
}
