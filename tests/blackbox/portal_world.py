"""What the sign-in tests need, built through the official SDKs: a started instance, a user with a
one-time password, a member account assigned to the user through a provisioned permission set;
and the device flow of the OIDC SDK (register, start, poll until a token)."""

import time

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenter.v1 import (
    AttachManagedPolicyToPermissionSetReqBody, AttachManagedPolicyToPermissionSetRequest,
    CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
    CreatePermissionSetRequest, DescribeAccountAssignmentCreationStatusRequest,
    DescribePermissionSetProvisioningStatusRequest, ListInstancesRequest,
    ProvisionPermissionSetReqBody, ProvisionPermissionSetRequest, StartIdentityCenterRequest)
from huaweicloudsdkidentitycenteroidc.v1 import (
    CreateTokenReqBody, CreateTokenRequest, RegisterClientReqBody, RegisterClientRequest,
    StartDeviceAuthorizationReqBody, StartDeviceAuthorizationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, EmailDto, NameDto)
from huaweicloudsdkorganizations.v1 import (
    CreateAccountReqBody, CreateAccountRequest, ShowCreateAccountStatusRequest)

from sdk_clients import identity_center, identity_store, oidc, organizations

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_GRANT = "refresh_token"
READ_ONLY = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51"


def wait_until(fetch, done, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not done after {timeout} s")


def create_otp_user(server, store_id, name):
    """Creates a user whose password is one-time; returns (user id, the one-time password)."""
    r = identity_store(server).create_user(CreateUserRequest(
        identity_store_id=store_id, body=CreateUserReqBody(
            user_name=name, display_name=name, password_mode="OTP",
            name=NameDto(family_name="Doe", given_name=name),
            emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)])))
    assert r.password, "CreateUser with password_mode OTP returns the one-time password"
    return r.user_id, r.password


def member_account(server, name):
    org = organizations(server)
    st = org.create_account(CreateAccountRequest(body=CreateAccountReqBody(name=name)))
    status = wait_until(
        lambda: org.show_create_account_status(ShowCreateAccountStatusRequest(
            create_account_status_id=st.create_account_status.id)).create_account_status,
        lambda s: s.state != "in_progress", f"creation of account {name}")
    assert status.state == "succeeded", status
    return status.account_id


def not_in_progress(status):
    return status.status != "IN_PROGRESS"


def assign_and_provision(server, instance_id, user_id, account_id, set_name):
    """Assigns a new permission set (one system policy) on the account to the user and
    provisions it; returns the permission set id."""
    ic = identity_center(server)
    ps = ic.create_permission_set(CreatePermissionSetRequest(
        instance_id=instance_id, body=CreatePermissionSetReqBody(
            name=set_name, session_duration="PT2H"))).permission_set.permission_set_id
    ic.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
        instance_id=instance_id, permission_set_id=ps,
        body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=READ_ONLY)))
    created = ic.create_account_assignment(CreateAccountAssignmentRequest(
        instance_id=instance_id, body=CreateAccountAssignmentReqBody(
            permission_set_id=ps, principal_id=user_id, principal_type="USER",
            target_id=account_id, target_type="ACCOUNT"))).account_assignment_creation_status
    final = wait_until(
        lambda: ic.describe_account_assignment_creation_status(
            DescribeAccountAssignmentCreationStatusRequest(
                instance_id=instance_id, request_id=created.request_id)
        ).account_assignment_creation_status, not_in_progress, "account assignment")
    assert final.status == "SUCCEEDED", final.failure_reason
    prov = ic.provision_permission_set(ProvisionPermissionSetRequest(
        instance_id=instance_id, permission_set_id=ps,
        body=ProvisionPermissionSetReqBody(target_type="ALL_PROVISIONED_ACCOUNTS"))
    ).permission_set_provisioning_status
    final = wait_until(
        lambda: ic.describe_permission_set_provisioning_status(
            DescribePermissionSetProvisioningStatusRequest(
                instance_id=instance_id, request_id=prov.request_id)
        ).permission_set_provisioning_status, not_in_progress, "provisioning")
    assert final.status == "SUCCEEDED", final.failure_reason
    return ps


def portal_world(server, user_name="portal.user", account_name="portal-account",
                 set_name="PortalReaders"):
    """A started instance with one OTP user assigned to one member account; a dict of what the
    tests use: store_id, start_url, user_name, password, user_id, account_id, set_name, set_id."""
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    instance = ic.list_instances(ListInstancesRequest()).instances[0]
    user_id, password = create_otp_user(server, instance.identity_store_id, user_name)
    account_id = member_account(server, account_name)
    set_id = assign_and_provision(server, instance.instance_id, user_id, account_id, set_name)
    return dict(store_id=instance.identity_store_id, instance_id=instance.instance_id,
                start_url=f"{server.url}/{instance.identity_store_id}/portal",
                user_name=user_name, password=password, user_id=user_id,
                account_id=account_id, set_name=set_name, set_id=set_id)


def register_client(server):
    return oidc(server).register_client(RegisterClientRequest(body=RegisterClientReqBody(
        client_name="iic-blackbox", client_type="public",
        token_endpoint_auth_method="client_secret_post",
        grant_types=[DEVICE_GRANT], response_types=["code"],
        scopes=["openid"]))).client_info


def start_device_authorization(server, client, start_url):
    return oidc(server).start_device_authorization(StartDeviceAuthorizationRequest(
        body=StartDeviceAuthorizationReqBody(client_id=client.client_id,
                                             client_secret=client.client_secret,
                                             start_url=start_url)))


def create_token(server, client, **grant):
    return oidc(server).create_token(CreateTokenRequest(body=CreateTokenReqBody(
        client_id=client.client_id, client_secret=client.client_secret, **grant))).token_info


def poll_for_token(server, client, device, timeout=30):
    """Polls CreateToken as a device client should: every `interval` seconds, five more after a
    slow_down; returns the token once the user approved."""
    interval = device.interval
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            return create_token(server, client, grant_type=DEVICE_GRANT,
                                device_code=device.device_code)
        except ClientRequestException as e:
            error = e.error_msg.split(":")[1].strip() if ":" in e.error_msg else e.error_msg
            if error == "slow_down":
                interval += 5
            elif error != "authorization_pending":
                raise
        time.sleep(interval)
    raise AssertionError(f"no token after {timeout} s")
