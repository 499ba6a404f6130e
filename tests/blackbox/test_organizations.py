"""Organizations through `huaweicloudsdkorganizations`: the organization, roots and OUs, member
accounts (asynchronous creation and closure), delegated administrators, trusted services, and
the authorization matrix of the admin API."""

import re
import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenter.v1 import (
    GetIdentityCenterServiceStatusRequest, ListInstancesRequest, StartIdentityCenterRequest)
from huaweicloudsdkorganizations.v1 import (
    CloseAccountRequest, CreateAccountReqBody, CreateAccountRequest, CreateOrganizationRequest,
    CreateOrganizationalUnitReqBody, CreateOrganizationalUnitRequest,
    CreateResourceAccountReqBody, CreateResourceAccountRequest, DelegatedAdministratorReqBody,
    DeleteOrganizationRequest, DeregisterDelegatedAdministratorRequest,
    DisableTrustedServiceRequest, EnableTrustedServiceRequest, ListAccountsRequest,
    ListCloseAccountStatusesRequest, ListCreateAccountStatusesRequest,
    ListDelegatedAdministratorsRequest, ListDelegatedServicesRequest,
    ListOrganizationalUnitsRequest, ListRootsRequest, ListServicesRequest,
    ListTrustedServicesRequest, MoveAccountReqBody, MoveAccountRequest,
    RegisterDelegatedAdministratorRequest, RemoveAccountRequest, ShowAccountRequest,
    ShowCreateAccountStatusRequest, ShowOrganizationRequest, ShowOrganizationalUnitRequest,
    TrustedServiceReqBody, UpdateAccountReqBody, UpdateAccountRequest)
from huaweicloudsdkidentitycenterstore.v1 import ListUsersRequest

from iic_harness import expect_error, iic_cli, new_server
from sdk_clients import identity_center, identity_store, organizations

IC = "service.IdentityCenter"


@pytest.fixture(scope="module")
def env():
    server = new_server()
    yield server, organizations(server)
    server.close()


def create_account(client, name, **kw):
    return client.create_account(CreateAccountRequest(
        body=CreateAccountReqBody(name=name, **kw))).create_account_status


def wait_created(client, status_id, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = client.show_create_account_status(ShowCreateAccountStatusRequest(
            create_account_status_id=status_id)).create_account_status
        if s.state != "in_progress":
            return s
        time.sleep(0.05)
    raise AssertionError(f"{status_id} still in progress")


def root_id(client):
    return client.list_roots(ListRootsRequest()).roots[0].id


def test_show_organization_and_roots(env):
    server, c = env
    org = c.show_organization(ShowOrganizationRequest()).organization
    assert re.match(r"^o-[0-9a-f]{32}$", org.id)
    assert org.management_account_id == server.creds["account_id"]
    assert org.management_account_name == "management"
    assert org.urn.endswith(org.id) and org.created_at is not None
    roots = c.list_roots(ListRootsRequest()).roots
    assert len(roots) == 1 and re.match(r"^r-[0-9a-z]{4,32}$", roots[0].id)
    assert roots[0].policy_types == []
    expect_error(lambda: c.create_organization(CreateOrganizationRequest()), 409,
                 "Organizations.409", "already belongs")


def test_create_account_is_asynchronous_and_lands_under_the_root(env):
    _, c = env
    st = create_account(c, "dev-account", email="dev@example.com", description="developers")
    assert re.match(r"^car-[0-9a-z]{8,32}$", st.id)
    assert st.state in ("in_progress", "succeeded")
    assert re.match(r"^[0-9a-f]{32}$", st.account_id) and st.account_name == "dev-account"
    done = wait_created(c, st.id)
    assert done.state == "succeeded" and done.completed_at is not None
    acct = c.show_account(ShowAccountRequest(account_id=st.account_id)).account
    assert (acct.name, acct.email, acct.description) == ("dev-account", "dev@example.com",
                                                         "developers")
    assert acct.status == "active" and acct.join_method == "created"
    under_root = c.list_accounts(ListAccountsRequest(parent_id=root_id(c))).accounts
    assert st.account_id in [a.id for a in under_root]
    statuses = c.list_create_account_statuses(ListCreateAccountStatusesRequest(
        states=["succeeded"])).create_account_statuses
    assert st.id in [s.id for s in statuses]
    expect_error(lambda: create_account(c, "dev-account"), 409, "Organizations.409",
                 "dev-account")


def test_create_account_v2_and_validation(env):
    _, c = env
    st = c.create_resource_account(CreateResourceAccountRequest(
        body=CreateResourceAccountReqBody(name="resource1", description="v2"))).create_account_status
    assert wait_created(c, st.id).state == "succeeded"
    expect_error(lambda: c.create_resource_account(CreateResourceAccountRequest(
        body=CreateResourceAccountReqBody(name="short"))), 400, "Organizations.400", "name")
    for kw, field in [({"name": "1starts-with-digit"}, "name"),
                      ({"name": "okname", "email": "not-an-email"}, "email"),
                      ({"name": "okname", "phone": "12345"}, "phone"),
                      ({"name": "okname", "description": "x" * 129}, "description")]:
        expect_error(lambda: c.create_account(CreateAccountRequest(
            body=CreateAccountReqBody(**kw))), 400, "Organizations.400", field)
    expect_error(lambda: c.show_create_account_status(ShowCreateAccountStatusRequest(
        create_account_status_id="car-00000000")), 404, "Organizations.404")
    expect_error(lambda: c.list_create_account_statuses(ListCreateAccountStatusesRequest(
        states=["maybe"])), 400, "Organizations.400", "states")
    expect_error(lambda: c.show_account(ShowAccountRequest(account_id="f" * 32)), 404,
                 "Organizations.404")


def test_ous_moves_update_and_paging(env):
    _, c = env
    root = root_id(c)
    ou = c.create_organizational_unit(CreateOrganizationalUnitRequest(
        body=CreateOrganizationalUnitReqBody(name="Engineering", parent_id=root))).organizational_unit
    assert re.match(r"^ou-[0-9a-z]{8,32}$", ou.id) and ou.name == "Engineering"
    nested = c.create_organizational_unit(CreateOrganizationalUnitRequest(
        body=CreateOrganizationalUnitReqBody(name="Platform", parent_id=ou.id))).organizational_unit
    expect_error(lambda: c.create_organizational_unit(CreateOrganizationalUnitRequest(
        body=CreateOrganizationalUnitReqBody(name="Engineering", parent_id=root))), 409,
        "Organizations.409")
    expect_error(lambda: c.create_organizational_unit(CreateOrganizationalUnitRequest(
        body=CreateOrganizationalUnitReqBody(name="bad/name", parent_id=root))), 400,
        "Organizations.400", "name")
    assert c.show_organizational_unit(ShowOrganizationalUnitRequest(
        organizational_unit_id=nested.id)).organizational_unit.name == "Platform"
    assert [o.id for o in c.list_organizational_units(ListOrganizationalUnitsRequest(
        parent_id=ou.id)).organizational_units] == [nested.id]

    acct = wait_created(c, create_account(c, "mover").id).account_id
    c.move_account(MoveAccountRequest(account_id=acct, body=MoveAccountReqBody(
        source_parent_id=root, destination_parent_id=nested.id)))
    assert [a.id for a in c.list_accounts(ListAccountsRequest(parent_id=nested.id)).accounts] == [acct]
    expect_error(lambda: c.move_account(MoveAccountRequest(account_id=acct, body=MoveAccountReqBody(
        source_parent_id=root, destination_parent_id=ou.id))), 409, "Organizations.409",
        "source_parent_id")
    updated = c.update_account(UpdateAccountRequest(account_id=acct, body=UpdateAccountReqBody(
        description="moved under platform")))
    assert c.show_account(ShowAccountRequest(account_id=acct)).account.description == \
        "moved under platform"
    assert updated is not None

    page1 = c.list_accounts(ListAccountsRequest(limit=1))
    assert len(page1.accounts) == 1 and page1.page_info.next_marker
    seen, marker = [], None
    while True:
        r = c.list_accounts(ListAccountsRequest(limit=2, marker=marker))
        seen += [a.id for a in r.accounts]
        marker = r.page_info.next_marker
        if not marker:
            break
    assert len(seen) == len(set(seen)) == len(c.list_accounts(ListAccountsRequest()).accounts)
    expect_error(lambda: c.list_accounts(ListAccountsRequest(limit=2001)), 400,
                 "Organizations.400", "limit")


def test_remove_and_close_accounts(env):
    server, c = env
    expect_error(lambda: c.remove_account(RemoveAccountRequest(
        account_id=server.creds["account_id"])), 409, "Organizations.409", "management")
    expect_error(lambda: c.close_account(CloseAccountRequest(
        account_id=server.creds["account_id"])), 409, "Organizations.409", "management")
    leaver = wait_created(c, create_account(c, "leaver").id).account_id
    c.remove_account(RemoveAccountRequest(account_id=leaver))
    expect_error(lambda: c.show_account(ShowAccountRequest(account_id=leaver)), 404,
                 "Organizations.404")
    closer = wait_created(c, create_account(c, "closer").id).account_id
    ckey = iic_cli(server, "keys", "create", "--account", closer)
    as_closer = organizations(server, ckey["access_key"], ckey["secret_key"], closer)
    assert as_closer.show_organization(ShowOrganizationRequest()).organization
    c.close_account(CloseAccountRequest(account_id=closer))
    deadline = time.time() + 10
    while time.time() < deadline:
        st = c.list_close_account_statuses(ListCloseAccountStatusesRequest()).close_account_statuses
        mine = [s for s in st if s.account_id == closer]
        if mine and mine[0].state == "suspended":
            break
        time.sleep(0.05)
    assert mine[0].state == "suspended"
    assert c.show_account(ShowAccountRequest(account_id=closer)).account.status == "suspended"
    expect_error(lambda: as_closer.show_organization(ShowOrganizationRequest()), 401,
                 "APIGW.0301", "closed")
    expect_error(lambda: c.close_account(CloseAccountRequest(account_id=closer)), 409,
                 "Organizations.409")


def test_trusted_services_and_services(env):
    _, c = env
    assert IC in c.list_services(ListServicesRequest()).services
    c.enable_trusted_service(EnableTrustedServiceRequest(body=TrustedServiceReqBody(
        service_principal="service.Config")))
    listed = [t.service_principal for t in c.list_trusted_services(
        ListTrustedServicesRequest()).trusted_services]
    assert "service.Config" in listed
    c.disable_trusted_service(DisableTrustedServiceRequest(body=TrustedServiceReqBody(
        service_principal="service.Config")))
    expect_error(lambda: c.disable_trusted_service(DisableTrustedServiceRequest(
        body=TrustedServiceReqBody(service_principal="service.Config"))), 404,
        "Organizations.404")
    expect_error(lambda: c.enable_trusted_service(EnableTrustedServiceRequest(
        body=TrustedServiceReqBody(service_principal="service.Nope"))), 400,
        "Organizations.400", "service_principal")


def test_authorization_matrix_and_keys(env):
    """Management account allowed; delegated administrator allowed; another member refused with
    IIC.1215; after deregistration refused again."""
    server, c = env
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    store_id = ic.list_instances(ListInstancesRequest()).instances[0].identity_store_id
    assert IC in [t.service_principal for t in c.list_trusted_services(
        ListTrustedServicesRequest()).trusted_services], "starting the service trusts it"

    delegate = wait_created(c, create_account(c, "delegate").id).account_id
    other = wait_created(c, create_account(c, "bystander").id).account_id
    dkey = iic_cli(server, "keys", "create", "--account", delegate)
    okey = iic_cli(server, "keys", "create", "--account", other)
    assert dkey["account_id"] == delegate and len(dkey["secret_key"]) == 40
    listed = iic_cli(server, "keys", "list", "--account", delegate)
    assert [k["access_key"] for k in listed] == [dkey["access_key"]]
    assert "secret_key" not in listed[0]

    as_delegate = identity_center(server, dkey["access_key"], dkey["secret_key"], delegate)
    as_other = identity_center(server, okey["access_key"], okey["secret_key"], other)
    status = GetIdentityCenterServiceStatusRequest()
    for client in (as_delegate, as_other):
        e = expect_error(lambda: client.get_identity_center_service_status(status), 403,
                         "IIC.1215")
        assert e.encoded_auth_msg
    decoded = iic_cli(server, "decode-authorization-message", e.encoded_auth_msg)
    assert decoded["account_id"] == other
    assert decoded["action"] == "IdentityCenter:instance:getIdentityCenterStatus"

    c.register_delegated_administrator(RegisterDelegatedAdministratorRequest(
        body=DelegatedAdministratorReqBody(service_principal=IC, account_id=delegate)))
    assert as_delegate.get_identity_center_service_status(status).service_status == "ENABLED"
    assert as_delegate.list_instances(ListInstancesRequest()).instances[0].identity_store_id == \
        store_id
    delegate_store = identity_store(server, project_id=None, ak=dkey["access_key"],
                                    sk=dkey["secret_key"])
    assert delegate_store.list_users(ListUsersRequest(identity_store_id=store_id)).users == []
    expect_error(lambda: as_other.list_instances(ListInstancesRequest()), 403, "IIC.1215")
    expect_error(lambda: as_delegate.start_identity_center(StartIdentityCenterRequest()), 403,
                 "IIC.1215")
    admins = c.list_delegated_administrators(ListDelegatedAdministratorsRequest(
        service_principal=IC)).delegated_administrators
    assert [(a.account_id, a.account_name) for a in admins] == [(delegate, "delegate")]
    services = c.list_delegated_services(ListDelegatedServicesRequest(
        account_id=delegate)).delegated_services
    assert [s.service_principal for s in services] == [IC]
    # A delegated administrator may read the organization, a plain member may not.
    as_delegate_org = organizations(server, dkey["access_key"], dkey["secret_key"], delegate)
    assert as_delegate_org.list_accounts(ListAccountsRequest()).accounts
    as_other_org = organizations(server, okey["access_key"], okey["secret_key"], other)
    expect_error(lambda: as_other_org.list_accounts(ListAccountsRequest()), 401,
                 "Organizations.1002")
    expect_error(lambda: as_delegate_org.create_account(CreateAccountRequest(
        body=CreateAccountReqBody(name="sneaky"))), 401, "Organizations.1001")
    expect_error(lambda: c.register_delegated_administrator(RegisterDelegatedAdministratorRequest(
        body=DelegatedAdministratorReqBody(service_principal=IC,
                                           account_id=server.creds["account_id"]))), 409,
        "Organizations.409", "management")
    expect_error(lambda: c.remove_account(RemoveAccountRequest(account_id=delegate)), 409,
                 "Organizations.409", "delegated")

    c.deregister_delegated_administrator(DeregisterDelegatedAdministratorRequest(
        body=DelegatedAdministratorReqBody(service_principal=IC, account_id=delegate)))
    expect_error(lambda: as_delegate.get_identity_center_service_status(status), 403, "IIC.1215")

    iic_cli(server, "keys", "delete", okey["access_key"])
    # A running server learns of the deletion within a fraction of a second, well before its
    # 5-second credential cache would expire.
    deadline = time.time() + 2
    while time.time() < deadline:
        with pytest.raises(ClientRequestException) as refused:
            as_other.list_instances(ListInstancesRequest())  # a plain member: 403 while the key lives
        if refused.value.status_code == 401:
            break
        assert refused.value.status_code == 403, refused.value.error_msg
        time.sleep(0.05)
    expect_error(lambda: as_other.list_instances(ListInstancesRequest()), 401, "APIGW.0301")


def test_create_and_delete_an_organization():
    server = new_server()
    try:
        c = organizations(server)
        loner = wait_created(c, create_account(c, "loner").id).account_id
        expect_error(lambda: c.delete_organization(DeleteOrganizationRequest()), 409,
                     "Organizations.409", "member")
        c.remove_account(RemoveAccountRequest(account_id=loner))
        key = iic_cli(server, "keys", "create", "--account", loner)
        as_loner = organizations(server, key["access_key"], key["secret_key"], loner)
        expect_error(lambda: as_loner.show_organization(ShowOrganizationRequest()), 404,
                     "Organizations.404")
        org = as_loner.create_organization(CreateOrganizationRequest()).organization
        assert org.management_account_id == loner and org.management_account_name == "loner"
        assert as_loner.list_roots(ListRootsRequest()).roots
        as_loner.delete_organization(DeleteOrganizationRequest())
        expect_error(lambda: as_loner.show_organization(ShowOrganizationRequest()), 404,
                     "Organizations.404")
    finally:
        server.close()


def test_a_member_cannot_manage_the_organization(env):
    server, c = env
    member = wait_created(c, create_account(c, "plainmember").id).account_id
    key = iic_cli(server, "keys", "create", "--account", member)
    m = organizations(server, key["access_key"], key["secret_key"], member)
    assert m.show_organization(ShowOrganizationRequest()).organization.management_account_id == \
        server.creds["account_id"]
    expect_error(lambda: m.enable_trusted_service(EnableTrustedServiceRequest(
        body=TrustedServiceReqBody(service_principal=IC))), 401, "Organizations.1001")
    expect_error(lambda: m.list_roots(ListRootsRequest()), 401, "Organizations.1002")
