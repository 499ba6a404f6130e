//! A sign-in that proved the password and still owes a second factor (or, for a user without a
//! password, owes the mailed code that stands for it). Between the two the
//! browser holds a short-lived sealed ticket naming the user, not a session: nothing opens until
//! the factor is proved (or, for a user without one who must enrol, a device is enrolled).
//! Completing it opens the session with MFA present and, under `CONTEXT_AWARE`, remembers the
//! browser for the user at the address it signed in from.

use super::browser::{PageError, Portal};
use super::cookies;
use super::sign_in::open_session;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::response::Response;
use iic_domain::crypto::sha256;
use iic_domain::ids;
use serde::{Deserialize, Serialize};

/// How long a ticket lasts: time to open an authenticator app, or to receive a mail.
const TICKET_SECS: i64 = 10 * 60;
const TICKET_AAD: &[u8] = b"iic/portal/mfa-pending";
/// How long a browser stays remembered after an MFA sign-in under `CONTEXT_AWARE`.
pub const REMEMBER_BROWSER_SECS: i64 = 30 * 24 * 3600;

/// What the user owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owed {
    /// A code of one of their devices (or a WebAuthn assertion).
    Device,
    /// The code mailed to them (`EMAIL_OTP`).
    Email,
    /// They have no device and must enrol one (`ALLOWED_WITH_ENROLLMENT`).
    Enrolment,
    /// A user without a password signs in with a mailed code in its place
    /// (`no_password_signin_behavior` `EMAIL_OTP`); the MFA settings apply after it.
    CodeForPassword,
}

/// The ticket, as sealed into the cookie.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub identity_store_id: String,
    pub user_id: String,
    /// Where the browser goes once signed in.
    pub next: String,
    pub expires_at: i64,
    pub owed: Owed,
    /// Whether the browser is remembered once the factor is proved (`CONTEXT_AWARE`).
    pub remember: bool,
}

impl Pending {
    /// Whether the user has no device and must enrol one.
    pub fn enrol(&self) -> bool {
        self.owed == Owed::Enrolment
    }
}

/// Sends a user who proved their password on to `to` (a page of this portal), holding a
/// ticket for the factor they owe.
pub fn begin(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    next: &str,
    owed: Owed,
    remember: bool,
    to: &str,
) -> Response {
    let pending = Pending {
        identity_store_id: portal.instance.identity_store_id.clone(),
        user_id: user_id.to_string(),
        next: next.to_string(),
        expires_at: iic_domain::clock::now_millis() + TICKET_SECS * 1000,
        owed,
        remember,
    };
    let sealed = serde_json::to_vec(&pending)
        .map(|t| hex::encode(state.keys.pages.seal(&t, TICKET_AAD)))
        .unwrap_or_default();
    let mut resp = portal.redirect(to);
    portal.scope.set(
        resp.headers_mut(),
        cookies::MFA_PENDING,
        &sealed,
        Some(TICKET_SECS),
    );
    resp
}

/// `resp` (what follows a first factor) replacing this browser's ticket: when `resp` does not
/// set a new ticket, the old one is cleared.
pub fn replace(portal: &Portal, mut resp: Response) -> Response {
    let sets_ticket = resp
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with(&format!("{}=", cookies::MFA_PENDING)));
    if !sets_ticket {
        portal.scope.clear(resp.headers_mut(), cookies::MFA_PENDING);
    }
    resp
}

/// The browser's live ticket for this portal, if any.
pub fn open(state: &AppState, portal: &Portal, headers: &HeaderMap) -> Option<Pending> {
    let sealed = hex::decode(cookies::get(headers, cookies::MFA_PENDING)?).ok()?;
    let plain = state.keys.pages.open(&sealed, TICKET_AAD)?;
    let pending: Pending = serde_json::from_slice(&plain).ok()?;
    (pending.identity_store_id == portal.instance.identity_store_id
        && pending.expires_at > iic_domain::clock::now_millis())
    .then_some(pending)
}

/// The factor was proved: opens the session with MFA present, remembers the browser when the
/// ticket says so, clears the ticket and sends the browser on.
pub async fn complete(
    state: &AppState,
    portal: &Portal,
    pending: &Pending,
) -> Result<Response, PageError> {
    let mut resp = open_session(state, portal, &pending.user_id, &pending.next, true).await?;
    portal.scope.clear(resp.headers_mut(), cookies::MFA_PENDING);
    if pending.remember {
        remember_browser(state, portal, &pending.user_id, &mut resp).await?;
    }
    Ok(resp)
}

/// Records this browser as known to the user at the current address, setting its cookie when
/// it has none yet.
async fn remember_browser(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    resp: &mut Response,
) -> Result<(), PageError> {
    let (value, new) = match portal.browser_cookie() {
        Some(v) => (v.to_string(), false),
        None => (format!("{}{}", ids::hex32(), ids::hex32()), true),
    };
    let now = iic_domain::clock::now_millis();
    state
        .store
        .remember_browser(
            &sha256(value.as_bytes()),
            &portal.instance.identity_store_id,
            user_id,
            &portal.peer.0.to_string(),
            now,
            now + REMEMBER_BROWSER_SECS * 1000,
        )
        .await?;
    if new {
        portal.scope.set(
            resp.headers_mut(),
            cookies::BROWSER,
            &value,
            Some(REMEMBER_BROWSER_SECS),
        );
    }
    Ok(())
}

/// Whether this browser proved a second factor for the user before, from the same address.
pub async fn browser_is_known(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
) -> Result<bool, PageError> {
    let Some(value) = portal.browser_cookie() else {
        return Ok(false);
    };
    let now = iic_domain::clock::now_millis();
    let address = state
        .store
        .remembered_browser_address(
            &sha256(value.as_bytes()),
            &portal.instance.identity_store_id,
            user_id,
            now,
        )
        .await?;
    Ok(address.is_some_and(|a| a == portal.peer.0.to_string()))
}
