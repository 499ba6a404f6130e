//! Sign-in: the user name, then the password. A failure never says which of the two was wrong
//! or whether the user exists; failures lock the user name and, more loosely, the source
//! address; a user with a one-time password goes on to choose a new one.

use super::browser::{PageError, Portal, PostedForm};
use super::cookies;
use super::html::{csrf_field, error_notice, escape, hidden};
use super::mfa_pending::{self, Owed};
use super::{forgot_password, password};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_domain::directory::password::verify_password;
use iic_domain::session;
use iic_domain::sign_in::{address_key, user_key};
use iic_store::PrincipalKey;
use serde::Deserialize;
use std::sync::LazyLock;

/// The tracing target of sign-in events (successes, refusals, lockouts).
pub const SIGN_IN_LOG: &str = "iic::sign_in";

/// Longest user name looked up; longer ones cannot exist.
const MAX_USER_NAME: usize = 128;
/// Longest password verified; more is refused without hashing it.
const MAX_PASSWORD: usize = 256;

const WRONG: &str = "The user name or password is incorrect, or this user cannot sign in.";

/// A hash to verify against when there is no user or no password, so that a refusal takes as
/// long as a wrong password does.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    iic_domain::directory::password::hash_password(&iic_domain::ids::hex32()).unwrap_or_default()
});

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<SignInQuery>,
) -> Result<Response, PageError> {
    let next = portal.local_next(q.next.as_deref());
    if portal.session(&state).await?.is_some() {
        return Ok(portal.redirect(&next));
    }
    Ok(user_name_step(&state, &portal, &next, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let next = portal.local_next(form.get("next"));
    let Some(user_name) = form
        .get("username")
        .map(str::trim)
        .filter(|u| !u.is_empty())
    else {
        let error = Some("Enter your user name.");
        return Ok(user_name_step(
            &state,
            &portal,
            &next,
            error,
            StatusCode::OK,
        ));
    };
    let offer = offers_code_for_password(&state, &portal).await?;
    if offer && form.get("method") == Some("email_code") {
        return code_for_password(&state, &portal, user_name, &next).await;
    }
    let Some(password) = form.get("password") else {
        return Ok(password_step(
            &state,
            offer,
            &portal,
            &next,
            user_name,
            None,
            StatusCode::OK,
        ));
    };
    let store_id = &portal.instance.identity_store_id;
    let now = iic_domain::clock::now_millis();
    let keys = [
        user_key(store_id, user_name),
        address_key(&portal.peer.0.to_string()),
    ];
    if let Some(until) = state.store.sign_in_locked_until(&keys, now).await? {
        tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_name, ip = %portal.peer.0, locked_until = until, "sign-in refused: locked");
        let message = format!(
            "Too many failed sign-ins. Try again in {} minutes.",
            (until - now + 59_999) / 60_000
        );
        return Ok(password_step(
            &state,
            offer,
            &portal,
            &next,
            user_name,
            Some(&message),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let user = match user_name.chars().count() <= MAX_USER_NAME {
        true => match state
            .store
            .find_user_id(store_id, &PrincipalKey::Name(user_name.to_string()))
            .await?
        {
            Some(id) => state.store.get_user(store_id, &id).await?,
            None => None,
        },
        false => None,
    };
    let stored = user
        .as_ref()
        .filter(|u| u.enabled)
        .and_then(|u| u.password_hash.clone());
    let verified = password.len() <= MAX_PASSWORD && {
        let (candidate, against) = (
            password.to_string(),
            stored.clone().unwrap_or_else(|| DECOY_HASH.clone()),
        );
        state
            .password_work
            .run(move || verify_password(&candidate, &against))
            .await
            .ok_or_else(PageError::internal)?
    };
    let user = match (verified && stored.is_some(), user) {
        (true, Some(user)) => user,
        _ => {
            refuse(&state, &portal, &keys, user_name, now).await?;
            return Ok(password_step(
                &state,
                offer,
                &portal,
                &next,
                user_name,
                Some(WRONG),
                StatusCode::UNAUTHORIZED,
            ));
        }
    };
    state.store.clear_sign_in_failures(&keys[0]).await?;
    if user.password_must_change {
        tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id = %user.user_id, ip = %portal.peer.0, "one-time password accepted; a new password is required");
        return Ok(password::begin_change(&state, &portal, &user, &next));
    }
    after_password(&state, &portal, &user.user_id, &next).await
}

/// Whether the password step offers a mailed code to users who have no password
/// (`no_password_signin_behavior` `EMAIL_OTP`, with a relay to send it).
async fn offers_code_for_password(state: &AppState, portal: &Portal) -> Result<bool, PageError> {
    Ok(state.limits.mail_relay
        && super::mfa::sso_configuration(state, portal)
            .await?
            .no_password_signin_behavior
            == "EMAIL_OTP")
}

/// A user without a password asks for a code in its place. Every name gets the same answer and
/// the same code page; a code is mailed only to an enabled user who has no password, at most
/// three per name and twenty per address in 15 minutes.
async fn code_for_password(
    state: &AppState,
    portal: &Portal,
    user_name: &str,
    next: &str,
) -> Result<Response, PageError> {
    let store_id = &portal.instance.identity_store_id;
    let ip = portal.peer.0;
    let keys = [
        format!("sign-in-code:{}", user_key(store_id, user_name)),
        format!("sign-in-code:{}", address_key(&ip.to_string())),
    ];
    let now = iic_domain::clock::now_millis();
    let limited = state
        .store
        .sign_in_locked_until(&keys, now)
        .await?
        .is_some();
    let user = match (limited, user_name.chars().count() <= MAX_USER_NAME) {
        (false, true) => match state
            .store
            .find_user_id(store_id, &PrincipalKey::Name(user_name.to_string()))
            .await?
        {
            Some(id) => state.store.get_user(store_id, &id).await?,
            None => None,
        },
        _ => None,
    };
    if !limited {
        let policies = [forgot_password::PER_USER, forgot_password::PER_ADDRESS];
        for (key, policy) in keys.iter().zip(policies) {
            state.store.record_sign_in_failure(key, policy, now).await?;
        }
    }
    let passwordless = user.filter(|u| u.enabled && u.password_hash.is_none());
    let ticket_user = match passwordless {
        Some(u) => {
            let sent = super::email_otp::send_code(state, store_id, &u.user_id).await?
                == super::email_otp::CodeMail::Queued;
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id = %u.user_id, %ip, sent, "sign-in code asked for in place of a password");
            u.user_id
        }
        None => {
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_name, %ip, limited, "sign-in code asked for; none sent (no such password-less user, or too many requests)");
            // A ticket for nobody: the same page follows, and no code can match it.
            iic_domain::ids::hex32()
        }
    };
    let to = format!("{}/mfa", portal.path);
    Ok(mfa_pending::begin(
        state,
        portal,
        &ticket_user,
        next,
        Owed::CodeForPassword,
        false,
        &to,
    ))
}

/// Counts a failed password against the user name and the address, logging it and any lock.
async fn refuse(
    state: &AppState,
    portal: &Portal,
    keys: &[String; 2],
    user_name: &str,
    now: i64,
) -> Result<(), PageError> {
    let store_id = &portal.instance.identity_store_id;
    let ip = portal.peer.0;
    tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_name, %ip, "sign-in refused: wrong user name or password");
    let policies = [state.limits.sign_in.user, state.limits.sign_in.address];
    for (key, policy) in keys.iter().zip(policies) {
        if let Some(until) = state.store.record_sign_in_failure(key, policy, now).await? {
            tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, throttle_key = %key, %ip, locked_until = until, "sign-in locked after repeated failures");
        }
    }
    Ok(())
}

/// The password is proved (and, if it was a one-time one, changed): what the instance's MFA
/// settings ask next. `DISABLED`: the session opens. `ALWAYS_ON`, or `CONTEXT_AWARE` from a
/// browser new to the user or a changed address: a user with a device of an allowed type owes
/// its code; one without is let in, enrolled, sent a code by mail, or refused, as
/// `no_mfa_signin_behavior` says.
pub async fn after_password(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    next: &str,
) -> Result<Response, PageError> {
    let config = state
        .store
        .sso_configuration(&portal.instance.instance_id)
        .await?
        .unwrap_or_default();
    let store_id = &portal.instance.identity_store_id;
    let ip = portal.peer.0;
    let remember = match config.mfa_mode.as_str() {
        "ALWAYS_ON" => false,
        "CONTEXT_AWARE" => {
            if mfa_pending::browser_is_known(state, portal, user_id).await? {
                tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "second factor not asked: a browser the user proved one on, from the same address");
                return open_session(state, portal, user_id, next, true).await;
            }
            true
        }
        _ => return open_session(state, portal, user_id, next, false).await,
    };
    let devices = super::mfa::usable_devices(state, store_id, user_id, &config).await?;
    if !devices.is_empty() {
        let to = format!("{}/mfa", portal.path);
        return Ok(mfa_pending::begin(
            state,
            portal,
            user_id,
            next,
            Owed::Device,
            remember,
            &to,
        ));
    }
    match config.no_mfa_signin_behavior.as_str() {
        "ALLOWED" => {
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "no MFA device: signed in without a second factor (ALLOWED)");
            open_session(state, portal, user_id, next, false).await
        }
        "BLOCKED" => {
            tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "sign-in refused: MFA is required and the user has no device (BLOCKED)");
            Ok(super::mfa::blocked(portal))
        }
        "EMAIL_OTP" => super::mfa::mail_code(state, portal, user_id, next, remember).await,
        _ => {
            let to = format!("{}/mfa/enroll", portal.path);
            Ok(mfa_pending::begin(
                state,
                portal,
                user_id,
                next,
                Owed::Enrolment,
                remember,
                &to,
            ))
        }
    }
}

/// Opens a session for the user and sends the browser on to `next`.
pub async fn open_session(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    next: &str,
    mfa_present: bool,
) -> Result<Response, PageError> {
    let config = state
        .store
        .sso_configuration(&portal.instance.instance_id)
        .await?
        .unwrap_or_default();
    let max_age = config.max_authentication_age_secs();
    let now = iic_domain::clock::now_millis();
    let store_id = &portal.instance.identity_store_id;
    let mut issued = session::issue(store_id, user_id, now, max_age, portal.origin.clone());
    issued.session.mfa_present = mfa_present;
    if state.store.create_session(&issued.session).await?.is_none() {
        // Disabled or deleted between the password check and now.
        return Ok(portal.to_sign_in(next));
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, session_id = %issued.session.session_id, ip = %portal.peer.0, mfa_present, "signed in");
    let mut resp = portal.redirect(next);
    portal.scope.set(
        resp.headers_mut(),
        cookies::SESSION,
        &issued.cookie,
        Some(max_age),
    );
    Ok(resp)
}

fn user_name_step(
    state: &AppState,
    portal: &Portal,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Sign in</h1>{error}\
         <form method=\"post\" action=\"{action}\" id=\"sign-in\">{csrf}{next}\
         <label for=\"username\">User name</label>\
         <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required autofocus>\
         <button type=\"submit\">Next</button></form></div>",
        error = error.map(error_notice).unwrap_or_default(),
        action = escape(&format!("{}/login", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        next = hidden("next", next),
    );
    portal.finish(portal.page("Sign in", body).with_status(status))
}

fn password_step(
    state: &AppState,
    offer_code: bool,
    portal: &Portal,
    next: &str,
    user_name: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Sign in</h1>{error}\
         <p class=\"muted\">Signing in as <strong id=\"signing-in-as\">{name}</strong> · <a href=\"{again}\">not you?</a></p>\
         <form method=\"post\" action=\"{action}\" id=\"sign-in\">{csrf}{next}{user}\
         <label for=\"password\">Password</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\">Sign in</button></form>{code}\
         <p><a href=\"{portal}/forgot-password\" id=\"forgot-password-link\">Forgot your password?</a></p></div>",
        code = if offer_code {
            format!(
                "<form method=\"post\" action=\"{action}\" id=\"email-code-sign-in\">{csrf}{next}{user}\
                 <input type=\"hidden\" name=\"method\" value=\"email_code\">\
                 <button type=\"submit\" class=\"secondary\">No password? E-mail me a sign-in code</button></form>",
                action = escape(&format!("{}/login", portal.path)),
                csrf = csrf_field(&portal.csrf_token(state)),
                next = hidden("next", next),
                user = hidden("username", user_name),
            )
        } else {
            String::new()
        },
        portal = escape(&portal.path),
        error = error.map(error_notice).unwrap_or_default(),
        name = escape(user_name),
        again = escape(&format!("{}/login", portal.path)),
        action = escape(&format!("{}/login", portal.path)),
        csrf = csrf_field(&portal.csrf_token(state)),
        next = hidden("next", next),
        user = hidden("username", user_name),
    );
    portal.finish(portal.page("Sign in", body).with_status(status))
}
