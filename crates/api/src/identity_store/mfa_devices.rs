//! MFA devices of a user: the enrolment link (`RegisterMfaDeviceForUser`), listing, renaming
//! and removing devices.

use super::owned_store;
use super::users::existing_user;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::{JsonBody, Path};
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::mfa_device::validate_display_name;
use iic_domain::{clock, crypto, ids, ApiError};
use iic_store::{MfaDevice, MfaEnrolment};
use serde::{Deserialize, Serialize};

/// How long an enrolment link can be completed.
const ENROLMENT_TTL_MS: i64 = 24 * 3_600_000;
/// Users one `BatchListMfaDevicesForUser` may name.
const MAX_USERS: usize = 100;

#[derive(Serialize)]
pub struct RegisterResponse {
    identity_store_id: String,
    user_id: String,
    work_flow: String,
    redirect_url: String,
}

/// Issues a one-time enrolment link for the user; only the SHA-256 of its value is kept.
pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<Json<RegisterResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user = existing_user(&state, &store, &user_id).await?;
    let work_flow = format!("{}{}", ids::hex32(), ids::hex32());
    let now = clock::now_millis();
    let enrolment = MfaEnrolment {
        identity_store_id: store.identity_store_id.clone(),
        user_id: user.user_id.clone(),
    };
    let stored = state
        .store
        .create_mfa_enrolment(
            &enrolment,
            &crypto::sha256(work_flow.as_bytes()),
            now,
            now + ENROLMENT_TTL_MS,
        )
        .await?;
    if !stored {
        return Err(ApiError::not_found(format!("user {}", user.user_id)).into());
    }
    let portal = crate::pages::portal_url(&state.limits.oidc.public_url, &store.identity_store_id);
    Ok(Json(RegisterResponse {
        identity_store_id: store.identity_store_id,
        user_id: user.user_id,
        work_flow,
        redirect_url: format!("{portal}/mfa/enroll"),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchListBody {
    user_list: Vec<UserRef>,
}

#[derive(Deserialize, Serialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct UserRef {
    identity_store_id: String,
    user_id: String,
}

/// A device as listed (`MfaDeviceDto`).
#[derive(Serialize)]
pub struct DeviceView {
    device_id: String,
    device_name: String,
    display_name: String,
    mfa_type: String,
    registered_date: i64,
}

impl From<MfaDevice> for DeviceView {
    fn from(d: MfaDevice) -> Self {
        DeviceView {
            device_id: d.device_id,
            device_name: d.device_name,
            display_name: d.display_name,
            mfa_type: d.mfa_type,
            registered_date: d.registered_at,
        }
    }
}

#[derive(Serialize)]
pub struct UserDevices {
    mfa_devices: Vec<DeviceView>,
    user: UserRef,
}

#[derive(Serialize)]
pub struct BatchListResponse {
    user_mfa_devices_entry_list: Vec<UserDevices>,
}

/// The devices of each named user of the store in the path, in the order named.
pub async fn batch_list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<BatchListBody>,
) -> Result<Json<BatchListResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    validate_user_list(&body.user_list, &store.identity_store_id)?;
    let mut entries = Vec::with_capacity(body.user_list.len());
    for named in body.user_list {
        let user = existing_user(&state, &store, &named.user_id).await?;
        let devices = state
            .store
            .list_mfa_devices(&store.identity_store_id, &user.user_id)
            .await?;
        entries.push(UserDevices {
            mfa_devices: devices.into_iter().map(DeviceView::from).collect(),
            user: named,
        });
    }
    Ok(Json(BatchListResponse {
        user_mfa_devices_entry_list: entries,
    }))
}

/// 1 to [`MAX_USERS`] users, each of the store in the path.
fn validate_user_list(users: &[UserRef], identity_store_id: &str) -> Result<(), ApiError> {
    if users.is_empty() || users.len() > MAX_USERS {
        return Err(ApiError::bad_request(format!(
            "user_list must hold between 1 and {MAX_USERS} items"
        )));
    }
    for u in users {
        if u.identity_store_id != identity_store_id {
            return Err(ApiError::bad_request(
                "user_list.identity_store_id must be the identity store of the path",
            ));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    display_name: String,
}

/// Renames one of the user's devices.
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id, device_id)): Path<(String, String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user = existing_user(&state, &store, &user_id).await?;
    validate_display_name(&body.display_name)?;
    let renamed = state
        .store
        .rename_mfa_device(
            &store.identity_store_id,
            &user.user_id,
            &device_id,
            &body.display_name,
        )
        .await?;
    if !renamed {
        return Err(device_not_found(&device_id));
    }
    Ok(())
}

/// Removes one of the user's devices.
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id, device_id)): Path<(String, String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let user = existing_user(&state, &store, &user_id).await?;
    let deleted = state
        .store
        .delete_mfa_device(&store.identity_store_id, &user.user_id, &device_id)
        .await?;
    if !deleted {
        return Err(device_not_found(&device_id));
    }
    Ok(())
}

fn device_not_found(device_id: &str) -> Failure {
    ApiError::not_found(format!("MFA device {device_id}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(store: &str) -> UserRef {
        UserRef {
            identity_store_id: store.into(),
            user_id: "u".into(),
        }
    }

    #[test]
    fn user_lists_are_bounded_and_of_the_path_store() {
        assert!(validate_user_list(&[named("d-1")], "d-1").is_ok());
        for bad in [
            vec![],
            vec![named("d-1"); MAX_USERS + 1],
            vec![named("d-2")],
        ] {
            let e = validate_user_list(&bad, "d-1").expect_err("refused");
            assert!(e.message.contains("user_list"), "{}", e.message);
        }
    }
}
