//! "Forgot your password?": a user name in, a password link mailed out. The answer is the same
//! page whether or not the user exists, can sign in or has an address, and whether or not the
//! request was throttled; requests are counted per user name and per source address, so the
//! page cannot be used to flood a mailbox.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, error_notice, escape};
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use crate::user_mail::{self, PasswordLink, Sent};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::sign_in::ThrottlePolicy;
use iic_store::PrincipalKey;

/// Longest user name looked up; longer ones cannot exist.
const MAX_USER_NAME: usize = 128;

/// Three mails per user name in 15 minutes; the fourth request within them gets no mail until
/// 15 minutes after the third.
pub const PER_USER: ThrottlePolicy = ThrottlePolicy {
    max_failures: 3,
    window_ms: 15 * 60_000,
    lock_ms: 15 * 60_000,
};
/// Twenty requests per source address in 15 minutes, whichever names they ask for.
pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    max_failures: 20,
    window_ms: 15 * 60_000,
    lock_ms: 15 * 60_000,
};

/// Throttle keys of this page, apart from those of failed sign-ins.
fn user_key(identity_store_id: &str, user_name: &str) -> String {
    format!(
        "forgot-password:{}",
        iic_domain::sign_in::user_key(identity_store_id, user_name)
    )
}

fn address_key(ip: &str) -> String {
    format!("forgot-password:{}", iic_domain::sign_in::address_key(ip))
}

pub async fn show(State(state): State<AppState>, portal: Portal) -> Result<Response, PageError> {
    Ok(form(&state, &portal, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm {
        portal,
        form: posted,
    }: PostedForm,
) -> Result<Response, PageError> {
    let Some(user_name) = posted
        .get("username")
        .map(str::trim)
        .filter(|u| !u.is_empty() && u.chars().count() <= MAX_USER_NAME)
    else {
        return Ok(form(
            &state,
            &portal,
            Some("Enter your user name."),
            StatusCode::OK,
        ));
    };
    let store_id = &portal.instance.identity_store_id;
    let ip = portal.peer.0.to_string();
    let keys = [user_key(store_id, user_name), address_key(&ip)];
    let now = iic_domain::clock::now_millis();
    if let Some(until) = state.store.sign_in_locked_until(&keys, now).await? {
        tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_name, %ip, locked_until = until, "password link not mailed: too many requests");
        return Ok(answer(&portal));
    }
    for (key, policy) in keys.iter().zip([PER_USER, PER_ADDRESS]) {
        state.store.record_sign_in_failure(key, policy, now).await?;
    }
    let user = match state
        .store
        .find_user_id(store_id, &PrincipalKey::Name(user_name.to_string()))
        .await?
    {
        Some(id) => state.store.get_user(store_id, &id).await?,
        None => None,
    };
    match user.filter(|u| u.enabled) {
        Some(user) => {
            let sent =
                user_mail::send_password_link(&state, &user, PasswordLink::Forgotten).await?;
            if sent != Sent::Queued {
                tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id = %user.user_id, outcome = ?sent, "password link asked for, not mailed");
            }
        }
        None => {
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_name, %ip, "password link asked for a user name that cannot sign in");
        }
    }
    Ok(answer(&portal))
}

/// The one answer to every request with a user name.
fn answer(portal: &Portal) -> Response {
    let body = format!(
        "<div class=\"card\" id=\"forgot-password-sent\"><h1>Check your mail</h1>\
         <p class=\"notice\" role=\"status\" id=\"notice\">If this user name belongs to a user who can sign in and has an e-mail address, \
         a mail with a link to choose a new password is on its way. The link works once and expires in {ttl}.</p>\
         <p class=\"muted\">No mail? Check the user name and your spam folder, wait a few minutes, or ask your administrator.</p>\
         <p><a href=\"{login}\">Back to sign-in</a></p></div>",
        ttl = "1 hour",
        login = escape(&format!("{}/login", portal.path)),
    );
    portal.finish(portal.page("Check your mail", body))
}

fn form(state: &AppState, portal: &Portal, error: Option<&str>, status: StatusCode) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Forgot your password?</h1>{error}\
         <p class=\"muted\">Enter your user name. We mail a link to choose a new password to your address.</p>\
         <form method=\"post\" action=\"{action}\" id=\"forgot-password\">{csrf}\
         <label for=\"username\">User name</label>\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\
         <button type=\"submit\">Mail me a link</button></form>\
         <p><a href=\"{login}\">Back to sign-in</a></p></div>",
        error = error.map(error_notice).unwrap_or_default(),
        action = escape(&format!("{}/forgot-password", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        login = escape(&format!("{}/login", portal.path)),
    );
    portal.finish(
        portal
            .page("Forgot your password?", body)
            .with_status(status),
    )
}
