//! OIDC: registered clients, device grants and the tokens they lead to. Secrets, device codes
//! and tokens are kept only as SHA-256 hashes (`iic_domain::oidc::hash_secret`); sessions are
//! another area's, so a token names its session by id only.

mod clients;
mod codes;
mod devices;
pub(crate) mod tokens;

use iic_domain::oidc::{DeviceState, OAuthError};

/// A registered OIDC client. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcClient {
    pub client_id: String,
    pub secret_sha256: String,
    pub name: String,
    pub client_type: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A device authorization (RFC 8628). Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceGrant {
    pub device_code_sha256: String,
    /// Stored form: 8 letters, no dash (`iic_domain::oidc::normalize_user_code`).
    pub user_code: String,
    pub client_id: String,
    pub instance_id: String,
    pub identity_store_id: String,
    pub scopes: Vec<String>,
    pub state: DeviceState,
    pub interval_secs: i64,
    pub last_poll_at: Option<i64>,
    pub expires_at: i64,
    /// After this the row is swept; until then an expired grant still answers `expired_token`.
    pub forget_at: i64,
    /// The user who approved or denied it, and the session they did it in.
    pub user_id: Option<String>,
    pub session_id: Option<String>,
    pub created_at: i64,
}

/// A user's answer to a device grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    Approve { user_id: String, session_id: String },
    Deny { user_id: String, session_id: String },
}

/// The hashes and lifetimes of tokens about to be issued (made before the store is asked, so
/// that the plain values never reach it). Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokens {
    pub access_sha256: String,
    pub refresh_sha256: String,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
}

/// An issued access token (and its refresh token's lifetime). Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcToken {
    pub access_sha256: String,
    pub client_id: String,
    pub instance_id: String,
    pub identity_store_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    pub scopes: Vec<String>,
    pub access_expires_at: i64,
    pub refresh_expires_at: i64,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

/// An authorization code, issued by the sign-in pages to a redirect URI. Times are Unix ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_sha256: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE `S256` challenge, when the client sent one.
    pub code_challenge: Option<String>,
    pub instance_id: String,
    pub identity_store_id: String,
    pub user_id: String,
    pub session_id: String,
    pub scopes: Vec<String>,
    pub expires_at: i64,
}

/// What a client presents to redeem an authorization code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRedemption {
    pub code_sha256: String,
    pub client_id: String,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
}

/// What polling a device code (or redeeming a code) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// No grant has this device code, or no code is this one (never issued, or swept).
    Unknown,
    Refused(OAuthError),
    /// Approved and now redeemed: these tokens were issued, once.
    Issued(Box<OidcToken>),
}

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OidcSweep {
    pub clients: u64,
    pub device_grants: u64,
    pub tokens: u64,
    pub auth_codes: u64,
}
