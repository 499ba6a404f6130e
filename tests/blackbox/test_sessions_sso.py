"""Sign-in sessions (identity store API) and the SSO configuration of the instance (admin API)
through the official SDKs: the empty list, unknown users and unknown session ids. Real sessions,
made by signing in through the pages, are listed and ended in test_sign_in.py."""

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    GetSsoConfigurationRequest, ListInstancesRequest, SessionConfigurationDto, SSOConfigurationDto,
    UpdateSsoConfigurationReqBody, UpdateSsoConfigurationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchDeleteSessionsReqBody, BatchDeleteSessionsRequest, CreateUserReqBody, CreateUserRequest,
    EmailDto, ListSessionsRequest, NameDto)

from iic_harness import expect_error, free_port, new_server
from mail_sink import smtp_env
from sdk_clients import identity_center, identity_store, started_store_id

AGE = "sso_configuration.session_configuration.max_authentication_age"


@pytest.fixture(scope="module")
def env():
    server = new_server()
    sid = started_store_id(server)
    ic = identity_center(server)
    instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
    yield server, ic, identity_store(server), instance_id, sid
    server.close()


def get_config(ic, instance_id):
    return ic.get_sso_configuration(
        GetSsoConfigurationRequest(instance_id=instance_id)).sso_configuration


def update_config(ic, instance_id, kind, **fields):
    return ic.update_sso_configuration(UpdateSsoConfigurationRequest(
        instance_id=instance_id,
        body=UpdateSsoConfigurationReqBody(configuration_type=kind,
                                           sso_configuration=SSOConfigurationDto(**fields))))


def session_age(value):
    return SessionConfigurationDto(max_authentication_age=value)


def create_user(store, sid, name):
    return store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name=name, display_name=name, password_mode="EMAIL",
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)]))).user_id


# --- SSO configuration ----------------------------------------------------------------------

def test_an_instance_that_never_set_one_reads_the_defaults():
    server = new_server()
    try:
        started_store_id(server)
        ic = identity_center(server)
        instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
        c = get_config(ic, instance_id)
        assert c.mfa_mode == "DISABLED"
        assert c.no_mfa_signin_behavior == "ALLOWED_WITH_ENROLLMENT"
        assert c.no_password_signin_behavior == "BLOCKED"
        assert c.allowed_mfa_types == ["TOTP", "WEBAUTHN_SECURITY_KEY"]
        assert c.session_configuration.max_authentication_age == "PT8H"
    finally:
        server.close()


def test_each_part_is_updated_and_read_back_in_full_and_survives_a_restart():
    # EMAIL_OTP needs a relay configured (nothing has to listen: no mail is sent here).
    server = new_server(smtp_env(free_port()))
    try:
        started_store_id(server)
        ic = identity_center(server)
        instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
        update_config(ic, instance_id, "SESSION", session_configuration=session_age("P1DT12H"),
                      mfa_mode="ALWAYS_ON")
        c = get_config(ic, instance_id)
        assert c.session_configuration.max_authentication_age == "P1DT12H"
        assert c.mfa_mode == "DISABLED", "a SESSION update leaves the MFA part as it was"
        update_config(ic, instance_id, "APP_AUTHENTICATION_CONFIGURATION", mfa_mode="CONTEXT_AWARE",
                      no_mfa_signin_behavior="EMAIL_OTP", no_password_signin_behavior="EMAIL_OTP",
                      allowed_mfa_types=["WEBAUTHN"])
        server.restart()
        ic = identity_center(server)
        c = get_config(ic, instance_id)
        assert c.to_dict() == {
            "mfa_mode": "CONTEXT_AWARE",
            "no_mfa_signin_behavior": "EMAIL_OTP",
            "no_password_signin_behavior": "EMAIL_OTP",
            "allowed_mfa_types": ["WEBAUTHN"],
            "session_configuration": {"max_authentication_age": "P1DT12H"},
        }
    finally:
        server.close()


@pytest.mark.parametrize("value", ["PT15M", "P90D", "PT8H", "P2W", "P3M"])
def test_max_authentication_age_bounds_are_inclusive(env, value):
    _, ic, _, instance_id, _ = env
    update_config(ic, instance_id, "SESSION", session_configuration=session_age(value))
    assert get_config(ic, instance_id).session_configuration.max_authentication_age == value


@pytest.mark.parametrize("kind,fields,fragments", [
    ("SESSION", {"session_configuration": session_age("eight hours")},
     [AGE, "not an ISO-8601 duration"]),
    ("SESSION", {"session_configuration": session_age("PT30S")}, [AGE, "not an ISO-8601"]),
    ("SESSION", {"session_configuration": session_age("PT14M")}, [AGE, "between PT15M and P90D"]),
    ("SESSION", {"session_configuration": session_age("P90DT1M")}, [AGE, "between PT15M and P90D"]),
    ("SESSION", {"session_configuration": session_age("-PT1H")}, [AGE, "between PT15M and P90D"]),
    ("SESSION", {"mfa_mode": "ALWAYS_ON"}, ["sso_configuration.session_configuration"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"mfa_mode": "SOMETIMES"},
     ["sso_configuration.mfa_mode", "SOMETIMES"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"no_mfa_signin_behavior": "NEVER"},
     ["sso_configuration.no_mfa_signin_behavior"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"no_password_signin_behavior": "ALLOWED"},
     ["sso_configuration.no_password_signin_behavior"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"allowed_mfa_types": ["SMS"]},
     ["sso_configuration.allowed_mfa_types"]),
    ("APP_AUTHENTICATION_CONFIGURATION",
     {"allowed_mfa_types": ["TOTP", "WEBAUTHN", "WEBAUTHN_SECURITY_KEY"]},
     ["sso_configuration.allowed_mfa_types", "1 or 2"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"allowed_mfa_types": []},
     ["sso_configuration.allowed_mfa_types", "1 or 2"]),
    ("APP_AUTHENTICATION_CONFIGURATION", {"session_configuration": session_age("PT1H")},
     ["configuration_type"]),
    ("EVERYTHING", {"session_configuration": session_age("PT1H")}, ["configuration_type"]),
])
def test_every_invalid_field_is_refused_naming_it(env, kind, fields, fragments):
    _, ic, _, instance_id, _ = env
    before = get_config(ic, instance_id).to_dict()
    expect_error(lambda: update_config(ic, instance_id, kind, **fields), 400, "IIC.400", *fragments)
    assert get_config(ic, instance_id).to_dict() == before, "a refused update changes nothing"


def test_an_unknown_instance_is_not_found(env):
    _, ic, _, _, _ = env
    expect_error(lambda: get_config(ic, "ins-0000000000000000"), 404, "IIC.404", "ins-0000000000000000")
    expect_error(lambda: update_config(ic, "ins-0000000000000000", "SESSION",
                                       session_configuration=session_age("PT1H")),
                 404, "IIC.404")


# --- sessions -------------------------------------------------------------------------------

def test_a_user_who_never_signed_in_has_no_sessions(env):
    _, _, store, _, sid = env
    uid = create_user(store, sid, "never.signed.in")
    r = store.list_sessions(ListSessionsRequest(identity_store_id=sid, user_id=uid))
    assert r.session_list == []
    assert r.to_json_object() == {"session_list": []}, "the catalogue pages nothing"


def test_sessions_of_an_unknown_user_are_not_found(env):
    _, _, store, _, sid = env
    expect_error(lambda: store.list_sessions(
        ListSessionsRequest(identity_store_id=sid, user_id="no-such-user")), 404, "IIC.404",
        "no-such-user")
    expect_error(lambda: store.batch_delete_sessions(BatchDeleteSessionsRequest(
        identity_store_id=sid, user_id="no-such-user",
        body=BatchDeleteSessionsReqBody(session_ids=["0" * 32]))), 404, "IIC.404")


def test_deleting_unknown_sessions_succeeds_and_ends_nothing(env):
    _, _, store, _, sid = env
    uid = create_user(store, sid, "batch.delete")
    store.batch_delete_sessions(BatchDeleteSessionsRequest(
        identity_store_id=sid, user_id=uid,
        body=BatchDeleteSessionsReqBody(session_ids=["0" * 32, "not-a-session"])))
    r = store.list_sessions(ListSessionsRequest(identity_store_id=sid, user_id=uid))
    assert r.session_list == []


@pytest.mark.parametrize("ids,fragment", [
    ([], "session_ids must hold between 1 and 100"),
    (["x"] * 101, "session_ids must hold between 1 and 100"),
    (["has space"], "session_ids"),
])
def test_malformed_session_ids_are_refused(env, ids, fragment):
    _, _, store, _, sid = env
    uid = create_user(store, sid, f"malformed.{len(ids)}.{len(ids[0]) if ids else 0}")
    expect_error(lambda: store.batch_delete_sessions(BatchDeleteSessionsRequest(
        identity_store_id=sid, user_id=uid, body=BatchDeleteSessionsReqBody(session_ids=ids))),
        400, "IIC.400", fragment)
