"""The sign-in pages, driven as a browser would (plain HTTP, cookies, forms as served), together
with the official OIDC and identity-store SDKs: one-time password and forced change, device
approval and denial, the generic failure, lockouts and what lifts them, CSRF, sign-out and
administrators ending sessions."""

import time
import urllib.parse

import pytest
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchDeleteSessionsReqBody, BatchDeleteSessionsRequest, CreateUserReqBody, CreateUserRequest,
    DisableUserRequest, EmailDto, EnableUserRequest, ListSessionsRequest, NameDto,
    ResetPwdModeRequest, UpdatePwdModeReqBody)
from huaweicloudsdkidentitycenteroidc.v1 import CreateTokenReqBody, CreateTokenRequest

from iic_harness import new_server
from portal_forms import Browser, approve_device, sign_in
from sdk_clients import identity_store, oidc, started_store_id
from test_oidc import oauth_error, poll, refused, register, start

NEW_PASSWORD = "Correct-Horse-9-Battery"
WRONG_TEXT = "The user name or password is incorrect"


@pytest.fixture(scope="module")
def env():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1",
                         "IIC_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "1000"})
    sid = started_store_id(server)
    yield server, sid, identity_store(server), oidc(server)
    server.close()


def new_user(store, sid, name):
    r = store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name=name, display_name=f"{name} Doe", password_mode="OTP",
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)])))
    assert r.password, "an OTP user gets a one-time password"
    return r.user_id, r.password


def portal(server, sid):
    return f"{server.url}/{sid}/portal"


def signed_in_browser(server, sid, name, password, new_password=None):
    b = Browser()
    page = sign_in(b, b.get(portal(server, sid)), name, password, new_password)
    assert page.status == 200 and page.text("user-name"), page.body[:1500]
    return b


def attempt(server, sid, name, password):
    """One sign-in in a fresh browser; returns the page it ends on."""
    b = Browser()
    return sign_in(b, b.get(portal(server, sid)), name, password)


def wait_for_log(server, text, seconds=5):
    """The server's whole log once it shows `text` (the log is written asynchronously)."""
    deadline = time.time() + seconds
    while True:
        log = server.log(tail=None)
        if text in log or time.time() > deadline:
            assert text in log, f"the log never showed {text!r}"
            return log
        time.sleep(0.1)


def refresh(client, info, refresh_token):
    return client.create_token(CreateTokenRequest(body=CreateTokenReqBody(
        client_id=info.client_id, client_secret=info.client_secret, grant_type="refresh_token",
        refresh_token=refresh_token)))


def test_one_time_password_change_then_device_approval_yields_tokens(env):
    server, sid, store, client = env
    user_id, otp = new_user(store, sid, "ada")
    info = register(client)
    d = start(client, info, portal(server, sid))
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) == "authorization_pending"

    b = Browser()
    page = b.get(d.verification_uri_complete)
    assert "/login" in page.url and page.form("sign-in")
    page = b.submit(page, "sign-in", username="ada")
    assert page.text("signing-in-as") == "ada"
    page = b.submit(page, "sign-in", password=otp)
    change = page.form("password-change")
    assert change and b.cookie("iic_session") is None, "no session before the new password"
    for bad, rule in [("short1!A", "at least 8"), ("nouppercase-9", "uppercase"),
                      ("NoDigits-here", "digit"), ("NoSymbol99abc", "symbol")]:
        if rule == "at least 8":
            bad = "Ab1!"
        refusal = b.submit(page, "password-change", new_password=bad, confirm_password=bad)
        assert refusal.status == 400 and rule in refusal.text("error"), refusal.text("error")
    mismatch = b.submit(page, "password-change", new_password=NEW_PASSWORD,
                        confirm_password=NEW_PASSWORD + "x")
    assert "do not match" in mismatch.text("error")
    reuse = b.submit(page, "password-change", new_password=otp, confirm_password=otp)
    assert "differ from your current password" in reuse.text("error")
    page = b.submit(page, "password-change", new_password=NEW_PASSWORD,
                    confirm_password=NEW_PASSWORD)
    session_cookie = b.cookie("iic_session")
    assert session_cookie is not None and session_cookie.path == f"/{sid}/portal"

    # After sign-in the browser is back on the device page with the code filled in.
    assert page.form("device-code")["fields"]["user_code"] == d.user_code
    page = b.submit(page, "device-code")
    assert page.text("confirm-code") == d.user_code
    page = b.submit(page, "device-decision", button=("action", "approve"))
    assert "approved" in page.text("device-result")

    tokens = poll(client, info, d.device_code).token_info
    assert len(tokens.access_token) == 64 and tokens.refresh_token
    again = refused(lambda: poll(client, info, d.device_code))
    assert oauth_error(again) == "invalid_grant", "a device code is redeemed once"
    assert refresh(client, info, tokens.refresh_token).token_info.access_token

    sessions = store.list_sessions(ListSessionsRequest(identity_store_id=sid, user_id=user_id))
    [s] = sessions.session_list
    assert s.ip_address == "127.0.0.1" and s.user_agent == "iic-blackbox-browser"

    # The one-time password no longer works; the new one does, without a forced change.
    assert WRONG_TEXT in attempt(server, sid, "ada", otp).text("error")
    signed_in_browser(server, sid, "ada", NEW_PASSWORD)

    # Signing out ends the session and the tokens issued under it.
    home = b.get(portal(server, sid))
    out = b.submit(home, "sign-out")
    assert out.text("signed-out") and b.get(portal(server, sid)).form("sign-in")
    assert oauth_error(refused(lambda: refresh(client, info, tokens.refresh_token))) == "invalid_grant"


def test_a_denied_device_gets_access_denied(env):
    server, sid, store, client = env
    _, otp = new_user(store, sid, "bea")
    info = register(client)
    d = start(client, info, portal(server, sid))
    page = approve_device(d.verification_uri_complete, "bea", otp, NEW_PASSWORD, action="deny")
    assert "denied" in page.text("device-result")
    assert oauth_error(refused(lambda: poll(client, info, d.device_code))) == "access_denied"


def test_the_failure_never_says_what_was_wrong(env):
    server, sid, store, client = env
    user_id, otp = new_user(store, sid, "cy")
    wrong_password = attempt(server, sid, "cy", "Nope-123!")
    no_such_user = attempt(server, sid, "nobody-here", "Nope-123!")
    assert wrong_password.status == no_such_user.status == 401
    assert wrong_password.text("error") == no_such_user.text("error")
    assert WRONG_TEXT in wrong_password.text("error")
    store.disable_user(DisableUserRequest(identity_store_id=sid, user_id=user_id))
    disabled = attempt(server, sid, "cy", otp)
    assert disabled.text("error") == wrong_password.text("error"), "a disabled user cannot sign in"
    store.enable_user(EnableUserRequest(identity_store_id=sid, user_id=user_id))
    signed_in_browser(server, sid, "cy", otp, NEW_PASSWORD)


def test_five_failures_lock_the_user_until_an_administrator_resets_the_password(env):
    server, sid, store, client = env
    user_id, otp = new_user(store, sid, "dan")
    for _ in range(5):
        page = attempt(server, sid, "dan", "Wrong-pass-1")
        assert page.status == 401
    locked = attempt(server, sid, "dan", otp)
    assert locked.status == 429 and "Too many failed sign-ins" in locked.text("error")
    logged = wait_for_log(server, "sign-in refused: locked")
    assert "sign-in locked after repeated failures" in logged and f"user:{sid}:dan" in logged
    # Another user from the same address is not affected (the address limit is far higher).
    _, other = new_user(store, sid, "eve")
    signed_in_browser(server, sid, "eve", other, NEW_PASSWORD)
    new_otp = store.reset_pwd_mode(ResetPwdModeRequest(
        identity_store_id=sid, user_id=user_id, body=UpdatePwdModeReqBody(mode="OTP"))).password
    signed_in_browser(server, sid, "dan", new_otp, NEW_PASSWORD)
    # An administrator's reset forces a change again.
    reset = store.reset_pwd_mode(ResetPwdModeRequest(
        identity_store_id=sid, user_id=user_id, body=UpdatePwdModeReqBody(mode="OTP"))).password
    b = Browser()
    page = b.submit(b.submit(b.get(portal(server, sid)), "sign-in", username="dan"),
                    "sign-in", password=reset)
    assert page.form("password-change")


def test_enabling_a_user_lifts_the_lock(env):
    server, sid, store, client = env
    user_id, otp = new_user(store, sid, "fay")
    for _ in range(5):
        attempt(server, sid, "fay", "Wrong-pass-1")
    assert attempt(server, sid, "fay", otp).status == 429
    store.enable_user(EnableUserRequest(identity_store_id=sid, user_id=user_id))
    signed_in_browser(server, sid, "fay", otp, NEW_PASSWORD)


def test_one_address_spraying_many_names_is_locked():
    server = new_server({"IIC_SIGN_IN_MAX_FAILURES_PER_ADDRESS": "3"})
    try:
        sid = started_store_id(server)
        store = identity_store(server)
        _, otp = new_user(store, sid, "gus")
        for name in ["a1", "a2", "a3"]:
            assert attempt(server, sid, name, "Spray-1!x").status == 401
        locked = attempt(server, sid, "gus", otp)
        assert locked.status == 429, "the address is locked, even for a right password"
    finally:
        server.close()


def test_forms_without_their_csrf_token_change_nothing(env):
    server, sid, store, client = env
    _, otp = new_user(store, sid, "hal")
    b = Browser()
    first = b.get(portal(server, sid))
    csrf = b.cookie("iic_csrf")
    assert csrf is not None
    forged = b.request(f"{portal(server, sid)}/login", {"username": "hal", "password": otp})
    assert forged.status == 403 and b.cookie("iic_session") is None
    wrong = b.request(f"{portal(server, sid)}/login",
                      {"username": "hal", "password": otp, "csrf_token": "0" * 64})
    assert wrong.status == 403 and b.cookie("iic_session") is None
    other = Browser()
    other.get(portal(server, sid))
    stolen = b.submit(first, "sign-in", username="hal")
    token = stolen.form("sign-in")["fields"]["csrf_token"]
    cross = other.request(f"{portal(server, sid)}/login",
                          {"username": "hal", "password": otp, "csrf_token": token})
    assert cross.status == 403, "a token is bound to its browser"


def test_pages_are_locked_down(env):
    server, sid, store, client = env
    b = Browser()
    page = b.get(f"{portal(server, sid)}/login")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert b.get(f"{server.url}/d-0000000000/portal").status == 404
    # `next` never leaves the portal.
    _, otp = new_user(store, sid, "ivy")
    evil = urllib.parse.quote("https://evil.example/")
    page = b.get(f"{portal(server, sid)}/login?next={evil}")
    assert page.form("sign-in")["fields"]["next"] == f"/{sid}/portal"


def test_wrong_device_codes_lock_the_code_entry(env):
    server, sid, store, client = env
    _, otp = new_user(store, sid, "jon")
    b = signed_in_browser(server, sid, "jon", otp, NEW_PASSWORD)
    page = b.get(f"{portal(server, sid)}/device")
    for code in ["BBBB-BBBB", "bcdf-ghjk", "nonsense", "ZZZZZZZZ", "QQQQ QQQQ"]:
        wrong = b.submit(page, "device-code", user_code=code)
        assert wrong.status == 400 and "not valid" in wrong.text("error")
    info = register(client)
    d = start(client, info, portal(server, sid))
    locked = b.submit(page, "device-code", user_code=d.user_code)
    assert locked.status == 429 and "Too many wrong codes" in locked.text("error")
    # A right code typed in lower case without the dash works in another session.
    b2 = signed_in_browser(server, sid, "jon", NEW_PASSWORD)
    page2 = b2.get(f"{portal(server, sid)}/device")
    confirm = b2.submit(page2, "device-code", user_code=d.user_code.replace("-", "").lower())
    assert confirm.text("confirm-code") == d.user_code


def test_an_administrator_ending_a_session_signs_the_browser_out_and_kills_its_tokens(env):
    server, sid, store, client = env
    user_id, otp = new_user(store, sid, "kim")
    info = register(client)
    d = start(client, info, portal(server, sid))
    b = Browser()
    approve_device(d.verification_uri_complete, "kim", otp, NEW_PASSWORD, browser=b)
    tokens = poll(client, info, d.device_code).token_info
    [s] = store.list_sessions(ListSessionsRequest(identity_store_id=sid, user_id=user_id)).session_list
    store.batch_delete_sessions(BatchDeleteSessionsRequest(
        identity_store_id=sid, user_id=user_id,
        body=BatchDeleteSessionsReqBody(session_ids=[s.session_id])))
    assert b.get(portal(server, sid)).form("sign-in"), "the browser is signed out"
    assert oauth_error(refused(lambda: refresh(client, info, tokens.refresh_token))) == "invalid_grant"


def test_a_sign_in_lasts_the_instance_s_max_authentication_age(env):
    from huaweicloudsdkidentitycenter.v1 import ListInstancesRequest
    from sdk_clients import identity_center
    from test_sessions_sso import session_age, update_config
    server, sid, store, client = env
    ic = identity_center(server)
    instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
    update_config(ic, instance_id, "SESSION", session_configuration=session_age("PT15M"))
    try:
        user_id, otp = new_user(store, sid, "lea")
        b = signed_in_browser(server, sid, "lea", otp, NEW_PASSWORD)
        [s] = store.list_sessions(ListSessionsRequest(identity_store_id=sid, user_id=user_id)).session_list
        assert s.session_not_valid_after - s.creation_time == 15 * 60 * 1000
        assert b.cookie("iic_session").expires - time.time() <= 15 * 60 + 5
    finally:
        update_config(ic, instance_id, "SESSION", session_configuration=session_age("PT8H"))
