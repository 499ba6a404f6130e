//! The WebAuthn step of signing in (`<portal>/mfa/webauthn`): for a user who proved the
//! password and holds the pending-MFA ticket. The page offers the user's security keys and
//! passkeys of the types the instance allows (one form per kind, each with its own challenge);
//! an accepted assertion opens the session with MFA present.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{error_notice, escape};
use super::mfa_pending::{self, Owed, Pending};
use super::sign_in::SIGN_IN_LOG;
use super::webauthn::{self, Kind, Subject};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// What the browser's pending-MFA ticket allows here.
enum Ticket {
    /// A ticket owing a second factor.
    Owes(Pending),
    /// Where a browser without a usable ticket goes instead.
    Away(Response),
}

fn ticket(state: &AppState, portal: &Portal, headers: &HeaderMap) -> Ticket {
    match mfa_pending::open(state, portal, headers) {
        Some(p) if p.owed == Owed::Device => Ticket::Owes(p),
        // A user without a device (who enrols one, or was mailed a code) goes on from the
        // MFA page.
        Some(_) => Ticket::Away(portal.redirect(&format!("{}/mfa", portal.path))),
        None => Ticket::Away(portal.to_sign_in(&portal.path)),
    }
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match ticket(&state, &portal, &headers) {
        Ticket::Owes(p) => render(&state, &portal, &p, None, StatusCode::OK).await,
        Ticket::Away(away) => Ok(away),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let pending = match ticket(&state, &portal, &headers) {
        Ticket::Owes(p) => p,
        Ticket::Away(away) => return Ok(away),
    };
    let Some(rp) = state.webauthn.as_ref() else {
        return render(&state, &portal, &pending, None, StatusCode::CONFLICT).await;
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
            &pending,
            Some("Choose a security key or a passkey."),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let checked = webauthn::finish_authentication(
        &state,
        rp,
        &pending.identity_store_id,
        &pending.user_id,
        kind,
        form.get("ceremony"),
        form.get("credential"),
    )
    .await?;
    match checked {
        Ok(device_id) => {
            tracing::info!(target: SIGN_IN_LOG, identity_store_id = %pending.identity_store_id, user_id = %pending.user_id, device_id = %device_id, mfa_type = kind.mfa_type(), ip = %portal.peer.0, "second factor accepted");
            mfa_pending::complete(&state, &portal, &pending).await
        }
        Err(refused) => {
            render(
                &state,
                &portal,
                &pending,
                Some(refused.0),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

async fn render(
    state: &AppState,
    portal: &Portal,
    pending: &Pending,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut forms = String::new();
    if let Some(rp) = state.webauthn.as_ref() {
        let Some(user) = state
            .store
            .get_user(&pending.identity_store_id, &pending.user_id)
            .await?
        else {
            return Ok(portal.to_sign_in(&portal.path));
        };
        let subject = Subject {
            identity_store_id: &pending.identity_store_id,
            user_id: &pending.user_id,
            user_name: &user.profile.user_name,
            display_name: &user.profile.display_name,
        };
        let credentials = state
            .store
            .webauthn_credentials(&pending.identity_store_id, &pending.user_id)
            .await?;
        for kind in webauthn::allowed_kinds(state, portal).await? {
            let Some(started) =
                webauthn::start_authentication(state, rp, &subject, kind, &credentials).await?
            else {
                continue;
            };
            let (id, button) = match kind {
                Kind::SecurityKey => ("sign-in-security-key", "Use your security key"),
                Kind::Passkey => ("sign-in-passkey", "Use your passkey"),
            };
            forms.push_str(
                &webauthn::CeremonyForm {
                    action: format!("{}/mfa/webauthn", portal.path),
                    id,
                    ceremony: "get",
                    kind,
                    started: &started,
                    extra_fields: String::new(),
                    button,
                }
                .render(state, portal),
            );
        }
        if forms.is_empty() {
            forms.push_str(
                "<p class=\"notice error\" id=\"no-webauthn-device\">You have no security key or passkey that this portal accepts.</p>",
            );
        }
    } else {
        forms = webauthn::unavailable_notice();
    }
    // The code page, when the user has an authenticator app there to use instead.
    let config = super::mfa::sso_configuration(state, portal).await?;
    let usable =
        super::mfa::usable_devices(state, &pending.identity_store_id, &pending.user_id, &config)
            .await?;
    let other = if usable.iter().any(|d| d.mfa_type == "TOTP") {
        format!(
            "<p><a href=\"{}\" id=\"other-methods\">Use your authenticator app instead</a></p>",
            escape(&format!("{}/mfa", portal.path))
        )
    } else {
        String::new()
    };
    let body = format!(
        "<div class=\"card\"><h1>Confirm it is you</h1>{error}\
         <p class=\"muted\">Use a security key or passkey you registered.</p>{forms}{other}</div>{script}",
        error = error.map(error_notice).unwrap_or_default(),
        script = webauthn::script_tag(portal),
    );
    Ok(portal.finish(portal.page("Confirm it is you", body).with_status(status)))
}
