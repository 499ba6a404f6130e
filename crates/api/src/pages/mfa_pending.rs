//! TEMPORARY stand-in for the lead's `mfa_pending` (the contract of issue 11): dropped when the
//! real module is merged from main. It opens no ticket, so the WebAuthn sign-in step is
//! unreachable until then.

use super::browser::{PageError, Portal};
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::Response;

/// A sign-in that proved the password and still owes a second factor: a sealed, short-lived cookie.
#[allow(dead_code)]
pub struct Pending {
    pub identity_store_id: String,
    pub user_id: String,
    pub next: String,
    pub expires_at: i64,
    /// true: the user has no device and must enrol.
    pub enrol: bool,
}

pub fn open(_state: &AppState, _portal: &Portal, _headers: &HeaderMap) -> Option<Pending> {
    None
}

/// Opens the session with MFA present, remembers the browser when the mode is CONTEXT_AWARE,
/// clears the ticket, redirects to `next`.
pub async fn complete(
    state: &AppState,
    portal: &Portal,
    pending: &Pending,
) -> Result<Response, PageError> {
    super::sign_in::start_session(state, portal, &pending.user_id, &pending.next).await
}
