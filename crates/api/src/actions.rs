//! The IAM actions of every signed operation, with the resource types the action requires and
//! the actions it depends on, as the catalogue's authorization sections list them (one entry per
//! routed operation; the first action is the operation's own, a second one applies only in the
//! case the catalogue names, such as tags carried by a creation). Entries the catalogue does not
//! give are marked with why. A test fails when a routed signed operation has no entry. Policy
//! evaluation (issue 12) reads the action and resources of a request from here.

/// One operation's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationActions {
    /// The wire API, as `iic operations` names it.
    pub api: &'static str,
    pub operation: &'static str,
    /// Empty when no identity-policy permission is needed.
    pub actions: &'static [&'static str],
    /// Resource types the (first) action requires.
    pub resources: &'static [&'static str],
    /// Actions the caller must also be allowed.
    pub dependencies: &'static [&'static str],
}

/// The entry of `operation` of `api`.
pub fn of(api: &str, operation: &str) -> Option<&'static OperationActions> {
    ACTIONS
        .iter()
        .find(|a| a.api == api && a.operation == operation)
}

pub static ACTIONS: &[OperationActions] = &[
    OperationActions {
        api: "identitycenter",
        operation: "GetIdentityCenterServiceStatus",
        actions: &["IdentityCenter:instance:getIdentityCenterStatus"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "StartIdentityCenter",
        actions: &["IdentityCenter:instance:startIdentityCenter"],
        resources: &[],
        dependencies: &[
            "iam:agencies:createServiceLinkedAgency",
            "organizations:trustedServices:enable",
        ],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteIdentityCenter",
        actions: &["IdentityCenter:instance:deleteIdentityCenter"],
        resources: &[],
        dependencies: &["iam:agencies:deleteServiceLinkedAgency"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListInstances",
        actions: &["IdentityCenter:instance:list"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "CreateAlias",
        actions: &["IdentityCenter:instance:createAlias"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListIdentityStoreAssociation",
        actions: &["IdentityCenter:instance:listIdentityStoreAssociations"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "GetMfaDeviceManagementForIdentityStore",
        actions: &["IdentityCenter:mfaDevices:describeManagementSettings"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "PutMfaDeviceManagementForIdentityStore",
        actions: &["IdentityCenter:mfaDevices:updateManagementSettings"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "GetSsoConfiguration",
        actions: &["IdentityCenter:ssoConfiguration:describe"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "UpdateSsoConfiguration",
        actions: &["IdentityCenter:ssoConfiguration:update"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "CreateInstanceAccessControlAttributeConfiguration",
        actions: &["IdentityCenter:instance:createInstanceAccessControlAttributeConfiguration"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribeInstanceAccessControlAttributeConfiguration",
        actions: &["IdentityCenter:instance:describeInstanceAccessControlAttributeConfiguration"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "UpdateInstanceAccessControlAttributeConfiguration",
        actions: &["IdentityCenter:instance:updateInstanceAccessControlAttributeConfiguration"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteInstanceAccessControlAttributeConfiguration",
        actions: &["IdentityCenter:instance:deleteInstanceAccessControlAttributeConfiguration"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "CreatePermissionSet",
        actions: &["IdentityCenter:permissionSet:create"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListPermissionSets",
        actions: &["IdentityCenter:permissionSet:list"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribePermissionSet",
        actions: &["IdentityCenter:permissionSet:describe"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "UpdatePermissionSet",
        actions: &["IdentityCenter:permissionSet:update"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeletePermissionSet",
        actions: &["IdentityCenter:permissionSet:delete"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "GetPermissionSetSummary",
        actions: &["IdentityCenter:permissionSet:summary"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "AttachManagedPolicyToPermissionSet",
        actions: &["IdentityCenter:permissionSet:attachManagedPolicy"],
        resources: &["instance", "permissionSet"],
        dependencies: &[
            "iam:policies:getV5",
            "organizations:delegatedAdministrators:list",
        ],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DetachManagedPolicyFromPermissionSet",
        actions: &["IdentityCenter:permissionSet:detachManagedPolicy"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListManagedPoliciesInPermissionSet",
        actions: &["IdentityCenter:permissionSet:listManagedPolicies"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "AttachManagedRoleToPermissionSet",
        actions: &["IdentityCenter:permissionSet:attachCustomRole"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DetachManagedRoleFromPermissionSet",
        actions: &["IdentityCenter:permissionSet:detachCustomRole"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListManagedRolesInPermissionSet",
        actions: &["IdentityCenter:permissionSet:listManagedPolicies"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "GetCustomPolicyForPermissionSet",
        actions: &["IdentityCenter:permissionSet:getCustomPolicy"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "PutCustomPolicyToPermissionSet",
        actions: &["IdentityCenter:permissionSet:attachCustomPolicy"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteCustomPolicyFromPermissionSet",
        actions: &["IdentityCenter:permissionSet:detachCustomPolicy"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "GetCustomRoleForPermissionSet",
        actions: &["IdentityCenter:permissionSet:getCustomRole"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "PutCustomRoleToPermissionSet",
        actions: &["IdentityCenter:permissionSet:attachCustomRole"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteCustomRoleFromPermissionSet",
        actions: &["IdentityCenter:permissionSet:detachCustomRole"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "CreateTagResource",
        actions: &["IdentityCenter:resources:tag"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteTagResource",
        actions: &["IdentityCenter:resources:untag"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListTagResources",
        actions: &["IdentityCenter:tags:list"],
        resources: &["instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "CreateAccountAssignment",
        actions: &["IdentityCenter:accountAssignment:create"],
        resources: &["account", "instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DeleteAccountAssignment",
        actions: &["IdentityCenter:accountAssignment:delete"],
        resources: &["account", "instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribeAccountAssignmentCreationStatus",
        actions: &["IdentityCenter:accountAssignment:describeCreationStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribeAccountAssignmentDeletionStatus",
        actions: &["IdentityCenter:accountAssignment:describeDeletionStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListAccountAssignmentCreationStatus",
        actions: &["IdentityCenter:accountAssignment:listCreationStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListAccountAssignmentDeletionStatus",
        actions: &["IdentityCenter:accountAssignment:listDeletionStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListAccountAssignments",
        actions: &["IdentityCenter:accountAssignment:list"],
        resources: &["account", "instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListAccountAssignmentsForPrincipal",
        actions: &["IdentityCenter:accountAssignmentForPrincipals:list"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DisassociateProfile",
        actions: &["IdentityCenter:accountAssignment:disassociationProfile"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ProvisionPermissionSet",
        actions: &["IdentityCenter:permissionSet:provision"],
        resources: &["account", "instance", "permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribePermissionSetProvisioningStatus",
        actions: &["IdentityCenter:permissionSet:describeProvisioningStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListPermissionSetProvisioningStatus",
        actions: &["IdentityCenter:permissionSet:listProvisioningStatus"],
        resources: &["instance"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListAccountsForProvisionedPermissionSet",
        actions: &["IdentityCenter:permissionSet:listAccountsForProvisioned"],
        resources: &["permissionSet"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "ListPermissionSetsProvisionedToAccount",
        actions: &["IdentityCenter:permissionSet:listProvisionedToAccount"],
        resources: &["instance", "account"],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "DescribeRegisteredRegions",
        actions: &["IdentityCenter:instance:describeRegisteredRegions"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitycenter",
        operation: "RegisterRegion",
        actions: &["IdentityCenter:instance:registerRegion"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "identitystore",
        operation: "CreateUser",
        actions: &["IdentityCenter:user:create"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    // the API page prints IdentityCenter:user:listSessions (a copy of ListUserSessions'); the
    // service's identity-policy reference names IdentityCenter:user:list, which wins.
    OperationActions {
        api: "identitystore",
        operation: "ListUsers",
        actions: &["IdentityCenter:user:list"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DescribeUsers",
        actions: &["IdentityCenter:user:describeUsers"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "GetUserId",
        actions: &["IdentityCenter:user:getUserId"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    // the API page prints IdentityCenter:user:listSessions (a copy of ListUserSessions'); the
    // service's identity-policy reference names IdentityCenter:user:describe, which wins.
    OperationActions {
        api: "identitystore",
        operation: "DescribeUser",
        actions: &["IdentityCenter:user:describe"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "UpdateUser",
        actions: &["IdentityCenter:user:update"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteUser",
        actions: &["IdentityCenter:user:delete"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "EnableUser",
        actions: &["IdentityCenter:user:enableUser"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DisableUser",
        actions: &["IdentityCenter:user:disableUser"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ResetPwdMode",
        actions: &["IdentityCenter:user:updatePassword"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "VerifyEmail",
        actions: &["IdentityCenter:user:verifyEmail"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ListSessions",
        actions: &["IdentityCenter:user:listSessions"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "BatchDeleteSessions",
        actions: &["IdentityCenter:user:batchDeleteSession"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "RegisterMfaDeviceForUser",
        actions: &["IdentityCenter:user:registerVirtualMfaDevice"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "BatchListMfaDevicesForUser",
        actions: &["IdentityCenter:user:listMfaDevice"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "UpdateMfaDeviceForUser",
        actions: &["IdentityCenter:user:updateMfaDevice"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteMfaDeviceForUser",
        actions: &["IdentityCenter:user:deleteUserMfaDevice"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "CreateProvisioningTenant",
        actions: &["IdentityCenter:externalIdp:createProvisioningTenant"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ListProvisioningTenants",
        actions: &["IdentityCenter:externalIdp:listProvisioningTenant"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteProvisioningTenant",
        actions: &["IdentityCenter:externalIdp:deleteProvisioningTenant"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "CreateBearerToken",
        actions: &["IdentityCenter:externalIdp:createBearerToken"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ListBearerTokens",
        actions: &["IdentityCenter:externalIdp:listBearerTokens"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteBearerToken",
        actions: &["IdentityCenter:externalIdp:deleteBearerToken"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "CreateGroup",
        actions: &["IdentityCenter:group:create"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ListGroups",
        actions: &["IdentityCenter:group:list"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DescribeGroups",
        actions: &["IdentityCenter:group:describeGroups"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "GetGroupId",
        actions: &["IdentityCenter:group:getGroupId"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DescribeGroup",
        actions: &["IdentityCenter:group:describe"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "UpdateGroup",
        actions: &["IdentityCenter:group:update"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteGroup",
        actions: &["IdentityCenter:group:delete"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "CreateGroupMembership",
        actions: &["IdentityCenter:groupMembership:create"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    // the catalogue finds no authorization section; the action the sibling ListGroupMembershipsForMember's family uses.
    OperationActions {
        api: "identitystore",
        operation: "ListGroupMemberships",
        actions: &["IdentityCenter:groupMembership:list"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "GetGroupMembershipId",
        actions: &["IdentityCenter:groupMembership:getGroupMembershipId"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DescribeGroupMembership",
        actions: &["IdentityCenter:groupMembership:describe"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DeleteGroupMembership",
        actions: &["IdentityCenter:groupMembership:delete"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "ListGroupMembershipsForMember",
        actions: &["IdentityCenter:groupMembership:listForMember"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "IsMemberInGroups",
        actions: &["IdentityCenter:groupMembership:isMembershipInGroup"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "DescribePasswordPolicy",
        actions: &["IdentityCenter:passwordPolicy:describe"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "UpdatePasswordPolicy",
        actions: &["IdentityCenter:passwordPolicy:update"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "identitystore",
        operation: "GetIdentityStoreSummary",
        actions: &["IdentityCenter:identitystore:summary"],
        resources: &[],
        dependencies: &["organizations:delegatedAdministrators:list"],
    },
    OperationActions {
        api: "organizations",
        operation: "CreateOrganization",
        actions: &["organizations:organizations:create"],
        resources: &[],
        dependencies: &["iam:agencies:createServiceLinkedAgencyV5"],
    },
    OperationActions {
        api: "organizations",
        operation: "ShowOrganization",
        actions: &["organizations:organizations:get"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "DeleteOrganization",
        actions: &["organizations:organizations:delete"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListRoots",
        actions: &["organizations:roots:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "CreateOrganizationalUnit",
        actions: &["organizations:ous:create", "organizations:resources:tag"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListOrganizationalUnits",
        actions: &["organizations:ous:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ShowOrganizationalUnit",
        actions: &["organizations:ous:get"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "CreateAccount",
        actions: &[
            "organizations:accounts:create",
            "organizations:resources:tag",
        ],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListAccounts",
        actions: &["organizations:accounts:list"],
        resources: &[],
        dependencies: &[],
    },
    // the reference page says no identity-policy permission is needed.
    OperationActions {
        api: "organizations",
        operation: "CreateResourceAccount",
        actions: &[],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ShowAccount",
        actions: &["organizations:accounts:get"],
        resources: &["account"],
        dependencies: &[],
    },
    // not in the catalogue; named like the Organizations API's other account actions.
    OperationActions {
        api: "organizations",
        operation: "UpdateAccount",
        actions: &["organizations:accounts:update"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "MoveAccount",
        actions: &["organizations:accounts:move"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "RemoveAccount",
        actions: &["organizations:accounts:remove"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "CloseAccount",
        actions: &["organizations:accounts:close"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListCreateAccountStatuses",
        actions: &["organizations:createAccountStatuses:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ShowCreateAccountStatus",
        actions: &["organizations:createAccountStatuses:get"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListCloseAccountStatuses",
        actions: &["organizations:closeAccountStatuses:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListDelegatedAdministrators",
        actions: &["organizations:delegatedAdministrators:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "RegisterDelegatedAdministrator",
        actions: &["organizations:delegatedAdministrators:register"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "DeregisterDelegatedAdministrator",
        actions: &["organizations:delegatedAdministrators:deregister"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListDelegatedServices",
        actions: &["organizations:delegatedServices:list"],
        resources: &["account"],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListTrustedServices",
        actions: &["organizations:trustedServices:list"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "EnableTrustedService",
        actions: &["organizations:trustedServices:enable"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "DisableTrustedService",
        actions: &["organizations:trustedServices:disable"],
        resources: &[],
        dependencies: &[],
    },
    OperationActions {
        api: "organizations",
        operation: "ListServices",
        actions: &["organizations:services:list"],
        resources: &[],
        dependencies: &[],
    },
    // SDK discovery: answered for any valid key.
    OperationActions {
        api: "iam",
        operation: "KeystoneListAuthDomains",
        actions: &[],
        resources: &[],
        dependencies: &[],
    },
    // SDK discovery: answered for any valid key.
    OperationActions {
        api: "iam",
        operation: "KeystoneListProjects",
        actions: &[],
        resources: &[],
        dependencies: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::AuthKind;

    fn api_name(op: &crate::operation::Operation) -> String {
        serde_json::to_value(op.service)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    #[test]
    fn every_routed_signed_operation_has_exactly_one_entry() {
        let routed: Vec<_> = crate::operations()
            .into_iter()
            .filter(|op| op.auth == AuthKind::Signed)
            .collect();
        for op in &routed {
            let api = api_name(op);
            let entries = ACTIONS
                .iter()
                .filter(|a| a.api == api && a.operation == op.name)
                .count();
            assert_eq!(
                entries, 1,
                "{api} {} needs one entry in actions.rs",
                op.name
            );
            assert_eq!(op.service.api_name(), api, "the routes' name of the API");
            assert!(op.iam.is_some(), "{} found its entry when routed", op.name);
        }
        for entry in ACTIONS {
            assert!(
                routed
                    .iter()
                    .any(|op| api_name(op) == entry.api && op.name == entry.operation),
                "{} {} is not a routed signed operation",
                entry.api,
                entry.operation
            );
        }
    }

    #[test]
    fn actions_are_well_formed() {
        for entry in ACTIONS {
            for action in entry.actions.iter().chain(entry.dependencies) {
                let parts: Vec<&str> = action.split(':').collect();
                assert!(
                    parts.len() == 3 && parts.iter().all(|p| !p.is_empty()),
                    "{}: {action}",
                    entry.operation
                );
            }
        }
    }
}
