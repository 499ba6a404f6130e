//! The SSO configuration of an instance (`GetSsoConfiguration`, `UpdateSsoConfiguration`).

use super::administered_organization;
use super::instances::{instance_not_found, owned_instance};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::sso_configuration::{ConfigurationType, SsoConfiguration, SsoConfigurationUpdate};
use iic_domain::{clock, ApiError};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct GetResponse {
    sso_configuration: SsoConfiguration,
}

/// The stored configuration, or the defaults when the instance never set one.
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<Json<GetResponse>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let stored = state.store.sso_configuration(&instance.instance_id).await?;
    Ok(Json(GetResponse {
        sso_configuration: stored.unwrap_or_default(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    sso_configuration: SsoConfigurationUpdate,
    configuration_type: String,
}

/// Replaces the part of the configuration `configuration_type` names, after checking every
/// field sent.
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let kind = ConfigurationType::parse(&body.configuration_type)?;
    let current = state
        .store
        .sso_configuration(&instance.instance_id)
        .await?
        .unwrap_or_default();
    let next = body.sso_configuration.apply(&current, kind)?;
    if let Some(field) = body.sso_configuration.email_otp_field() {
        if !state.limits.mail_relay {
            return Err(ApiError::bad_request(format!(
                "{field} EMAIL_OTP needs an SMTP relay to mail the codes, and none is configured (IIC_SMTP_HOST)"
            ))
            .into());
        }
    }
    if state
        .store
        .put_sso_configuration(&instance.instance_id, &next, clock::now_millis())
        .await?
    {
        Ok(())
    } else {
        Err(instance_not_found(&instance_id).into())
    }
}
