"""The authorization-code grant end to end: the portal's authorization page (signed in through
the forms), the code back at a loopback redirect URI, and CreateToken through the official OIDC
SDK — plus PKCE, which the SDK's model cannot carry, over plain HTTP."""

import base64
import hashlib
import json
import urllib.parse
import urllib.request

import pytest
from huaweicloudsdkidentitycenteroidc.v1 import CreateTokenReqBody, CreateTokenRequest

from iic_harness import new_server
from portal_forms import Browser, sign_in
from sdk_clients import identity_store, oidc, started_store_id
from test_oidc import DEVICE_GRANT, oauth_error, refused, register
from test_sign_in import NEW_PASSWORD, new_user

REDIRECT = "http://127.0.0.1:8765/callback"


@pytest.fixture(scope="module")
def env():
    server = new_server()
    sid = started_store_id(server)
    client = oidc(server)
    _, otp = new_user(identity_store(server), sid, "cody")
    b = Browser()
    sign_in(b, b.get(f"{server.url}/{sid}/portal"), "cody", otp, NEW_PASSWORD)
    yield server, sid, client, b
    server.close()


def authorize_url(server, sid, info, **extra):
    q = dict(response_type="code", client_id=info.client_id, redirect_uri=REDIRECT, state="xyz")
    q.update(extra)
    return f"{server.url}/{sid}/portal/authorize?{urllib.parse.urlencode(q)}"


def answer(browser, url, action="approve"):
    """Opens the authorization page and answers; returns the redirect's query parameters."""
    page = browser.get(url)
    assert page.text("client-name") == "code-app", page.body[:1000]
    back = browser.submit(page, "authorize-decision", follow=False, button=("action", action))
    return redirect_params(back)


def redirect_params(resp):
    assert resp.status == 303, (resp.status, resp.body[:500])
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def redeem(client, info, code, redirect_uri=REDIRECT):
    return client.create_token(CreateTokenRequest(body=CreateTokenReqBody(
        client_id=info.client_id, client_secret=info.client_secret,
        grant_type="authorization_code", code=code, redirect_uri=redirect_uri))).token_info


def code_client(client):
    return register(client, client_name="code-app", grant_types=["authorization_code"])


def test_a_code_is_issued_to_the_loopback_redirect_and_redeemed_once(env):
    server, sid, client, b = env
    info = code_client(client)
    params = answer(b, authorize_url(server, sid, info))
    assert params["state"] == "xyz" and len(params["code"]) == 64
    tokens = redeem(client, info, params["code"])
    assert len(tokens.access_token) == 64 and tokens.refresh_token
    assert oauth_error(refused(lambda: redeem(client, info, params["code"]))) == "invalid_grant"
    # The redirect URI must match exactly, and a wrong one spends the code.
    other = answer(b, authorize_url(server, sid, info))["code"]
    mismatch = refused(lambda: redeem(client, info, other, REDIRECT + "/other"))
    assert oauth_error(mismatch) == "invalid_grant"
    assert oauth_error(refused(lambda: redeem(client, info, other))) == "invalid_grant"


def test_a_denial_goes_back_as_access_denied(env):
    server, sid, client, b = env
    info = code_client(client)
    assert answer(b, authorize_url(server, sid, info), "deny") == {
        "error": "access_denied", "state": "xyz"}


def test_pkce_needs_the_verifier(env):
    server, sid, client, b = env
    info = code_client(client)
    verifier = "v" * 20 + "-._~" + "0123456789abcdefghij"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    url = authorize_url(server, sid, info, code_challenge=challenge, code_challenge_method="S256")

    def raw_redeem(code, v=None):
        body = dict(client_id=info.client_id, client_secret=info.client_secret,
                    grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
        if v is not None:
            body["code_verifier"] = v
        req = urllib.request.Request(f"{server.url}/v1/tokens", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    status, body = raw_redeem(answer(b, url)["code"])
    assert (status, body["error"]) == (400, "invalid_grant"), "no verifier"
    status, body = raw_redeem(answer(b, url)["code"], "w" * 43)
    assert (status, body["error"]) == (400, "invalid_grant"), "wrong verifier"
    status, body = raw_redeem(answer(b, url)["code"], verifier)
    assert status == 200 and body["token_info"]["access_token"]
    # A challenge must be S256.
    plain = authorize_url(server, sid, info, code_challenge=challenge, code_challenge_method="plain")
    assert redirect_params(b.get(plain, follow=False))["error"] == "invalid_request"


def test_requests_that_cannot_be_trusted_are_refused_on_the_page(env):
    server, sid, client, b = env
    info = code_client(client)
    for redirect in ["https://evil.example/cb", "http://127.0.0.1.evil.example/cb",
                     "http://localhost@evil.example/"]:
        page = b.get(authorize_url(server, sid, info, redirect_uri=redirect), follow=False)
        assert page.status == 400 and "loopback" in page.text("error"), redirect
    unknown = b.get(authorize_url(server, sid, info, client_id="oc-unknown"), follow=False)
    assert unknown.status == 400 and "not registered" in unknown.text("error")
    device_only = register(client, client_name="code-app", grant_types=[DEVICE_GRANT])
    assert redirect_params(b.get(authorize_url(server, sid, device_only), follow=False)) == {
        "error": "unauthorized_client", "state": "xyz"}
    assert redirect_params(b.get(authorize_url(server, sid, info, response_type="token"),
                                 follow=False))["error"] == "unsupported_response_type"


def test_the_page_asks_a_browser_without_a_session_to_sign_in(env):
    server, sid, client, _ = env
    info = code_client(client)
    fresh = Browser()
    page = fresh.get(authorize_url(server, sid, info))
    assert page.form("sign-in")
    next_page = page.form("sign-in")["fields"]["next"]
    assert next_page.startswith(f"/{sid}/portal/authorize?")
