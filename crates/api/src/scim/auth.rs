//! Who sends a SCIM request: a live bearer token of the tenant named in the path.

use super::reply::ScimFailure;
use crate::state::AppState;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use iic_domain::scim::resource::Origin;
use iic_domain::scim::ScimError;
use iic_store::ScimTenant;

/// The tenant a request was authenticated for, and where its resources live.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub tenant: ScimTenant,
    /// `<public URL>/<tenant id>/scim/v2`.
    pub base_url: String,
}

impl Tenant {
    pub fn origin(&self) -> Origin<'_> {
        Origin {
            tenant_id: &self.tenant.tenant_id,
            base_url: &self.base_url,
        }
    }

    pub fn store_id(&self) -> &str {
        &self.tenant.identity_store_id
    }

    /// Who the identity store records as having made a change.
    pub fn actor(&self) -> String {
        format!("scim:{}", self.tenant.tenant_id)
    }
}

fn unauthorized() -> ScimFailure {
    ScimFailure(ScimError::new(
        401,
        None,
        "authentication failed: send Authorization: Bearer <token> with a live token of this provisioning tenant",
    ))
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ScimFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(t) = parts.extensions.get::<Tenant>() {
            return Ok(t.clone());
        }
        let tenant_id = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|params| {
                params
                    .iter()
                    .find(|(k, _)| *k == "key")
                    .map(|(_, v)| v.to_string())
            })
            .ok_or_else(unauthorized)?;
        iic_domain::text::check(
            "tenant_id",
            &tenant_id,
            iic_domain::text::Whitespace::Refused,
        )
        .map_err(|e| ScimFailure(super::reply::from_api_error(&e)))?;
        let token = bearer(parts).ok_or_else(unauthorized)?;
        if tenant_id.len() > 64 || token.len() > 512 {
            return Err(unauthorized());
        }
        let now = iic_domain::clock::now_millis();
        let tenant = state
            .store
            .scim_tenant_for_token(&tenant_id, token, now)
            .await?
            .ok_or_else(unauthorized)?;
        let base_url = format!(
            "{}/{}/scim/v2",
            state.limits.oidc.public_url.trim_end_matches('/'),
            tenant.tenant_id
        );
        let t = Tenant { tenant, base_url };
        parts.extensions.insert(t.clone());
        Ok(t)
    }
}
