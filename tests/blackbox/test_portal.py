"""The portal API through the official SDK (`huaweicloudsdkidentitycenterportalapi`), after a
real sign-in: a one-time-password user approves a device code in the portal's pages, takes an
access token, lists the accounts and agencies assigned to them (directly and through a group),
takes temporary credentials that sign real calls with the other SDKs, and logs out."""

import time

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    AttachManagedPolicyToPermissionSetReqBody, AttachManagedPolicyToPermissionSetRequest,
    CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
    CreatePermissionSetRequest, DescribeAccountAssignmentCreationStatusRequest,
    ListInstancesRequest, StartIdentityCenterRequest)
from huaweicloudsdkidentitycenterportalapi.v1 import (
    GetAgencyCredentialsRequest, IdentityCenterPortalAPIClient, ListAccountAgenciesRequest,
    ListAccountsRequest, LogoutRequest)
from huaweicloudsdkidentitycenterportalapi.v1.identitycenterportalapi_credentials import (
    IdentityCenterPortalAPICredentials)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateGroupMembershipReqBody, CreateGroupMembershipRequest, CreateGroupReqBody,
    CreateGroupRequest, CreateUserReqBody, CreateUserRequest, EmailDto, MemberIdDto, NameDto)

from iic_harness import expect_error, new_server
from portal_forms import approve_device
from portal_world import READ_ONLY
from sdk_clients import http_config, identity_center, identity_store, oidc, organizations
from test_assignments import member_account, poll as poll_request
from test_oidc import poll, register, start

NEW_PASSWORD = "Correct-Horse-9-Battery"


def portal_client(server):
    return (IdentityCenterPortalAPIClient.new_builder()
            .with_http_config(http_config())
            .with_credentials(IdentityCenterPortalAPICredentials())
            .with_endpoint(server.url)
            .build())


@pytest.fixture(scope="module")
def world():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    ic, store, org = identity_center(server), identity_store(server), organizations(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    iid, sid = ins.instance_id, ins.identity_store_id
    created = store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name="pat", display_name="Pat Doe", password_mode="OTP",
        name=NameDto(family_name="Doe", given_name="Pat"),
        emails=[EmailDto(value="pat@example.com", type="work", primary=True)])))
    group = store.create_group(CreateGroupRequest(identity_store_id=sid, body=CreateGroupReqBody(
        display_name="portal-ops"))).group_id
    store.create_group_membership(CreateGroupMembershipRequest(
        identity_store_id=sid, body=CreateGroupMembershipReqBody(
            group_id=group, member_id=MemberIdDto(user_id=created.user_id))))
    member = member_account(org, "portal-member")
    unassigned = member_account(org, "portal-unassigned")
    management = server.creds["account_id"]

    def permission_set(name):
        return ic.create_permission_set(CreatePermissionSetRequest(
            instance_id=iid, body=CreatePermissionSetReqBody(name=name, session_duration="PT2H"))
        ).permission_set.permission_set_id

    def assign(ps, principal, ptype, account):
        rid = ic.create_account_assignment(CreateAccountAssignmentRequest(
            instance_id=iid, body=CreateAccountAssignmentReqBody(
                permission_set_id=ps, principal_id=principal, principal_type=ptype,
                target_id=account, target_type="ACCOUNT"))
        ).account_assignment_creation_status.request_id
        done = poll_request(lambda: ic.describe_account_assignment_creation_status(
            DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id=rid)
        ).account_assignment_creation_status)
        assert done.status == "SUCCEEDED", done.failure_reason

    admin, reader = permission_set("PortalAdmin"), permission_set("PortalReader")
    # The credentials of PortalAdmin sign calls below: its policies must allow them.
    ic.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
        instance_id=iid, permission_set_id=admin,
        body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=READ_ONLY)))
    assign(admin, created.user_id, "USER", management)
    assign(reader, group, "GROUP", member)
    assign(admin, group, "GROUP", member)
    yield dict(server=server, sid=sid, otp=created.password, member=member,
               unassigned=unassigned, management=management, admin=admin, reader=reader)
    server.close()


def sign_in_token(w, password, new_password=None):
    """The device flow end to end, approved in the portal's pages; returns the access token."""
    server, client = w["server"], oidc(w["server"])
    info = register(client)
    d = start(client, info, f"{server.url}/{w['sid']}/portal")
    approve_device(d.verification_uri_complete, "pat", password, new_password)
    deadline = time.time() + 20
    while True:
        try:
            return poll(client, info, d.device_code).token_info.access_token
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(1.1)


@pytest.fixture(scope="module")
def token(world):
    return sign_in_token(world, world["otp"], NEW_PASSWORD)


def agencies(portal, token, account):
    return portal.list_account_agencies(ListAccountAgenciesRequest(
        access_token=token, account_id=account)).agency_list


def credentials(portal, token, account, urn):
    return portal.get_agency_credentials(GetAgencyCredentialsRequest(
        access_token=token, target_account_id=account, agency_urn=urn)).agency_credentials


def test_accounts_and_agencies_directly_and_through_a_group(world, token):
    portal = portal_client(world["server"])
    listed = portal.list_accounts(ListAccountsRequest(access_token=token))
    ids = [a.account_id for a in listed.account_list]
    assert ids == [world["management"], world["member"]], ids
    assert listed.account_list[1].account_name == "portal-member"
    assert listed.page_info.next_marker is None and listed.page_info.current_count == 2
    first = portal.list_accounts(ListAccountsRequest(access_token=token, limit=1))
    assert [a.account_id for a in first.account_list] == [world["management"]]
    rest = portal.list_accounts(ListAccountsRequest(access_token=token, limit=1,
                                                    marker=first.page_info.next_marker))
    assert [a.account_id for a in rest.account_list] == [world["member"]]

    on_member = agencies(portal, token, world["member"])
    assert [a.permission_set_name for a in on_member] == ["PortalAdmin", "PortalReader"]
    digits = world["admin"][len("ps-"):]
    assert on_member[0].agency_name == f"IdentityCenter_PortalAdmin_{digits}"
    assert on_member[0].agency_urn == f"iam::{world['member']}:agency:IdentityCenter_PortalAdmin_{digits}"
    assert on_member[0].account_id == world["member"]
    assert agencies(portal, token, world["unassigned"]) == []


def test_credentials_sign_calls_as_the_account_and_are_refused_elsewhere(world, token):
    server, portal = world["server"], portal_client(world["server"])
    urn = agencies(portal, token, world["management"])[0].agency_urn
    now = int(time.time())
    creds = credentials(portal, token, world["management"], urn)
    assert now + 7_100 < creds.expiration <= now + 7_300, creds.expiration
    ic = identity_center(server, creds.access_key_id, creds.secret_access_key,
                         security_token=creds.session_token)
    assert ic.list_instances(ListInstancesRequest()).instances
    # The same key without its token, or with another, is refused.
    expect_error(lambda: identity_center(server, creds.access_key_id, creds.secret_access_key)
                 .list_instances(ListInstancesRequest()), 401, "APIGW.0301")
    expect_error(lambda: identity_center(server, creds.access_key_id, creds.secret_access_key,
                                         security_token="0" * 64)
                 .list_instances(ListInstancesRequest()), 401, "APIGW.0301", "security token")
    # An account or agency not assigned to the user.
    expect_error(lambda: credentials(portal, token, world["unassigned"],
                                     urn.replace(world["management"], world["unassigned"])),
                 403, "IIC.1001")
    reader_urn = agencies(portal, token, world["member"])[1].agency_urn
    expect_error(lambda: credentials(portal, token, world["management"],
                                     reader_urn.replace(world["member"], world["management"])),
                 403, "IIC.1001")


def test_a_bad_token_is_401_on_every_operation(world):
    portal = portal_client(world["server"])
    for token in ("0" * 64, "not-a-token"):
        for call in (
                lambda: portal.list_accounts(ListAccountsRequest(access_token=token)),
                lambda: agencies(portal, token, world["member"]),
                lambda: credentials(portal, token, world["member"], "iam::x:agency:y"),
                lambda: portal.logout(LogoutRequest(access_token=token))):
            expect_error(call, 401, "IIC.401")


def test_logout_ends_the_token_and_its_credentials(world, token):
    server, portal = world["server"], portal_client(world["server"])
    fresh = sign_in_token(world, NEW_PASSWORD)
    urn = agencies(portal, fresh, world["management"])[0].agency_urn
    creds = credentials(portal, fresh, world["management"], urn)
    ic = identity_center(server, creds.access_key_id, creds.secret_access_key,
                         security_token=creds.session_token)
    assert ic.list_instances(ListInstancesRequest()).instances
    portal.logout(LogoutRequest(access_token=fresh))
    expect_error(lambda: portal.list_accounts(ListAccountsRequest(access_token=fresh)),
                 401, "IIC.401")
    expect_error(lambda: ic.list_instances(ListInstancesRequest()), 401, "APIGW.0301")
    # Another session's token is untouched.
    assert portal.list_accounts(ListAccountsRequest(access_token=token)).account_list


def test_the_portal_home_lists_the_access_and_hands_out_credentials(world, token):
    from portal_forms import Browser, sign_in
    server, sid = world["server"], world["sid"]
    b = Browser()
    home = sign_in(b, b.get(f"{server.url}/{sid}/portal"), "pat", NEW_PASSWORD)
    assert home.text("user-name") == "Pat Doe"
    forms = [f for f in home.forms if f["id"] is None and "agency_urn" in f["fields"]]
    by_account = {}
    for f in forms:
        by_account.setdefault(f["fields"]["account_id"], []).append(f["fields"]["agency_urn"])
    assert list(by_account) == [world["management"], world["member"]]
    assert len(by_account[world["member"]]) == 2
    # Submitting the first set's form shows the credentials once, as exports and an SDK snippet.
    form = next(f for f in forms if f["fields"]["account_id"] == world["management"])
    page = b.request(f"{server.url}{form['action']}", dict(form["fields"]))
    assert page.status == 200, page.body[:1000]
    exports = dict(line.removeprefix("export ").split("=", 1)
                   for line in page.text("export").strip().splitlines())
    assert set(exports) == {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
                            "HUAWEICLOUD_SDK_SECURITY_TOKEN"}
    assert exports["HUAWEICLOUD_SDK_AK"] in page.text("sdk")
    ic = identity_center(server, exports["HUAWEICLOUD_SDK_AK"], exports["HUAWEICLOUD_SDK_SK"],
                         security_token=exports["HUAWEICLOUD_SDK_SECURITY_TOKEN"])
    assert ic.list_instances(ListInstancesRequest()).instances
    # A forged agency in the same form is refused, and nothing is issued.
    reader_urn = by_account[world["member"]][1].replace(world["member"], world["management"])
    forged = dict(form["fields"], agency_urn=reader_urn)
    refused = b.request(f"{server.url}{form['action']}", forged)
    assert refused.status == 403 and "not an agency" in refused.text("error")
    # Signing out in the browser ends the credentials issued in that session.
    b.submit(b.get(f"{server.url}/{sid}/portal"), "sign-out")
    expect_error(lambda: ic.list_instances(ListInstancesRequest()), 401, "APIGW.0301")


def test_an_expired_access_token_is_401_on_every_operation():
    """A server whose access tokens live three seconds: the token works, then is refused."""
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1", "IIC_ACCESS_TOKEN_TTL_SECS": "3"})
    try:
        store = identity_store(server)
        ic = identity_center(server)
        ic.start_identity_center(StartIdentityCenterRequest())
        sid = ic.list_instances(ListInstancesRequest()).instances[0].identity_store_id
        created = store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
            user_name="pat", display_name="Pat Doe", password_mode="OTP",
            name=NameDto(family_name="Doe", given_name="Pat"),
            emails=[EmailDto(value="pat@example.com", type="work", primary=True)])))
        token = sign_in_token(dict(server=server, sid=sid), created.password, NEW_PASSWORD)
        portal = portal_client(server)
        assert portal.list_accounts(ListAccountsRequest(access_token=token)).account_list == []
        time.sleep(3.2)
        for call in (
                lambda: portal.list_accounts(ListAccountsRequest(access_token=token)),
                lambda: agencies(portal, token, server.creds["account_id"]),
                lambda: credentials(portal, token, server.creds["account_id"], "iam::x:agency:y"),
                lambda: portal.logout(LogoutRequest(access_token=token))):
            expect_error(call, 401, "IIC.401", "expired")
    finally:
        server.close()
