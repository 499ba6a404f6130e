//! CreateToken: the device-code grant (poll until approved, then redeem once), the
//! authorization-code grant (with PKCE; codes come from the sign-in pages) and the refresh
//! grant. Every failure carries the OAuth `error` beside the envelope.

use super::{authenticate, fail, OidcFailure};
use crate::envelope::RawBody;
use crate::extract::parse_json;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::oidc::{self, fields, OAuthError};
use iic_domain::ApiError;
use iic_store::{CodeRedemption, NewTokens, OidcToken, PollOutcome};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    client_id: String,
    client_secret: String,
    grant_type: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    device_code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// PKCE (RFC 7636): not in the catalogue's model, accepted for clients that send it.
    #[serde(default)]
    code_verifier: Option<String>,
}

/// The longest code or token accepted. The catalogue bounds `refresh_token` at 16 characters,
/// too short for a secret; the tokens issued here are 64 (docs/decisions.md, OIDC).
const CODE_MAX: usize = 64;

fn validate(b: &TokenBody) -> Result<(), ApiError> {
    fields::client_credential("client_id", &b.client_id)?;
    fields::client_credential("client_secret", &b.client_secret)?;
    for (name, v) in [
        ("code", &b.code),
        ("device_code", &b.device_code),
        ("refresh_token", &b.refresh_token),
    ] {
        if let Some(v) = v {
            fields::lower_code(name, v, CODE_MAX)?;
        }
    }
    if let Some(uri) = &b.redirect_uri {
        fields::url("redirect_uri", uri)?;
    }
    for s in b.scopes.iter().flatten() {
        fields::scope("scopes", s)?;
    }
    if let Some(v) = &b.code_verifier {
        let shaped = (43..=128).contains(&v.len())
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'));
        if !shaped {
            return Err(ApiError::bad_request(
                "code_verifier must be 43 to 128 letters, digits, '-', '.', '_' or '~'",
            ));
        }
    }
    Ok(())
}

pub async fn create(
    State(state): State<AppState>,
    Extension(RawBody(raw)): Extension<RawBody>,
) -> Result<Json<Value>, OidcFailure> {
    let body: TokenBody = parse_json(&raw).map_err(OidcFailure::invalid_request)?;
    validate(&body).map_err(OidcFailure::invalid_request)?;
    let now = iic_domain::clock::now_millis();
    let client = authenticate(&state, &body.client_id, &body.client_secret, now).await?;
    // Tokens carry the scopes the client registered; a request may name only those.
    if body
        .scopes
        .iter()
        .flatten()
        .any(|s| !client.scopes.contains(s))
    {
        return Err(OidcFailure::oauth(OAuthError::InvalidScope));
    }
    let known = [
        oidc::DEVICE_CODE_GRANT,
        oidc::REFRESH_TOKEN_GRANT,
        oidc::AUTHORIZATION_CODE_GRANT,
    ];
    if known.contains(&body.grant_type.as_str())
        && !oidc::client_may_use(&client.grant_types, &body.grant_type)
    {
        return Err(OidcFailure::oauth(OAuthError::UnauthorizedClient));
    }
    let required = |field: &str, v: Option<String>| {
        v.ok_or_else(|| {
            OidcFailure::invalid_request(ApiError::bad_request(format!(
                "{field} is required for grant_type {}",
                body.grant_type
            )))
        })
    };
    let (tokens, secrets) = new_tokens(&state, now);
    let outcome = match body.grant_type.as_str() {
        oidc::DEVICE_CODE_GRANT => {
            let code = required("device_code", body.device_code.clone())?;
            state
                .store
                .poll_device_grant(&oidc::hash_secret(&code), &client.client_id, now, &tokens)
                .await
                .map_err(fail)?
        }
        oidc::REFRESH_TOKEN_GRANT => {
            let refresh = required("refresh_token", body.refresh_token.clone())?;
            match state
                .store
                .refresh_oidc_token(
                    &oidc::hash_secret(&refresh),
                    &client.client_id,
                    now,
                    &tokens,
                )
                .await
                .map_err(fail)?
            {
                Some(token) => PollOutcome::Issued(Box::new(token)),
                None => PollOutcome::Refused(OAuthError::InvalidGrant),
            }
        }
        oidc::AUTHORIZATION_CODE_GRANT => {
            let code = required("code", body.code.clone())?;
            let redemption = CodeRedemption {
                code_sha256: oidc::hash_secret(&code),
                client_id: client.client_id.clone(),
                redirect_uri: body.redirect_uri.clone(),
                code_verifier: body.code_verifier.clone(),
            };
            state
                .store
                .redeem_auth_code(&redemption, now, &tokens)
                .await
                .map_err(fail)?
        }
        _ => PollOutcome::Refused(OAuthError::UnsupportedGrantType),
    };
    match outcome {
        PollOutcome::Issued(token) => Ok(Json(answer(&token, &secrets, now))),
        PollOutcome::Unknown => Err(OidcFailure::oauth(OAuthError::InvalidGrant)),
        PollOutcome::Refused(e) => Err(OidcFailure::oauth(e)),
    }
}

/// Plain values handed to the client once.
struct Secrets {
    access: String,
    refresh: String,
}

fn new_tokens(state: &AppState, now: i64) -> (NewTokens, Secrets) {
    let s = &state.limits.oidc;
    let secrets = Secrets {
        access: oidc::new_secret(),
        refresh: oidc::new_secret(),
    };
    let tokens = NewTokens {
        access_sha256: oidc::hash_secret(&secrets.access),
        refresh_sha256: oidc::hash_secret(&secrets.refresh),
        access_expires_at: now + s.access_token_ttl_secs * 1000,
        refresh_expires_at: now + s.refresh_token_ttl_secs * 1000,
    };
    (tokens, secrets)
}

fn answer(token: &OidcToken, secrets: &Secrets, now: i64) -> Value {
    json!({
        "token_info": {
            "access_token": secrets.access,
            "refresh_token": secrets.refresh,
            "token_type": oidc::TOKEN_TYPE,
            "expires_in": (token.access_expires_at - now) / 1000,
        }
    })
}
