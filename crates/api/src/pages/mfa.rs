//! The second step of a sign-in that owes a factor: a code from an authenticator app (or, for
//! `EMAIL_OTP`, from a mail), or a WebAuthn assertion on its own page. A code is accepted once;
//! wrong codes count against the user like wrong passwords and lock them alike (an e-mail code
//! is also void after its own fifth wrong try).

use super::browser::{PageError, Portal, PostedForm};
use super::email_otp::CodeMail;
use super::html::{csrf_field, error_notice, escape};
use super::mfa_pending::{self, Owed, Pending};
use super::sign_in::{after_password, SIGN_IN_LOG};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use iic_domain::sign_in::mfa_key;
use iic_domain::sso_configuration::SsoConfiguration;
use iic_domain::totp;
use iic_store::MfaDevice;

pub const TOTP: &str = "TOTP";
const WRONG_CODE: &str = "That code is not right. Check the time on your device and try again.";

/// The instance's SSO configuration (the defaults until one is set).
pub async fn sso_configuration(
    state: &AppState,
    portal: &Portal,
) -> Result<SsoConfiguration, PageError> {
    Ok(state
        .store
        .sso_configuration(&portal.instance.instance_id)
        .await?
        .unwrap_or_default())
}

/// The user's devices of a type the instance allows.
pub async fn usable_devices(
    state: &AppState,
    identity_store_id: &str,
    user_id: &str,
    config: &SsoConfiguration,
) -> Result<Vec<MfaDevice>, PageError> {
    let mut devices = state
        .store
        .list_mfa_devices(identity_store_id, user_id)
        .await?;
    devices.retain(|d| config.allowed_mfa_types.contains(&d.mfa_type));
    Ok(devices)
}

/// MFA is required and the user has no device (`BLOCKED`).
pub fn blocked(portal: &Portal) -> Response {
    let body = "<div class=\"card\"><h1>Sign-in blocked</h1>\
         <p id=\"mfa-blocked\">Your administrator requires multi-factor authentication, and no MFA device is registered for you. Ask your administrator to register one.</p></div>"
        .to_string();
    portal.finish(
        portal
            .page("Sign-in blocked", body)
            .with_status(StatusCode::FORBIDDEN),
    )
}

/// Codes were mailed to the user as often as allowed lately.
pub fn too_many_codes(portal: &Portal) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Try again later</h1>{}<p><a href=\"{}\">Back to sign-in</a></p></div>",
        error_notice("Too many sign-in codes were sent to you lately. Use the last one you received, or try again in 15 minutes."),
        escape(&format!("{}/login", portal.path)),
    );
    portal.finish(
        portal
            .page("Try again later", body)
            .with_status(StatusCode::TOO_MANY_REQUESTS),
    )
}

/// `EMAIL_OTP`: mails the user a code and asks for it; a user without an e-mail address (or a
/// server without a relay) cannot receive one and is refused as under `BLOCKED`.
pub async fn mail_code(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    next: &str,
    remember: bool,
) -> Result<Response, PageError> {
    let store_id = &portal.instance.identity_store_id;
    match super::email_otp::send_code(state, store_id, user_id).await? {
        CodeMail::Queued => {}
        CodeMail::TooMany => return Ok(too_many_codes(portal)),
        CodeMail::Impossible => {
            tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, ip = %portal.peer.0, "sign-in refused: no MFA device and no e-mail code could be sent (EMAIL_OTP)");
            return Ok(blocked(portal));
        }
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, ip = %portal.peer.0, "no MFA device: a sign-in code was mailed (EMAIL_OTP)");
    let to = format!("{}/mfa", portal.path);
    Ok(mfa_pending::begin(
        state,
        portal,
        user_id,
        next,
        Owed::Email,
        remember,
        &to,
    ))
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(pending) = owed_code(&state, &portal, &headers) else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    code_form(&state, &portal, &pending, None, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let Some(pending) = owed_code(&state, &portal, &headers) else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    let store_id = &pending.identity_store_id;
    let user_id = pending.user_id.as_str();
    let ip = portal.peer.0;
    let key = mfa_key(store_id, user_id);
    let now = iic_domain::clock::now_millis();
    if let Some(until) = state
        .store
        .sign_in_locked_until(std::slice::from_ref(&key), now)
        .await?
    {
        tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, locked_until = until, "second factor refused: locked");
        let message = format!(
            "Too many wrong codes. Try again in {} minutes.",
            (until - now + 59_999) / 60_000
        );
        return code_form(
            &state,
            &portal,
            &pending,
            Some(&message),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let code: String = form
        .get("otp")
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let verdict = match pending.owed {
        Owed::Device => check_totp(&state, &portal, &pending, &code, now).await?,
        Owed::Email | Owed::CodeForPassword => {
            match super::email_otp::verify_code(&state, store_id, user_id, &code).await? {
                true => Verdict::Accepted,
                false => Verdict::Wrong,
            }
        }
        Owed::Enrolment => Verdict::Wrong,
    };
    match verdict {
        Verdict::Accepted if pending.owed == Owed::CodeForPassword => {
            state.store.clear_sign_in_failures(&key).await?;
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "mailed code accepted in place of a password");
            let next = after_password(&state, &portal, user_id, &pending.next).await?;
            Ok(mfa_pending::replace(&portal, next))
        }
        Verdict::Accepted => {
            state.store.clear_sign_in_failures(&key).await?;
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "second factor proved");
            mfa_pending::complete(&state, &portal, &pending).await
        }
        Verdict::Wrong | Verdict::Replayed => {
            let why = if verdict == Verdict::Replayed {
                "a code already used"
            } else {
                "a wrong code"
            };
            tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, "second factor refused: {why}");
            if let Some(until) = state
                .store
                .record_sign_in_failure(&key, state.limits.sign_in.user, now)
                .await?
            {
                tracing::warn!(target: SIGN_IN_LOG, identity_store_id = %store_id, user_id, %ip, locked_until = until, "second factor locked after repeated failures");
            }
            let message = if verdict == Verdict::Replayed {
                "That code was already used. Wait for the next one."
            } else {
                WRONG_CODE
            };
            code_form(
                &state,
                &portal,
                &pending,
                Some(message),
                StatusCode::UNAUTHORIZED,
            )
            .await
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Wrong,
    Replayed,
}

/// A ticket that owes a code (not an enrolment, which has its own page).
fn owed_code(state: &AppState, portal: &Portal, headers: &HeaderMap) -> Option<Pending> {
    mfa_pending::open(state, portal, headers).filter(|p| !p.enrol())
}

/// Checks `code` against each of the user's allowed TOTP devices; the first that matches
/// records its time step, so the same code is refused next time.
async fn check_totp(
    state: &AppState,
    portal: &Portal,
    pending: &Pending,
    code: &str,
    now: i64,
) -> Result<Verdict, PageError> {
    if code.len() != totp::DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Verdict::Wrong);
    }
    let config = sso_configuration(state, portal).await?;
    let devices =
        usable_devices(state, &pending.identity_store_id, &pending.user_id, &config).await?;
    for device in devices.iter().filter(|d| d.mfa_type == TOTP) {
        let Some(secret) = open_secret(state, device) else {
            tracing::error!(device_id = %device.device_id, "a TOTP secret does not open with this server's key");
            continue;
        };
        if let Some(step) = totp::verify(&secret, code, now / 1000) {
            let fresh = state
                .store
                .accept_mfa_step(&device.device_id, step, now)
                .await?;
            return Ok(if fresh {
                Verdict::Accepted
            } else {
                Verdict::Replayed
            });
        }
    }
    Ok(Verdict::Wrong)
}

/// The device's TOTP secret, unsealed (wiped from memory when dropped).
fn open_secret(
    state: &AppState,
    device: &MfaDevice,
) -> Option<impl std::ops::Deref<Target = Vec<u8>>> {
    let sealed = device.secret_sealed.as_ref()?;
    state.keys.totp.open(sealed, device.device_id.as_bytes())
}

async fn code_form(
    state: &AppState,
    portal: &Portal,
    pending: &Pending,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let config = sso_configuration(state, portal).await?;
    let devices =
        usable_devices(state, &pending.identity_store_id, &pending.user_id, &config).await?;
    let has_totp = devices.iter().any(|d| d.mfa_type == TOTP);
    let has_webauthn = devices.iter().any(|d| d.mfa_type != TOTP);
    let prompt = match pending.owed {
        Owed::Email => "Enter the 6-digit code we sent to your e-mail address.",
        Owed::CodeForPassword => "If this account signs in with a code, we sent one to its e-mail address. Enter the 6 digits.",
        _ => "Enter the 6-digit code from your authenticator app.",
    };
    let by_mail = matches!(pending.owed, Owed::Email | Owed::CodeForPassword);
    let form = if has_totp || by_mail {
        format!(
            "<p class=\"muted\">{prompt}</p>\
             <form method=\"post\" action=\"{action}\" id=\"mfa\">{csrf}\
             <label for=\"otp\">Code</label>\
             <input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9 ]*\" maxlength=\"8\" required autofocus>\
             <button type=\"submit\">Verify</button></form>",
            action = escape(&format!("{}/mfa", portal.path)),
            csrf = csrf_field(&portal.csrf_token(state)),
        )
    } else {
        String::new()
    };
    let webauthn = if has_webauthn {
        format!(
            "<p><a href=\"{}\" id=\"use-security-key\">Use a security key or passkey</a></p>",
            escape(&format!("{}/mfa/webauthn", portal.path))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<div class=\"card\"><h1>Verify it is you</h1>{error}{form}{webauthn}</div>",
        error = error.map(error_notice).unwrap_or_default(),
    );
    Ok(portal.finish(portal.page("Verify it is you", body).with_status(status)))
}
