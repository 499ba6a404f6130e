//! Registering a security key or passkey (`<portal>/mfa/webauthn/register`): by a signed-in
//! user managing their own devices (only when the identity store lets users do all actions on
//! them), or by a user in the middle of signing in who must enrol a device (holding the
//! pending-MFA ticket), whom a registered device then signs in.

use super::browser::{PageError, Portal, PostedForm};
use super::devices::{self, ManagedBy};
use super::html::{error_notice, escape};
use super::mfa_pending::{self, Pending};
use super::sign_in::SIGN_IN_LOG;
use super::webauthn::{self, Kind, Subject};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use iic_domain::session::Session;
use iic_store::{DeviceAdded, MfaDevice, StoreError, WebauthnCredential, MAX_DEVICES_PER_USER};
use serde::Deserialize;

/// Display names users give their devices here.
const MAX_DEVICE_NAME: usize = 64;

/// Who is registering.
enum Registrant {
    /// A signed-in user, in the portal's self-service.
    Member(Session),
    /// A user signing in who has no device and must enrol one.
    Enrolling(Pending),
}

impl Registrant {
    fn user_id(&self) -> &str {
        match self {
            Registrant::Member(s) => &s.user_id,
            Registrant::Enrolling(p) => &p.user_id,
        }
    }

    fn identity_store_id(&self) -> &str {
        match self {
            Registrant::Member(s) => &s.identity_store_id,
            Registrant::Enrolling(p) => &p.identity_store_id,
        }
    }
}

/// The registrant, or the response that turns the request away.
async fn registrant(
    state: &AppState,
    portal: &Portal,
    headers: &HeaderMap,
) -> Result<Result<Registrant, Response>, PageError> {
    if let Some(session) = portal.session(state).await? {
        return Ok(match devices::managed_by(state, portal).await? {
            ManagedBy::User => Ok(Registrant::Member(session)),
            ManagedBy::Administrator => Err(devices::forbidden(portal)),
        });
    }
    match mfa_pending::open(state, portal, headers) {
        Some(p) if p.enrol() => Ok(Ok(Registrant::Enrolling(p))),
        Some(_) => Ok(Err(portal.redirect(&format!("{}/mfa", portal.path)))),
        None => Ok(Err(portal.to_sign_in(&format!("{}/devices", portal.path)))),
    }
}

#[derive(Deserialize)]
pub struct RegisterQuery {
    kind: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    headers: HeaderMap,
    Query(q): Query<RegisterQuery>,
) -> Result<Response, PageError> {
    let who = match registrant(&state, &portal, &headers).await? {
        Ok(who) => who,
        Err(turned_away) => return Ok(turned_away),
    };
    let only = q.kind.as_deref().and_then(Kind::from_field);
    render(&state, &portal, &who, only, None, StatusCode::OK).await
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let who = match registrant(&state, &portal, &headers).await? {
        Ok(who) => who,
        Err(turned_away) => return Ok(turned_away),
    };
    let Some(rp) = state.webauthn.as_ref() else {
        return render(&state, &portal, &who, None, None, StatusCode::CONFLICT).await;
    };
    let allowed = webauthn::allowed_kinds(&state, &portal).await?;
    let Some(kind) = form
        .get("kind")
        .and_then(Kind::from_field)
        .filter(|k| allowed.contains(k))
    else {
        return render(
            &state,
            &portal,
            &who,
            None,
            Some("Choose a security key or a passkey."),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let display_name = match device_name(form.get("device_name"), kind) {
        Ok(n) => n,
        Err(message) => {
            return render(
                &state,
                &portal,
                &who,
                Some(kind),
                Some(message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let (sid, uid) = (who.identity_store_id(), who.user_id());
    let finished = webauthn::finish_registration(
        &state,
        rp,
        sid,
        uid,
        kind,
        form.get("ceremony"),
        form.get("credential"),
    )
    .await?;
    let registered = match finished {
        Ok(r) => r,
        Err(refused) => {
            return render(
                &state,
                &portal,
                &who,
                Some(kind),
                Some(refused.0),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    const TAKEN: &str = "This security key or passkey is registered already.";
    if state
        .store
        .webauthn_credential_taken(&registered.credential_id)
        .await?
    {
        return render(
            &state,
            &portal,
            &who,
            Some(kind),
            Some(TAKEN),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let device_id = iic_domain::ids::hex32();
    let device = MfaDevice {
        device_name: format!(
            "{}-{}",
            kind.field(),
            device_id.get(..8).unwrap_or_default()
        ),
        device_id,
        identity_store_id: sid.to_string(),
        user_id: uid.to_string(),
        mfa_type: kind.mfa_type().to_string(),
        display_name,
        secret_sealed: None,
        last_step: None,
        registered_at: iic_domain::clock::now_millis(),
        last_used_at: None,
    };
    let credential = WebauthnCredential {
        device_id: device.device_id.clone(),
        mfa_type: device.mfa_type.clone(),
        credential_id: registered.credential_id,
        credential: registered.credential,
        sign_count: 0,
    };
    match state.store.add_webauthn_device(&device, &credential).await {
        Ok(DeviceAdded::Added) => {}
        // The user was deleted meanwhile.
        Ok(DeviceAdded::NoUser) => return Ok(portal.to_sign_in(&portal.path)),
        Ok(DeviceAdded::Full) => {
            let full = format!(
                "You hold {MAX_DEVICES_PER_USER} MFA devices, the most allowed. Remove one before adding another."
            );
            return render(
                &state,
                &portal,
                &who,
                Some(kind),
                Some(&full),
                StatusCode::CONFLICT,
            )
            .await;
        }
        // The same credential registered at the same moment by another request.
        Err(StoreError::Conflict { .. }) => {
            return render(
                &state,
                &portal,
                &who,
                Some(kind),
                Some(TAKEN),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %sid, user_id = %uid, device_id = %device.device_id, mfa_type = %device.mfa_type, "MFA device registered");
    match &who {
        Registrant::Member(_) => {
            Ok(portal.redirect(&format!("{}/devices?done=added", portal.path)))
        }
        Registrant::Enrolling(pending) => mfa_pending::complete(&state, &portal, pending).await,
    }
}

/// The display name asked for, or the kind's label; at most [`MAX_DEVICE_NAME`] characters,
/// no control characters.
fn device_name(asked: Option<&str>, kind: Kind) -> Result<String, &'static str> {
    let name = asked.map(str::trim).filter(|n| !n.is_empty());
    let Some(name) = name else {
        return Ok(kind.label().to_string());
    };
    if name.chars().count() > MAX_DEVICE_NAME {
        return Err("The device name may have at most 64 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("The device name may not contain control characters.");
    }
    Ok(name.to_string())
}

/// The registration page: one form per kind offered (`only` narrows it to one), each holding a
/// fresh ceremony.
async fn render(
    state: &AppState,
    portal: &Portal,
    who: &Registrant,
    only: Option<Kind>,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let back = match who {
        Registrant::Member(_) => format!("{}/devices", portal.path),
        // Back to the enrolment page, where an authenticator app is the other choice.
        Registrant::Enrolling(_) => format!("{}/mfa/enroll", portal.path),
    };
    let intro = match who {
        Registrant::Member(_) => "Register a security key or a passkey to prove it is you when you sign in.",
        Registrant::Enrolling(_) => "Your administrator requires a second step at sign-in. Register a security key or a passkey to finish signing in.",
    };
    let mut forms = String::new();
    if let Some(rp) = state.webauthn.as_ref() {
        let user = state
            .store
            .get_user(who.identity_store_id(), who.user_id())
            .await?;
        let Some(user) = user else {
            return Ok(portal.to_sign_in(&portal.path));
        };
        let display = if user.profile.display_name.is_empty() {
            user.profile.user_name.clone()
        } else {
            user.profile.display_name.clone()
        };
        let subject = Subject {
            identity_store_id: who.identity_store_id(),
            user_id: who.user_id(),
            user_name: &user.profile.user_name,
            display_name: &display,
        };
        let allowed = webauthn::allowed_kinds(state, portal).await?;
        let offered: Vec<Kind> = allowed
            .iter()
            .copied()
            .filter(|k| only.is_none_or(|o| o == *k))
            .collect();
        let offered = if offered.is_empty() { allowed } else { offered };
        for kind in offered {
            let Some(started) = webauthn::start_registration(state, rp, &subject, kind).await?
            else {
                return Ok(portal.to_sign_in(&portal.path));
            };
            let (id, explain, button) = match kind {
                Kind::SecurityKey => (
                    "register-security-key",
                    "A key you plug in or hold to the device (USB, NFC). Touch it when asked.",
                    "Register a security key",
                ),
                Kind::Passkey => (
                    "register-passkey",
                    "Your device's fingerprint, face or screen lock, or a phone. It must verify it is you.",
                    "Register a passkey",
                ),
            };
            let name_id = format!("device_name-{}", kind.field());
            let extra = format!(
                "<label for=\"{name_id}\">Name it (optional)</label>\
                 <input type=\"text\" id=\"{name_id}\" name=\"device_name\" maxlength=\"{MAX_DEVICE_NAME}\" placeholder=\"{label}\">",
                label = escape(kind.label()),
            );
            forms.push_str(&format!(
                "<section class=\"card\"><h2>{title}</h2><p class=\"muted\">{explain}</p>{form}</section>",
                title = escape(kind.label()),
                form = webauthn::CeremonyForm {
                    action: format!("{}/mfa/webauthn/register", portal.path),
                    id,
                    ceremony: "create",
                    kind,
                    started: &started,
                    extra_fields: extra,
                    button,
                }
                .render(state, portal),
            ));
        }
        if forms.is_empty() {
            forms.push_str(
                "<div class=\"card\"><p class=\"notice error\" id=\"webauthn-not-allowed\">Your administrator does not allow security keys or passkeys.</p></div>",
            );
        }
    } else {
        forms = format!(
            "<div class=\"card\">{}</div>",
            webauthn::unavailable_notice()
        );
    }
    let body = format!(
        "<div class=\"card\"><h1>Add a security key or passkey</h1>{error}<p class=\"muted\">{intro}</p></div>\
         {forms}<p><a href=\"{back}\" id=\"back\">Back</a></p>{script}",
        error = error.map(error_notice).unwrap_or_default(),
        back = escape(&back),
        script = webauthn::script_tag(portal),
    );
    Ok(portal.finish(
        portal
            .page("Add a security key or passkey", body)
            .with_status(status),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_default_and_are_bounded() {
        assert_eq!(
            device_name(None, Kind::SecurityKey).as_deref(),
            Ok("Security key")
        );
        assert_eq!(
            device_name(Some("  "), Kind::Passkey).as_deref(),
            Ok("Passkey")
        );
        assert_eq!(
            device_name(Some(" Blue key "), Kind::Passkey).as_deref(),
            Ok("Blue key")
        );
        assert!(device_name(Some(&"x".repeat(65)), Kind::Passkey).is_err());
        assert!(device_name(Some("a\u{7}b"), Kind::Passkey).is_err());
    }
}
