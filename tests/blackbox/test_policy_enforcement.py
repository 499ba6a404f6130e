"""Policy enforcement through the official SDKs: a user signs in through the portal's pages, takes
temporary credentials for permission sets whose policies differ, and each set allows exactly what
its policies say — read-only lists but cannot create, Deny beats Allow, wildcards and NotAction,
conditions on g:MFAPresent, g:RequestTag/g:TagKeys, g:ResourceTag, g:CurrentTime, the dependent
action, Organizations' own denial, and a re-provisioned set. Every denial is 403 with a message
`iic decode-authorization-message` turns into the full story."""

import json
import time

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    AccessControlAttributeDto, AccessControlAttributeValueDto,
    AttachManagedPolicyToPermissionSetReqBody, AttachManagedPolicyToPermissionSetRequest,
    CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
    CreateInstanceAccessControlAttributeConfigurationReqBody,
    CreateInstanceAccessControlAttributeConfigurationRequest, CreatePermissionSetRequest,
    CreateTagResourceRequest,
    DescribeAccountAssignmentCreationStatusRequest, DescribePermissionSetProvisioningStatusRequest,
    DescribePermissionSetRequest, ListInstancesRequest, ListPermissionSetsRequest,
    ProvisionPermissionSetReqBody, ProvisionPermissionSetRequest,
    PutCustomPolicyToPermissionSetReqBody, PutCustomPolicyToPermissionSetRequest,
    InstanceAccessControlAttributeConfigurationDto, StartIdentityCenterRequest, TagDto,
    TagResourceReqBody)
from huaweicloudsdkidentitycenterportalapi.v1 import (
    GetAgencyCredentialsRequest, ListAccountAgenciesRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, EmailDto, EnterpriseDto, ListUsersRequest, NameDto)
from huaweicloudsdkorganizations.v1 import (
    DelegatedAdministratorReqBody, ListAccountsRequest, RegisterDelegatedAdministratorRequest)

from iic_harness import expect_error, iic_cli, new_server
from portal_world import READ_ONLY, wait_until
from sdk_clients import identity_center, identity_store, organizations
from test_assignments import member_account
from test_portal import portal_client, sign_in_token

NEW_PASSWORD = "Correct-Horse-9-Battery"
TAGGED = "identitycenter:permissionset"
DEPENDENCY = "organizations:delegatedAdministrators:list"


def allow(*actions, **extra):
    return dict(Effect="Allow", Action=list(actions), **extra)


def deny(*actions, **extra):
    return dict(Effect="Deny", Action=list(actions), **extra)


def document(*statements):
    return json.dumps({"Version": "5.0", "Statement": list(statements)})


# Each permission set of the world: its custom policy (None: the read-only system policy).
SETS = {
    "ReadOnly": None,
    "DenyWins": document(allow("IdentityCenter:*:*", DEPENDENCY),
                         deny("IdentityCenter:permissionSet:list*")),
    "Wildcards": document(allow("IdentityCenter:instance:l?st", DEPENDENCY)),
    "NotAction": document(dict(Effect="Allow", NotAction=["IdentityCenter:permissionSet:*"])),
    "NeedsMfa": document(allow("*", Condition={"Bool": {"g:MFAPresent": ["true"]}})),
    "WithoutMfa": document(allow("*", Condition={"Bool": {"g:MFAPresent": ["false"]}})),
    "DevTagsOnly": document(
        allow("IdentityCenter:permissionSet:list", DEPENDENCY),
        allow("IdentityCenter:resources:tag",
              Condition={"StringEquals": {"g:RequestTag/env": ["dev"]},
                         "ForAllValues:StringEquals": {"g:TagKeys": ["env", "team"]}})),
    "BlueTeam": document(
        allow(DEPENDENCY),
        allow("IdentityCenter:permissionSet:describe",
              Condition={"StringEquals": {"g:ResourceTag/team": ["blue"]}})),
    "OneSet": document(
        allow(DEPENDENCY),
        allow("IdentityCenter:permissionSet:describe",
              Resource=["IdentityCenter::system:instance:*",
                        "IdentityCenter::system:permissionSet:{blue}"])),
    "Past": document(allow("*", Condition={
        "DateLessThan": {"g:CurrentTime": ["2001-01-01T00:00:00Z"]}})),
    "Present": document(allow("*", Condition={
        "DateGreaterThan": {"g:CurrentTime": ["2001-01-01T00:00:00Z"]}})),
    "NoDependency": document(allow("IdentityCenter:instance:list")),
    "Changing": None,
    "Everything": document(allow("*")),
    "Engines": document(allow("*", Condition={
        "StringEquals": {"g:PrincipalTag/dept": ["Engines"], "g:UserName": ["pat"]}})),
    "Finance": document(allow("*", Condition={
        "StringEquals": {"g:PrincipalTag/dept": ["Finance"]}})),
}
# Where each set is assigned besides the management account.
ON_DELEGATE, ON_PLAIN_MEMBER = "ReadOnly", "Everything"
IDENTITY_CENTER = "service.IdentityCenter"


def put_custom_policy(ic, iid, ps, doc):
    ic.put_custom_policy_to_permission_set(PutCustomPolicyToPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=PutCustomPolicyToPermissionSetReqBody(custom_policy=doc)))


def settled(status):
    return status.status != "IN_PROGRESS"


def provision(ic, iid, ps):
    rid = ic.provision_permission_set(ProvisionPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=ProvisionPermissionSetReqBody(target_type="ALL_PROVISIONED_ACCOUNTS"))
    ).permission_set_provisioning_status.request_id
    done = wait_until(lambda: ic.describe_permission_set_provisioning_status(
        DescribePermissionSetProvisioningStatusRequest(instance_id=iid, request_id=rid)
    ).permission_set_provisioning_status, settled, "provisioning")
    assert done.status == "SUCCEEDED", done.failure_reason


@pytest.fixture(scope="module")
def world():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    iid, sid = ins.instance_id, ins.identity_store_id
    created = identity_store(server).create_user(CreateUserRequest(
        identity_store_id=sid, body=CreateUserReqBody(
            user_name="pat", display_name="Pat Doe", password_mode="OTP",
            name=NameDto(family_name="Doe", given_name="Pat"),
            emails=[EmailDto(value="pat@example.com", type="work", primary=True)],
            enterprise=EnterpriseDto(department="Engines"))))
    user_id, otp = created.user_id, created.password
    # Attributes for access control: the department becomes the session tag `dept`.
    ic.create_instance_access_control_attribute_configuration(
        CreateInstanceAccessControlAttributeConfigurationRequest(
            instance_id=iid, body=CreateInstanceAccessControlAttributeConfigurationReqBody(
                instance_access_control_attribute_configuration=(
                    InstanceAccessControlAttributeConfigurationDto(access_control_attributes=[
                        AccessControlAttributeDto(key="dept", value=AccessControlAttributeValueDto(
                            source=["${path:enterprise.department}"]))])))))
    management = server.creds["account_id"]
    org = organizations(server)
    delegate, plain = member_account(org, "delegate"), member_account(org, "plain-member")
    org.register_delegated_administrator(RegisterDelegatedAdministratorRequest(
        body=DelegatedAdministratorReqBody(service_principal=IDENTITY_CENTER,
                                           account_id=delegate)))

    def permission_set(name, tags=None):
        return ic.create_permission_set(CreatePermissionSetRequest(
            instance_id=iid, body=CreatePermissionSetReqBody(
                name=name, session_duration="PT2H", tags=tags))).permission_set.permission_set_id

    blue = permission_set("Blue", tags=[TagDto(key="team", value="blue")])
    red = permission_set("Red", tags=[TagDto(key="team", value="red")])
    sets = {}
    for name, doc in SETS.items():
        ps = permission_set(name)
        if doc is None:
            ic.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
                instance_id=iid, permission_set_id=ps,
                body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=READ_ONLY)))
        else:
            put_custom_policy(ic, iid, ps, doc.replace("{blue}", blue))
        targets = [management] + [account for account, on in ((delegate, ON_DELEGATE),
                                                               (plain, ON_PLAIN_MEMBER))
                                   if on == name]
        for target in targets:
            rid = ic.create_account_assignment(CreateAccountAssignmentRequest(
                instance_id=iid, body=CreateAccountAssignmentReqBody(
                    permission_set_id=ps, principal_id=user_id, principal_type="USER",
                    target_id=target, target_type="ACCOUNT"))
            ).account_assignment_creation_status.request_id
            done = wait_until(lambda: ic.describe_account_assignment_creation_status(
                DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id=rid)
            ).account_assignment_creation_status, settled, "assignment")
            assert done.status == "SUCCEEDED", done.failure_reason
        sets[name] = ps
    w = dict(server=server, sid=sid, iid=iid, otp=otp, sets=sets, blue=blue, red=red,
             management=management, delegate=delegate, plain=plain, user_id=user_id)
    w["token"] = sign_in_token(w, otp, NEW_PASSWORD)
    yield w
    server.close()


class Acting:
    """The SDK clients of one set of temporary credentials."""

    def __init__(self, server, account, c):
        keys = dict(ak=c.access_key_id, sk=c.secret_access_key, security_token=c.session_token)
        self.ic = identity_center(server, domain_id=account, **keys)
        self.org = organizations(server, account_id=account, **keys)
        self.store = identity_store(server, project_id=None, **keys)


def acting_as(w, set_name, account=None):
    """Fresh temporary credentials of the set on the account (the management account unless
    said): an admin-API and an Organizations client."""
    a = credentials_of(w, set_name, account)
    return a.ic, a.org


def credentials_of(w, set_name, account=None):
    account = account or w["management"]
    portal = portal_client(w["server"])
    urns = {a.permission_set_name: a.agency_urn for a in portal.list_account_agencies(
        ListAccountAgenciesRequest(access_token=w["token"], account_id=account)
    ).agency_list}
    c = portal.get_agency_credentials(GetAgencyCredentialsRequest(
        access_token=w["token"], target_account_id=account,
        agency_urn=urns[set_name])).agency_credentials
    return Acting(w["server"], account, c)


def denied(w, fn, action, code="IIC.1000", status=403):
    """Expects `fn` refused for `action`; returns the decoded authorization message."""
    message = {"IIC.1000": f"No permission for action {action}.",
               "Organizations.1007": f"Policy doesn't allow '{action}' to be performed."}
    e = expect_error(fn, status, code, message.get(code, ""))
    story = iic_cli(w["server"], "decode-authorization-message", e.encoded_auth_msg)
    assert story["action"] == action, story
    assert story["policy"]["permission_set_id"], story
    return story


def list_sets(ic, w):
    return ic.list_permission_sets(ListPermissionSetsRequest(instance_id=w["iid"]))


def describe(ic, w, ps):
    return ic.describe_permission_set(DescribePermissionSetRequest(
        instance_id=w["iid"], permission_set_id=ps)).permission_set


def test_a_read_only_set_lists_but_cannot_create(world):
    ic, _ = acting_as(world, "ReadOnly")
    assert ic.list_instances(ListInstancesRequest()).instances
    assert len(list_sets(ic, world).permission_sets) >= len(SETS)
    story = denied(world, lambda: ic.create_permission_set(CreatePermissionSetRequest(
        instance_id=world["iid"], body=CreatePermissionSetReqBody(name="Sneaky"))),
        "IdentityCenter:permissionSet:create")
    p = story["policy"]
    assert p["policies"] == ["IdentityCenterReadOnlyAccess"], p
    assert p["decision"] == "denied: no statement of the 1 policies allows it", p
    assert p["resources"] == [f"IdentityCenter::system:instance:{world['iid']}",
                              "IdentityCenter::system:permissionSet:*"], p
    assert p["permission_set_id"] == world["sets"]["ReadOnly"], p
    assert story["method"] == "POST" and story["path"].endswith("/permission-sets"), story


def test_an_explicit_deny_beats_an_allow(world):
    ic, _ = acting_as(world, "DenyWins")
    assert ic.list_instances(ListInstancesRequest()).instances
    story = denied(world, lambda: list_sets(ic, world), "IdentityCenter:permissionSet:list")
    assert story["policy"]["decision"] == \
        "denied explicitly by custom identity policy Statement[1]", story


def test_wildcards_and_not_action(world):
    ic, _ = acting_as(world, "Wildcards")
    assert ic.list_instances(ListInstancesRequest()).instances
    denied(world, lambda: list_sets(ic, world), "IdentityCenter:permissionSet:list")
    ic, _ = acting_as(world, "NotAction")
    assert ic.list_instances(ListInstancesRequest()).instances
    denied(world, lambda: list_sets(ic, world), "IdentityCenter:permissionSet:list")


def test_mfa_present_is_false_without_mfa(world):
    ic, _ = acting_as(world, "NeedsMfa")
    story = denied(world, lambda: ic.list_instances(ListInstancesRequest()),
                   "IdentityCenter:instance:list")
    assert {"key": "g:MFAPresent", "values": ["false"]} in story["policy"]["conditions"], story
    ic, _ = acting_as(world, "WithoutMfa")
    assert ic.list_instances(ListInstancesRequest()).instances


def test_mfa_present_is_true_after_a_second_factor(world):
    from portal_forms import Browser, sign_in
    from sdk_clients import oidc
    from test_mfa_sign_in import configure, enrol_by_link, fresh_code
    from test_oidc import poll, register, start
    server = world["server"]
    mfa = dict(ic=identity_center(server), store=identity_store(server), sid=world["sid"],
               instance_id=world["iid"])
    totp = enrol_by_link(mfa, world["user_id"])
    configure(mfa, "ALWAYS_ON")
    client = oidc(server)
    info = register(client)
    device = start(client, info, f"{server.url}/{world['sid']}/portal")
    b = Browser()
    page = sign_in(b, b.get(device.verification_uri_complete), "pat", NEW_PASSWORD)
    page = b.submit(page, "mfa", otp=fresh_code(totp))
    page = b.submit(page, "device-code")
    page = b.submit(page, "device-decision", button=("action", "approve"))
    assert page.status == 200 and page.text("device-result"), page.body[:1500]
    with_mfa = dict(world, token=poll(client, info, device.device_code).token_info.access_token)
    ic, _ = acting_as(with_mfa, "NeedsMfa")
    assert ic.list_instances(ListInstancesRequest()).instances
    ic, _ = acting_as(with_mfa, "WithoutMfa")
    story = denied(world, lambda: ic.list_instances(ListInstancesRequest()),
                   "IdentityCenter:instance:list")
    assert {"key": "g:MFAPresent", "values": ["true"]} in story["policy"]["conditions"], story


def test_request_tags_and_tag_keys_when_tagging(world):
    ic, _ = acting_as(world, "DevTagsOnly")
    red = world["red"]

    def tag(*tags):
        return ic.create_tag_resource(CreateTagResourceRequest(
            resource_type=TAGGED, resource_id=red,
            body=TagResourceReqBody(tags=[TagDto(key=k, value=v) for k, v in tags])))
    tag(("env", "dev"), ("team", "red"))
    story = denied(world, lambda: tag(("env", "prod")), "IdentityCenter:resources:tag")
    assert {"key": "g:RequestTag/env", "values": ["prod"]} in story["policy"]["conditions"]
    assert story["policy"]["resources"] == [f"IdentityCenter::system:instance:{world['iid']}",
                                            f"IdentityCenter::system:permissionSet:{red}"]
    story = denied(world, lambda: tag(("env", "dev"), ("cost", "1")),
                   "IdentityCenter:resources:tag")
    assert {"key": "g:TagKeys", "values": ["env", "cost"]} in story["policy"]["conditions"]


def test_resource_tags_of_a_permission_set(world):
    ic, _ = acting_as(world, "BlueTeam")
    assert describe(ic, world, world["blue"]).name == "Blue"
    story = denied(world, lambda: describe(ic, world, world["red"]),
                   "IdentityCenter:permissionSet:describe")
    assert {"key": "g:ResourceTag/team", "values": ["red"]} in story["policy"]["conditions"]


def test_resource_urns(world):
    ic, _ = acting_as(world, "OneSet")
    assert describe(ic, world, world["blue"]).name == "Blue"
    story = denied(world, lambda: describe(ic, world, world["red"]),
                   "IdentityCenter:permissionSet:describe")
    assert f"IdentityCenter::system:permissionSet:{world['red']}" in \
        story["policy"]["resources"], story


def test_principal_tags_from_attributes_for_access_control(world):
    ic, _ = acting_as(world, "Engines")
    assert ic.list_instances(ListInstancesRequest()).instances
    ic, _ = acting_as(world, "Finance")
    story = denied(world, lambda: ic.list_instances(ListInstancesRequest()),
                   "IdentityCenter:instance:list")
    assert story["policy"]["conditions"] == [{"key": "g:PrincipalTag/dept",
                                              "values": ["Engines"]}], story


def test_current_time(world):
    ic, _ = acting_as(world, "Past")
    story = denied(world, lambda: ic.list_instances(ListInstancesRequest()),
                   "IdentityCenter:instance:list")
    [now] = [c["values"] for c in story["policy"]["conditions"] if c["key"] == "g:CurrentTime"]
    assert now[0].startswith(time.strftime("%Y-", time.gmtime())), now
    ic, _ = acting_as(world, "Present")
    assert ic.list_instances(ListInstancesRequest()).instances


def test_the_dependent_action_must_be_allowed_too(world):
    ic, _ = acting_as(world, "NoDependency")
    e = expect_error(lambda: ic.list_instances(ListInstancesRequest()), 403, "IIC.1001",
                     "IdentityCenter:instance:list", DEPENDENCY)
    story = iic_cli(world["server"], "decode-authorization-message", e.encoded_auth_msg)
    assert story["action"] == DEPENDENCY, story


def test_organizations_answers_in_its_own_words(world):
    _, org = acting_as(world, "ReadOnly")
    story = denied(world, lambda: org.list_accounts(ListAccountsRequest()),
                   "organizations:accounts:list", code="Organizations.1007")
    assert story["policy"]["resources"] == ["*"], story
    _, org = acting_as(world, "NotAction")
    assert org.list_accounts(ListAccountsRequest()).accounts


def test_a_changed_policy_takes_effect_once_provisioned(world):
    ic_before, _ = acting_as(world, "Changing")
    assert list_sets(ic_before, world).permission_sets
    admin = identity_center(world["server"])
    ps = world["sets"]["Changing"]
    put_custom_policy(admin, world["iid"], ps,
                      document(deny("IdentityCenter:permissionSet:list")))
    # Not provisioned yet: credentials issued now still act under the provisioned policies.
    ic_unprovisioned, _ = acting_as(world, "Changing")
    assert list_sets(ic_unprovisioned, world).permission_sets
    provision(admin, world["iid"], ps)
    ic_after, _ = acting_as(world, "Changing")
    story = denied(world, lambda: list_sets(ic_after, world),
                   "IdentityCenter:permissionSet:list")
    assert story["policy"]["policies"] == ["custom identity policy",
                                           "IdentityCenterReadOnlyAccess"], story


def test_the_identity_store_api_is_judged_too(world):
    store = credentials_of(world, "ReadOnly").store
    assert store.list_users(ListUsersRequest(identity_store_id=world["sid"])).users
    story = denied(world, lambda: store.create_user(CreateUserRequest(
        identity_store_id=world["sid"], body=CreateUserReqBody(
            user_name="sneaky", display_name="Sneaky", password_mode="OTP",
            name=NameDto(family_name="S", given_name="N")))), "IdentityCenter:user:create")
    assert story["policy"]["resources"] == ["*"], story


def test_a_delegated_administrator_is_judged_by_its_policies(world):
    ic, _ = acting_as(world, ON_DELEGATE, world["delegate"])
    assert ic.list_instances(ListInstancesRequest()).instances
    story = denied(world, lambda: ic.create_permission_set(CreatePermissionSetRequest(
        instance_id=world["iid"], body=CreatePermissionSetReqBody(name="FromDelegate"))),
        "IdentityCenter:permissionSet:create")
    assert story["account_id"] == world["delegate"], story


def test_other_accounts_meet_the_caller_checks_first(world):
    # Whatever its policies allow, a member account that administers nothing is refused by
    # the admin API's caller check.
    ic, org = acting_as(world, ON_PLAIN_MEMBER, world["plain"])
    expect_error(lambda: ic.list_instances(ListInstancesRequest()), 403, "IIC.1215")
    # Organizations judges policies first, then its own rules: allowed by policy, refused as
    # neither the management account nor a delegated administrator.
    expect_error(lambda: org.list_accounts(ListAccountsRequest()), 401, "Organizations.1002")
