"""MFA at sign-in, driven as a browser would (plain HTTP, cookies, forms as served) with TOTP
codes computed by pyotp, e-mail codes read from a local SMTP sink, and the official SDKs for the
settings and the devices: enrolment
through RegisterMfaDeviceForUser's link (once), every mfa_mode x no_mfa_signin_behavior
combination, codes accepted once, wrong and stale codes refused and locked like passwords,
context-aware prompts per browser and address, self-service enrolment under the device
management setting."""

import re
import time
import urllib.parse

import pyotp
import pytest
from huaweicloudsdkidentitycenter.v1 import (
    ListInstancesRequest, PutMfaDeviceManagementForDirectoryReqBody,
    PutMfaDeviceManagementForIdentityStoreRequest, SSOConfigurationDto,
    UpdateSsoConfigurationReqBody, UpdateSsoConfigurationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchListMfaDevicesForUserReqBody, BatchListMfaDevicesForUserRequest, CreateUserReqBody,
    CreateUserRequest, DeleteMfaDeviceForUserRequest, EmailDto, NameDto, RegisterMfaDeviceForUserRequest, RetrieveMfaDevicesForUserDto,
    UpdateMfaDeviceForUserReqBody, UpdateMfaDeviceForUserRequest)

from iic_harness import free_port, new_server
from mail_sink import body_of, smtp_env, start_sink
from portal_forms import Browser
from portal_world import create_otp_user
from sdk_clients import identity_center, identity_store, started_store_id
from test_sign_in import wait_for_log

PASSWORD = "Correct-Horse-9-Battery"
MODES = ["DISABLED", "ALWAYS_ON", "CONTEXT_AWARE"]
BEHAVIORS = ["ALLOWED_WITH_ENROLLMENT", "ALLOWED", "EMAIL_OTP", "BLOCKED"]


@pytest.fixture(scope="module")
def env():
    controller, sink = start_sink(free_port())
    server = new_server(dict(smtp_env(controller.port),
                             IIC_SIGN_IN_MAX_FAILURES_PER_ADDRESS="100000"))
    sid = started_store_id(server)
    ic = identity_center(server)
    instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
    world = dict(server=server, sid=sid, ic=ic, store=identity_store(server), sink=sink,
                 instance_id=instance_id, portal=f"{server.url}/{sid}/portal", n=0)
    yield world
    server.close()
    controller.stop()


def configure(w, mode, behavior="ALLOWED_WITH_ENROLLMENT", types=("TOTP",),
              no_password="BLOCKED"):
    w["ic"].update_sso_configuration(UpdateSsoConfigurationRequest(
        instance_id=w["instance_id"], body=UpdateSsoConfigurationReqBody(
            configuration_type="APP_AUTHENTICATION_CONFIGURATION",
            sso_configuration=SSOConfigurationDto(
                mfa_mode=mode, no_mfa_signin_behavior=behavior,
                no_password_signin_behavior=no_password, allowed_mfa_types=list(types)))))


def user(w, with_device=False):
    """A user whose password is PASSWORD (the one-time one changed while MFA is off), with an
    authenticator app enrolled through the SDK's link when asked; returns (id, name, totp)."""
    w["n"] += 1
    name = f"mfa-{w['n']}"
    uid, otp = create_otp_user(w["server"], w["sid"], name)
    configure(w, "DISABLED")
    b = Browser()
    page = password_step(b, w, name, otp)
    page = b.submit(page, "password-change", new_password=PASSWORD, confirm_password=PASSWORD)
    assert page.text("user-name"), page.body[:1500]
    totp = enrol_by_link(w, uid) if with_device else None
    return uid, name, totp


def password_step(b, w, name, password):
    page = b.get(w["portal"])
    page = b.submit(page, "sign-in", username=name)
    return b.submit(page, "sign-in", password=password)


def enrolment_link(w, uid):
    r = w["store"].register_mfa_device_for_user(
        RegisterMfaDeviceForUserRequest(identity_store_id=w["sid"], user_id=uid))
    return f"{r.redirect_url}?{urllib.parse.urlencode({'work_flow': r.work_flow})}"


def totp_of(page):
    uri = page.text("otpauth-uri")
    assert uri and uri.startswith("otpauth://totp/"), page.body[:2000]
    totp = pyotp.parse_uri(uri)
    shown = page.text("totp-secret").replace(" ", "")
    assert shown == totp.secret, "the key shown as text is the QR code's"
    assert 'id="totp-qr" src="data:image/svg+xml;base64,' in page.body
    return totp


def enrol(b, page, totp, name="Phone"):
    now = time.time()
    return b.submit(page, "mfa-enroll", otp=totp.at(now - 30), otp_next=totp.at(now),
                    device_name=name)


def enrol_by_link(w, uid, name="Phone"):
    b = Browser()
    page = b.get(enrolment_link(w, uid))
    assert page.status == 200, page.body[:1500]
    totp = totp_of(page)
    done = enrol(b, page, totp, name)
    assert done.status == 200 and done.text("mfa-enrolled"), done.body[:1500]
    return totp


def devices(w, uid):
    r = w["store"].batch_list_mfa_devices_for_user(BatchListMfaDevicesForUserRequest(
        identity_store_id=w["sid"], body=BatchListMfaDevicesForUserReqBody(user_list=[
            RetrieveMfaDevicesForUserDto(identity_store_id=w["sid"], user_id=uid)])))
    return r.user_mfa_devices_entry_list[0].mfa_devices


def sign_in_code_mails(w, name):
    return [m for m in w["sink"].to(f"{name}@example.com") if "sign-in code" in m["Subject"]]


def mailed_code(w, name, count=1):
    """The six-digit code of the `count`th sign-in code mail sent to the user."""
    deadline = time.time() + 20
    while len(sign_in_code_mails(w, name)) < count and time.time() < deadline:
        time.sleep(0.1)
    mails = sign_in_code_mails(w, name)
    assert len(mails) >= count, [m["Subject"] for m in w["sink"].to(f"{name}@example.com")]
    mail = mails[count - 1]
    found = re.findall(r"^(\d{6})\s*$", body_of(mail), re.M)
    assert found, body_of(mail)
    return found[0]


def fresh_code(totp):
    """A code of the step after the current one: accepted (one step of skew) and never used."""
    return totp.at(time.time() + 30)


def code_after(totp, used):
    """A fresh code other than `used`: the next time step's, waiting for it if need be."""
    deadline = time.time() + 35
    while time.time() < deadline:
        code = fresh_code(totp)
        if code != used:
            return code
        time.sleep(0.5)
    raise AssertionError("the time step never moved on")


def is_home(page):
    return page.status == 200 and bool(page.text("user-name"))


def asks_code(page):
    return page.status == 200 and any(f["id"] == "mfa" for f in page.forms)


def asks_enrolment(page):
    return page.status == 200 and any(f["id"] == "mfa-enroll" for f in page.forms)


def test_an_enrolment_link_registers_a_device_once_and_the_sdk_reflects_it(env):
    w = env
    uid, _, _ = user(w)
    link = enrolment_link(w, uid)
    b = Browser()
    page = b.get(link)
    totp = totp_of(page)
    assert f"secret={totp.secret}" in page.text("otpauth-uri")
    wrong = b.submit(page, "mfa-enroll", otp="000000", otp_next="000000")
    assert wrong.status == 400 and wrong.text("error"), wrong.body[:1500]
    now = time.time()
    swapped = b.submit(wrong, "mfa-enroll", otp=totp.at(now), otp_next=totp.at(now - 30))
    assert swapped.status == 400, "codes out of order are not two consecutive codes"
    assert devices(w, uid) == []
    # Each showing of the page has its own key; the last one shown is the one to prove.
    totp = totp_of(swapped)
    done = enrol(b, swapped, totp, "Work phone")
    assert done.status == 200 and done.text("mfa-enrolled"), done.body[:1500]
    again = Browser().get(link)
    assert again.status == 410 and again.text("enrolment-gone"), again.body[:1500]
    replay = b.submit(swapped, "mfa-enroll", otp=totp.at(now - 30), otp_next=totp.at(now))
    assert replay.status == 410, "the spent link cannot register a second device"

    listed = devices(w, uid)
    assert [(d.mfa_type, d.display_name) for d in listed] == [("TOTP", "Work phone")]
    device_id = listed[0].device_id
    w["store"].update_mfa_device_for_user(UpdateMfaDeviceForUserRequest(
        identity_store_id=w["sid"], user_id=uid, device_id=device_id,
        body=UpdateMfaDeviceForUserReqBody(display_name="Old phone")))
    assert [d.display_name for d in devices(w, uid)] == ["Old phone"]
    w["store"].delete_mfa_device_for_user(DeleteMfaDeviceForUserRequest(
        identity_store_id=w["sid"], user_id=uid, device_id=device_id))
    assert devices(w, uid) == []


def test_a_link_of_an_unknown_work_flow_is_refused(env):
    page = Browser().get(f"{env['portal']}/mfa/enroll?work_flow={'0' * 64}")
    assert page.status == 410 and page.text("enrolment-gone"), page.body[:1500]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_every_mode_and_behavior(env, mode, behavior):
    w = env
    with_uid, with_name, totp = user(w, with_device=True)
    without_uid, without_name, _ = user(w)
    configure(w, mode, behavior)

    b = Browser()
    page = password_step(b, w, with_name, PASSWORD)
    if mode == "DISABLED":
        assert is_home(page), page.body[:1500]
    else:
        assert asks_code(page), page.body[:1500]
        page = b.submit(page, "mfa", otp=fresh_code(totp))
        assert is_home(page), page.body[:1500]

    b = Browser()
    page = password_step(b, w, without_name, PASSWORD)
    if mode == "DISABLED" or behavior == "ALLOWED":
        assert is_home(page), page.body[:1500]
    elif behavior == "BLOCKED":
        assert page.status == 403 and page.text("mfa-blocked"), page.body[:1500]
        assert b.cookie("iic_session") is None
    elif behavior == "EMAIL_OTP":
        assert asks_code(page) and "e-mail" in page.body, page.body[:1500]
        code = mailed_code(w, without_name)
        wrong = "000000" if code != "000000" else "111111"
        page = b.submit(page, "mfa", otp=wrong)
        assert page.status == 401 and b.cookie("iic_session") is None, page.body[:1500]
        page = b.submit(page, "mfa", otp=code)
        assert is_home(page), page.body[:1500]
        assert devices(w, without_uid) == [], "an e-mail code enrols nothing"
    else:
        assert asks_enrolment(page), page.body[:1500]
        new = totp_of(page)
        page = enrol(b, page, new, "Enrolled at sign-in")
        assert is_home(page), page.body[:1500]
        assert [d.display_name for d in devices(w, without_uid)] == ["Enrolled at sign-in"]


def test_a_code_is_accepted_once_and_wrong_or_stale_ones_are_refused(env):
    w = env
    _, name, totp = user(w, with_device=True)
    configure(w, "ALWAYS_ON")
    b = Browser()
    page = password_step(b, w, name, PASSWORD)
    assert asks_code(page)
    now = time.time()
    right = fresh_code(totp)
    for bad in ("12345", "abcdef", totp.at(now - 120), totp.at(now + 120)):
        if bad == right:
            continue
        page = b.submit(page, "mfa", otp=bad)
        assert page.status == 401 and page.text("error"), (bad, page.body[:1500])
        assert b.cookie("iic_session") is None
    page = b.submit(page, "mfa", otp=right)
    assert is_home(page), page.body[:1500]

    other = Browser()
    page = password_step(other, w, name, PASSWORD)
    page = other.submit(page, "mfa", otp=right)
    assert page.status == 401 and "already used" in page.text("error"), page.body[:1500]
    page = other.submit(page, "mfa", otp=code_after(totp, right))
    assert is_home(page), page.body[:1500]


def test_wrong_codes_lock_the_second_step_like_wrong_passwords(env):
    w = env
    _, name, totp = user(w, with_device=True)
    configure(w, "ALWAYS_ON")
    b = Browser()
    page = password_step(b, w, name, PASSWORD)
    wrong = "000000" if totp.now() != "000000" else "111111"
    for _ in range(5):
        page = b.submit(page, "mfa", otp=wrong)
        assert page.status == 401, page.body[:1500]
    page = b.submit(page, "mfa", otp=fresh_code(totp))
    assert page.status == 429 and "Too many wrong codes" in page.text("error"), page.body[:1500]
    assert b.cookie("iic_session") is None
    wait_for_log(w["server"], "second factor locked after repeated failures")


def test_context_aware_asks_on_a_new_browser_or_address_only(env):
    w = env
    _, name, totp = user(w, with_device=True)
    configure(w, "CONTEXT_AWARE")
    b = Browser()
    page = password_step(b, w, name, PASSWORD)
    assert asks_code(page)
    used = fresh_code(totp)
    page = b.submit(page, "mfa", otp=used)
    assert is_home(page)
    assert b.cookie("iic_browser") is not None

    def sign_out_and_in(browser):
        home = browser.get(w["portal"])
        assert is_home(home), home.body[:1500]
        browser.submit(home, "sign-out")
        assert browser.cookie("iic_session") is None
        return password_step(browser, w, name, PASSWORD)

    assert is_home(sign_out_and_in(b)), "the same browser from the same address is not asked"
    assert asks_code(password_step(Browser(), w, name, PASSWORD)), "a new browser is asked"
    moved = Browser(source_address="127.0.0.2", jar=b.jar)
    page = sign_out_and_in(moved)
    assert asks_code(page), "the same browser from another address is asked"
    page = moved.submit(page, "mfa", otp=code_after(totp, used))
    assert is_home(page), page.body[:1500]
    assert is_home(sign_out_and_in(moved)), "remembered again, at the new address"


def test_users_enrol_their_own_app_in_the_portal_when_device_management_allows(env):
    w = env
    uid, name, _ = user(w)
    configure(w, "DISABLED")
    b = Browser()
    assert is_home(password_step(b, w, name, PASSWORD))

    def management(value):
        w["ic"].put_mfa_device_management_for_identity_store(
            PutMfaDeviceManagementForIdentityStoreRequest(
                instance_id=w["instance_id"],
                body=PutMfaDeviceManagementForDirectoryReqBody(
                    identity_store_id=w["sid"], user_permission=value)))

    management("READ_ACTIONS")
    page = b.get(f"{w['portal']}/mfa/totp/add")
    assert page.status == 403 and page.text("mfa-management-refused"), page.body[:1500]
    management("ALL_ACTIONS")
    page = b.get(f"{w['portal']}/mfa/totp/add")
    totp = totp_of(page)
    management("READ_ACTIONS")
    refused = enrol(b, page, totp, "Too late")
    assert refused.status == 403, "the setting is checked again when the codes come back"
    management("ALL_ACTIONS")
    page = b.get(f"{w['portal']}/mfa/totp/add")
    totp = totp_of(page)
    done = enrol(b, page, totp, "Tablet")
    assert done.status == 200 and done.text("mfa-enrolled"), done.body[:1500]
    assert [d.display_name for d in devices(w, uid)] == ["Tablet"]
    anonymous = Browser().get(f"{w['portal']}/mfa/totp/add")
    assert any(f["id"] == "sign-in" for f in anonymous.forms), "signed-out browsers sign in first"


def test_a_user_without_a_password_signs_in_with_a_mailed_code_when_allowed(env):
    w = env
    w["n"] += 1
    name = f"mfa-{w['n']}"
    w["store"].create_user(CreateUserRequest(identity_store_id=w["sid"], body=CreateUserReqBody(
        user_name=name, display_name=name, password_mode="EMAIL",
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)])))
    configure(w, "DISABLED", no_password="BLOCKED")
    b = Browser()
    page = b.submit(b.get(w["portal"]), "sign-in", username=name)
    assert not any(f["id"] == "email-code-sign-in" for f in page.forms), \
        "BLOCKED: no code in place of a password"

    configure(w, "DISABLED", no_password="EMAIL_OTP")
    page = b.submit(b.get(w["portal"]), "sign-in", username=name)
    page = b.submit(page, "email-code-sign-in")
    assert asks_code(page), page.body[:1500]
    code = mailed_code(w, name)
    wrong = "000000" if code != "000000" else "111111"
    page = b.submit(page, "mfa", otp=wrong)
    assert page.status == 401 and b.cookie("iic_session") is None, page.body[:1500]
    page = b.submit(page, "mfa", otp=code)
    assert is_home(page), page.body[:1500]
    assert b.cookie("iic_mfa") is None, "the ticket is spent"

    # Any other name gets the same page and no mail; nor does a user who has a password.
    _, with_password, _ = user(w)
    configure(w, "DISABLED", no_password="EMAIL_OTP")
    for other in ("no-such-user", with_password):
        o = Browser()
        page = o.submit(o.submit(o.get(w["portal"]), "sign-in", username=other),
                        "email-code-sign-in")
        assert asks_code(page), page.body[:1500]
        page = o.submit(page, "mfa", otp=code)
        assert page.status == 401, "no code matches it"
    time.sleep(1)
    assert sign_in_code_mails(w, with_password) == []

    # Then the MFA settings apply: with MFA always on, the code stands for the password only.
    configure(w, "ALWAYS_ON", "ALLOWED_WITH_ENROLLMENT", no_password="EMAIL_OTP")
    b = Browser()
    page = b.submit(b.submit(b.get(w["portal"]), "sign-in", username=name), "email-code-sign-in")
    page = b.submit(page, "mfa", otp=mailed_code(w, name, count=2))
    assert asks_enrolment(page), page.body[:1500]
