//! The IAM Identity Center admin API (`GlobalCredentials`, `X-Domain-Id`).

mod access_control_attributes;
mod assignments;
pub(crate) mod instances;
mod mfa_device_management;
pub mod permission_sets;
mod provisioning;
mod regions;
mod service;
mod set_policies;
mod sso_configuration;
mod tags;

use crate::operation::{Op, Routes, Service, DOCUMENT_BODY};

/// The tag routes share the instance routes' first place, which the catalogue calls
/// `resource_type` there.
const TAG_PATH_NAMES: &[(&str, &str)] = &[("instance_id", "resource_type")];

pub fn routes() -> Routes {
    Routes::new(Service::IdentityCenter)
        .add(
            Op::get("GetIdentityCenterServiceStatus", "/v1/identity-center-service/status"),
            service::status,
        )
        .add(
            Op::post("StartIdentityCenter", "/v1/service/start").no_body(),
            service::start,
        )
        .add(
            Op::post("DeleteIdentityCenter", "/v1/service/delete").no_body(),
            service::delete,
        )
        .add(
            Op::get("ListInstances", "/v1/instances"),
            instances::list,
        )
        .add(
            Op::post("CreateAlias", "/v1/instances/{instance_id}/alias"),
            instances::create_alias,
        )
        .add(
            Op::get("ListIdentityStoreAssociation", "/v1/instances/{instance_id}/identity-store-associations"),
            instances::identity_store_associations,
        )
        .add(
            Op::get("GetMfaDeviceManagementForIdentityStore", "/v1/instances/{instance_id}/mfa-devices/management-settings"),
            mfa_device_management::get,
        )
        .add(
            Op::post("PutMfaDeviceManagementForIdentityStore", "/v1/instances/{instance_id}/mfa-devices/management-settings"),
            mfa_device_management::put,
        )
        .add(
            Op::get("GetSsoConfiguration", "/v1/instances/{instance_id}/sso-configuration"),
            sso_configuration::get,
        )
        .add(
            Op::post("UpdateSsoConfiguration", "/v1/instances/{instance_id}/sso-configuration"),
            sso_configuration::update,
        )
        .add(
            Op::post("CreateInstanceAccessControlAttributeConfiguration", "/v1/instances/{instance_id}/access-control-attribute-configuration"),
            access_control_attributes::create,
        )
        .add(
            Op::get("DescribeInstanceAccessControlAttributeConfiguration", "/v1/instances/{instance_id}/access-control-attribute-configuration"),
            access_control_attributes::describe,
        )
        .add(
            Op::put("UpdateInstanceAccessControlAttributeConfiguration", "/v1/instances/{instance_id}/access-control-attribute-configuration"),
            access_control_attributes::update,
        )
        .add(
            Op::delete("DeleteInstanceAccessControlAttributeConfiguration", "/v1/instances/{instance_id}/access-control-attribute-configuration"),
            access_control_attributes::delete,
        )
        .add(
            Op::post("CreatePermissionSet", "/v1/instances/{instance_id}/permission-sets").body_limit(DOCUMENT_BODY),
            permission_sets::create,
        )
        .add(
            Op::get("ListPermissionSets", "/v1/instances/{instance_id}/permission-sets"),
            permission_sets::list,
        )
        .add(
            Op::get("DescribePermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}"),
            permission_sets::describe,
        )
        .add(
            Op::put("UpdatePermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}"),
            permission_sets::update,
        )
        .add(
            Op::delete("DeletePermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}"),
            permission_sets::delete,
        )
        .add(
            Op::get("GetPermissionSetSummary", "/v1/instances/{instance_id}/permission-set-summary"),
            permission_sets::summary,
        )
        .add(
            Op::post("AttachManagedPolicyToPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/attach-managed-policy"),
            set_policies::attach_policy,
        )
        .add(
            Op::post("DetachManagedPolicyFromPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/detach-managed-policy"),
            set_policies::detach_policy,
        )
        .add(
            Op::get("ListManagedPoliciesInPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/managed-policies"),
            set_policies::list_policies,
        )
        .add(
            Op::post("AttachManagedRoleToPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/attach-managed-role"),
            set_policies::attach_role,
        )
        .add(
            Op::post("DetachManagedRoleFromPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/detach-managed-role"),
            set_policies::detach_role,
        )
        .add(
            Op::get("ListManagedRolesInPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/managed-roles"),
            set_policies::list_roles,
        )
        .add(
            Op::get("GetCustomPolicyForPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-policy"),
            set_policies::get_custom_policy,
        )
        .add(
            Op::put("PutCustomPolicyToPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-policy").body_limit(DOCUMENT_BODY),
            set_policies::put_custom_policy,
        )
        .add(
            Op::delete("DeleteCustomPolicyFromPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-policy"),
            set_policies::delete_custom_policy,
        )
        .add(
            Op::get("GetCustomRoleForPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-role"),
            set_policies::get_custom_role,
        )
        .add(
            Op::put("PutCustomRoleToPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-role").body_limit(DOCUMENT_BODY),
            set_policies::put_custom_role,
        )
        .add(
            Op::delete("DeleteCustomRoleFromPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/custom-role"),
            set_policies::delete_custom_role,
        )
        .add(
            Op::post("CreateTagResource", "/v1/instances/{instance_id}/{resource_id}/tags/create").body_limit(DOCUMENT_BODY).path_names(TAG_PATH_NAMES),
            tags::create,
        )
        .add(
            Op::post("DeleteTagResource", "/v1/instances/{instance_id}/{resource_id}/tags/delete").body_limit(DOCUMENT_BODY).path_names(TAG_PATH_NAMES),
            tags::delete,
        )
        .add(
            Op::get("ListTagResources", "/v1/instances/{instance_id}/{resource_id}/tags").path_names(TAG_PATH_NAMES),
            tags::list,
        )
        .add(
            Op::post("CreateAccountAssignment", "/v1/instances/{instance_id}/account-assignments/create"),
            assignments::create,
        )
        .add(
            Op::post("DeleteAccountAssignment", "/v1/instances/{instance_id}/account-assignments/delete"),
            assignments::delete,
        )
        .add(
            Op::get("DescribeAccountAssignmentCreationStatus", "/v1/instances/{instance_id}/account-assignments/creation-status/{request_id}"),
            assignments::creation_status,
        )
        .add(
            Op::get("DescribeAccountAssignmentDeletionStatus", "/v1/instances/{instance_id}/account-assignments/deletion-status/{request_id}"),
            assignments::deletion_status,
        )
        .add(
            Op::get("ListAccountAssignmentCreationStatus", "/v1/instances/{instance_id}/account-assignments/creation-statuses"),
            assignments::creation_statuses,
        )
        .add(
            Op::get("ListAccountAssignmentDeletionStatus", "/v1/instances/{instance_id}/account-assignments/deletion-statuses"),
            assignments::deletion_statuses,
        )
        .add(
            Op::get("ListAccountAssignments", "/v1/instances/{instance_id}/account-assignments"),
            assignments::list,
        )
        .add(
            Op::get("ListAccountAssignmentsForPrincipal", "/v1/instances/{instance_id}/account-assignments-for-principals"),
            assignments::list_for_principal,
        )
        .add(
            Op::post("DisassociateProfile", "/v1/instances/{instance_id}/disassociate-profile"),
            assignments::disassociate_profile,
        )
        .add(
            Op::post("ProvisionPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/provision"),
            provisioning::provision,
        )
        .add(
            Op::get("DescribePermissionSetProvisioningStatus", "/v1/instances/{instance_id}/permission-sets/provisioning-status/{request_id}"),
            provisioning::status,
        )
        .add(
            Op::get("ListPermissionSetProvisioningStatus", "/v1/instances/{instance_id}/permission-sets/provisioning-statuses"),
            provisioning::statuses,
        )
        .add(
            Op::get("ListAccountsForProvisionedPermissionSet", "/v1/instances/{instance_id}/permission-sets/{permission_set_id}/accounts"),
            provisioning::accounts_for_set,
        )
        .add(
            Op::get("ListPermissionSetsProvisionedToAccount", "/v1/instances/{instance_id}/permission-sets/provisioned-to-accounts"),
            provisioning::sets_for_account,
        )
        .add(
            Op::get("DescribeRegisteredRegions", "/v1/registered-regions"),
            regions::list,
        )
        .add(
            Op::post("RegisterRegion", "/v1/register-regions"),
            regions::register,
        )
}

pub(crate) use crate::authorize::administered_organization;
