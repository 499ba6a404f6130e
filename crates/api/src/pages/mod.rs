//! The server-rendered sign-in pages and the user portal of each instance, under
//! `<public url>/<identity store id or alias>/portal`: sign-in (user name, then password), the
//! forced change of a one-time password, the password and e-mail links mailed to users and the
//! "forgot password" page, the device-code approval, the authorization endpoint of the
//! authorization-code grant, the second factor and the enrolment of an authenticator app or a
//! security key or passkey, the portal home and sign-out, the user's MFA devices. Plain HTML
//! forms; the one script, served by the portal, runs the browser's half of WebAuthn. Every
//! form carries a CSRF token.

mod authorize;
mod browser;
mod cookies;
mod credentials;
mod csrf;
mod device;
mod devices;
pub mod email_otp;
mod forgot_password;
mod form;
mod home;
mod html;
mod mfa;
pub mod mfa_pending;
mod password;
mod reset_password;
mod sign_in;
mod sign_out;
mod totp_enroll;
mod verify_email;
mod webauthn;
mod webauthn_register;
mod webauthn_sign_in;

pub use browser::{PageError, Portal};
pub use webauthn::relying_party;

use crate::state::AppState;
use axum::routing::get;
use axum::Router;
use iic_domain::sign_in::ThrottlePolicy;

/// The user portal of the instance named `key` (its identity store id or alias).
pub fn portal_url(public_url: &str, key: &str) -> String {
    format!("{public_url}/{key}/portal")
}

/// The device verification page of the instance named `key`.
pub fn device_url(public_url: &str, key: &str) -> String {
    format!("{}/device", portal_url(public_url, key))
}

/// When failed sign-ins lock: per user name (the console's defaults), per source address (wider,
/// so one office behind one address is not locked by a few typos, yet spraying many names from
/// one address is), and per browser session entering wrong device codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInSettings {
    pub user: ThrottlePolicy,
    pub address: ThrottlePolicy,
    pub device_entry: ThrottlePolicy,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            user: ThrottlePolicy::USER,
            address: ThrottlePolicy {
                max_failures: 50,
                ..ThrottlePolicy::USER
            },
            device_entry: ThrottlePolicy::USER,
        }
    }
}

impl SignInSettings {
    /// The longest window in use, so the sweep keeps every counter still counting.
    pub fn longest_window_ms(&self) -> i64 {
        [self.user, self.address, self.device_entry]
            .iter()
            .map(|p| p.window_ms.max(p.lock_ms))
            .max()
            .unwrap_or(0)
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{key}/portal", get(home::show))
        .route("/{key}/portal/", get(home::show))
        .route("/{key}/portal/style.css", get(stylesheet))
        .route("/{key}/portal/webauthn.js", get(webauthn_script))
        .route(
            "/{key}/portal/login",
            get(sign_in::show).post(sign_in::submit),
        )
        .route(
            "/{key}/portal/password",
            get(password::show).post(password::submit),
        )
        .route("/{key}/portal/mfa", get(mfa::show).post(mfa::submit))
        .route(
            "/{key}/portal/mfa/enroll",
            get(totp_enroll::show).post(totp_enroll::submit),
        )
        .route(
            "/{key}/portal/mfa/totp/add",
            get(totp_enroll::show_add).post(totp_enroll::submit),
        )
        .route(
            "/{key}/portal/reset-password",
            get(reset_password::show).post(reset_password::submit),
        )
        .route(
            "/{key}/portal/forgot-password",
            get(forgot_password::show).post(forgot_password::submit),
        )
        .route(
            "/{key}/portal/verify-email",
            get(verify_email::show).post(verify_email::submit),
        )
        .route(
            "/{key}/portal/device",
            get(device::show).post(device::submit),
        )
        .route(
            "/{key}/portal/authorize",
            get(authorize::show).post(authorize::submit),
        )
        .route(
            "/{key}/portal/credentials",
            axum::routing::post(credentials::submit),
        )
        .route(
            "/{key}/portal/logout",
            axum::routing::post(sign_out::submit),
        )
        .route("/{key}/portal/devices", get(devices::show))
        .route(
            "/{key}/portal/devices/rename",
            axum::routing::post(devices::rename),
        )
        .route(
            "/{key}/portal/devices/remove",
            get(devices::confirm_remove).post(devices::remove),
        )
        .route(
            "/{key}/portal/mfa/webauthn",
            get(webauthn_sign_in::show).post(webauthn_sign_in::submit),
        )
        .route(
            "/{key}/portal/mfa/webauthn/register",
            get(webauthn_register::show).post(webauthn_register::submit),
        )
}

async fn stylesheet() -> axum::response::Response {
    html::stylesheet()
}

async fn webauthn_script() -> axum::response::Response {
    webauthn::script()
}
