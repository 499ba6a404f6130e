//! The device verification page: a signed-in user enters (or confirms) the code a device shows,
//! sees which application asks, and approves or denies. Wrong codes count against the browser
//! session and lock its code entry for a while (RFC 8628 §5.1).

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, error_notice, escape, hidden};
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::oidc::{normalize_user_code, show_user_code, DeviceState};
use iic_domain::session::Session;
use iic_domain::sign_in::device_entry_key;
use iic_store::{DeviceDecision, DeviceGrant};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DeviceQuery {
    user_code: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    uri: axum::http::Uri,
    Query(q): Query<DeviceQuery>,
) -> Result<Response, PageError> {
    if portal.session(&state).await?.is_none() {
        let here = uri
            .path_and_query()
            .map_or(portal.path.clone(), |p| p.to_string());
        return Ok(portal.to_sign_in(&here));
    }
    let code = q.user_code.as_deref().unwrap_or_default();
    Ok(code_form(&state, &portal, code, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&format!("{}/device", portal.path)));
    };
    let typed = form.get("user_code").unwrap_or_default();
    let now = iic_domain::clock::now_millis();
    let entry_key = device_entry_key(&session.session_id);
    if let Some(until) = state
        .store
        .sign_in_locked_until(std::slice::from_ref(&entry_key), now)
        .await?
    {
        let message = format!(
            "Too many wrong codes. Try again in {} minutes.",
            (until - now + 59_999) / 60_000
        );
        return Ok(code_form(
            &state,
            &portal,
            typed,
            Some(&message),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let grant = match normalize_user_code(typed) {
        Some(code) => state.store.get_device_grant_by_user_code(&code).await?,
        None => None,
    };
    let Some(grant) = grant.filter(|g| pending_here(g, &portal, now)) else {
        if let Some(until) = state
            .store
            .record_sign_in_failure(&entry_key, state.limits.sign_in.device_entry, now)
            .await?
        {
            tracing::warn!(target: SIGN_IN_LOG, session_id = %session.session_id, locked_until = until, "device code entry locked after repeated wrong codes");
        }
        let message = "That code is not valid or has expired. Check the code your device shows.";
        return Ok(code_form(
            &state,
            &portal,
            typed,
            Some(message),
            StatusCode::BAD_REQUEST,
        ));
    };
    match form.get("action") {
        Some("approve") => decide(&state, &portal, &session, &grant, true, now).await,
        Some("deny") => decide(&state, &portal, &session, &grant, false, now).await,
        _ => confirm(&state, &portal, &grant).await,
    }
}

/// A grant of this portal's identity store still waiting for its answer.
fn pending_here(grant: &DeviceGrant, portal: &Portal, now: i64) -> bool {
    grant.identity_store_id == portal.instance.identity_store_id
        && grant.state == DeviceState::Pending
        && grant.expires_at > now
}

async fn confirm(
    state: &AppState,
    portal: &Portal,
    grant: &DeviceGrant,
) -> Result<Response, PageError> {
    let client = state.store.get_oidc_client(&grant.client_id).await?;
    let client_name = client.map_or_else(|| grant.client_id.clone(), |c| c.name);
    let shown = show_user_code(&grant.user_code);
    let body = format!(
        "<div class=\"card\"><h1>Authorize a device</h1>\
         <p><strong>{client}</strong> asks to act as you. Approve only if this code matches the one your device shows.</p>\
         <p class=\"code\" id=\"confirm-code\">{code}</p>\
         <form method=\"post\" action=\"{action}\" id=\"device-decision\">{csrf}{user_code}\
         <div class=\"row\"><button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>\
         <button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\">Deny</button></div>\
         </form></div>",
        client = escape(&client_name),
        code = escape(&shown),
        action = escape(&format!("{}/device", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        user_code = hidden("user_code", &shown),
    );
    Ok(portal.finish(portal.page("Authorize a device", body)))
}

async fn decide(
    state: &AppState,
    portal: &Portal,
    session: &Session,
    grant: &DeviceGrant,
    approve: bool,
    now: i64,
) -> Result<Response, PageError> {
    let (user_id, session_id) = (session.user_id.clone(), session.session_id.clone());
    let decision = match approve {
        true => DeviceDecision::Approve {
            user_id,
            session_id,
        },
        false => DeviceDecision::Deny {
            user_id,
            session_id,
        },
    };
    let decided = state
        .store
        .decide_device_grant(&grant.user_code, &decision, now)
        .await?;
    let (title, text) = match (decided.is_some(), approve) {
        (false, _) => (
            "Code no longer valid",
            "This code was already answered or has expired. Start again on your device.",
        ),
        (true, true) => (
            "Device approved",
            "Device approved. You can close this window and return to your device.",
        ),
        (true, false) => (
            "Device denied",
            "Device denied. The device was not given access.",
        ),
    };
    if decided.is_some() {
        tracing::info!(target: SIGN_IN_LOG, user_id = %session.user_id, session_id = %session.session_id, client_id = %grant.client_id, approved = approve, "device authorization answered");
    }
    let body = format!(
        "<div class=\"card\"><h1>{title}</h1><p id=\"device-result\">{text}</p>\
         <p><a href=\"{home}\">Go to the portal</a></p></div>",
        title = escape(title),
        text = escape(text),
        home = escape(&portal.path),
    );
    Ok(portal.finish(portal.page(title, body)))
}

fn code_form(
    state: &AppState,
    portal: &Portal,
    code: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Authorize a device</h1>{error}\
         <p class=\"muted\">Enter the code your device or command line shows.</p>\
         <form method=\"post\" action=\"{action}\" id=\"device-code\">{csrf}\
         <label for=\"user_code\">Code</label>\
         <input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{code}\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"32\" required autofocus>\
         <button type=\"submit\">Next</button></form></div>",
        error = error.map(error_notice).unwrap_or_default(),
        action = escape(&format!("{}/device", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        code = escape(code),
    );
    portal.finish(portal.page("Authorize a device", body).with_status(status))
}
