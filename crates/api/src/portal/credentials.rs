//! GetAgencyCredentials: temporary credentials acting as the target account, for as long as the
//! permission set's session duration, while the user stays assigned and signed in.

use super::PortalUser;
use crate::envelope::Failure;
use crate::extract::QueryParams;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use iic_domain::crypto::sha256_hex;
use iic_domain::portal::{access_denied, new_security_token, parse_agency_urn, unauthorized};
use iic_domain::validate::{length, simple_id};
use iic_domain::{ids, ApiError};
use iic_store::{CredentialIssue, CredentialRequest};
use serde::Serialize;

#[derive(Serialize)]
pub struct AgencyCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    /// Unix seconds, as the catalogue's example shows.
    expiration: i64,
}

#[derive(Serialize)]
pub struct GetAgencyCredentialsResponse {
    agency_credentials: AgencyCredentials,
}

fn required<'q>(query: &'q QueryParams, name: &str) -> Result<&'q str, ApiError> {
    query
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required")))
}

pub async fn get(
    State(state): State<AppState>,
    PortalUser(user): PortalUser,
    query: QueryParams,
) -> Result<Json<GetAgencyCredentialsResponse>, Failure> {
    let account = required(&query, "target_account_id")?;
    simple_id("target_account_id", account, 64)?;
    let urn = required(&query, "agency_urn")?;
    length("agency_urn", urn, 1, 1024)?;
    let agency = parse_agency_urn(urn)
        .filter(|a| a.account_id == account)
        .ok_or_else(|| {
            access_denied(format!(
                "{urn} is not an agency of account {account} assigned to you"
            ))
        })?;
    let session_id = user
        .session_id
        .clone()
        .ok_or_else(|| unauthorized("the access token belongs to no sign-in session"))?;
    let (access_key, secret, token) = (ids::access_key(), ids::secret_key(), new_security_token());
    let request = CredentialRequest {
        secret_sealed: state
            .keys
            .credentials
            .seal(secret.as_bytes(), access_key.as_bytes()),
        access_key: access_key.clone(),
        security_token_sha256: sha256_hex(token.as_bytes()),
        account_id: account.to_string(),
        permission_set_id: agency.permission_set_id,
        permission_set_name: agency.permission_set_name,
        user_id: user.user_id,
        identity_store_id: user.identity_store_id,
        instance_id: user.instance_id,
        session_id,
        mfa_present: false,
    };
    let now = iic_domain::clock::now_millis();
    match state
        .store
        .issue_temporary_credential(&request, now)
        .await?
    {
        CredentialIssue::Issued { expires_at } => Ok(Json(GetAgencyCredentialsResponse {
            agency_credentials: AgencyCredentials {
                access_key_id: access_key,
                secret_access_key: secret,
                session_token: token,
                expiration: expires_at / 1000,
            },
        })),
        CredentialIssue::NotEntitled => Err(Failure(access_denied(format!(
            "{urn} is not an agency of account {account} assigned to you"
        )))),
        CredentialIssue::SessionEnded => Err(Failure(unauthorized(
            "the sign-in session of the access token has ended",
        ))),
    }
}
