//! The forced password change after signing in with a one-time password (a new user's, or one an
//! administrator reset). Between the two the browser holds a short-lived sealed ticket naming
//! the user and the password they proved, not a session: nothing else opens until the password
//! is changed.

use super::browser::{PageError, Portal, PostedForm};
use super::cookies;
use super::html::{csrf_field, error_notice, escape, hidden};
use super::sign_in::{after_password, SIGN_IN_LOG};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::directory::password::{hash_password, verify_password};
use iic_store::User;
use serde::{Deserialize, Serialize};

/// How long a password-change ticket lasts.
const TICKET_SECS: i64 = 10 * 60;
const TICKET_AAD: &[u8] = b"iic/portal/password-change";

#[derive(Serialize, Deserialize)]
struct Ticket {
    identity_store_id: String,
    user_id: String,
    /// The one-time password's hash the user proved; the change applies only while it is current.
    password_hash: String,
    expires_at: i64,
}

/// Sends a user who proved a one-time password to the change page, holding a ticket.
pub fn begin_change(state: &AppState, portal: &Portal, user: &User, next: &str) -> Response {
    let ticket = Ticket {
        identity_store_id: user.identity_store_id.clone(),
        user_id: user.user_id.clone(),
        password_hash: user.password_hash.clone().unwrap_or_default(),
        expires_at: iic_domain::clock::now_millis() + TICKET_SECS * 1000,
    };
    let sealed = serde_json::to_vec(&ticket)
        .map(|t| hex::encode(state.keys.pages.seal(&t, TICKET_AAD)))
        .unwrap_or_default();
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    let mut resp = portal.redirect(&format!("{}/password?{query}", portal.path));
    portal.scope.set(
        resp.headers_mut(),
        cookies::PASSWORD_CHANGE,
        &sealed,
        Some(TICKET_SECS),
    );
    resp
}

fn open_ticket(state: &AppState, portal: &Portal, cookie: Option<&str>) -> Option<Ticket> {
    let sealed = hex::decode(cookie?).ok()?;
    let plain = state.keys.pages.open(&sealed, TICKET_AAD)?;
    let ticket: Ticket = serde_json::from_slice(&plain).ok()?;
    (ticket.identity_store_id == portal.instance.identity_store_id
        && ticket.expires_at > iic_domain::clock::now_millis())
    .then_some(ticket)
}

#[derive(Deserialize)]
pub struct ChangeQuery {
    next: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    headers: axum::http::HeaderMap,
    Query(q): Query<ChangeQuery>,
) -> Result<Response, PageError> {
    let next = portal.local_next(q.next.as_deref());
    if open_ticket(
        &state,
        &portal,
        cookies::get(&headers, cookies::PASSWORD_CHANGE),
    )
    .is_none()
    {
        return Ok(portal.to_sign_in(&next));
    }
    Ok(change_form(&state, &portal, &next, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let next = portal.local_next(form.get("next"));
    let Some(ticket) = open_ticket(
        &state,
        &portal,
        cookies::get(&headers, cookies::PASSWORD_CHANGE),
    ) else {
        return Ok(portal.to_sign_in(&next));
    };
    let refuse = |message: &str| {
        change_form(
            &state,
            &portal,
            &next,
            Some(message),
            StatusCode::BAD_REQUEST,
        )
    };
    let new = form.get("new_password").unwrap_or_default();
    if new.is_empty() {
        return Ok(refuse("Enter a new password."));
    }
    if form.get("confirm_password") != Some(new) {
        return Ok(refuse("The two passwords do not match."));
    }
    let store = state
        .store
        .identity_store(&ticket.identity_store_id)
        .await?
        .ok_or_else(PageError::internal)?;
    let policy = store.password_policy.unwrap_or_default();
    if let Err(e) = policy.check(new) {
        return Ok(refuse(&format!(
            "The new password does not meet the password policy: {}.",
            e.message
        )));
    }
    let (candidate, current) = (new.to_string(), ticket.password_hash.clone());
    let hashed = state
        .password_work
        .run(move || {
            if verify_password(&candidate, &current) {
                return Ok(None);
            }
            hash_password(&candidate).map(Some)
        })
        .await
        .ok_or_else(PageError::internal)?
        .map_err(|_| PageError::internal())?;
    let Some(new_hash) = hashed else {
        return Ok(refuse(
            "The new password must differ from your current password.",
        ));
    };
    let now = iic_domain::clock::now_millis();
    let changed = state
        .store
        .set_user_password(
            &ticket.identity_store_id,
            &ticket.user_id,
            &ticket.password_hash,
            &new_hash,
            now,
        )
        .await?;
    if !changed {
        // Reset, disabled or deleted meanwhile: start over.
        let mut resp = portal.to_sign_in(&next);
        portal
            .scope
            .clear(resp.headers_mut(), cookies::PASSWORD_CHANGE);
        return Ok(resp);
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %ticket.identity_store_id, user_id = %ticket.user_id, "password changed");
    let mut resp = after_password(&state, &portal, &ticket.user_id, &next).await?;
    portal
        .scope
        .clear(resp.headers_mut(), cookies::PASSWORD_CHANGE);
    Ok(resp)
}

fn change_form(
    state: &AppState,
    portal: &Portal,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Choose a new password</h1>{error}\
         <p class=\"muted\">You signed in with a one-time password. Choose your own to continue.</p>\
         <form method=\"post\" action=\"{action}\" id=\"password-change\">{csrf}{next}\
         <label for=\"new_password\">New password</label>\
         <input type=\"password\" id=\"new_password\" name=\"new_password\" autocomplete=\"new-password\" required autofocus>\
         <label for=\"confirm_password\">Confirm the new password</label>\
         <input type=\"password\" id=\"confirm_password\" name=\"confirm_password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Change password</button></form></div>",
        error = error.map(error_notice).unwrap_or_default(),
        action = escape(&format!("{}/password", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        next = hidden("next", next),
    );
    portal.finish(
        portal
            .page("Choose a new password", body)
            .with_status(status),
    )
}
