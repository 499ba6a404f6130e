//! Choosing a password through a mailed link (a new user's, one an administrator reset, or one
//! the user forgot). The link's token travels in the query and then in a hidden field; the
//! password is set, the link spent and the user's sessions ended in one transaction. A link
//! that is unknown, spent, replaced or expired gets a page saying so.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, error_notice, escape, hidden};
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::directory::password::{hash_password, verify_password};
use iic_domain::mailed_secret::{is_link_token, link_token_hash};
use iic_store::{LinkPurpose, MailedLink};
use serde::Deserialize;

/// Longest password considered; more is refused without hashing it.
const MAX_PASSWORD: usize = 256;

#[derive(Deserialize)]
pub struct LinkQuery {
    pub(super) token: Option<String>,
}

/// The live reset link of this portal's identity store that `token` names.
pub(super) async fn live_link(
    state: &AppState,
    portal: &Portal,
    token: Option<&str>,
    purpose: LinkPurpose,
) -> Result<Option<MailedLink>, PageError> {
    let Some(token) = token.filter(|t| is_link_token(t)) else {
        return Ok(None);
    };
    let now = iic_domain::clock::now_millis();
    let link = state
        .store
        .mailed_link(&link_token_hash(token), purpose, now)
        .await?;
    Ok(link.filter(|l| l.identity_store_id == portal.instance.identity_store_id))
}

/// The page of a link that cannot be used.
pub(super) fn dead_link(portal: &Portal, what: &str, again: &str) -> Response {
    let body = format!(
        "<div class=\"card\" id=\"link-invalid\"><h1>This link cannot be used</h1>\
         {notice}<p>{again}</p><p><a href=\"{home}\">Go to the sign-in page</a></p></div>",
        notice = error_notice(&format!(
            "This {what} link is not valid: it was already used, a newer one replaced it, or it expired."
        )),
        again = escape(again),
        home = escape(&format!("{}/login", portal.path)),
    );
    portal.finish(
        portal
            .page("This link cannot be used", body)
            .with_status(StatusCode::GONE),
    )
}

fn dead(portal: &Portal) -> Response {
    dead_link(
        portal,
        "password",
        "Ask for a new one with \"Forgot your password?\" on the sign-in page, or ask your administrator.",
    )
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<LinkQuery>,
) -> Result<Response, PageError> {
    let token = q.token.as_deref();
    if live_link(&state, &portal, token, LinkPurpose::PasswordReset)
        .await?
        .is_none()
    {
        return Ok(dead(&portal));
    }
    Ok(form(
        &state,
        &portal,
        token.unwrap_or_default(),
        None,
        StatusCode::OK,
    ))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm {
        portal,
        form: posted,
    }: PostedForm,
) -> Result<Response, PageError> {
    let token = posted.get("token").unwrap_or_default();
    let Some(link) = live_link(&state, &portal, Some(token), LinkPurpose::PasswordReset).await?
    else {
        return Ok(dead(&portal));
    };
    let refuse = |message: &str| {
        form(
            &state,
            &portal,
            token,
            Some(message),
            StatusCode::BAD_REQUEST,
        )
    };
    let new = posted.get("new_password").unwrap_or_default();
    if new.is_empty() {
        return Ok(refuse("Enter a new password."));
    }
    if posted.get("confirm_password") != Some(new) {
        return Ok(refuse("The two passwords do not match."));
    }
    if new.len() > MAX_PASSWORD {
        return Ok(refuse(&format!(
            "The new password must be at most {MAX_PASSWORD} characters long."
        )));
    }
    let (Some(store), Some(user)) = (
        state.store.identity_store(&link.identity_store_id).await?,
        state
            .store
            .get_user(&link.identity_store_id, &link.user_id)
            .await?,
    ) else {
        return Ok(dead(&portal));
    };
    let policy = store.password_policy.unwrap_or_default();
    if let Err(e) = policy.check(new) {
        return Ok(refuse(&format!(
            "The new password does not meet the password policy: {}.",
            e.message
        )));
    }
    let (candidate, current) = (new.to_string(), user.password_hash.clone());
    let hashed = state
        .password_work
        .run(move || {
            if current.is_some_and(|c| verify_password(&candidate, &c)) {
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
    let Some(set) = state
        .store
        .reset_password_by_link(&link_token_hash(token), &new_hash, now)
        .await?
    else {
        // Spent by a concurrent submission, or the user was disabled meanwhile.
        return Ok(dead(&portal));
    };
    let key = iic_domain::sign_in::user_key(&set.identity_store_id, &set.user_name_lower);
    state.store.clear_sign_in_failures(&key).await?;
    if set.ended_sessions > 0 {
        // Their tokens and temporary credentials ended too.
        state.revoke_cached_callers().await;
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %set.identity_store_id, user_id = %set.user_id, ended_sessions = set.ended_sessions, ip = %portal.peer.0, "password set through a mailed link");
    let body = format!(
        "<div class=\"card\" id=\"password-set\"><h1>Your password is set</h1>\
         <p class=\"notice\" role=\"status\" id=\"notice\">Your new password is saved. Sign in with it now.</p>\
         <p><a href=\"{login}\" id=\"sign-in-link\">Sign in</a></p></div>",
        login = escape(&format!("{}/login", portal.path)),
    );
    Ok(portal.finish(portal.page("Your password is set", body)))
}

fn form(
    state: &AppState,
    portal: &Portal,
    token: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Choose your password</h1>{error}\
         <form method=\"post\" action=\"{action}\" id=\"password-reset\">{csrf}{token}\
         <label for=\"new_password\">New password</label>\
         <input type=\"password\" id=\"new_password\" name=\"new_password\" autocomplete=\"new-password\" required autofocus>\
         <label for=\"confirm_password\">Confirm the new password</label>\
         <input type=\"password\" id=\"confirm_password\" name=\"confirm_password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">Set password</button></form></div>",
        error = error.map(error_notice).unwrap_or_default(),
        action = escape(&format!("{}/reset-password", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        token = hidden("token", token),
    );
    portal.finish(
        portal
            .page("Choose your password", body)
            .with_status(status),
    )
}
