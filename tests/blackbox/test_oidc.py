"""The OIDC API through the official SDK (`huaweicloudsdkidentitycenteroidc`): client
registration, device authorization and every token error reachable without a signed-in user.
The approved path (approval through the pages, tokens, refresh) is in test_sign_in.py."""

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenteroidc.v1 import (
    CreateTokenReqBody, CreateTokenRequest, RegisterClientReqBody, RegisterClientRequest,
    StartDeviceAuthorizationReqBody, StartDeviceAuthorizationRequest)

from iic_harness import new_server
from sdk_clients import oidc, started_store_id

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def quick():
    """A server with a 1 s polling interval and 2 s device codes, so that tests need not wait."""
    s = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1", "IIC_DEVICE_CODE_TTL_SECS": "2"})
    yield s
    s.close()


def register(client, **overrides):
    fields = dict(client_name="iic-blackbox", client_type="public",
                  token_endpoint_auth_method="client_secret_post",
                  grant_types=[DEVICE_GRANT], response_types=["code"], scopes=["openid"])
    fields.update(overrides)
    return client.register_client(
        RegisterClientRequest(body=RegisterClientReqBody(**fields))).client_info


def start(client, info, start_url, secret=None):
    return client.start_device_authorization(StartDeviceAuthorizationRequest(
        body=StartDeviceAuthorizationReqBody(client_id=info.client_id,
                                             client_secret=secret or info.client_secret,
                                             start_url=start_url)))


def poll(client, info, device_code, grant_type=DEVICE_GRANT, secret=None, client_id=None):
    return client.create_token(CreateTokenRequest(body=CreateTokenReqBody(
        client_id=client_id or info.client_id, client_secret=secret or info.client_secret,
        grant_type=grant_type, device_code=device_code)))


def refused(call):
    with pytest.raises(ClientRequestException) as e:
        call()
    return e.value


def oauth_error(e):
    assert e.status_code == 400, (e.status_code, e.error_msg)
    assert e.error_code == "IIC.400"
    assert e.request_id
    return e.error_msg.split(":")[1].strip()


def test_register_and_start_a_device_authorization(quick):
    client = oidc(quick)
    store_id = started_store_id(quick)
    now = int(time.time())
    info = register(client)
    assert info.client_id and len(info.client_secret) >= 32
    assert abs(info.client_id_issued_at - now) < 60
    assert info.client_secret_expires_at > now + 86_400
    assert info.token_endpoint == f"{quick.url}/v1/tokens"
    assert info.scopes == ["openid"]
    d = start(client, info, f"{quick.url}/{store_id}/portal")
    assert len(d.device_code) == 64
    assert len(d.user_code) == 9 and d.user_code[4] == "-"
    assert d.verification_uri == f"{quick.url}/{store_id}/portal/device"
    assert d.verification_uri_complete == f"{quick.url}/{store_id}/portal/device?user_code={d.user_code}"
    assert (d.expires_in, d.interval) == (2, 1)


def test_polling_before_approval(quick):
    client = oidc(quick)
    store_id = started_store_id(quick)
    info = register(client)
    d = start(client, info, f"{quick.url}/{store_id}/portal")
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) \
        == "authorization_pending"
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) == "slow_down"
    time.sleep(2.1)
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) == "expired_token"
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) == "expired_token"


def test_client_and_grant_errors(quick):
    client = oidc(quick)
    store_id = started_store_id(quick)
    info = register(client)
    d = start(client, info, f"{quick.url}/{store_id}/portal")
    assert oauth_error(refused(lambda: poll(client, info, d.device_code, secret="wrong"))) \
        == "invalid_client"
    assert oauth_error(refused(lambda: poll(client, info, d.device_code,
                                            client_id="oc-unknown"))) == "invalid_client"
    assert oauth_error(refused(lambda: poll(client, info, "0" * 64))) == "invalid_grant"
    other = register(client)
    assert oauth_error(refused(lambda: poll(client, other, d.device_code))) == "invalid_grant"
    assert oauth_error(refused(lambda: poll(client, info, d.device_code,
                                            grant_type="client_credentials"))) \
        == "unsupported_grant_type"
    assert oauth_error(refused(lambda: start(client, info, f"{quick.url}/{store_id}/portal",
                                             secret="wrong"))) == "invalid_client"


def test_start_url_must_name_a_portal_of_this_server(quick):
    client = oidc(quick)
    store_id = started_store_id(quick)
    info = register(client)
    for url in ["https://elsewhere.example/" + store_id + "/portal", f"{quick.url}/d-0000000000/portal",
                f"{quick.url}/portal/{store_id}", "not a url"]:
        e = refused(lambda: start(client, info, url))
        assert (e.status_code, e.error_code) == (400, "IIC.400"), url
        assert "start_url" in e.error_msg, e.error_msg


@pytest.mark.parametrize("field,value", [
    ("client_type", "confidential"),
    ("token_endpoint_auth_method", "client_secret_basic"),
    ("grant_types", ["password"]),
    ("response_types", ["token"]),
    ("scopes", ["a b"]),
    ("client_name", ""),
    ("client_name", "x" * 1025),
])
def test_registration_bounds_and_enums(quick, field, value):
    e = refused(lambda: register(oidc(quick), **{field: value}))
    assert (e.status_code, e.error_code) == (400, "IIC.400")
    assert field in e.error_msg, e.error_msg


def test_registrations_are_rate_limited_per_address():
    s = new_server({"IIC_OIDC_RATE_PER_MINUTE": "3"})
    try:
        client = oidc(s)
        for _ in range(3):
            register(client)
        e = refused(lambda: register(client))
        assert e.status_code == 429
        assert e.error_code and e.request_id
    finally:
        s.close()
