//! The identity store API (`BasicCredentials`, `X-Project-Id`): users, groups, memberships,
//! password policy and summary, sign-in sessions, SCIM provisioning tenants and their tokens.

mod groups;
mod memberships;
mod mfa_devices;
mod policy;
mod provisioning;
mod sessions;
mod users;

use crate::authorize::administered_organization;
use crate::caller::Caller;
use crate::envelope::Failure;
use crate::operation::{Op, Routes, Service, DOCUMENT_BODY};
use crate::state::AppState;
use iic_domain::ApiError;
use iic_store::IdentityStoreInfo;

pub fn routes() -> Routes {
    Routes::new(Service::IdentityStore)
        .add(
            Op::post("CreateUser", "/v1/identity-stores/{identity_store_id}/users").body_limit(DOCUMENT_BODY),
            users::create,
        )
        .add(
            Op::get("ListUsers", "/v1/identity-stores/{identity_store_id}/users"),
            users::list,
        )
        .add(
            Op::post("DescribeUsers", "/v1/identity-stores/{identity_store_id}/users/batch-query"),
            users::describe_many,
        )
        .add(
            Op::post("GetUserId", "/v1/identity-stores/{identity_store_id}/users/retrieve-user-id"),
            users::get_id,
        )
        .add(
            Op::get("DescribeUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}"),
            users::describe,
        )
        .add(
            Op::put("UpdateUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}").body_limit(DOCUMENT_BODY),
            users::update,
        )
        .add(
            Op::delete("DeleteUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}"),
            users::delete,
        )
        .add(
            Op::post("EnableUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}/enable").no_body(),
            users::enable,
        )
        .add(
            Op::post("DisableUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}/disable").no_body(),
            users::disable,
        )
        .add(
            Op::post("ResetPwdMode", "/v1/identity-stores/{identity_store_id}/users/{user_id}/reset-password"),
            users::reset_password,
        )
        .add(
            Op::post("VerifyEmail", "/v1/identity-stores/{identity_store_id}/users/{user_id}/verify-email").no_body(),
            users::verify_email,
        )
        .add(
            Op::get("ListSessions", "/v1/identity-stores/{identity_store_id}/users/{user_id}/sessions"),
            sessions::list,
        )
        .add(
            Op::post("BatchDeleteSessions", "/v1/identity-stores/{identity_store_id}/users/{user_id}/sessions/batch-delete"),
            sessions::batch_delete,
        )
        .add(
            Op::post("RegisterMfaDeviceForUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}/mfa-devices/register-mfa-device").no_body(),
            mfa_devices::register,
        )
        .add(
            Op::post("BatchListMfaDevicesForUser", "/v1/identity-stores/{identity_store_id}/users/retrieve-mfa-devices"),
            mfa_devices::batch_list,
        )
        .add(
            Op::put("UpdateMfaDeviceForUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}/mfa-devices/{device_id}"),
            mfa_devices::update,
        )
        .add(
            Op::delete("DeleteMfaDeviceForUser", "/v1/identity-stores/{identity_store_id}/users/{user_id}/mfa-devices/{device_id}"),
            mfa_devices::delete,
        )
        .add(
            Op::post("CreateGroup", "/v1/identity-stores/{identity_store_id}/groups"),
            groups::create,
        )
        .add(
            Op::get("ListGroups", "/v1/identity-stores/{identity_store_id}/groups"),
            groups::list,
        )
        .add(
            Op::post("DescribeGroups", "/v1/identity-stores/{identity_store_id}/groups/batch-query"),
            groups::describe_many,
        )
        .add(
            Op::post("GetGroupId", "/v1/identity-stores/{identity_store_id}/groups/retrieve-group-id"),
            groups::get_id,
        )
        .add(
            Op::get("DescribeGroup", "/v1/identity-stores/{identity_store_id}/groups/{group_id}"),
            groups::describe,
        )
        .add(
            Op::put("UpdateGroup", "/v1/identity-stores/{identity_store_id}/groups/{group_id}").body_limit(DOCUMENT_BODY),
            groups::update,
        )
        .add(
            Op::delete("DeleteGroup", "/v1/identity-stores/{identity_store_id}/groups/{group_id}"),
            groups::delete,
        )
        .add(
            Op::post("CreateGroupMembership", "/v1/identity-stores/{identity_store_id}/group-memberships"),
            memberships::create,
        )
        .add(
            Op::get("ListGroupMemberships", "/v1/identity-stores/{identity_store_id}/group-memberships"),
            memberships::list_for_group,
        )
        .add(
            Op::post("GetGroupMembershipId", "/v1/identity-stores/{identity_store_id}/group-memberships/retrieve-group-membership-id"),
            memberships::get_id,
        )
        .add(
            Op::get("DescribeGroupMembership", "/v1/identity-stores/{identity_store_id}/group-memberships/{membership_id}"),
            memberships::describe,
        )
        .add(
            Op::delete("DeleteGroupMembership", "/v1/identity-stores/{identity_store_id}/group-memberships/{membership_id}"),
            memberships::delete,
        )
        .add(
            Op::get("ListGroupMembershipsForMember", "/v1/identity-stores/{identity_store_id}/group-memberships-for-member"),
            memberships::list_for_member,
        )
        .add(
            Op::post("IsMemberInGroups", "/v1/identity-stores/{identity_store_id}/is-member-in-groups"),
            memberships::is_member_in_groups,
        )
        .add(
            Op::get("DescribePasswordPolicy", "/v1/identity-stores/{identity_store_id}/password-policy"),
            policy::describe,
        )
        .add(
            Op::put("UpdatePasswordPolicy", "/v1/identity-stores/{identity_store_id}/password-policy"),
            policy::update,
        )
        .add(
            Op::get("GetIdentityStoreSummary", "/v1/identity-stores/{identity_store_id}/identity-store-summary"),
            policy::summary,
        )
        .add(
            Op::post("CreateProvisioningTenant", "/v1/identity-stores/{identity_store_id}/provision-tenant").no_body(),
            provisioning::create_tenant,
        )
        .add(
            Op::get("ListProvisioningTenants", "/v1/identity-stores/{identity_store_id}/provision-tenant"),
            provisioning::list_tenants,
        )
        .add(
            Op::delete("DeleteProvisioningTenant", "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}"),
            provisioning::delete_tenant,
        )
        .add(
            Op::post("CreateBearerToken", "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token").no_body(),
            provisioning::create_token,
        )
        .add(
            Op::get("ListBearerTokens", "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token"),
            provisioning::list_tokens,
        )
        .add(
            Op::delete("DeleteBearerToken", "/v1/identity-stores/{identity_store_id}/tenant/{tenant_id}/bearer-token/{token_id}"),
            provisioning::delete_token,
        )
}

/// The identity store named in the path, when it belongs to the organization the caller
/// administers; any other store is reported missing, never shown.
pub(crate) async fn owned_store(
    state: &AppState,
    caller: &Caller,
    identity_store_id: &str,
) -> Result<IdentityStoreInfo, Failure> {
    let org = administered_organization(state, caller).await?;
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
