//! The OIDC API (`IdentityCenterOIDCClient`): unsigned operations whose client credentials
//! travel in the JSON body. Register a client, start a device authorization, and poll or
//! refresh for tokens. Errors are the `IIC.*` envelope; CreateToken's also carry the OAuth
//! `error` and `error_description`.

mod device;
pub mod rate;
mod register;
mod token;

use crate::envelope::{Failure, OAuthFields};
use crate::operation::{Op, Routes, Service};
use crate::state::AppState;
use axum::response::{IntoResponse, Response};
use iic_domain::oidc::{self, OAuthError};
use iic_domain::ApiError;
use iic_store::OidcClient;
use iic_store::StoreError;

pub use rate::{Peer, RateLimiter};

/// Lifetimes, the polling interval, the public URL and the rate limit of the OIDC API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcSettings {
    /// Where clients and browsers reach this server, without a trailing `/`: the user portal of
    /// an instance is `<public_url>/<identity store id or alias>/portal`, its verification page
    /// `<portal>/device`.
    pub public_url: String,
    pub device_code_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub poll_interval_secs: i64,
    /// How long a registered client (its secret) lives.
    pub client_ttl_secs: i64,
    /// RegisterClient and StartDeviceAuthorization calls one source address may make per
    /// minute (also the burst).
    pub rate_per_minute: u32,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            public_url: "http://127.0.0.1:8080".into(),
            device_code_ttl_secs: 600,
            access_token_ttl_secs: 3_600,
            refresh_token_ttl_secs: 30 * 86_400,
            poll_interval_secs: 5,
            client_ttl_secs: 90 * 86_400,
            rate_per_minute: 60,
        }
    }
}

pub fn routes() -> Routes {
    Routes::new(Service::Oidc)
        .add(
            Op::post("RegisterClient", "/v1/clients").unsigned(),
            register::register,
        )
        .add(
            Op::post("StartDeviceAuthorization", "/v1/device/authorize").unsigned(),
            device::start,
        )
        .add(
            Op::post("CreateToken", "/v1/tokens").unsigned(),
            token::create,
        )
}

/// A failed OIDC call: the envelope's error and, for the token endpoint's failures, its OAuth
/// code (rendered as `error` and `error_description` beside the envelope).
#[derive(Debug)]
pub struct OidcFailure {
    error: ApiError,
    oauth: Option<OAuthError>,
}

impl OidcFailure {
    fn oauth(e: OAuthError) -> Self {
        OidcFailure {
            error: e.api_error(),
            oauth: Some(e),
        }
    }

    /// A malformed token request: the envelope names the field; the OAuth code is
    /// `invalid_request`.
    fn invalid_request(error: ApiError) -> Self {
        OidcFailure {
            error,
            oauth: Some(OAuthError::InvalidRequest),
        }
    }
}

impl From<ApiError> for OidcFailure {
    fn from(error: ApiError) -> Self {
        OidcFailure { error, oauth: None }
    }
}

impl From<StoreError> for OidcFailure {
    fn from(e: StoreError) -> Self {
        Failure::from(e).0.into()
    }
}

impl IntoResponse for OidcFailure {
    fn into_response(self) -> Response {
        let mut resp = Failure(self.error).into_response();
        if let Some(e) = self.oauth {
            resp.extensions_mut().insert(OAuthFields {
                error: e.code(),
                description: e.description(),
            });
        }
        resp
    }
}

/// A handler's failure.
fn fail(e: impl Into<OidcFailure>) -> OidcFailure {
    e.into()
}

/// The client `client_id` if it exists, has not expired and `client_secret` is its secret;
/// `invalid_client` otherwise (one answer for all three, so that ids cannot be probed).
async fn authenticate(
    state: &AppState,
    client_id: &str,
    client_secret: &str,
    now_ms: i64,
) -> Result<OidcClient, OidcFailure> {
    let client = state.store.get_oidc_client(client_id).await.map_err(fail)?;
    match client {
        Some(c)
            if c.expires_at > now_ms && oidc::secret_matches(client_secret, &c.secret_sha256) =>
        {
            Ok(c)
        }
        _ => Err(OidcFailure::oauth(OAuthError::InvalidClient)),
    }
}

/// Refuses the call when the caller's source address is over its rate.
fn check_rate(state: &AppState, peer: &Peer) -> Result<(), OidcFailure> {
    if state.oidc_rate.allow(peer.0) {
        Ok(())
    } else {
        Err(fail(ApiError::server_busy(
            "too many client registrations or device authorizations from this address",
        )))
    }
}
