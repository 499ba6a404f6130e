//! The identity store API (`BasicCredentials`, `X-Project-Id`): users, groups, memberships,
//! password policy and summary.

mod groups;
mod memberships;
mod policy;
mod users;

use crate::authorize::administered_organization;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;
use iic_domain::ApiError;
use iic_store::IdentityStoreInfo;

pub fn routes() -> Router<AppState> {
    let base = "/v1/identity-stores/{identity_store_id}";
    Router::new()
        .route(
            &format!("{base}/users"),
            post(users::create).get(users::list),
        )
        .route(
            &format!("{base}/users/batch-query"),
            post(users::describe_many),
        )
        .route(
            &format!("{base}/users/retrieve-user-id"),
            post(users::get_id),
        )
        .route(
            &format!("{base}/users/{{user_id}}"),
            get(users::describe)
                .put(users::update)
                .delete(users::delete),
        )
        .route(
            &format!("{base}/users/{{user_id}}/enable"),
            post(users::enable),
        )
        .route(
            &format!("{base}/users/{{user_id}}/disable"),
            post(users::disable),
        )
        .route(
            &format!("{base}/users/{{user_id}}/reset-password"),
            post(users::reset_password),
        )
        .route(
            &format!("{base}/users/{{user_id}}/verify-email"),
            post(users::verify_email),
        )
        .route(
            &format!("{base}/groups"),
            post(groups::create).get(groups::list),
        )
        .route(
            &format!("{base}/groups/batch-query"),
            post(groups::describe_many),
        )
        .route(
            &format!("{base}/groups/retrieve-group-id"),
            post(groups::get_id),
        )
        .route(
            &format!("{base}/groups/{{group_id}}"),
            get(groups::describe)
                .put(groups::update)
                .delete(groups::delete),
        )
        .route(
            &format!("{base}/group-memberships"),
            post(memberships::create).get(memberships::list_for_group),
        )
        .route(
            &format!("{base}/group-memberships/retrieve-group-membership-id"),
            post(memberships::get_id),
        )
        .route(
            &format!("{base}/group-memberships/{{membership_id}}"),
            get(memberships::describe).delete(memberships::delete),
        )
        .route(
            &format!("{base}/group-memberships-for-member"),
            get(memberships::list_for_member),
        )
        .route(
            &format!("{base}/is-member-in-groups"),
            post(memberships::is_member_in_groups),
        )
        .route(
            &format!("{base}/password-policy"),
            get(policy::describe).put(policy::update),
        )
        .route(
            &format!("{base}/identity-store-summary"),
            get(policy::summary),
        )
}

/// The identity store named in the path, when it belongs to the organization the caller
/// administers; any other store is reported missing, never shown.
pub(crate) async fn owned_store(
    state: &AppState,
    caller: &Caller,
    action: &str,
    identity_store_id: &str,
) -> Result<IdentityStoreInfo, Failure> {
    let org = administered_organization(state, caller, action).await?;
    let well_formed = identity_store_id.len() == 12
        && identity_store_id.starts_with("d-")
        && identity_store_id[2..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(ApiError::bad_request(
            "identity_store_id must be d- followed by 10 hexadecimal digits",
        )
        .into());
    }
    match state.store.identity_store(identity_store_id).await? {
        Some(info) if info.organization_id == org.as_str() => Ok(info),
        _ => Err(ApiError::not_found(format!("identity store {identity_store_id}")).into()),
    }
}

/// An id taken from a path or query: `^[a-zA-Z0-9-]{1,64}$`.
pub(crate) fn path_id(field: &str, value: &str) -> Result<(), ApiError> {
    iic_domain::validate::simple_id(field, value, 64)
}

/// Who is recorded in `created_by` / `updated_by`: the calling account.
pub(crate) fn actor(caller: &Caller) -> String {
    caller.account.id.clone()
}

/// `alternate_identifier` of GetUserId / GetGroupId: exactly one of the two forms.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlternateIdentifierBody {
    pub alternate_identifier: AlternateIdentifier,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlternateIdentifier {
    #[serde(default)]
    pub external_id: Option<iic_domain::directory::ExternalId>,
    #[serde(default)]
    pub unique_attribute: Option<UniqueAttribute>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UniqueAttribute {
    pub attribute_path: String,
    pub attribute_value: String,
}

pub(crate) enum Lookup {
    External { issuer: String, id: String },
    Attribute { path: String, value: String },
}

impl AlternateIdentifier {
    pub fn lookup(self) -> Result<Lookup, ApiError> {
        match (self.external_id, self.unique_attribute) {
            (Some(e), None) => {
                e.validate("alternate_identifier.external_id")?;
                Ok(Lookup::External {
                    issuer: e.issuer,
                    id: e.id,
                })
            }
            (None, Some(u)) => {
                iic_domain::validate::length(
                    "alternate_identifier.unique_attribute.attribute_path",
                    &u.attribute_path,
                    1,
                    255,
                )?;
                iic_domain::validate::length(
                    "alternate_identifier.unique_attribute.attribute_value",
                    &u.attribute_value,
                    1,
                    255,
                )?;
                Ok(Lookup::Attribute {
                    path: u.attribute_path,
                    value: u.attribute_value,
                })
            }
            _ => Err(ApiError::bad_request(
                "alternate_identifier must hold exactly one of external_id and unique_attribute",
            )),
        }
    }
}

/// `[1, max]` ids of a batch request, each shaped like an identity store id.
pub(crate) fn batch_ids(field: &str, ids: &[String], max: usize) -> Result<(), ApiError> {
    if ids.is_empty() || ids.len() > max {
        return Err(ApiError::bad_request(format!(
            "{field} must hold between 1 and {max} items"
        )));
    }
    for id in ids {
        iic_domain::directory::validate_principal_id(field, id)?;
    }
    Ok(())
}
