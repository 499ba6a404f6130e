//! What users of an instance's identity store may do with their own MFA devices
//! (`GetMfaDeviceManagementForIdentityStore`, `PutMfaDeviceManagementForIdentityStore`).

use super::administered_organization;
use super::instances::{instance_not_found, owned_instance};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::{clock, ApiError};
use serde::{Deserialize, Serialize};

const USER_PERMISSIONS: &[&str] = &["READ_ACTIONS", "ALL_ACTIONS"];
/// What an identity store that never set it allows: users manage their own devices.
const DEFAULT_USER_PERMISSION: &str = "ALL_ACTIONS";

#[derive(Serialize)]
pub struct GetResponse {
    identity_store_id: String,
    user_permission: String,
}

pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
) -> Result<Json<GetResponse>, Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    let stored = state
        .store
        .mfa_device_management(&instance.identity_store_id)
        .await?;
    Ok(Json(GetResponse {
        identity_store_id: instance.identity_store_id,
        user_permission: stored.unwrap_or_else(|| DEFAULT_USER_PERMISSION.into()),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutBody {
    identity_store_id: String,
    user_permission: String,
}

pub async fn put(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(instance_id): Path<String>,
    JsonBody(body): JsonBody<PutBody>,
) -> Result<(), Failure> {
    let org = administered_organization(&state, &caller).await?;
    let instance = owned_instance(&state, org.as_str(), &instance_id).await?;
    validate(&body, &instance.identity_store_id)?;
    let stored = state
        .store
        .put_mfa_device_management(
            &instance.identity_store_id,
            &body.user_permission,
            clock::now_millis(),
        )
        .await?;
    if !stored {
        return Err(instance_not_found(&instance_id).into());
    }
    Ok(())
}

fn validate(body: &PutBody, identity_store_id: &str) -> Result<(), ApiError> {
    if body.identity_store_id != identity_store_id {
        return Err(ApiError::bad_request(
            "identity_store_id must be the identity store of the instance",
        ));
    }
    if !USER_PERMISSIONS.contains(&body.user_permission.as_str()) {
        return Err(ApiError::bad_request(format!(
            "user_permission must be one of {}",
            USER_PERMISSIONS.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(store: &str, permission: &str) -> PutBody {
        PutBody {
            identity_store_id: store.into(),
            user_permission: permission.into(),
        }
    }

    #[test]
    fn the_store_and_the_permission_are_checked() {
        assert!(validate(&body("d-1", "READ_ACTIONS"), "d-1").is_ok());
        let e = validate(&body("d-2", "READ_ACTIONS"), "d-1").expect_err("other store");
        assert!(e.message.contains("identity_store_id"), "{}", e.message);
        let e = validate(&body("d-1", "SOME_ACTIONS"), "d-1").expect_err("enum");
        assert!(e.message.contains("user_permission"), "{}", e.message);
    }
}
