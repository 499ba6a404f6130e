//! Enrolling an authenticator app (TOTP): the page shows a fresh secret as a QR code drawn here
//! and as text, and the device is stored once two consecutive codes prove the app holds it.
//! Three ways lead here, each checked again when the codes come back:
//! - the one-time link of `RegisterMfaDeviceForUser` (`<portal>/mfa/enroll?work_flow=…`),
//!   spent with the device in one transaction;
//! - a sign-in that must enrol before going on (`ALLOWED_WITH_ENROLLMENT`), which then opens
//!   the session with MFA present;
//! - a signed-in user adding a device in the portal (`<portal>/mfa/totp/add`), when the
//!   identity store's device management allows it.
//!
//! Between showing the secret and receiving the codes, the secret travels in the form, sealed
//! with the server's key and bound to the user and a deadline; it is stored only sealed.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, error_notice, escape, hidden};
use super::mfa::TOTP;
use super::mfa_pending::{self, Owed};
use super::sign_in::SIGN_IN_LOG;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use iic_domain::crypto::{sha256, to_hex};
use iic_domain::mfa_device::validate_display_name;
use iic_domain::{ids, qr, totp};
use iic_store::{DeviceAdded, MfaDevice};
use serde::{Deserialize, Serialize};

/// How long the codes may take to come back after the secret is shown.
const DRAFT_SECS: i64 = 15 * 60;
const DRAFT_AAD: &[u8] = b"iic/portal/totp-enrolment";
/// What the kind of device is called (`device_name`); the user names their own one.
const DEVICE_KIND: &str = "Authenticator app";
/// Device management that lets users add, rename and remove their own devices.
pub const ALL_ACTIONS: &str = "ALL_ACTIONS";

/// Who may enrol, and on whose authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Via {
    /// An enrolment link, by the SHA-256 of its value (hex).
    Link(String),
    SignIn,
    Portal,
}

/// The enrolment in progress, sealed into the form.
#[derive(Serialize, Deserialize)]
struct Draft {
    identity_store_id: String,
    user_id: String,
    secret_hex: String,
    expires_at: i64,
    via: Via,
}

#[derive(Deserialize)]
pub struct EnrolQuery {
    work_flow: Option<String>,
}

/// `<portal>/mfa/enroll`: by link, or in a sign-in that must enrol.
pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    headers: HeaderMap,
    Query(q): Query<EnrolQuery>,
) -> Result<Response, PageError> {
    if let Some(work_flow) = q.work_flow.as_deref() {
        let hash = sha256(work_flow.as_bytes());
        let now = iic_domain::clock::now_millis();
        return match state.store.mfa_enrolment(&hash, now).await? {
            Some(e) if e.identity_store_id == portal.instance.identity_store_id => {
                let via = Via::Link(to_hex(&hash));
                enrol_form(&state, &portal, &e.user_id, via, None, StatusCode::OK).await
            }
            _ => Ok(link_gone(&portal)),
        };
    }
    match mfa_pending::open(&state, &portal, &headers).filter(|p| p.enrol()) {
        Some(p) => {
            enrol_form(
                &state,
                &portal,
                &p.user_id,
                Via::SignIn,
                None,
                StatusCode::OK,
            )
            .await
        }
        None => Ok(portal.to_sign_in(&portal.path)),
    }
}

/// `<portal>/mfa/totp/add`: a signed-in user adds an authenticator app.
pub async fn show_add(
    State(state): State<AppState>,
    portal: Portal,
) -> Result<Response, PageError> {
    let add = format!("{}/mfa/totp/add", portal.path);
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&add));
    };
    if !may_manage(&state, &portal).await? {
        return Ok(not_allowed(&portal));
    }
    enrol_form(
        &state,
        &portal,
        &session.user_id,
        Via::Portal,
        None,
        StatusCode::OK,
    )
    .await
}

/// The codes came back, to either address.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let now = iic_domain::clock::now_millis();
    let Some(draft) = form
        .get("enrolment")
        .and_then(|d| open_draft(&state, &portal, d, now))
    else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    if let Via::Link(hash_hex) = &draft.via {
        let hash = hex::decode(hash_hex).unwrap_or_default();
        let live = state.store.mfa_enrolment(&hash, now).await?;
        if live.is_none_or(|e| e.user_id != draft.user_id) {
            return Ok(link_gone(&portal));
        }
    }
    let retry = |message: &str| {
        let via = draft.via.clone();
        let message = message.to_string();
        let (state, portal, user) = (&state, &portal, draft.user_id.clone());
        async move {
            enrol_form(
                state,
                portal,
                &user,
                via,
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    };
    let name = form.get("device_name").map(str::trim).unwrap_or_default();
    let display_name = if name.is_empty() { DEVICE_KIND } else { name };
    if let Err(e) = validate_display_name(display_name) {
        return retry(&e.message.replace("display_name", "The device name")).await;
    }
    let Ok(secret) = hex::decode(&draft.secret_hex) else {
        return Ok(portal.to_sign_in(&portal.path));
    };
    let code = |field: &str| -> String {
        form.get(field)
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let Some(step) = totp::verify_consecutive(&secret, &code("otp"), &code("otp_next"), now / 1000)
    else {
        return retry(
            "Those codes are not right. Enter two codes in a row, as your app shows them.",
        )
        .await;
    };
    let device_id = ids::hex32();
    let device = MfaDevice {
        device_id: device_id.clone(),
        identity_store_id: draft.identity_store_id.clone(),
        user_id: draft.user_id.clone(),
        mfa_type: TOTP.into(),
        device_name: DEVICE_KIND.into(),
        display_name: display_name.to_string(),
        secret_sealed: Some(state.keys.totp.seal(&secret, device_id.as_bytes())),
        last_step: Some(step),
        registered_at: now,
        last_used_at: Some(now),
    };
    let added = match &draft.via {
        Via::Link(hash_hex) => {
            let hash = hex::decode(hash_hex).unwrap_or_default();
            state
                .store
                .complete_mfa_enrolment(&hash, &device, now)
                .await?
        }
        Via::SignIn => {
            let Some(pending) = mfa_pending::open(&state, &portal, &headers)
                .filter(|p| p.owed == Owed::Enrolment && p.user_id == draft.user_id)
            else {
                return Ok(portal.to_sign_in(&portal.path));
            };
            let added = state.store.add_mfa_device(&device).await?;
            if added == DeviceAdded::Added {
                log_enrolled(&device, &portal, "at sign-in");
                return mfa_pending::complete(&state, &portal, &pending).await;
            }
            added
        }
        Via::Portal => {
            let signed_in = portal
                .session(&state)
                .await?
                .is_some_and(|s| s.user_id == draft.user_id);
            if !signed_in {
                return Ok(portal.to_sign_in(&format!("{}/mfa/totp/add", portal.path)));
            }
            if !may_manage(&state, &portal).await? {
                return Ok(not_allowed(&portal));
            }
            state.store.add_mfa_device(&device).await?
        }
    };
    match added {
        DeviceAdded::Added => {
            log_enrolled(&device, &portal, "");
            Ok(enrolled(&portal, &draft.via, display_name))
        }
        DeviceAdded::Full => {
            retry("You already have the most MFA devices allowed. Remove one first.").await
        }
        DeviceAdded::NoUser => Ok(link_gone(&portal)),
    }
}

fn log_enrolled(device: &MfaDevice, portal: &Portal, how: &str) {
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %device.identity_store_id, user_id = %device.user_id, device_id = %device.device_id, ip = %portal.peer.0, "authenticator app enrolled {how}");
}

/// Whether users of this identity store may add and remove their own devices.
pub async fn may_manage(state: &AppState, portal: &Portal) -> Result<bool, PageError> {
    let setting = state
        .store
        .mfa_device_management(&portal.instance.identity_store_id)
        .await?;
    Ok(setting.as_deref().unwrap_or(ALL_ACTIONS) == ALL_ACTIONS)
}

fn open_draft(state: &AppState, portal: &Portal, sealed_hex: &str, now: i64) -> Option<Draft> {
    let sealed = hex::decode(sealed_hex).ok()?;
    let plain = state.keys.pages.open(&sealed, DRAFT_AAD)?;
    let draft: Draft = serde_json::from_slice(&plain).ok()?;
    (draft.identity_store_id == portal.instance.identity_store_id && draft.expires_at > now)
        .then_some(draft)
}

/// The page with a new secret for `user_id`.
async fn enrol_form(
    state: &AppState,
    portal: &Portal,
    user_id: &str,
    via: Via,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store_id = &portal.instance.identity_store_id;
    let Some(user) = state.store.get_user(store_id, user_id).await? else {
        return Ok(link_gone(portal));
    };
    let secret = totp::new_secret();
    let draft = Draft {
        identity_store_id: store_id.clone(),
        user_id: user_id.to_string(),
        secret_hex: to_hex(&secret),
        expires_at: iic_domain::clock::now_millis() + DRAFT_SECS * 1000,
        via: via.clone(),
    };
    let sealed = serde_json::to_vec(&draft)
        .map(|d| hex::encode(state.keys.pages.seal(&d, DRAFT_AAD)))
        .map_err(|_| PageError::internal())?;
    let issuer = format!("iic {}", portal.key);
    let uri = totp::otpauth_uri(&issuer, &user.profile.user_name, &secret);
    let qr = qr::svg_data_uri(&uri).ok_or_else(PageError::internal)?;
    let action = match via {
        Via::Portal => format!("{}/mfa/totp/add", portal.path),
        _ => format!("{}/mfa/enroll", portal.path),
    };
    let intro = match via {
        Via::SignIn => "Your administrator requires multi-factor authentication. Register an authenticator app to continue.",
        _ => "Register an authenticator app as an MFA device.",
    };
    let webauthn_allowed = super::mfa::sso_configuration(state, portal)
        .await?
        .allowed_mfa_types
        .iter()
        .any(|t| t.starts_with("WEBAUTHN"));
    let webauthn = match via {
        Via::SignIn if webauthn_allowed => format!(
            "<p><a href=\"{}\" id=\"register-security-key\">Use a security key or passkey instead</a></p>",
            escape(&format!("{}/mfa/webauthn/register", portal.path))
        ),
        _ => String::new(),
    };
    let body = format!(
        "<div class=\"card\"><h1>Set up an authenticator app</h1>{error}\
         <p class=\"muted\">{intro}</p>\
         <p>1. Scan this code with your authenticator app:</p>\
         <p><img id=\"totp-qr\" src=\"{qr}\" alt=\"QR code of the authenticator key\" width=\"200\" height=\"200\"></p>\
         <p class=\"muted\">Or enter this key by hand: <code id=\"totp-secret\">{secret}</code></p>\
         <p class=\"muted\">Key URI: <code id=\"otpauth-uri\">{uri}</code></p>\
         <p>2. Enter two codes in a row from the app.</p>\
         <form method=\"post\" action=\"{action}\" id=\"mfa-enroll\">{csrf}{draft}\
         <label for=\"otp\">First code</label>\
         <input type=\"text\" id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required autofocus>\
         <label for=\"otp_next\">Next code</label>\
         <input type=\"text\" id=\"otp_next\" name=\"otp_next\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required>\
         <label for=\"device_name\">Device name (optional)</label>\
         <input type=\"text\" id=\"device_name\" name=\"device_name\" maxlength=\"{max}\" placeholder=\"{kind}\">\
         <button type=\"submit\">Register</button></form>{webauthn}</div>",
        error = error.map(error_notice).unwrap_or_default(),
        qr = escape(&qr),
        secret = escape(&grouped(&totp::base32(&secret))),
        uri = escape(&uri),
        action = escape(&action),
        csrf = csrf_field(&portal.csrf_token(state)),
        draft = hidden("enrolment", &sealed),
        max = iic_domain::mfa_device::MAX_DISPLAY_NAME,
        kind = DEVICE_KIND,
    );
    Ok(portal.finish(
        portal
            .page("Set up an authenticator app", body)
            .with_status(status),
    ))
}

/// The base32 key in groups of four, as apps that take it by hand show it.
fn grouped(key: &str) -> String {
    key.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrolled(portal: &Portal, via: &Via, name: &str) -> Response {
    let (then, label) = match via {
        Via::Portal => (
            format!("{}/devices", portal.path),
            "Back to your MFA devices",
        ),
        _ => (portal.path.clone(), "Go to the portal"),
    };
    let body = format!(
        "<div class=\"card\"><h1>Authenticator app registered</h1>\
         <p id=\"mfa-enrolled\"><strong>{}</strong> is now one of your MFA devices.</p>\
         <p><a href=\"{}\">{label}</a></p></div>",
        escape(name),
        escape(&then),
    );
    portal.finish(portal.page("Authenticator app registered", body))
}

fn link_gone(portal: &Portal) -> Response {
    let body = "<div class=\"card\"><h1>This link cannot be used</h1>\
        <p id=\"enrolment-gone\">This MFA registration link has expired or was already used. Ask your administrator for a new one.</p></div>"
        .to_string();
    portal.finish(
        portal
            .page("This link cannot be used", body)
            .with_status(StatusCode::GONE),
    )
}

pub fn not_allowed(portal: &Portal) -> Response {
    let body = "<div class=\"card\"><h1>Not allowed</h1>\
        <p id=\"mfa-management-refused\">Your administrator manages your MFA devices. Ask them to add or remove one.</p></div>"
        .to_string();
    portal.finish(
        portal
            .page("Not allowed", body)
            .with_status(StatusCode::FORBIDDEN),
    )
}
