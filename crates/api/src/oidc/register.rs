//! RegisterClient: a public client gets an id and a secret, shown once.

use super::{check_rate, fail, OidcFailure, Peer};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use iic_domain::oidc::{self, fields};
use iic_store::OidcClient;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    client_name: String,
    client_type: String,
    token_endpoint_auth_method: String,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    grant_types: Vec<String>,
    response_types: Vec<String>,
}

fn validate(b: &RegisterBody) -> Result<(), iic_domain::ApiError> {
    fields::client_name(&b.client_name)?;
    fields::one_of("client_type", &b.client_type, &["public"])?;
    fields::one_of(
        "token_endpoint_auth_method",
        &b.token_endpoint_auth_method,
        &["client_secret_post"],
    )?;
    fields::list_of(
        "grant_types",
        &b.grant_types,
        &[oidc::DEVICE_CODE_GRANT, oidc::AUTHORIZATION_CODE_GRANT],
    )?;
    fields::list_of("response_types", &b.response_types, &["code"])?;
    for s in b.scopes.iter().flatten() {
        fields::scope("scopes", s)?;
    }
    Ok(())
}

pub async fn register(
    State(state): State<AppState>,
    peer: Peer,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<Json<Value>, OidcFailure> {
    validate(&body).map_err(fail)?;
    check_rate(&state, &peer)?;
    let settings = &state.limits.oidc;
    let now = iic_domain::clock::now_millis();
    let secret = oidc::new_secret();
    let client = OidcClient {
        client_id: oidc::new_client_id(),
        secret_sha256: oidc::hash_secret(&secret),
        name: body.client_name,
        client_type: body.client_type,
        scopes: body.scopes.unwrap_or_default(),
        grant_types: body.grant_types,
        issued_at: now,
        expires_at: now + settings.client_ttl_secs * 1000,
    };
    state
        .store
        .register_oidc_client(&client)
        .await
        .map_err(fail)?;
    let base = &settings.public_url;
    Ok(Json(json!({
        "client_info": {
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/v1/tokens"),
            "client_id": client.client_id,
            "client_secret": secret,
            "client_id_issued_at": client.issued_at / 1000,
            "client_secret_expires_at": client.expires_at / 1000,
            "scopes": client.scopes,
        }
    })))
}
