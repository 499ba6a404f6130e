"""Attributes for access control (ABAC) through the official SDK: the four
InstanceAccessControlAttributeConfiguration operations, every refusal, and a real sign-in whose
session and temporary credentials carry the principal tags resolved from the user's attributes
(read from the database, which the wire does not show)."""

import json
import os
import sqlite3

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    AccessControlAttributeDto, AccessControlAttributeValueDto,
    CreateInstanceAccessControlAttributeConfigurationReqBody,
    CreateInstanceAccessControlAttributeConfigurationRequest,
    DeleteInstanceAccessControlAttributeConfigurationRequest,
    DescribeInstanceAccessControlAttributeConfigurationRequest,
    InstanceAccessControlAttributeConfigurationDto, ListInstancesRequest,
    StartIdentityCenterRequest, UpdateInstanceAccessControlAttributeConfigurationReqBody,
    UpdateInstanceAccessControlAttributeConfigurationRequest)
from huaweicloudsdkidentitycenterportalapi.v1 import (
    GetAgencyCredentialsRequest, ListAccountAgenciesRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, EmailDto, EnterpriseDto, ManagerDto, NameDto)

from iic_harness import expect_error, iic_cli, new_server
from portal_forms import approve_device
from portal_world import (
    assign_and_provision, member_account, poll_for_token, register_client,
    start_device_authorization)
from sdk_clients import identity_center, identity_store
from test_portal import portal_client

FIELD = "instance_access_control_attribute_configuration.access_control_attributes"


@pytest.fixture(scope="module")
def env():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    yield server, ic, ins
    server.close()


@pytest.fixture()
def instance_id(env):
    """The instance, without a configuration before and after the test."""
    _, ic, ins = env
    yield ins.instance_id
    try:
        delete(ic, ins.instance_id)
    except Exception:
        pass


def attribute(key, source):
    return AccessControlAttributeDto(key=key, value=AccessControlAttributeValueDto(source=source))


def configuration(*pairs):
    return InstanceAccessControlAttributeConfigurationDto(access_control_attributes=[
        attribute(k, s if isinstance(s, list) else [s]) for k, s in pairs])


def create(ic, instance_id, *pairs):
    return ic.create_instance_access_control_attribute_configuration(
        CreateInstanceAccessControlAttributeConfigurationRequest(
            instance_id=instance_id,
            body=CreateInstanceAccessControlAttributeConfigurationReqBody(
                instance_access_control_attribute_configuration=configuration(*pairs))))


def update(ic, instance_id, *pairs):
    return ic.update_instance_access_control_attribute_configuration(
        UpdateInstanceAccessControlAttributeConfigurationRequest(
            instance_id=instance_id,
            body=UpdateInstanceAccessControlAttributeConfigurationReqBody(
                instance_access_control_attribute_configuration=configuration(*pairs))))


def describe(ic, instance_id):
    return ic.describe_instance_access_control_attribute_configuration(
        DescribeInstanceAccessControlAttributeConfigurationRequest(instance_id=instance_id))


def delete(ic, instance_id):
    return ic.delete_instance_access_control_attribute_configuration(
        DeleteInstanceAccessControlAttributeConfigurationRequest(instance_id=instance_id))


def pairs_of(described):
    return [(a.key, a.value.source) for a in
            described.instance_access_control_attribute_configuration.access_control_attributes]


# --- the four operations ------------------------------------------------------------------------

def test_create_describe_update_delete(env, instance_id):
    _, ic, _ = env
    created = create(ic, instance_id, ("department", "${path:enterprise.department}"),
                     ("Cost Center", "${path:enterprise.costCenter}"), ("部门", "${user:email}"))
    assert created.status_code == 200
    d = describe(ic, instance_id)
    assert d.status == "ENABLED" and d.status_reason is None
    assert pairs_of(d) == [("department", ["${path:enterprise.department}"]),
                           ("Cost Center", ["${path:enterprise.costCenter}"]),
                           ("部门", ["${user:email}"])]
    assert update(ic, instance_id, ("email", "${path:emails[primary eq true].value}"),
                  ("city", '${path:addresses[type eq "work"].locality}')).status_code == 200
    assert pairs_of(describe(ic, instance_id)) == [
        ("email", ["${path:emails[primary eq true].value}"]),
        ("city", ['${path:addresses[type eq "work"].locality}'])], "the list is replaced whole"
    update(ic, instance_id)
    assert pairs_of(describe(ic, instance_id)) == [], "an empty list is a configuration too"
    assert delete(ic, instance_id).status_code == 200
    expect_error(lambda: describe(ic, instance_id), 404, "IIC.404", instance_id)


def test_twenty_attributes_is_the_most(env, instance_id):
    _, ic, _ = env
    create(ic, instance_id, *[(f"k{i}", "${user:email}") for i in range(20)])
    assert len(pairs_of(describe(ic, instance_id))) == 20
    expect_error(lambda: update(ic, instance_id, *[(f"k{i}", "${user:email}") for i in range(21)]),
                 400, "IIC.400", FIELD, "at most 20")


def test_a_second_create_conflicts_and_changes_nothing(env, instance_id):
    _, ic, _ = env
    create(ic, instance_id, ("email", "${user:email}"))
    expect_error(lambda: create(ic, instance_id, ("name", "${user:name}")), 409, "IIC.1007",
                 "already has an access control attribute configuration")
    assert pairs_of(describe(ic, instance_id)) == [("email", ["${user:email}"])]


def test_describe_update_delete_without_a_configuration_are_404(env, instance_id):
    _, ic, _ = env
    for call in (lambda: describe(ic, instance_id),
                 lambda: update(ic, instance_id, ("email", "${user:email}")),
                 lambda: delete(ic, instance_id)):
        expect_error(call, 404, "IIC.404", "access control attribute configuration", instance_id)


@pytest.mark.parametrize("pairs,fragments", [
    ([("_sys_dept", "${user:email}")], [f"{FIELD}[0].key", "_sys_"]),
    ([(" dept", "${user:email}")], [f"{FIELD}[0].key", "space"]),
    ([("dept ", "${user:email}")], [f"{FIELD}[0].key", "space"]),
    ([("de/pt", "${user:email}")], [f"{FIELD}[0].key", "only letters"]),
    ([("k" * 129, "${user:email}")], [f"{FIELD}[0].key", "between 1 and 128"]),
    ([("", "${user:email}")], [f"{FIELD}[0].key", "between 1 and 128"]),
    ([("Dept", "${user:email}"), ("dept", "${user:name}")], [f"{FIELD}[1].key", "repeats"]),
    ([("dept", "${path:enterprise.dept}")], [f"{FIELD}[0].value.source", "user attribute"]),
    ([("dept", "${user:password}")], [f"{FIELD}[0].value.source", "user attribute"]),
    ([("dept", "")], [f"{FIELD}[0].value.source", "user attribute"]),
    ([("dept", "x" * 256)], [f"{FIELD}[0].value.source", "between 0 and 255"]),
    ([("dept", "${user:email}#")], [f"{FIELD}[0].value.source", "only letters"]),
    ([("dept", [])], [f"{FIELD}[0].value.source", "exactly 1 item"]),
    ([("dept", ["${user:email}", "${user:name}"])], [f"{FIELD}[0].value.source", "exactly 1"]),
    ([("ok", "${user:email}"), ("bad", "${user:nope}")], [f"{FIELD}[1].value.source"]),
])
def test_invalid_configurations_are_400_naming_the_field(env, instance_id, pairs, fragments):
    _, ic, _ = env
    expect_error(lambda: create(ic, instance_id, *pairs), 400, "IIC.400", *fragments)
    expect_error(lambda: describe(ic, instance_id), 404, "IIC.404")
    create(ic, instance_id, ("email", "${user:email}"))
    expect_error(lambda: update(ic, instance_id, *pairs), 400, "IIC.400", *fragments)
    assert pairs_of(describe(ic, instance_id)) == [("email", ["${user:email}"])]


def test_a_missing_body_is_400(env, instance_id):
    _, ic, _ = env
    request = CreateInstanceAccessControlAttributeConfigurationRequest(
        instance_id=instance_id, body=CreateInstanceAccessControlAttributeConfigurationReqBody())
    expect_error(lambda: ic.create_instance_access_control_attribute_configuration(request),
                 400, "IIC.400")


def test_an_unknown_instance_is_404_on_every_operation(env):
    _, ic, _ = env
    other = "ins-0000000000000000"
    for call in (lambda: create(ic, other, ("email", "${user:email}")),
                 lambda: describe(ic, other),
                 lambda: update(ic, other, ("email", "${user:email}")),
                 lambda: delete(ic, other)):
        expect_error(call, 404, "IIC.404", f"instance {other}")


def test_a_member_account_is_refused(env, instance_id):
    server, _, _ = env
    member = member_account(server, "abac-bystander")
    key = iic_cli(server, "keys", "create", "--account", member)
    as_member = identity_center(server, key["access_key"], key["secret_key"], member)
    for call in (lambda: create(as_member, instance_id, ("email", "${user:email}")),
                 lambda: describe(as_member, instance_id),
                 lambda: update(as_member, instance_id, ("email", "${user:email}")),
                 lambda: delete(as_member, instance_id)):
        e = expect_error(call, 403, "IIC.1215")
        assert e.encoded_auth_msg
    decoded = iic_cli(server, "decode-authorization-message", e.encoded_auth_msg)
    assert decoded["action"] == \
        "IdentityCenter:instance:deleteInstanceAccessControlAttributeConfiguration"


# --- principal tags at sign-in ---------------------------------------------------------------------

def stored_tags(server, table, column, value):
    """The principal_tags column of the row of `table` whose `column` is `value`, as stored."""
    url = server.env.get("IIC_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg
        schema = server.env["IIC_DATABASE_SCHEMA"]
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                f"SELECT principal_tags FROM {schema}.{table} WHERE {column} = %s",
                (value,)).fetchall()
    else:
        with sqlite3.connect(os.path.join(server.data_dir, "iic.db")) as conn:
            rows = conn.execute(f"SELECT principal_tags FROM {table} WHERE {column} = ?",
                                (value,)).fetchall()
    assert len(rows) == 1, rows
    return json.loads(rows[0][0])


def test_a_sign_in_carries_the_resolved_tags_into_its_credentials(env, instance_id):
    server, ic, ins = env
    store = identity_store(server)
    created = store.create_user(CreateUserRequest(
        identity_store_id=ins.identity_store_id, body=CreateUserReqBody(
            user_name="ada.tags", display_name="Ada Lovelace", password_mode="OTP",
            title="Analyst",
            name=NameDto(family_name="Lovelace", given_name="Ada"),
            emails=[EmailDto(value="ada@example.com", type="work", primary=True)],
            enterprise=EnterpriseDto(department="Engines", cost_center="CC-7",
                                     manager=ManagerDto(value="u-babbage")))))
    account = member_account(server, "abac-member")
    assign_and_provision(server, instance_id, created.user_id, account, "AbacReaders")
    create(ic, instance_id, ("dept", "${path:enterprise.department}"),
           ("Cost Center", "${path:enterprise.costCenter}"),
           ("manager", "${path:enterprise.manager.value}"),
           ("login", "${user:name}"), ("title", "${path:title}"),
           ("division", "${path:enterprise.division}"), ("tz", "${path:timezone}"))

    client = register_client(server)
    device = start_device_authorization(
        server, client, f"{server.url}/{ins.identity_store_id}/portal")
    approve_device(device.verification_uri_complete, "ada.tags", created.password,
                   "Correct-Horse-9-Battery")
    token = poll_for_token(server, client, device).access_token
    # The configuration changes after the sign-in: the session keeps what it resolved.
    update(ic, instance_id, ("email", "${user:email}"))

    portal = portal_client(server)
    urn = portal.list_account_agencies(ListAccountAgenciesRequest(
        access_token=token, account_id=account)).agency_list[0].agency_urn
    creds = portal.get_agency_credentials(GetAgencyCredentialsRequest(
        access_token=token, target_account_id=account, agency_urn=urn)).agency_credentials
    expected = {"dept": "Engines", "Cost Center": "CC-7", "manager": "u-babbage",
                "login": "ada.tags", "title": "Analyst"}
    assert stored_tags(server, "credentials", "access_key", creds.access_key_id) == expected, \
        "no tag for the division and time zone the user lacks"
    # Credentials signed with them still work as before.
    as_account = identity_center(server, creds.access_key_id, creds.secret_access_key,
                                 domain_id=account, security_token=creds.session_token)
    expect_error(lambda: describe(as_account, instance_id), 403, "IIC.1215")

    # A sign-in after the change resolves the new configuration.
    device = start_device_authorization(
        server, client, f"{server.url}/{ins.identity_store_id}/portal")
    approve_device(device.verification_uri_complete, "ada.tags", "Correct-Horse-9-Battery")
    token = poll_for_token(server, client, device).access_token
    creds = portal.get_agency_credentials(GetAgencyCredentialsRequest(
        access_token=token, target_account_id=account, agency_urn=urn)).agency_credentials
    assert stored_tags(server, "credentials", "access_key", creds.access_key_id) == \
        {"email": "ada@example.com"}
