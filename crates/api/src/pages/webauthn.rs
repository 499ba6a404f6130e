//! WebAuthn as an MFA factor: the relying party, the two kinds of device, and the ceremonies
//! the registration and sign-in pages run.
//!
//! The relying party id is the host of the public URL and the only origin accepted is the
//! public URL's origin. An IP address cannot be a relying party id, and browsers offer WebAuthn
//! only on https (or on `localhost`): with such a public URL WebAuthn is unavailable and the
//! pages say so.
//!
//! A ceremony has two halves, one request each: the page that starts it stores the library's
//! ceremony state in the store under a random id (bound to the user and to what it is for) and
//! hands the browser the options and the id; the form that finishes it names the id, and the
//! state is taken (read and deleted) once. The options travel in a `data-options` attribute of
//! the form, the script `webauthn.js` (served by the portal, the CSP allows no other) runs the
//! browser's side and posts the result as one field of the form.

use super::browser::{PageError, Portal};
use super::html::{self, csrf_field, escape, hidden};
use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use iic_store::{WebauthnCeremony, WebauthnCredential};
use serde::de::DeserializeOwned;
use serde::Serialize;
use webauthn_rs::prelude::{
    AuthenticatorAttachment, CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication,
    SecurityKeyRegistration, Url, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

/// How long the second half of a ceremony may come after the first (the browser's own timeout
/// is five minutes; a user plugging in a key may need a little more).
const CEREMONY_MS: i64 = 10 * 60 * 1000;

pub const SCRIPT: &str = include_str!("webauthn.js");

/// The relying party of this server, or why there is none.
pub fn relying_party(public_url: &str) -> Result<Webauthn, String> {
    let url = Url::parse(public_url).map_err(|e| format!("the public URL does not parse: {e}"))?;
    let Some(host) = url.domain().map(str::to_ascii_lowercase) else {
        return Err(format!(
            "the public URL's host ({}) is not a domain name; an IP address cannot be a WebAuthn relying party id",
            url.host_str().unwrap_or_default()
        ));
    };
    let local = host == "localhost" || host.ends_with(".localhost");
    if url.scheme() != "https" && !local {
        return Err(
            "the public URL is not https; browsers offer WebAuthn only on https or localhost"
                .into(),
        );
    }
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|e| format!("the public URL has no origin: {e}"))?;
    WebauthnBuilder::new(&host, &origin)
        .and_then(|b| b.rp_name("IAM Identity Center").build())
        .map_err(|e| format!("the relying party could not be set up: {e}"))
}

/// The two kinds of WebAuthn device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `WEBAUTHN`: a passkey: any authenticator that verifies the user (fingerprint, face,
    /// PIN): the device's own, a phone, or a key with a PIN.
    Passkey,
    /// `WEBAUTHN_SECURITY_KEY`: a roaming key (USB, NFC), user verification when it can.
    SecurityKey,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::SecurityKey, Kind::Passkey];

    pub fn mfa_type(self) -> &'static str {
        match self {
            Kind::Passkey => "WEBAUTHN",
            Kind::SecurityKey => "WEBAUTHN_SECURITY_KEY",
        }
    }

    pub fn from_mfa_type(t: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.mfa_type() == t)
    }

    /// The value of the forms' `kind` field.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Passkey => "passkey",
            Kind::SecurityKey => "security-key",
        }
    }

    pub fn from_field(v: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.field() == v)
    }

    /// How the device is named to users.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Passkey => "Passkey",
            Kind::SecurityKey => "Security key",
        }
    }

    fn purpose(self, ceremony: &str) -> String {
        format!("{ceremony}:{}", self.mfa_type())
    }
}

/// The kinds the instance's SSO configuration allows at sign-in, in the order offered.
pub async fn allowed_kinds(state: &AppState, portal: &Portal) -> Result<Vec<Kind>, PageError> {
    let config = super::mfa::sso_configuration(state, portal).await?;
    Ok(Kind::ALL
        .into_iter()
        .filter(|k| config.allowed_mfa_types.iter().any(|t| t == k.mfa_type()))
        .collect())
}

/// The user handle the authenticator keeps: stable per user, revealing nothing about the id.
fn user_handle(identity_store_id: &str, user_id: &str) -> Uuid {
    let digest = iic_domain::crypto::sha256(format!("{identity_store_id}/{user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest) {
        *b = d;
    }
    Uuid::from_bytes(bytes)
}

/// The user a ceremony is for.
pub struct Subject<'a> {
    pub identity_store_id: &'a str,
    pub user_id: &'a str,
    pub user_name: &'a str,
    pub display_name: &'a str,
}

/// A ceremony started: the options for the browser (JSON) and the id its form names.
pub struct Started {
    pub ceremony_id: String,
    pub options: String,
}

async fn keep<S: Serialize>(
    state: &AppState,
    subject: &Subject<'_>,
    purpose: String,
    ceremony_state: &S,
    options: &impl Serialize,
) -> Result<Option<Started>, PageError> {
    let (Ok(state_json), Ok(options)) = (
        serde_json::to_string(ceremony_state),
        serde_json::to_string(options),
    ) else {
        return Err(PageError::internal());
    };
    let now = iic_domain::clock::now_millis();
    let ceremony = WebauthnCeremony {
        ceremony_id: iic_domain::ids::hex32(),
        identity_store_id: subject.identity_store_id.to_string(),
        user_id: subject.user_id.to_string(),
        purpose,
        state: state_json,
        expires_at: now + CEREMONY_MS,
    };
    if !state.store.put_webauthn_ceremony(&ceremony, now).await? {
        return Ok(None);
    }
    Ok(Some(Started {
        ceremony_id: ceremony.ceremony_id,
        options,
    }))
}

/// Starts registering a device of `kind`, excluding the credentials the user has; None when
/// the user is gone.
pub async fn start_registration(
    state: &AppState,
    rp: &Webauthn,
    subject: &Subject<'_>,
    kind: Kind,
) -> Result<Option<Started>, PageError> {
    let existing = state
        .store
        .webauthn_credentials(subject.identity_store_id, subject.user_id)
        .await?;
    let exclude: Vec<CredentialID> = existing
        .iter()
        .filter_map(|c| hex::decode(&c.credential_id).ok())
        .collect();
    let exclude = (!exclude.is_empty()).then_some(exclude);
    let handle = user_handle(subject.identity_store_id, subject.user_id);
    let purpose = kind.purpose("register");
    let (name, display) = (subject.user_name, subject.display_name);
    match kind {
        Kind::Passkey => {
            let (options, reg) = rp
                .start_passkey_registration(handle, name, display, exclude)
                .map_err(library_failure)?;
            keep(state, subject, purpose, &reg, &options).await
        }
        Kind::SecurityKey => {
            let (mut options, reg) = rp
                .start_securitykey_registration(
                    handle,
                    name,
                    display,
                    exclude,
                    None,
                    Some(AuthenticatorAttachment::CrossPlatform),
                )
                .map_err(library_failure)?;
            // The library asks for credProtect "user verification required", unenforced, while
            // user verification itself is only preferred: Chromium refuses that combination
            // (NotSupportedError; webauthn-rs issue 490). Unenforced it is a best effort the
            // key may ignore anyway, so the browser is not asked for it.
            if let Some(extensions) = options.public_key.extensions.as_mut() {
                extensions.cred_protect = None;
            }
            keep(state, subject, purpose, &reg, &options).await
        }
    }
}

/// A registered credential, ready to store.
pub struct Registered {
    pub credential_id: String,
    pub credential: String,
}

/// Why a ceremony's second half was refused; the message is shown to the user.
pub struct Refused(pub &'static str);

const NO_RESPONSE: Refused = Refused(
    "Your browser did not answer. Security keys and passkeys need JavaScript; try again, or use another browser.",
);
const EXPIRED: Refused = Refused("This attempt expired or was already used. Please try again.");

async fn take<S: DeserializeOwned>(
    state: &AppState,
    identity_store_id: &str,
    user_id: &str,
    ceremony_id: Option<&str>,
    purpose: &str,
) -> Result<Result<S, Refused>, PageError> {
    let Some(id) = ceremony_id.filter(|id| iic_domain::ids::is_hex32(id)) else {
        return Ok(Err(EXPIRED));
    };
    let now = iic_domain::clock::now_millis();
    let taken = state
        .store
        .take_webauthn_ceremony(id, identity_store_id, user_id, purpose, now)
        .await?;
    let Some(ceremony) = taken else {
        return Ok(Err(EXPIRED));
    };
    Ok(serde_json::from_str(&ceremony.state).map_err(|e| {
        tracing::error!(error = %e, "a stored WebAuthn ceremony does not parse");
        EXPIRED
    }))
}

/// Finishes a registration from the browser's `credential` field.
pub async fn finish_registration(
    state: &AppState,
    rp: &Webauthn,
    identity_store_id: &str,
    user_id: &str,
    kind: Kind,
    ceremony_id: Option<&str>,
    response: Option<&str>,
) -> Result<Result<Registered, Refused>, PageError> {
    let purpose = kind.purpose("register");
    // The ceremony is spent whatever follows: a failed attempt starts a new one.
    let taken = take_registration(
        state,
        identity_store_id,
        user_id,
        kind,
        ceremony_id,
        &purpose,
    );
    let ceremony = match taken.await? {
        Ok(c) => c,
        Err(refused) => return Ok(Err(refused)),
    };
    let Some(response) =
        response.and_then(|r| serde_json::from_str::<RegisterPublicKeyCredential>(r).ok())
    else {
        return Ok(Err(NO_RESPONSE));
    };
    let refused = |e: webauthn_rs::prelude::WebauthnError| {
        tracing::info!(error = %e, identity_store_id, user_id, "WebAuthn registration refused");
        Refused("The security key or passkey could not be registered. Please try again.")
    };
    let stored = match ceremony {
        RegistrationState::Passkey(reg) => rp
            .finish_passkey_registration(&response, &reg)
            .map_err(refused)
            .and_then(|key| registered(key.cred_id(), &key)),
        RegistrationState::SecurityKey(reg) => rp
            .finish_securitykey_registration(&response, &reg)
            .map_err(refused)
            .and_then(|key| registered(key.cred_id(), &key)),
    };
    Ok(stored)
}

enum RegistrationState {
    Passkey(PasskeyRegistration),
    SecurityKey(SecurityKeyRegistration),
}

async fn take_registration(
    state: &AppState,
    identity_store_id: &str,
    user_id: &str,
    kind: Kind,
    ceremony_id: Option<&str>,
    purpose: &str,
) -> Result<Result<RegistrationState, Refused>, PageError> {
    Ok(match kind {
        Kind::Passkey => take(state, identity_store_id, user_id, ceremony_id, purpose)
            .await?
            .map(RegistrationState::Passkey),
        Kind::SecurityKey => take(state, identity_store_id, user_id, ceremony_id, purpose)
            .await?
            .map(RegistrationState::SecurityKey),
    })
}

fn registered(id: &CredentialID, key: &impl Serialize) -> Result<Registered, Refused> {
    serde_json::to_string(key)
        .map(|credential| Registered {
            credential_id: hex::encode(id),
            credential,
        })
        .map_err(|_| Refused("The security key or passkey could not be registered."))
}

/// Starts an authentication with the user's stored credentials of `kind`; None when the user
/// has none of that kind (or is gone).
pub async fn start_authentication(
    state: &AppState,
    rp: &Webauthn,
    subject: &Subject<'_>,
    kind: Kind,
    credentials: &[WebauthnCredential],
) -> Result<Option<Started>, PageError> {
    let of_kind = credentials
        .iter()
        .filter(|c| c.mfa_type == kind.mfa_type())
        .map(|c| c.credential.as_str());
    let purpose = kind.purpose("authenticate");
    match kind {
        Kind::Passkey => {
            let keys: Vec<Passkey> = of_kind.filter_map(parse_stored).collect();
            if keys.is_empty() {
                return Ok(None);
            }
            let (options, auth) = rp
                .start_passkey_authentication(&keys)
                .map_err(library_failure)?;
            keep(state, subject, purpose, &auth, &options).await
        }
        Kind::SecurityKey => {
            let keys: Vec<SecurityKey> = of_kind.filter_map(parse_stored).collect();
            if keys.is_empty() {
                return Ok(None);
            }
            let (options, auth) = rp
                .start_securitykey_authentication(&keys)
                .map_err(library_failure)?;
            keep(state, subject, purpose, &auth, &options).await
        }
    }
}

fn parse_stored<T: DeserializeOwned>(json: &str) -> Option<T> {
    serde_json::from_str(json)
        .map_err(|e| tracing::error!(error = %e, "a stored WebAuthn credential does not parse"))
        .ok()
}

/// Finishes an authentication from the browser's `credential` field: checks the assertion
/// against the ceremony, then records the use (the counter moves forward only). The device
/// used, when it passed.
pub async fn finish_authentication(
    state: &AppState,
    rp: &Webauthn,
    identity_store_id: &str,
    user_id: &str,
    kind: Kind,
    ceremony_id: Option<&str>,
    response: Option<&str>,
) -> Result<Result<String, Refused>, PageError> {
    let purpose = kind.purpose("authenticate");
    let Some(response) = response.and_then(|r| serde_json::from_str::<PublicKeyCredential>(r).ok())
    else {
        // Spend the ceremony all the same, so the page starts a fresh one.
        let _ = take::<serde_json::Value>(state, identity_store_id, user_id, ceremony_id, &purpose)
            .await?;
        return Ok(Err(NO_RESPONSE));
    };
    let failed = |e: webauthn_rs::prelude::WebauthnError| {
        tracing::warn!(target: super::sign_in::SIGN_IN_LOG, error = %e, identity_store_id, user_id, "WebAuthn authentication refused");
        Refused("The security key or passkey was not accepted. Please try again.")
    };
    let result = match kind {
        Kind::Passkey => {
            match take::<PasskeyAuthentication>(
                state,
                identity_store_id,
                user_id,
                ceremony_id,
                &purpose,
            )
            .await?
            {
                Ok(auth) => rp
                    .finish_passkey_authentication(&response, &auth)
                    .map_err(failed),
                Err(r) => Err(r),
            }
        }
        Kind::SecurityKey => {
            match take::<SecurityKeyAuthentication>(
                state,
                identity_store_id,
                user_id,
                ceremony_id,
                &purpose,
            )
            .await?
            {
                Ok(auth) => rp
                    .finish_securitykey_authentication(&response, &auth)
                    .map_err(failed),
                Err(r) => Err(r),
            }
        }
    };
    let result = match result {
        Ok(r) => r,
        Err(refused) => return Ok(Err(refused)),
    };
    let used = hex::encode(result.cred_id());
    let credentials = state
        .store
        .webauthn_credentials(identity_store_id, user_id)
        .await?;
    let Some(device) = credentials
        .into_iter()
        .find(|c| c.credential_id == used && c.mfa_type == kind.mfa_type())
    else {
        // Removed between the two halves.
        return Ok(Err(Refused(
            "This security key or passkey is no longer registered.",
        )));
    };
    let updated = match kind {
        Kind::Passkey => parse_stored::<Passkey>(&device.credential).and_then(|mut k| {
            k.update_credential(&result);
            serde_json::to_string(&k).ok()
        }),
        Kind::SecurityKey => parse_stored::<SecurityKey>(&device.credential).and_then(|mut k| {
            k.update_credential(&result);
            serde_json::to_string(&k).ok()
        }),
    };
    let Some(updated) = updated else {
        return Err(PageError::internal());
    };
    let now = iic_domain::clock::now_millis();
    let counted = state
        .store
        .use_webauthn_credential(
            identity_store_id,
            user_id,
            &device.device_id,
            &updated,
            i64::from(result.counter()),
            now,
        )
        .await?;
    if !counted {
        tracing::warn!(target: super::sign_in::SIGN_IN_LOG, identity_store_id, user_id, device_id = %device.device_id, counter = result.counter(), "WebAuthn assertion refused: the signature counter did not move forward (a replay or a cloned authenticator)");
        return Ok(Err(Refused(
            "The security key or passkey was not accepted. Please try again.",
        )));
    }
    Ok(Ok(device.device_id))
}

fn library_failure(e: webauthn_rs::prelude::WebauthnError) -> PageError {
    tracing::error!(error = %e, "a WebAuthn ceremony could not be started");
    PageError::internal()
}

/// A form that runs one ceremony: the script reads `data-ceremony` (`create` or `get`) and
/// `data-options`, asks the browser, puts the answer in the `credential` field and submits.
pub struct CeremonyForm<'a> {
    pub action: String,
    /// The form's id.
    pub id: &'a str,
    /// `create` (registration) or `get` (authentication).
    pub ceremony: &'a str,
    pub kind: Kind,
    pub started: &'a Started,
    /// More fields, as markup.
    pub extra_fields: String,
    pub button: &'a str,
}

impl CeremonyForm<'_> {
    pub fn render(&self, state: &AppState, portal: &Portal) -> String {
        format!(
            "<form method=\"post\" action=\"{action}\" id=\"{id}\" class=\"webauthn\" data-ceremony=\"{ceremony}\" data-options=\"{options}\">\
             {csrf}{kind}{ceremony_id}<input type=\"hidden\" name=\"credential\" value=\"\">{extra}\
             <button type=\"submit\">{button}</button></form>",
            action = escape(&self.action),
            id = escape(self.id),
            ceremony = escape(self.ceremony),
            options = escape(&self.started.options),
            csrf = csrf_field(&portal.csrf_token(state)),
            kind = hidden("kind", self.kind.field()),
            ceremony_id = hidden("ceremony", &self.started.ceremony_id),
            extra = self.extra_fields,
            button = escape(self.button),
        )
    }
}

/// The `<script>` element of pages that run a ceremony.
pub fn script_tag(portal: &Portal) -> String {
    format!(
        "<script src=\"{}/webauthn.js\" defer></script>",
        escape(&portal.path)
    )
}

/// What the pages show when the relying party is unavailable.
pub fn unavailable_notice() -> String {
    "<p class=\"notice error\" id=\"webauthn-unavailable\">Security keys and passkeys are not available on this server: \
     its public address must be a domain name on https (or localhost). Ask your administrator.</p>"
        .to_string()
}

pub fn script() -> Response {
    let mut resp = SCRIPT.into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    html::lock_down(headers);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_domain_on_https_or_localhost() {
        assert!(relying_party("http://localhost:8080").is_ok());
        assert!(relying_party("https://sso.example.com/base").is_ok());
        assert!(relying_party("http://127.0.0.1:8080")
            .err()
            .is_some_and(|e| e.contains("IP address")));
        assert!(relying_party("http://[::1]:8080").is_err());
        assert!(relying_party("http://sso.example.com")
            .err()
            .is_some_and(|e| e.contains("https")));
    }

    #[test]
    fn user_handles_are_stable_per_user() {
        assert_eq!(user_handle("d-1", "u-1"), user_handle("d-1", "u-1"));
        assert_ne!(user_handle("d-1", "u-1"), user_handle("d-1", "u-2"));
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_mfa_type(k.mfa_type()), Some(k));
            assert_eq!(Kind::from_field(k.field()), Some(k));
        }
        assert_eq!(Kind::from_mfa_type("TOTP"), None);
    }
}
