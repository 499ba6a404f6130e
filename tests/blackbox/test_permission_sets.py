"""Permission sets through the official SDK: lifecycle, system-defined policies and roles,
custom identity policies (5.0) and custom roles (1.1) validated as documents, tags, quotas."""

import json
import re

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    AttachManagedPolicyToPermissionSetReqBody, AttachManagedPolicyToPermissionSetRequest,
    AttachManagedRoleToPermissionSetRequest, CreatePermissionSetReqBody,
    CreatePermissionSetRequest, CreateTagResourceRequest, DeleteCustomPolicyFromPermissionSetRequest,
    DeleteCustomRoleFromPermissionSetRequest, DeletePermissionSetRequest, DeleteTagDto,
    DeleteTagResourceReqBody, DeleteTagResourceRequest, DescribePermissionSetRequest,
    DetachManagedPolicyFromPermissionSetReqBody, DetachManagedPolicyFromPermissionSetRequest,
    DetachManagedRoleFromPermissionSetRequest, GetCustomPolicyForPermissionSetRequest,
    GetCustomRoleForPermissionSetRequest, GetPermissionSetSummaryRequest, ListInstancesRequest,
    ListManagedPoliciesInPermissionSetRequest, ListManagedRolesInPermissionSetRequest,
    ListPermissionSetsRequest, ListTagResourcesRequest, PutCustomPolicyToPermissionSetReqBody,
    PutCustomPolicyToPermissionSetRequest, PutCustomRoleToPermissionSetReqBody,
    PutCustomRoleToPermissionSetRequest, ResourceAttachManagedPolicyToPermissionSetReqBody,
    ResourceDetachManagedPolicyFromPermissionSetReqBody, StartIdentityCenterRequest, TagDto,
    TagResourceReqBody, UpdatePermissionSetReqBody, UpdatePermissionSetRequest)

from iic_harness import expect_error, new_server
from sdk_clients import identity_center

FULL = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a50"       # IdentityCenterFullAccess
READ = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51"       # IdentityCenterReadOnlyAccess
ROLE = "9b25d2f3a1c45d5a8b1f7a2e3d4c5b60"       # Tenant Administrator
POLICY = json.dumps({"Version": "5.0", "Statement": [
    {"Effect": "Allow", "Action": ["obs:object:GetObject"], "Resource": ["obs:*:*:object:logs/*"],
     "Condition": {"StringEquals": {"g:UserName": ["alice"]}}}]})
ROLE_DOC = json.dumps({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ecs:*:get*"]}]})


@pytest.fixture(scope="module")
def env():
    server = new_server()
    c = identity_center(server)
    c.start_identity_center(StartIdentityCenterRequest())
    iid = c.list_instances(ListInstancesRequest()).instances[0].instance_id
    yield server, c, iid
    server.close()


def create(c, iid, name, **kw):
    return c.create_permission_set(CreatePermissionSetRequest(
        instance_id=iid, body=CreatePermissionSetReqBody(name=name, **kw))).permission_set


def test_lifecycle(env):
    _, c, iid = env
    ps = create(c, iid, "ReadOnly", description="read only access", session_duration="PT8H",
                relay_state="https://console.example.com/")
    assert re.match(r"^ps-[0-9a-f]{16}$", ps.permission_set_id)
    assert ps.permission_urn == f"IdentityCenter::system:permissionSet:{ps.permission_set_id}"
    assert (ps.name, ps.session_duration, ps.description) == ("ReadOnly", "PT8H", "read only access")
    assert ps.created_date > 0
    expect_error(lambda: create(c, iid, "readonly"), 409, "IIC.1206")
    d = c.describe_permission_set(DescribePermissionSetRequest(
        instance_id=iid, permission_set_id=ps.permission_set_id)).permission_set
    assert d.relay_state == "https://console.example.com/"
    c.update_permission_set(UpdatePermissionSetRequest(
        instance_id=iid, permission_set_id=ps.permission_set_id,
        body=UpdatePermissionSetReqBody(description="changed", session_duration="PT12H")))
    d = c.describe_permission_set(DescribePermissionSetRequest(
        instance_id=iid, permission_set_id=ps.permission_set_id)).permission_set
    assert (d.description, d.session_duration) == ("changed", "PT12H")
    for bad, field in [("PT13H", "session_duration"), ("PT30M", "session_duration"),
                       ("8 hours", "session_duration")]:
        expect_error(lambda: c.update_permission_set(UpdatePermissionSetRequest(
            instance_id=iid, permission_set_id=ps.permission_set_id,
            body=UpdatePermissionSetReqBody(session_duration=bad))), 400, "IIC.400", field)
    expect_error(lambda: create(c, iid, "has space"), 400, "IIC.400", "name")
    expect_error(lambda: create(c, iid, "x" * 33), 400, "IIC.400", "name")
    c.delete_permission_set(DeletePermissionSetRequest(instance_id=iid,
                                                       permission_set_id=ps.permission_set_id))
    expect_error(lambda: c.describe_permission_set(DescribePermissionSetRequest(
        instance_id=iid, permission_set_id=ps.permission_set_id)), 404, "IIC.1205")
    expect_error(lambda: c.delete_permission_set(DeletePermissionSetRequest(
        instance_id=iid, permission_set_id=ps.permission_set_id)), 404, "IIC.1205")
    expect_error(lambda: c.list_permission_sets(ListPermissionSetsRequest(
        instance_id="ins-0000000000000000")), 404, "IIC.404")


def test_list_filters_paging_and_summary(env):
    _, c, iid = env
    ids = [create(c, iid, f"Listed{i}").permission_set_id for i in range(5)]
    seen, marker = [], None
    while True:
        r = c.list_permission_sets(ListPermissionSetsRequest(instance_id=iid, limit=2, marker=marker))
        seen += [p.permission_set_id for p in r.permission_sets]
        marker = r.page_info.next_marker
        if not marker:
            break
    assert [i for i in seen if i in ids] == ids
    by_name = c.list_permission_sets(ListPermissionSetsRequest(instance_id=iid, name="listed3"))
    assert [p.permission_set_id for p in by_name.permission_sets] == [ids[3]]
    by_id = c.list_permission_sets(ListPermissionSetsRequest(instance_id=iid, permission_set_id=ids[1]))
    assert [p.name for p in by_id.permission_sets] == ["Listed1"]
    urn = f"IdentityCenter::system:permissionSet:{ids[2]}"
    assert [p.permission_set_id for p in c.list_permission_sets(ListPermissionSetsRequest(
        instance_id=iid, permission_urn=urn)).permission_sets] == [ids[2]]
    s = c.get_permission_set_summary(GetPermissionSetSummaryRequest(instance_id=iid))
    assert s.permission_sets >= 5 and s.permission_sets_quota == 2000
    assert s.permission_policy_count_quota == 20


def test_system_policies_and_roles(env):
    _, c, iid = env
    ps = create(c, iid, "Admins").permission_set_id

    def attach(pid):
        return c.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=pid)))
    attach(FULL)
    attach(READ)
    expect_error(lambda: attach(FULL), 409, "IIC.1207")
    expect_error(lambda: attach("0" * 32), 404, "IIC.1211", "0" * 32)
    expect_error(lambda: attach(ROLE), 404, "IIC.1211")  # a role is not a policy
    listed = c.list_managed_policies_in_permission_set(ListManagedPoliciesInPermissionSetRequest(
        instance_id=iid, permission_set_id=ps))
    assert [(p.policy_id, p.policy_name) for p in listed.attached_managed_policies] == \
        [(FULL, "IdentityCenterFullAccess"), (READ, "IdentityCenterReadOnlyAccess")]
    first = c.list_managed_policies_in_permission_set(ListManagedPoliciesInPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, limit=1))
    assert len(first.attached_managed_policies) == 1 and first.page_info.next_marker
    c.detach_managed_policy_from_permission_set(DetachManagedPolicyFromPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=DetachManagedPolicyFromPermissionSetReqBody(managed_policy_id=READ)))
    expect_error(lambda: c.detach_managed_policy_from_permission_set(
        DetachManagedPolicyFromPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=DetachManagedPolicyFromPermissionSetReqBody(managed_policy_id=READ))),
        404, "IIC.404")

    c.attach_managed_role_to_permission_set(AttachManagedRoleToPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=ResourceAttachManagedPolicyToPermissionSetReqBody(managed_role_id=ROLE)))
    roles = c.list_managed_roles_in_permission_set(ListManagedRolesInPermissionSetRequest(
        instance_id=iid, permission_set_id=ps)).attached_managed_roles
    assert [(r.role_id, r.role_name) for r in roles] == [(ROLE, "Tenant Administrator")]
    c.detach_managed_role_from_permission_set(DetachManagedRoleFromPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=ResourceDetachManagedPolicyFromPermissionSetReqBody(managed_role_id=ROLE)))
    assert c.list_managed_roles_in_permission_set(ListManagedRolesInPermissionSetRequest(
        instance_id=iid, permission_set_id=ps)).attached_managed_roles == []


def test_custom_policy_and_role_documents(env):
    _, c, iid = env
    ps = create(c, iid, "Custom").permission_set_id

    def put_policy(doc):
        return c.put_custom_policy_to_permission_set(PutCustomPolicyToPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=PutCustomPolicyToPermissionSetReqBody(custom_policy=doc)))
    put_policy(POLICY)
    got = c.get_custom_policy_for_permission_set(GetCustomPolicyForPermissionSetRequest(
        instance_id=iid, permission_set_id=ps)).custom_policy
    assert json.loads(got) == json.loads(POLICY)
    bad = json.dumps({"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["obs:get"]}]})
    expect_error(lambda: put_policy(bad), 400, "IIC.400", "Statement[0].Action[0]")
    expect_error(lambda: put_policy("{not json"), 400, "IIC.400", "custom_policy")
    expect_error(lambda: put_policy(ROLE_DOC), 400, "IIC.400", "Version")
    expect_error(lambda: put_policy(json.dumps({"Version": "5.0", "Statement": [
        {"Effect": "Allow", "Action": "*", "Condition": {"NumberLessThan": {"g:N": "x"}}}]})),
        400, "IIC.400", "Condition.NumberLessThan")
    c.delete_custom_policy_from_permission_set(DeleteCustomPolicyFromPermissionSetRequest(
        instance_id=iid, permission_set_id=ps))
    expect_error(lambda: c.get_custom_policy_for_permission_set(
        GetCustomPolicyForPermissionSetRequest(instance_id=iid, permission_set_id=ps)),
        404, "IIC.404")

    c.put_custom_role_to_permission_set(PutCustomRoleToPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=PutCustomRoleToPermissionSetReqBody(custom_role=ROLE_DOC)))
    assert json.loads(c.get_custom_role_for_permission_set(GetCustomRoleForPermissionSetRequest(
        instance_id=iid, permission_set_id=ps)).custom_role) == json.loads(ROLE_DOC)
    expect_error(lambda: c.put_custom_role_to_permission_set(PutCustomRoleToPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=PutCustomRoleToPermissionSetReqBody(custom_role=POLICY))), 400, "IIC.400", "Version")
    c.delete_custom_role_from_permission_set(DeleteCustomRoleFromPermissionSetRequest(
        instance_id=iid, permission_set_id=ps))


def test_policy_limit_and_set_quota_are_enforced_and_configurable():
    server = new_server(env={"IIC_POLICIES_PER_SET": "3", "IIC_PERMISSION_SETS_QUOTA": "2"})
    try:
        c = identity_center(server)
        c.start_identity_center(StartIdentityCenterRequest())
        iid = c.list_instances(ListInstancesRequest()).instances[0].instance_id
        ps = create(c, iid, "Full").permission_set_id
        create(c, iid, "Second")
        expect_error(lambda: create(c, iid, "Third"), 400, "IIC.400", "quota")
        for pid in (FULL, READ):
            c.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
                instance_id=iid, permission_set_id=ps,
                body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=pid)))
        c.put_custom_policy_to_permission_set(PutCustomPolicyToPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=PutCustomPolicyToPermissionSetReqBody(custom_policy=POLICY)))
        # Replacing the custom policy does not count twice; a fourth policy does not fit.
        c.put_custom_policy_to_permission_set(PutCustomPolicyToPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=PutCustomPolicyToPermissionSetReqBody(custom_policy=POLICY)))
        expect_error(lambda: c.attach_managed_role_to_permission_set(
            AttachManagedRoleToPermissionSetRequest(
                instance_id=iid, permission_set_id=ps,
                body=ResourceAttachManagedPolicyToPermissionSetReqBody(managed_role_id=ROLE))),
            400, "IIC.400", "at most 3 policies")
        s = c.get_permission_set_summary(GetPermissionSetSummaryRequest(instance_id=iid))
        assert (s.permission_sets, s.permission_sets_quota, s.permission_policy_count_quota) == (2, 2, 3)
    finally:
        server.close()


def test_tags(env):
    _, c, iid = env
    ps = create(c, iid, "Tagged", tags=[TagDto(key="team", value="core")]).permission_set_id
    rt = "identitycenter:permissionset"
    c.create_tag_resource(CreateTagResourceRequest(resource_type=rt, resource_id=ps,
                                                   body=TagResourceReqBody(tags=[
                                                       TagDto(key="env", value="prod"),
                                                       TagDto(key="team", value="platform")])))
    tags = c.list_tag_resources(ListTagResourcesRequest(resource_type=rt, resource_id=ps)).tags
    assert sorted((t.key, t.value) for t in tags) == [("env", "prod"), ("team", "platform")]
    c.delete_tag_resource(DeleteTagResourceRequest(resource_type=rt, resource_id=ps,
                                                   body=DeleteTagResourceReqBody(tags=[
                                                       DeleteTagDto(key="env", value="prod")])))
    tags = c.list_tag_resources(ListTagResourcesRequest(resource_type=rt, resource_id=ps)).tags
    assert [(t.key, t.value) for t in tags] == [("team", "platform")]
    expect_error(lambda: c.create_tag_resource(CreateTagResourceRequest(
        resource_type=rt, resource_id=ps, body=TagResourceReqBody(tags=[
            TagDto(key="_sys_x", value="")]))), 400, "IIC.400", "tags.key")
    expect_error(lambda: c.list_tag_resources(ListTagResourcesRequest(
        resource_type="identitycenter:other", resource_id=ps)), 400, "IIC.400", "resource_type")
    expect_error(lambda: c.list_tag_resources(ListTagResourcesRequest(
        resource_type=rt, resource_id="ps-0000000000000000")), 404, "IIC.1205")


def test_operator_extends_the_system_policy_catalogue(tmp_path):
    extra = tmp_path / "policies.json"
    extra.write_text(json.dumps([{
        "id": "0123456789abcdef0123456789abcdef", "kind": "policy", "name": "BillingReadOnly",
        "description": "Read billing.",
        "document": {"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["bss:*:get*"]}]}}]))
    server = new_server(env={"IIC_SYSTEM_POLICIES_FILE": str(extra)})
    try:
        c = identity_center(server)
        c.start_identity_center(StartIdentityCenterRequest())
        iid = c.list_instances(ListInstancesRequest()).instances[0].instance_id
        ps = create(c, iid, "Billing").permission_set_id
        for pid in ("0123456789abcdef0123456789abcdef", FULL):
            c.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
                instance_id=iid, permission_set_id=ps,
                body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=pid)))
        names = [p.policy_name for p in c.list_managed_policies_in_permission_set(
            ListManagedPoliciesInPermissionSetRequest(instance_id=iid, permission_set_id=ps)
        ).attached_managed_policies]
        assert names == ["BillingReadOnly", "IdentityCenterFullAccess"]
    finally:
        server.close()
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{"id": "x", "kind": "policy", "name": "Bad", "description": "",
                                   "document": {"Version": "5.0", "Statement": []}}]))
    with pytest.raises(RuntimeError) as info:
        new_server(env={"IIC_SYSTEM_POLICIES_FILE": str(broken)})
    assert "Statement" in str(info.value)
