"""Account assignments and provisioning through the official SDKs: the full flow of the issue —
users and groups, a set with a custom policy and two system policies, assignments to two member
accounts polled to SUCCEEDED, listings from both sides, NOT_PROVISIONED after a change,
re-provisioning, deletions polled to SUCCEEDED, deleting the set — and the error paths."""

import json
import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenter.v1 import (
    AttachManagedPolicyToPermissionSetReqBody, AttachManagedPolicyToPermissionSetRequest,
    CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
    CreatePermissionSetRequest, DeleteAccountAssignmentReqBody, DeleteAccountAssignmentRequest,
    DeletePermissionSetRequest, DescribeAccountAssignmentCreationStatusRequest,
    DescribeAccountAssignmentDeletionStatusRequest, DescribePermissionSetProvisioningStatusRequest,
    DisassociateProfileReqBody, DisassociateProfileRequest, ListAccountAssignmentCreationStatusRequest,
    ListAccountAssignmentDeletionStatusRequest, ListAccountAssignmentsForPrincipalRequest,
    ListAccountAssignmentsRequest, ListAccountsForProvisionedPermissionSetRequest,
    ListInstancesRequest, ListPermissionSetProvisioningStatusRequest,
    ListPermissionSetsProvisionedToAccountRequest, ProvisionPermissionSetReqBody,
    ProvisionPermissionSetRequest, PutCustomPolicyToPermissionSetReqBody,
    PutCustomPolicyToPermissionSetRequest, StartIdentityCenterRequest,
    UpdatePermissionSetReqBody, UpdatePermissionSetRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateGroupReqBody, CreateGroupRequest, CreateUserReqBody, CreateUserRequest, DeleteUserRequest,
    EmailDto, NameDto)
from huaweicloudsdkorganizations.v1 import (
    CreateAccountReqBody, CreateAccountRequest, ShowCreateAccountStatusRequest)

from iic_harness import expect_error, new_server
from sdk_clients import identity_center, identity_store, organizations

FULL = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a50"
READ = "8a14c1e2f0b34c4f9a0e6f1d2c3b4a51"
POLICY = json.dumps({"Version": "5.0", "Statement": [{"Effect": "Allow", "Action": ["obs:*:get*"]}]})


def poll(fn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = fn()
        if s.status != "IN_PROGRESS":
            return s
        time.sleep(0.05)
    raise AssertionError("still IN_PROGRESS")


def member_account(org, name):
    st = org.create_account(CreateAccountRequest(body=CreateAccountReqBody(name=name))).create_account_status
    deadline = time.time() + 20
    while time.time() < deadline:
        s = org.show_create_account_status(ShowCreateAccountStatusRequest(
            create_account_status_id=st.id)).create_account_status
        if s.state == "succeeded":
            return s.account_id
        time.sleep(0.05)
    raise AssertionError("account not created")


@pytest.fixture(scope="module")
def world():
    server = new_server()
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    store = identity_store(server)
    org = organizations(server)
    user = store.create_user(CreateUserRequest(identity_store_id=ins.identity_store_id, body=CreateUserReqBody(
        user_name="alice", display_name="Alice", password_mode="EMAIL",
        name=NameDto(family_name="A", given_name="Alice"),
        emails=[EmailDto(value="alice@example.com", type="work", primary=True)]))).user_id
    group = store.create_group(CreateGroupRequest(identity_store_id=ins.identity_store_id,
                                                  body=CreateGroupReqBody(display_name="Ops"))).group_id
    accounts = [member_account(org, "prod-account"), member_account(org, "dev-account")]
    yield dict(server=server, ic=ic, iid=ins.instance_id, sid=ins.identity_store_id, store=store,
               user=user, group=group, accounts=accounts)
    server.close()


def assign(w, ps, principal, ptype, account):
    return w["ic"].create_account_assignment(CreateAccountAssignmentRequest(
        instance_id=w["iid"], body=CreateAccountAssignmentReqBody(
            permission_set_id=ps, principal_id=principal, principal_type=ptype,
            target_id=account, target_type="ACCOUNT"))).account_assignment_creation_status


def unassign(w, ps, principal, ptype, account):
    return w["ic"].delete_account_assignment(DeleteAccountAssignmentRequest(
        instance_id=w["iid"], body=DeleteAccountAssignmentReqBody(
            permission_set_id=ps, principal_id=principal, principal_type=ptype,
            target_id=account, target_type="ACCOUNT"))).account_assignment_deletion_status


def test_full_flow(world):
    w = world
    ic, iid = w["ic"], w["iid"]
    ps = ic.create_permission_set(CreatePermissionSetRequest(instance_id=iid, body=CreatePermissionSetReqBody(
        name="Operators", session_duration="PT4H"))).permission_set.permission_set_id
    ic.put_custom_policy_to_permission_set(PutCustomPolicyToPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, body=PutCustomPolicyToPermissionSetReqBody(custom_policy=POLICY)))
    for pid in (FULL, READ):
        ic.attach_managed_policy_to_permission_set(AttachManagedPolicyToPermissionSetRequest(
            instance_id=iid, permission_set_id=ps,
            body=AttachManagedPolicyToPermissionSetReqBody(managed_policy_id=pid)))

    created = []
    for account in w["accounts"]:
        st = assign(w, ps, w["user"], "USER", account)
        assert st.status == "IN_PROGRESS" and len(st.request_id) == 36
        assert (st.permission_set_id, st.principal_id, st.target_id) == (ps, w["user"], account)
        created.append(st.request_id)
    created.append(assign(w, ps, w["group"], "GROUP", w["accounts"][0]).request_id)
    for rid in created:
        final = poll(lambda: ic.describe_account_assignment_creation_status(
            DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id=rid)
        ).account_assignment_creation_status)
        assert final.status == "SUCCEEDED", final.failure_reason
        assert final.created_date > 0
    listed = ic.list_account_assignment_creation_status(ListAccountAssignmentCreationStatusRequest(
        instance_id=iid, status="SUCCEEDED")).account_assignments_creation_status
    assert set(created) <= {s.request_id for s in listed}

    on_prod = ic.list_account_assignments(ListAccountAssignmentsRequest(
        instance_id=iid, account_id=w["accounts"][0], permission_set_id=ps)).account_assignments
    assert sorted((a.principal_type, a.principal_id) for a in on_prod) == \
        sorted([("USER", w["user"]), ("GROUP", w["group"])])
    for_user = ic.list_account_assignments_for_principal(ListAccountAssignmentsForPrincipalRequest(
        instance_id=iid, principal_id=w["user"], principal_type="USER")).account_assignments
    assert sorted(a.account_id for a in for_user) == sorted(w["accounts"])

    accounts = ic.list_accounts_for_provisioned_permission_set(ListAccountsForProvisionedPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, provisioning_status="LATEST_PERMISSION_SET_PROVISIONED")).account_ids
    assert sorted(accounts) == sorted(w["accounts"])
    sets = ic.list_permission_sets_provisioned_to_account(ListPermissionSetsProvisionedToAccountRequest(
        instance_id=iid, account_id=w["accounts"][1])).permission_sets
    assert sets == [ps]

    # A change makes every account the set is on NOT_PROVISIONED until provisioned again.
    ic.update_permission_set(UpdatePermissionSetRequest(instance_id=iid, permission_set_id=ps,
                                                        body=UpdatePermissionSetReqBody(session_duration="PT8H")))
    stale = ic.list_accounts_for_provisioned_permission_set(ListAccountsForProvisionedPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, provisioning_status="LATEST_PERMISSION_SET_NOT_PROVISIONED")).account_ids
    assert sorted(stale) == sorted(w["accounts"])
    prov = ic.provision_permission_set(ProvisionPermissionSetRequest(
        instance_id=iid, permission_set_id=ps,
        body=ProvisionPermissionSetReqBody(target_type="ALL_PROVISIONED_ACCOUNTS"))).permission_set_provisioning_status
    assert prov.status == "IN_PROGRESS" and len(prov.request_id) == 36
    done = poll(lambda: ic.describe_permission_set_provisioning_status(
        DescribePermissionSetProvisioningStatusRequest(instance_id=iid, request_id=prov.request_id)
    ).permission_set_provisioning_status)
    assert done.status == "SUCCEEDED"
    assert ic.list_accounts_for_provisioned_permission_set(ListAccountsForProvisionedPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, provisioning_status="LATEST_PERMISSION_SET_NOT_PROVISIONED")).account_ids == []
    assert prov.request_id in [s.request_id for s in ic.list_permission_set_provisioning_status(
        ListPermissionSetProvisioningStatusRequest(instance_id=iid)).permission_sets_provisioning_status]

    expect_error(lambda: ic.delete_permission_set(DeletePermissionSetRequest(
        instance_id=iid, permission_set_id=ps)), 409, "IIC.1210")

    deleted = [unassign(w, ps, w["user"], "USER", a).request_id for a in w["accounts"]]
    deleted.append(unassign(w, ps, w["group"], "GROUP", w["accounts"][0]).request_id)
    for rid in deleted:
        final = poll(lambda: ic.describe_account_assignment_deletion_status(
            DescribeAccountAssignmentDeletionStatusRequest(instance_id=iid, request_id=rid)
        ).account_assignment_deletion_status)
        assert final.status == "SUCCEEDED", final.failure_reason
    assert {s.request_id for s in ic.list_account_assignment_deletion_status(
        ListAccountAssignmentDeletionStatusRequest(instance_id=iid)).account_assignments_deletion_status} >= set(deleted)
    again = unassign(w, ps, w["user"], "USER", w["accounts"][0])
    failed = poll(lambda: ic.describe_account_assignment_deletion_status(
        DescribeAccountAssignmentDeletionStatusRequest(instance_id=iid, request_id=again.request_id)
    ).account_assignment_deletion_status)
    assert failed.status == "FAILED" and "does not exist" in failed.failure_reason
    assert ic.list_account_assignments(ListAccountAssignmentsRequest(
        instance_id=iid, account_id=w["accounts"][0])).account_assignments == []
    # With its last assignments gone the set is provisioned nowhere, and can be deleted.
    assert ic.list_accounts_for_provisioned_permission_set(ListAccountsForProvisionedPermissionSetRequest(
        instance_id=iid, permission_set_id=ps)).account_ids == []
    ic.delete_permission_set(DeletePermissionSetRequest(instance_id=iid, permission_set_id=ps))


def test_error_paths(world):
    w = world
    ic, iid = w["ic"], w["iid"]
    ps = ic.create_permission_set(CreatePermissionSetRequest(instance_id=iid, body=CreatePermissionSetReqBody(
        name="Errors"))).permission_set.permission_set_id
    expect_error(lambda: assign(w, ps, w["user"], "USER", "f" * 32), 400, "IIC.1210", "Account not found")
    ghost = w["sid"][2:] + "-00000000-0000-4000-8000-000000000000"
    expect_error(lambda: assign(w, ps, ghost, "USER", w["accounts"][0]), 404, "IIC.404", ghost)
    expect_error(lambda: assign(w, ps, w["user"], "ROBOT", w["accounts"][0]), 400, "IIC.400", "principal_type")
    expect_error(lambda: assign(w, "ps-0000000000000000", w["user"], "USER", w["accounts"][0]), 404, "IIC.1205")
    expect_error(lambda: ic.describe_account_assignment_creation_status(
        DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id="00000000-0000-4000-8000-000000000000")),
        404, "IIC.404")
    expect_error(lambda: ic.list_account_assignments(ListAccountAssignmentsRequest(instance_id=iid)),
                 400, "IIC.400", "account_id")
    expect_error(lambda: ic.provision_permission_set(ProvisionPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, body=ProvisionPermissionSetReqBody(target_type="ACCOUNT"))),
        400, "IIC.400", "target_id")


def test_deleting_a_principal_or_disassociating_removes_assignments(world):
    w = world
    ic, iid = w["ic"], w["iid"]
    ps = ic.create_permission_set(CreatePermissionSetRequest(instance_id=iid, body=CreatePermissionSetReqBody(
        name="Cascade"))).permission_set.permission_set_id
    temp = w["store"].create_user(CreateUserRequest(identity_store_id=w["sid"], body=CreateUserReqBody(
        user_name="temp.user", display_name="Temp", password_mode="EMAIL",
        name=NameDto(family_name="T", given_name="Temp"),
        emails=[EmailDto(value="temp@example.com", type="work", primary=True)]))).user_id
    for principal, ptype in ((temp, "USER"), (w["group"], "GROUP")):
        rid = assign(w, ps, principal, ptype, w["accounts"][1]).request_id
        assert poll(lambda: ic.describe_account_assignment_creation_status(
            DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id=rid)
        ).account_assignment_creation_status).status == "SUCCEEDED"
    w["store"].delete_user(DeleteUserRequest(identity_store_id=w["sid"], user_id=temp))
    left = ic.list_account_assignments(ListAccountAssignmentsRequest(
        instance_id=iid, account_id=w["accounts"][1], permission_set_id=ps)).account_assignments
    assert [(a.principal_type, a.principal_id) for a in left] == [("GROUP", w["group"])]
    ic.disassociate_profile(DisassociateProfileRequest(instance_id=iid, body=DisassociateProfileReqBody(
        id=w["group"], accessor_type="GROUP", identity_store_id=w["sid"])))
    assert ic.list_account_assignments_for_principal(ListAccountAssignmentsForPrincipalRequest(
        instance_id=iid, principal_id=w["group"], principal_type="GROUP")).account_assignments == []


def test_removing_an_account_removes_its_assignments(world):
    from huaweicloudsdkorganizations.v1 import RemoveAccountRequest
    w = world
    ic, iid = w["ic"], w["iid"]
    org = organizations(w["server"])
    leaving = member_account(org, "leaving-account")
    ps = ic.create_permission_set(CreatePermissionSetRequest(instance_id=iid, body=CreatePermissionSetReqBody(
        name="Leaving"))).permission_set.permission_set_id
    rid = assign(w, ps, w["user"], "USER", leaving).request_id
    assert poll(lambda: ic.describe_account_assignment_creation_status(
        DescribeAccountAssignmentCreationStatusRequest(instance_id=iid, request_id=rid)
    ).account_assignment_creation_status).status == "SUCCEEDED"
    org.remove_account(RemoveAccountRequest(account_id=leaving))
    assert ic.list_account_assignments(ListAccountAssignmentsRequest(
        instance_id=iid, account_id=leaving)).account_assignments == []
    ic.delete_permission_set(DeletePermissionSetRequest(instance_id=iid, permission_set_id=ps))


def test_in_flight_requests_are_bounded():
    server = new_server(env={"IIC_MAX_REQUESTS_IN_FLIGHT": "2", "IIC_ACCOUNT_CREATION_DELAY_MS": "0"})
    try:
        ic = identity_center(server)
        ic.start_identity_center(StartIdentityCenterRequest())
        ins = ic.list_instances(ListInstancesRequest()).instances[0]
        ps = ic.create_permission_set(CreatePermissionSetRequest(instance_id=ins.instance_id,
                                                                 body=CreatePermissionSetReqBody(name="Bound"))).permission_set.permission_set_id
        # Provisioning requests to all provisioned accounts need no principal; fire a burst.
        outcomes = []
        for _ in range(30):
            try:
                ic.provision_permission_set(ProvisionPermissionSetRequest(
                    instance_id=ins.instance_id, permission_set_id=ps,
                    body=ProvisionPermissionSetReqBody(target_type="ALL_PROVISIONED_ACCOUNTS")))
                outcomes.append("ok")
            except ClientRequestException as e:
                assert (e.status_code, e.error_code) == (409, "IIC.1006")
                outcomes.append("refused")
        assert "ok" in outcomes
        statuses = ic.list_permission_set_provisioning_status(ListPermissionSetProvisioningStatusRequest(
            instance_id=ins.instance_id)).permission_sets_provisioning_status
        assert len(statuses) == outcomes.count("ok"), "a refused request leaves nothing behind"
    finally:
        server.close()
