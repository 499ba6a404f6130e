//! The portal's caller: the live OIDC access token in the `access-token` header.

use crate::envelope::Failure;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::HeaderName;
use axum::http::request::Parts;
use iic_domain::portal::unauthorized;
use iic_store::OidcToken;

const ACCESS_TOKEN: HeaderName = HeaderName::from_static("access-token");
/// The catalogue's bound on the header.
const MAX_LEN: usize = 4096;

/// The user a live access token was issued to, with its instance, identity store and session.
pub struct PortalUser(pub OidcToken);

impl FromRequestParts<AppState> for PortalUser {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let header = parts
            .headers
            .get(ACCESS_TOKEN)
            .ok_or_else(|| unauthorized("the access-token header is missing"))?;
        let token = header
            .to_str()
            .ok()
            .filter(|t| well_formed(t))
            .ok_or_else(|| unauthorized("the access token is malformed"))?;
        let now = iic_domain::clock::now_millis();
        let hash = iic_domain::oidc::hash_secret(token);
        let found = state.store.get_access_token(&hash, now).await?;
        found.map(PortalUser).ok_or_else(|| {
            Failure(unauthorized(
                "the access token is invalid, expired or revoked",
            ))
        })
    }
}

/// `^[a-zA-Z0-9-_.]{1,4096}$`, the catalogue's pattern.
fn well_formed(token: &str) -> bool {
    (1..=MAX_LEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
