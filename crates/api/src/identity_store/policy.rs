//! Password policy and the identity store summary.

use super::owned_store;
use super::users::policy_of;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::JsonBody;
use crate::extract::Path;
use crate::state::AppState;
use axum::extract::State;
use axum::{Extension, Json};
use iic_domain::directory::password::PasswordPolicyUpdate;
use iic_domain::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    Ok(Json(json!({ "password_policy": policy_of(&store) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    password_policy: PasswordPolicyUpdate,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let policy = policy_of(&store).updated(&body.password_policy)?;
    if state
        .store
        .set_password_policy(&store.identity_store_id, &policy)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("identity store {store_id}")).into())
    }
}

pub async fn summary(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    Ok(Json(json!({
        "users": store.users,
        "users_quota": state.limits.users_quota,
        "groups": store.groups,
        "groups_quota": state.limits.groups_quota,
    })))
}
