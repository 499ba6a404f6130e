//! GetAgencyCredentials: temporary credentials acting as the target account, for as long as the
//! permission set's session duration, while the user stays assigned and signed in. The portal's
//! home page issues them through the same [`issue`].

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
use iic_store::{CredentialIssue, CredentialRequest, StoreError};
use serde::Serialize;

#[derive(Serialize)]
pub struct AgencyCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Unix seconds, as the catalogue's example shows.
    pub expiration: i64,
}

#[derive(Serialize)]
pub struct GetAgencyCredentialsResponse {
    agency_credentials: AgencyCredentials,
}

/// The signed-in user credentials are issued to, in the session and instance they act from.
pub struct Holder {
    pub user_id: String,
    pub identity_store_id: String,
    pub instance_id: String,
    pub session_id: String,
}

/// Why credentials were not issued.
pub enum Refused {
    /// The caller's fault (malformed input, not entitled, session over): the wire error.
    Api(ApiError),
    Store(StoreError),
}

impl From<StoreError> for Refused {
    fn from(e: StoreError) -> Self {
        Refused::Store(e)
    }
}

impl From<Refused> for Failure {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Api(e) => Failure(e),
            Refused::Store(e) => e.into(),
        }
    }
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
    let urn = required(&query, "agency_urn")?;
    let session_id = user
        .session_id
        .clone()
        .ok_or_else(|| unauthorized("the access token belongs to no sign-in session"))?;
    let holder = Holder {
        user_id: user.user_id,
        identity_store_id: user.identity_store_id,
        instance_id: user.instance_id,
        session_id,
    };
    let agency_credentials = issue(&state, holder, account, urn).await?;
    Ok(Json(GetAgencyCredentialsResponse { agency_credentials }))
}

/// Temporary credentials of `holder` for the agency `urn` of `account`, when they are assigned
/// the permission set it stands for there and it is provisioned; the secret key is sealed and
/// the security token hashed before they are stored.
pub async fn issue(
    state: &AppState,
    holder: Holder,
    account: &str,
    urn: &str,
) -> Result<AgencyCredentials, Refused> {
    simple_id("target_account_id", account, 64).map_err(Refused::Api)?;
    length("agency_urn", urn, 1, 1024).map_err(Refused::Api)?;
    let not_yours = || {
        Refused::Api(access_denied(format!(
            "{urn} is not an agency of account {account} assigned to you"
        )))
    };
    let agency = parse_agency_urn(urn)
        .filter(|a| a.account_id == account)
        .ok_or_else(not_yours)?;
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
        user_id: holder.user_id,
        identity_store_id: holder.identity_store_id,
        instance_id: holder.instance_id,
        session_id: holder.session_id,
    };
    let now = iic_domain::clock::now_millis();
    match state
        .store
        .issue_temporary_credential(&request, now)
        .await?
    {
        CredentialIssue::Issued { expires_at } => Ok(AgencyCredentials {
            access_key_id: access_key,
            secret_access_key: secret,
            session_token: token,
            expiration: expires_at / 1000,
        }),
        CredentialIssue::NotEntitled => Err(not_yours()),
        CredentialIssue::SessionEnded => Err(Refused::Api(unauthorized(
            "the sign-in session of the access token has ended",
        ))),
    }
}
