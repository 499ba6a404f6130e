//! Users of an identity store.

use super::{actor, batch_ids, owned_store, path_id, AlternateIdentifierBody, Lookup};
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::extract::Path;
use crate::extract::{JsonBody, QueryParams};
use crate::paging::{self, PageInfo};
use crate::state::AppState;
use crate::user_mail::{self, PasswordLink};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use iic_domain::directory::password::{hash_password, PasswordPolicy};
use iic_domain::directory::update::{self, Operation};
use iic_domain::directory::user::{CreateUserRequest, PasswordMode, User, UserProfile};
use iic_domain::directory::{principal_id, ExternalId};
use iic_domain::{clock, ApiError};
use iic_store::{CreateOutcome, IdentityStoreInfo, PrincipalKey, UpdateOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const MAX_PAGE: i64 = 100;

/// A user as the API shows it.
#[derive(Serialize)]
pub struct UserView {
    #[serde(flatten)]
    profile: UserProfile,
    user_id: String,
    identity_store_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_ids: Vec<ExternalId>,
    enabled: bool,
    email_verified: bool,
    created_at: i64,
    created_by: String,
    updated_at: i64,
    updated_by: String,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            profile: u.profile,
            user_id: u.user_id,
            identity_store_id: u.identity_store_id,
            external_ids: u.external_ids,
            enabled: u.enabled,
            email_verified: u.email_verified,
            created_at: u.created_at,
            created_by: u.created_by,
            updated_at: u.updated_at,
            updated_by: u.updated_by,
        }
    }
}

fn user_not_found(user_id: &str) -> Failure {
    ApiError::not_found(format!("user {user_id}")).into()
}

pub(super) async fn existing_user(
    state: &AppState,
    store: &IdentityStoreInfo,
    user_id: &str,
) -> Result<User, Failure> {
    path_id("user_id", user_id)?;
    state
        .store
        .get_user(&store.identity_store_id, user_id)
        .await?
        .ok_or_else(|| user_not_found(user_id))
}

/// A new one-time password satisfying the store's policy, and its hash (computed off the async
/// workers: Argon2id is deliberately slow).
async fn one_time_password(
    state: &AppState,
    store: &IdentityStoreInfo,
) -> Result<(String, String), Failure> {
    let policy = store.password_policy.unwrap_or_default();
    let password = policy.generate_one_time_password();
    policy.check(&password)?;
    let to_hash = password.clone();
    let hash = state
        .password_work
        .run(move || hash_password(&to_hash))
        .await
        .ok_or_else(ApiError::internal)??;
    Ok((password, hash))
}

/// An administrator enabling a user or resetting their password lifts a sign-in lockout of
/// their user name (not of the addresses that failed).
async fn clear_lockout(state: &AppState, user: &User) -> Result<(), Failure> {
    let key = iic_domain::sign_in::user_key(&user.identity_store_id, &user.profile.user_name);
    state.store.clear_sign_in_failures(&key).await?;
    Ok(())
}

fn name_taken(user_name: &str) -> Failure {
    ApiError::conflict(
        "IIC.1007",
        format!("Data modification failed: a user named {user_name} already exists in this identity store."),
    )
    .into()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<CreateUserRequest>,
) -> Result<(StatusCode, Json<Value>), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    body.profile.validate()?;
    let (password, password_hash) = match body.password_mode {
        PasswordMode::Otp => {
            let (p, h) = one_time_password(&state, &store).await?;
            (Some(p), Some(h))
        }
        PasswordMode::Email => (None, None),
    };
    let now = clock::now_millis();
    let user = User {
        seq: 0,
        user_id: principal_id(&store.identity_store_id),
        identity_store_id: store.identity_store_id.clone(),
        profile: body.profile,
        external_ids: vec![],
        enabled: true,
        email_verified: false,
        password_must_change: password_hash.is_some(),
        active_assigned: true,
        password_hash,
        password_reset_email_owed: body.password_mode == PasswordMode::Email,
        created_at: now,
        created_by: actor(&caller),
        updated_at: now,
        updated_by: actor(&caller),
    };
    // The password link is issued with the user, in one transaction.
    let link = if user.password_reset_email_owed {
        user_mail::password_link(&state, &user, PasswordLink::NewUser).ok()
    } else {
        None
    };
    match state
        .store
        .create_user_with_link(&user, state.limits.users_quota, link.as_ref())
        .await?
    {
        CreateOutcome::Created => {
            if let Some(link) = &link {
                user_mail::log_issued(&user, link);
            }
        }
        CreateOutcome::NameTaken => return Err(name_taken(&user.profile.user_name)),
        CreateOutcome::QuotaExceeded => {
            return Err(ApiError::conflict(
                "IIC.1007",
                format!(
                "Data modification failed: the identity store already holds its quota of {} users.",
                state.limits.users_quota
            ),
            )
            .into())
        }
        CreateOutcome::NoSuchStore => {
            return Err(ApiError::not_found(format!("identity store {store_id}")).into())
        }
    }
    let mut out = json!({ "identity_store_id": user.identity_store_id, "user_id": user.user_id });
    if let Some(p) = password {
        out["password"] = Value::String(p);
    }
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn describe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<Json<UserView>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    Ok(Json(existing_user(&state, &store, &user_id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeUsersBody {
    user_ids: Vec<String>,
}

pub async fn describe_many(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<DescribeUsersBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    batch_ids("user_ids", &body.user_ids, 100)?;
    let users: Vec<UserView> = state
        .store
        .get_users(&store.identity_store_id, &body.user_ids)
        .await?
        .into_iter()
        .map(UserView::from)
        .collect();
    Ok(Json(json!({ "users": users })))
}

pub async fn get_id(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    JsonBody(body): JsonBody<AlternateIdentifierBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let key = match body.alternate_identifier.lookup()? {
        Lookup::External { issuer, id } => PrincipalKey::External { issuer, id },
        Lookup::Attribute { path, value } => match path.as_str() {
            "user_name" | "userName" | "UserName" => PrincipalKey::Name(value),
            "emails.value" | "emails" => PrincipalKey::Email(value),
            other => {
                return Err(ApiError::bad_request(format!(
                    "alternate_identifier.unique_attribute.attribute_path {other} is not a unique user attribute (use user_name or emails.value)"
                ))
                .into())
            }
        },
    };
    let user_id = state
        .store
        .find_user_id(&store.identity_store_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found("no user matches the alternate identifier"))?;
    Ok(Json(
        json!({ "identity_store_id": store.identity_store_id, "user_id": user_id }),
    ))
}

#[derive(Serialize)]
pub struct ListUsersResponse {
    users: Vec<UserView>,
    page_info: PageInfo,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(store_id): Path<String>,
    query: QueryParams,
) -> Result<Json<ListUsersResponse>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let scope = format!("users:{}", store.identity_store_id);
    let page = paging::page(&query, &state.keys.markers, &scope, MAX_PAGE)?;
    let rows = state
        .store
        .list_users(
            &store.identity_store_id,
            query.get("user_name"),
            page.lookahead(),
        )
        .await?;
    let (rows, page_info) = paging::finish(rows, page, &state.keys.markers, &scope, |u| u.seq);
    Ok(Json(ListUsersResponse {
        users: rows.into_iter().map(UserView::from).collect(),
        page_info,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    operations: Vec<Operation>,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let mut user = existing_user(&state, &store, &user_id).await?;
    let mut doc = match serde_json::to_value(&user.profile) {
        Ok(Value::Object(m)) => m,
        _ => return Err(ApiError::internal().into()),
    };
    update::apply(&mut doc, &body.operations, update::user_path)?;
    user.profile = serde_json::from_value(Value::Object(doc))
        .map_err(|e| ApiError::bad_request(format!("the updated user is not valid: {e}")))?;
    user.profile.validate()?;
    user.updated_at = clock::now_millis();
    user.updated_by = actor(&caller);
    save(&state, &user).await
}

async fn save(state: &AppState, user: &User) -> Result<(), Failure> {
    match state.store.update_user(user).await? {
        UpdateOutcome::Updated => Ok(()),
        UpdateOutcome::NotFound => Err(user_not_found(&user.user_id)),
        UpdateOutcome::NameTaken => Err(name_taken(&user.profile.user_name)),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    path_id("user_id", &user_id)?;
    if state
        .store
        .delete_user(&store.identity_store_id, &user_id)
        .await?
    {
        // Deleting ended the user's sessions and their temporary credentials.
        state.callers.clear();
        Ok(())
    } else {
        Err(user_not_found(&user_id))
    }
}

async fn set_enabled(
    state: &AppState,
    caller: &Caller,
    store_id: &str,
    user_id: &str,
    enabled: bool,
) -> Result<(), Failure> {
    let store = owned_store(state, caller, store_id).await?;
    let mut user = existing_user(state, &store, user_id).await?;
    if enabled {
        clear_lockout(state, &user).await?;
    }
    if user.enabled == enabled && user.active_assigned {
        return Ok(());
    }
    user.enabled = enabled;
    user.active_assigned = true;
    user.updated_at = clock::now_millis();
    user.updated_by = actor(caller);
    save(state, &user).await?;
    if !enabled {
        // Disabling ended the user's sessions and their temporary credentials.
        state.callers.clear();
    }
    Ok(())
}

pub async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    set_enabled(&state, &caller, &store_id, &user_id, true).await
}

pub async fn disable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    set_enabled(&state, &caller, &store_id, &user_id, false).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordBody {
    mode: PasswordMode,
}

pub async fn reset_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<ResetPasswordBody>,
) -> Result<Json<Value>, Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let mut user = existing_user(&state, &store, &user_id).await?;
    let out = match body.mode {
        PasswordMode::Otp => {
            let (password, hash) = one_time_password(&state, &store).await?;
            user.password_hash = Some(hash);
            user.password_must_change = true;
            user.password_reset_email_owed = false;
            json!({ "password": password })
        }
        PasswordMode::Email => {
            if user_mail::primary_email(&user).is_none() {
                return Err(no_address("mode"));
            }
            user.password_reset_email_owed = true;
            json!({})
        }
    };
    user.updated_at = clock::now_millis();
    user.updated_by = actor(&caller);
    save(&state, &user).await?;
    clear_lockout(&state, &user).await?;
    if body.mode == PasswordMode::Email {
        user_mail::send_password_link(&state, &user, PasswordLink::AdminReset).await?;
    }
    Ok(Json(out))
}

pub async fn verify_email(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((store_id, user_id)): Path<(String, String)>,
) -> Result<(), Failure> {
    let store = owned_store(&state, &caller, &store_id).await?;
    let mut user = existing_user(&state, &store, &user_id).await?;
    if user.email_verified {
        return Err(ApiError::conflict(
            "IIC.1007",
            "Data modification failed: the e-mail address of this user is already verified.",
        )
        .into());
    }
    if user_mail::primary_email(&user).is_none() {
        return Err(no_address("user_id"));
    }
    if state.limits.mail_relay {
        // Verified when the user opens the mailed link (docs/decisions.md).
        user_mail::send_verification_link(&state, &user).await?;
        return Ok(());
    }
    user_mail::warn_no_relay(
        "verification link; the address is marked verified at once",
        &user.identity_store_id,
        &user.user_id,
    );
    user.email_verified = true;
    for e in &mut user.profile.emails {
        e.verification_status = Some("VERIFIED".into());
    }
    user.updated_at = clock::now_millis();
    user.updated_by = actor(&caller);
    save(&state, &user).await
}

/// A mail was asked for a user without an e-mail address.
fn no_address(field: &str) -> Failure {
    ApiError::bad_request(format!(
        "{field}: the user has no e-mail address to send the mail to"
    ))
    .into()
}

/// The policy in force for a store.
pub(crate) fn policy_of(store: &IdentityStoreInfo) -> PasswordPolicy {
    store.password_policy.unwrap_or_default()
}
