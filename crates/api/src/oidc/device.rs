//! StartDeviceAuthorization: a registered client asks for a device code and a user code for the
//! user portal named by `start_url`.

use super::{authenticate, check_rate, fail, OidcFailure, Peer};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use iic_domain::oidc::{self, fields, DeviceState, OAuthError};
use iic_domain::ApiError;
use iic_store::DeviceGrant;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    client_id: String,
    client_secret: String,
    start_url: String,
}

/// The identity store id or alias a portal URL `<public_url>/<key>/portal[/]` names.
pub fn portal_key<'a>(public_url: &str, start_url: &'a str) -> Option<&'a str> {
    let head = start_url.get(..public_url.len())?;
    if !head.eq_ignore_ascii_case(public_url) {
        return None;
    }
    let rest = start_url.get(public_url.len()..)?.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let key = rest.strip_suffix("/portal")?;
    let plain = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain.then_some(key)
}

/// Draws of a user code before giving up (a clash among 2.6 × 10^10 codes is already rare).
const USER_CODE_DRAWS: usize = 4;

pub async fn start(
    State(state): State<AppState>,
    peer: Peer,
    JsonBody(body): JsonBody<StartBody>,
) -> Result<Json<Value>, OidcFailure> {
    fields::client_credential("client_id", &body.client_id).map_err(fail)?;
    fields::client_credential("client_secret", &body.client_secret).map_err(fail)?;
    fields::url("start_url", &body.start_url).map_err(fail)?;
    check_rate(&state, &peer)?;
    let settings = &state.limits.oidc;
    let now = iic_domain::clock::now_millis();
    let client = authenticate(&state, &body.client_id, &body.client_secret, now).await?;
    if !oidc::client_may_use(&client.grant_types, oidc::DEVICE_CODE_GRANT) {
        return Err(OidcFailure::oauth(OAuthError::UnauthorizedClient));
    }
    let not_a_portal = || {
        fail(ApiError::bad_request(format!(
            "start_url must be the user portal URL of an instance of this server, {}/<identity store id or alias>/portal",
            settings.public_url
        )))
    };
    let key = portal_key(&settings.public_url, &body.start_url).ok_or_else(not_a_portal)?;
    let instance = state
        .store
        .find_portal_instance(key)
        .await
        .map_err(fail)?
        .ok_or_else(not_a_portal)?;
    let device_code = oidc::new_secret();
    let ttl_ms = settings.device_code_ttl_secs * 1000;
    let mut grant = DeviceGrant {
        device_code_sha256: oidc::hash_secret(&device_code),
        user_code: String::new(),
        client_id: client.client_id,
        instance_id: instance.instance_id,
        identity_store_id: instance.identity_store_id,
        scopes: client.scopes,
        state: DeviceState::Pending,
        interval_secs: settings.poll_interval_secs,
        last_poll_at: None,
        expires_at: now + ttl_ms,
        // An expired code keeps answering expired_token for one more lifetime.
        forget_at: now + 2 * ttl_ms,
        user_id: None,
        session_id: None,
        created_at: now,
    };
    let mut stored = false;
    for _ in 0..USER_CODE_DRAWS {
        grant.user_code = oidc::new_user_code();
        match state.store.start_device_grant(&grant).await {
            Ok(()) => {
                stored = true;
                break;
            }
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(fail(e)),
        }
    }
    if !stored {
        return Err(fail(ApiError::concurrency_conflict()));
    }
    let shown = oidc::show_user_code(&grant.user_code);
    let device_page = crate::pages::device_url(&settings.public_url, key);
    Ok(Json(json!({
        "device_code": device_code,
        "user_code": shown,
        "verification_uri": device_page,
        "verification_uri_complete": format!("{device_page}?user_code={shown}"),
        "expires_in": settings.device_code_ttl_secs,
        "interval": settings.poll_interval_secs,
    })))
}

#[cfg(test)]
mod tests {
    use super::portal_key;

    #[test]
    fn a_portal_url_names_its_instance() {
        let base = "http://127.0.0.1:8080";
        assert_eq!(
            portal_key(base, "http://127.0.0.1:8080/d-12ab/portal"),
            Some("d-12ab")
        );
        assert_eq!(
            portal_key(base, "HTTP://127.0.0.1:8080/corp/portal/"),
            Some("corp")
        );
        for bad in [
            "http://127.0.0.1:8080//portal",
            "http://127.0.0.1:8080/a/b/portal",
            "http://127.0.0.1:8080/portal/d-1",
            "http://127.0.0.1:80800/d-1/portal",
            "http://example.com/d-1/portal",
            "http://127.0.0.1:8080/d-1/portal/device",
            "http://127.0.0.1:8080",
        ] {
            assert_eq!(portal_key(base, bad), None, "{bad}");
        }
    }
}
