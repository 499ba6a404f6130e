//! The user's own MFA devices (`<portal>/devices`): listed always; renamed, removed and added
//! only when the identity store lets users do all actions on their devices
//! (`PutMfaDeviceManagementForIdentityStore`, `ALL_ACTIONS`, the default). A device is found
//! by its id among the signed-in user's devices only, so no one reaches another user's.

use super::browser::{PageError, Portal, PostedForm};
use super::html::{csrf_field, error_notice, escape, hidden};
use super::sign_in::SIGN_IN_LOG;
use super::webauthn::Kind;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use iic_store::MfaDevice;
use serde::Deserialize;

/// The longest display name the page accepts (the API allows more; a page needs less).
const MAX_DISPLAY_NAME: usize = 64;

/// Who may change the users' devices of an identity store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedBy {
    /// `ALL_ACTIONS`: users list, add, rename and remove their own.
    User,
    /// `READ_ACTIONS`: users only list theirs.
    Administrator,
}

pub async fn managed_by(state: &AppState, portal: &Portal) -> Result<ManagedBy, PageError> {
    Ok(if super::totp_enroll::may_manage(state, portal).await? {
        ManagedBy::User
    } else {
        ManagedBy::Administrator
    })
}

/// The page refusing a change the identity store keeps to administrators.
pub fn forbidden(portal: &Portal) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>Not allowed</h1>{}<p><a href=\"{}\">Back to your devices</a></p></div>",
        error_notice("Your administrator manages MFA devices. Ask them to add, rename or remove one."),
        escape(&format!("{}/devices", portal.path)),
    );
    portal.finish(
        portal
            .page("Not allowed", body)
            .with_status(StatusCode::FORBIDDEN),
    )
}

fn no_such_device(portal: &Portal) -> Response {
    let body = format!(
        "<div class=\"card\"><h1>No such device</h1>{}<p><a href=\"{}\">Back to your devices</a></p></div>",
        error_notice("You have no MFA device with this id. Nothing was changed."),
        escape(&format!("{}/devices", portal.path)),
    );
    portal.finish(
        portal
            .page("No such device", body)
            .with_status(StatusCode::NOT_FOUND),
    )
}

fn type_label(mfa_type: &str) -> &'static str {
    match mfa_type {
        "TOTP" => "Authenticator app",
        other => Kind::from_mfa_type(other).map_or("Other", Kind::label),
    }
}

/// A time as markup: minutes in UTC for people, the exact instant for machines.
fn date(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "never".into();
    };
    let iso = iic_domain::clock::format_iso8601_secs(ms.div_euclid(1000));
    let shown = iso.get(..16).unwrap_or(&iso).replace('T', " ");
    format!(
        "<time datetime=\"{}\">{} UTC</time>",
        escape(&iso),
        escape(&shown)
    )
}

#[derive(Deserialize)]
pub struct DevicesQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<DevicesQuery>,
) -> Result<Response, PageError> {
    let Some(session) = portal.session(&state).await? else {
        return Ok(portal.to_sign_in(&format!("{}/devices", portal.path)));
    };
    let managed = managed_by(&state, &portal).await?;
    let devices = state
        .store
        .list_mfa_devices(&session.identity_store_id, &session.user_id)
        .await?;
    let csrf = csrf_field(&portal.csrf_token(&state));
    let mut rows = String::new();
    for d in &devices {
        let actions = if managed == ManagedBy::User {
            format!(
                "<form method=\"post\" action=\"{rename}\" class=\"rename\">{csrf}{id}\
                 <label for=\"name-{did}\">New name</label>\
                 <input type=\"text\" id=\"name-{did}\" name=\"display_name\" value=\"{name}\" maxlength=\"{MAX_DISPLAY_NAME}\" required>\
                 <button type=\"submit\" class=\"secondary\">Rename</button></form>\
                 <a href=\"{remove}\" class=\"remove\">Remove</a>",
                rename = escape(&format!("{}/devices/rename", portal.path)),
                id = hidden("device_id", &d.device_id),
                did = escape(&d.device_id),
                name = escape(&d.display_name),
                remove = escape(&format!(
                    "{}/devices/remove?{}",
                    portal.path,
                    serde_urlencoded::to_string([("device_id", &d.device_id)]).unwrap_or_default()
                )),
            )
        } else {
            String::new()
        };
        rows.push_str(&format!(
            "<li class=\"device\" data-device-id=\"{did}\" data-mfa-type=\"{mfa_type}\">\
             <h2 class=\"device-name\">{name}</h2>\
             <p class=\"muted\">{label} · registered {registered} · last used {used}</p>{actions}</li>",
            did = escape(&d.device_id),
            mfa_type = escape(&d.mfa_type),
            name = escape(&d.display_name),
            label = type_label(&d.mfa_type),
            registered = date(Some(d.registered_at)),
            used = date(d.last_used_at),
        ));
    }
    if devices.is_empty() {
        rows.push_str("<li class=\"muted\" id=\"no-devices\">You have no MFA devices.</li>");
    }
    let notice = match q.done.as_deref() {
        Some("added") => "The device was registered.",
        Some("renamed") => "The device was renamed.",
        Some("removed") => "The device was removed.",
        _ => "",
    };
    let notice = if notice.is_empty() {
        String::new()
    } else {
        format!("<p class=\"notice\" role=\"status\" id=\"done\">{notice}</p>")
    };
    let add = if managed == ManagedBy::User {
        // Only the kinds the instance allows: a device of another kind would never be asked.
        let allowed = super::mfa::sso_configuration(&state, &portal)
            .await?
            .allowed_mfa_types;
        let mut links = String::new();
        if allowed.iter().any(|t| Kind::from_mfa_type(t).is_some()) {
            links.push_str(&format!(
                "<a href=\"{}\" id=\"add-webauthn\">Add a security key or passkey</a>",
                escape(&format!("{}/mfa/webauthn/register", portal.path)),
            ));
        }
        if allowed.iter().any(|t| t == "TOTP") {
            links.push_str(&format!(
                "<a href=\"{}\" id=\"add-totp\">Add an authenticator app</a>",
                escape(&format!("{}/mfa/totp/add", portal.path)),
            ));
        }
        format!(
            "<div class=\"card\" id=\"add-device\"><h2>Add a device</h2><p class=\"row\">{links}</p></div>"
        )
    } else {
        "<p class=\"muted\" id=\"managed-by-administrator\">Your administrator manages your MFA devices.</p>".into()
    };
    let body = format!(
        "<div class=\"card\"><h1>Your MFA devices</h1>{notice}\
         <ul class=\"devices\" id=\"devices\">{rows}</ul></div>{add}\
         <p><a href=\"{home}\" id=\"home\">Back to your accounts</a></p>",
        home = escape(&portal.path),
    );
    Ok(portal.finish(portal.page("Your MFA devices", body)))
}

/// The signed-in user allowed to change their devices, or the response turning them away.
async fn manager(
    state: &AppState,
    portal: &Portal,
) -> Result<Result<iic_domain::session::Session, Response>, PageError> {
    let Some(session) = portal.session(state).await? else {
        return Ok(Err(portal.to_sign_in(&format!("{}/devices", portal.path))));
    };
    if managed_by(state, portal).await? == ManagedBy::Administrator {
        return Ok(Err(forbidden(portal)));
    }
    Ok(Ok(session))
}

/// One of the user's devices.
async fn own_device(
    state: &AppState,
    session: &iic_domain::session::Session,
    device_id: Option<&str>,
) -> Result<Option<MfaDevice>, PageError> {
    let Some(id) = device_id else {
        return Ok(None);
    };
    let devices = state
        .store
        .list_mfa_devices(&session.identity_store_id, &session.user_id)
        .await?;
    Ok(devices.into_iter().find(|d| d.device_id == id))
}

pub async fn rename(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let session = match manager(&state, &portal).await? {
        Ok(s) => s,
        Err(away) => return Ok(away),
    };
    let name = form.get("display_name").map(str::trim).unwrap_or_default();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME
        || name.chars().any(char::is_control)
    {
        let body = format!(
            "<div class=\"card\"><h1>Rename a device</h1>{}<p><a href=\"{}\">Back to your devices</a></p></div>",
            error_notice("A device name has 1 to 64 characters, none of them a control character."),
            escape(&format!("{}/devices", portal.path)),
        );
        return Ok(portal.finish(
            portal
                .page("Rename a device", body)
                .with_status(StatusCode::BAD_REQUEST),
        ));
    }
    let device_id = form.get("device_id").unwrap_or_default();
    let renamed = state
        .store
        .rename_mfa_device(
            &session.identity_store_id,
            &session.user_id,
            device_id,
            name,
        )
        .await?;
    if !renamed {
        return Ok(no_such_device(&portal));
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %session.identity_store_id, user_id = %session.user_id, device_id, "MFA device renamed by its user");
    Ok(portal.redirect(&format!("{}/devices?done=renamed", portal.path)))
}

#[derive(Deserialize)]
pub struct RemoveQuery {
    device_id: Option<String>,
}

/// Asks to confirm the removal.
pub async fn confirm_remove(
    State(state): State<AppState>,
    portal: Portal,
    Query(q): Query<RemoveQuery>,
) -> Result<Response, PageError> {
    let session = match manager(&state, &portal).await? {
        Ok(s) => s,
        Err(away) => return Ok(away),
    };
    let Some(device) = own_device(&state, &session, q.device_id.as_deref()).await? else {
        return Ok(no_such_device(&portal));
    };
    let body = format!(
        "<div class=\"card\"><h1>Remove a device</h1>\
         <p>Remove <strong id=\"device-name\">{name}</strong> ({label})? You can no longer use it to sign in.</p>\
         <form method=\"post\" action=\"{action}\" id=\"remove-device\">{csrf}{id}\
         <div class=\"row\"><button type=\"submit\" name=\"confirm\" value=\"yes\">Remove</button>\
         <a href=\"{back}\" id=\"cancel\">Cancel</a></div></form></div>",
        name = escape(&device.display_name),
        label = type_label(&device.mfa_type),
        action = escape(&format!("{}/devices/remove", portal.path)),
        csrf = csrf_field(&portal.csrf_token(&state)),
        id = hidden("device_id", &device.device_id),
        back = escape(&format!("{}/devices", portal.path)),
    );
    Ok(portal.finish(portal.page("Remove a device", body)))
}

pub async fn remove(
    State(state): State<AppState>,
    PostedForm { portal, form }: PostedForm,
) -> Result<Response, PageError> {
    let session = match manager(&state, &portal).await? {
        Ok(s) => s,
        Err(away) => return Ok(away),
    };
    let device_id = form.get("device_id").unwrap_or_default();
    if form.get("confirm") != Some("yes") {
        return Ok(portal.redirect(&format!("{}/devices", portal.path)));
    }
    let removed = state
        .store
        .delete_mfa_device(&session.identity_store_id, &session.user_id, device_id)
        .await?;
    if !removed {
        return Ok(no_such_device(&portal));
    }
    tracing::info!(target: SIGN_IN_LOG, identity_store_id = %session.identity_store_id, user_id = %session.user_id, device_id, "MFA device removed by its user");
    Ok(portal.redirect(&format!("{}/devices?done=removed", portal.path)))
}
