"""The mails a directory owes its users, end to end against a local SMTP sink: the password link
of CreateUser and ResetPwdMode with EMAIL, followed with `requests` and its form submitted as
served; "forgot your password?"; the VerifyEmail link; EMAIL_OTP in the SSO configuration needing
a relay; and password links queued while the relay is down surviving a killed server."""

import re
import signal
import socket
import time
import urllib.parse

import pytest
import requests
from huaweicloudsdkidentitycenter.v1 import (
    ListInstancesRequest, SSOConfigurationDto, UpdateSsoConfigurationReqBody,
    UpdateSsoConfigurationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, DescribeUserRequest, EmailDto, NameDto,
    ResetPwdModeRequest, UpdatePwdModeReqBody, VerifyEmailRequest)

from iic_harness import expect_error, free_port, new_server
from mail_sink import body_of, smtp_env, start_sink, wait_for_log
from portal_forms import Browser, Response, sign_in
from sdk_clients import identity_center, identity_store, started_store_id

PASSWORD = "Correct-Horse-9-Battery"
OTHER_PASSWORD = "Staple-Battery-7-Horse"
TOKEN_LINK = r"(http://\S+/portal/{page}\?token=[0-9a-f]{{64}})"


@pytest.fixture(scope="module")
def env():
    controller, sink = start_sink(free_port())
    server = new_server(dict(smtp_env(controller.port),
                             IIC_SIGN_IN_MAX_FAILURES_PER_ADDRESS="1000"))
    try:
        sid = started_store_id(server)
        yield server, sid, identity_store(server), sink
    finally:
        server.close()
        controller.stop()


def create_user(store, sid, name, mode="EMAIL"):
    return store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name=name, display_name=f"{name} Doe", password_mode=mode,
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)])))


def describe(store, sid, uid):
    return store.describe_user(DescribeUserRequest(identity_store_id=sid, user_id=uid))


def link_in(message, page):
    found = re.search(TOKEN_LINK.format(page=page), body_of(message))
    assert found, body_of(message)
    return found.group(1)


class LinkBrowser:
    """`requests` with its cookies, reading each page's forms as served."""

    def __init__(self):
        self.session = requests.Session()

    def _page(self, r):
        return Response(r.status_code, r.url, r.headers, r.text)

    def get(self, url):
        return self._page(self.session.get(url, timeout=30))

    def submit(self, page, form_id, **fields):
        form = page.form(form_id)
        data = dict(form["fields"])
        data.update(fields)
        url = urllib.parse.urljoin(page.url, form["action"])
        return self._page(self.session.post(url, data=data, timeout=30))


def set_password_through(link, password):
    b = LinkBrowser()
    page = b.get(link)
    assert page.status == 200, page.body[:1500]
    form = page.form("password-reset")
    assert form["fields"].get("csrf_token") and form["fields"].get("token")
    done = b.submit(page, "password-reset", new_password=password, confirm_password=password)
    assert done.status == 200 and done.text("notice"), done.body[:1500]
    return b, page


def portal(server, sid):
    return f"{server.url}/{sid}/portal"


def signs_in(server, sid, name, password):
    b = Browser()
    page = sign_in(b, b.get(portal(server, sid)), name, password)
    return page.status == 200 and bool(page.text("user-name")), b


def link_refused(link):
    page = LinkBrowser().get(link)
    assert page.status == 410 and page.text("link-invalid") is not None, page.body[:1500]
    assert not any(f["id"] in ("password-reset", "verify-email") for f in page.forms)


def test_create_user_with_email_mails_a_link_that_sets_the_password_once(env):
    server, sid, store, sink = env
    r = create_user(store, sid, "mia")
    assert r.password is None
    [mail] = sink.wait_for("mia@example.com")
    assert mail["From"] == "iic@example.test"
    assert re.fullmatch(r"<[0-9a-f]{32}@iic>", mail["Message-ID"])
    assert "password" in mail["Subject"].lower()
    text = body_of(mail)
    assert portal(server, sid) in text and "mia" in text
    assert "24 hours" in text and "ignore" in text
    link = link_in(mail, "reset-password")
    assert link.startswith(portal(server, sid) + "/reset-password?token=")
    token = link.rsplit("=", 1)[1]

    b = LinkBrowser()
    page = b.get(link)
    # Refused passwords leave the link usable.
    refused = b.submit(page, "password-reset", new_password="short", confirm_password="short")
    assert refused.status == 400 and "password policy" in refused.text("error")
    refused = b.submit(refused, "password-reset", new_password=PASSWORD,
                       confirm_password=PASSWORD + "x")
    assert refused.status == 400 and "do not match" in refused.text("error")
    # A form without the browser's CSRF token changes nothing.
    forged = requests.post(urllib.parse.urljoin(page.url, page.form("password-reset")["action"]),
                           data=dict(page.form("password-reset")["fields"],
                                     new_password=PASSWORD, confirm_password=PASSWORD),
                           timeout=30)
    assert forged.status_code == 403
    done = b.submit(refused, "password-reset", new_password=PASSWORD, confirm_password=PASSWORD)
    assert done.status == 200 and done.text("notice"), done.body[:1500]
    assert "/login" in done.body and 'id="sign-in-link"' in done.body

    ok, _ = signs_in(server, sid, "mia", PASSWORD)
    assert ok, "the password set through the link signs in, without a forced change"
    link_refused(link)
    # Posting the spent form again changes nothing either.
    again = b.submit(page, "password-reset", new_password=OTHER_PASSWORD,
                     confirm_password=OTHER_PASSWORD)
    assert again.status == 410
    assert signs_in(server, sid, "mia", PASSWORD)[0]
    # The token was never written to the log, not even as part of a request's address.
    assert token not in server.log(tail=None)


def test_unknown_and_malformed_links_get_a_clear_page(env):
    server, sid, _, _ = env
    for token in ["0" * 64, "nothex", ""]:
        for page in ["reset-password", "verify-email"]:
            r = requests.get(f"{portal(server, sid)}/{page}?token={token}", timeout=30)
            assert r.status_code == 410 and 'id="link-invalid"' in r.text, (page, token)
    r = requests.get(f"{portal(server, sid)}/reset-password", timeout=30)
    assert r.status_code == 410


def test_reset_pwd_mode_email_mails_a_link_and_ends_the_sessions(env):
    server, sid, store, sink = env
    r = create_user(store, sid, "noah", mode="OTP")
    ok, old_browser = signs_in_with_change(server, sid, "noah", r.password, PASSWORD)
    assert ok
    out = store.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=r.user_id,
                                                   body=UpdatePwdModeReqBody(mode="EMAIL")))
    assert out.password is None
    [mail] = sink.wait_for("noah@example.com")
    assert "administrator" in body_of(mail)
    link = link_in(mail, "reset-password")
    # Until the link is used, the current password still works.
    assert signs_in(server, sid, "noah", PASSWORD)[0]
    set_password_through(link, OTHER_PASSWORD)
    # Every session of the user ended: the old browser is back at the sign-in page.
    page = old_browser.get(portal(server, sid))
    assert any(f["id"] == "sign-in" for f in page.forms), page.body[:1500]
    assert signs_in(server, sid, "noah", OTHER_PASSWORD)[0]
    assert not signs_in(server, sid, "noah", PASSWORD)[0]
    link_refused(link)


def test_a_newer_link_replaces_the_older_one(env):
    server, sid, store, sink = env
    r = create_user(store, sid, "olga")
    store.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=r.user_id,
                                             body=UpdatePwdModeReqBody(mode="EMAIL")))
    first, second = sink.wait_for("olga@example.com", count=2)
    link_refused(link_in(first, "reset-password"))
    set_password_through(link_in(second, "reset-password"), PASSWORD)
    assert signs_in(server, sid, "olga", PASSWORD)[0]


def signs_in_with_change(server, sid, name, otp, new_password):
    b = Browser()
    page = sign_in(b, b.get(portal(server, sid)), name, otp, new_password)
    return page.status == 200 and bool(page.text("user-name")), b


def forgot(server, sid, user_name):
    """From the password step of the sign-in page, through its link, to the answer."""
    b = Browser()
    page = b.submit(b.get(portal(server, sid)), "sign-in", username=user_name)
    found = re.search(r'<a href="([^"]+)" id="forgot-password-link"', page.body)
    assert found, page.body[:1500]
    page = b.get(urllib.parse.urljoin(page.url, found.group(1)))
    return b.submit(page, "forgot-password", username=user_name)


def test_forgot_password_answers_the_same_and_mails_only_an_existing_user(env):
    server, sid, store, sink = env
    create_user(store, sid, "pia", mode="OTP")
    known = forgot(server, sid, "pia")
    unknown = forgot(server, sid, "nobody.here")
    assert known.status == unknown.status == 200
    assert known.text("notice") and known.text("notice") == unknown.text("notice")
    [mail] = sink.wait_for("pia@example.com")
    assert "1 hour" in body_of(mail) and "did not ask" in body_of(mail)
    time.sleep(1)
    assert not [m for m in sink.messages if "nobody.here" in (m["To"] or "")]
    set_password_through(link_in(mail, "reset-password"), PASSWORD)
    assert signs_in(server, sid, "pia", PASSWORD)[0]


def test_forgot_password_cannot_flood_a_mailbox(env):
    server, sid, store, sink = env
    create_user(store, sid, "quinn", mode="OTP")
    answers = [forgot(server, sid, "Quinn") for _ in range(5)]
    assert len({a.text("notice") for a in answers}) == 1
    assert all(a.status == 200 for a in answers)
    sink.wait_for("quinn@example.com", count=3)
    time.sleep(2)
    assert len(sink.to("quinn@example.com")) == 3
    wait_for_log(server, "password link not mailed: too many requests")


def test_verify_email_mails_a_link_that_verifies_on_confirmation(env):
    server, sid, store, sink = env
    r = create_user(store, sid, "rosa", mode="OTP")
    store.verify_email(VerifyEmailRequest(identity_store_id=sid, user_id=r.user_id))
    [mail] = sink.wait_for("rosa@example.com")
    assert "rosa@example.com" in body_of(mail) and "ignore" in body_of(mail)
    link = link_in(mail, "verify-email")
    u = describe(store, sid, r.user_id)
    assert u.email_verified is False
    b = LinkBrowser()
    page = b.get(link)
    assert page.status == 200 and page.text("email") == "rosa@example.com"
    # Opening the link (as a mail scanner would) verifies nothing.
    assert describe(store, sid, r.user_id).email_verified is False
    done = b.submit(page, "verify-email")
    assert done.status == 200 and done.text("email-verified") is not None, done.body[:1500]
    u = describe(store, sid, r.user_id)
    assert u.email_verified is True and u.emails[0].verification_status == "VERIFIED"
    link_refused(link)
    expect_error(lambda: store.verify_email(VerifyEmailRequest(identity_store_id=sid,
                                                               user_id=r.user_id)),
                 409, "IIC.1007", "already verified")


def update_sso(server, **fields):
    ic = identity_center(server)
    instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
    return ic.update_sso_configuration(UpdateSsoConfigurationRequest(
        instance_id=instance_id, body=UpdateSsoConfigurationReqBody(
            configuration_type="APP_AUTHENTICATION_CONFIGURATION",
            sso_configuration=SSOConfigurationDto(**fields))))


def test_email_otp_sign_in_needs_a_relay(env):
    server, _, _, _ = env
    update_sso(server, no_mfa_signin_behavior="EMAIL_OTP", no_password_signin_behavior="EMAIL_OTP")
    bare = new_server()
    try:
        started_store_id(bare)
        for field in ["no_mfa_signin_behavior", "no_password_signin_behavior"]:
            expect_error(lambda: update_sso(bare, **{field: "EMAIL_OTP"}), 400, "IIC.400",
                         f"sso_configuration.{field}", "SMTP relay")
        update_sso(bare, no_mfa_signin_behavior="BLOCKED")
        # Without a relay the password link of CreateUser is not queued, and the log says so.
        r = create_user(identity_store(bare), started_store_id(bare), "sam")
        assert r.password is None
        wait_for_log(bare, "mail is not sent (password link)")
    finally:
        bare.close()


def wait_for_failed_attempts(server, count, timeout=20):
    """Waits until `count` distinct mails were logged as not delivered yet."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        ids = set()
        for line in server.log(tail=None).splitlines():
            if "mail not delivered yet" in line:
                ids.update(re.findall(r"[0-9a-f]{32}@iic", line))
        if len(ids) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} mails failed an attempt:\n{server.log()}")


def test_password_links_queued_while_the_relay_is_down_survive_a_killed_server():
    # Bound but not listening: connections are refused, and nothing else takes the port.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    server = new_server(smtp_env(port))
    controller = None
    try:
        sid = started_store_id(server)
        store = identity_store(server)
        names = ["tara", "uma", "vic"]
        for name in names:
            create_user(store, sid, name)
        w = create_user(store, sid, "wes", mode="OTP")
        store.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=w.user_id,
                                                 body=UpdatePwdModeReqBody(mode="EMAIL")))
        # Killed once every mail failed its first attempt: a mail being handed over when the
        # server dies would wait out its lease (90 s) before it is due again.
        wait_for_failed_attempts(server, 4)
        time.sleep(0.5)
        server.stop(signal.SIGKILL)
        holder.close()
        controller, sink = start_sink(port)
        server.start()
        got = {n: sink.wait_for(f"{n}@example.com", timeout=45) for n in names + ["wes"]}
        time.sleep(2)
        assert len(sink.messages) == 4, [m["To"] for m in sink.messages]
        assert len({m["Message-ID"] for m in sink.messages}) == 4
        set_password_through(link_in(got["wes"][0], "reset-password"), PASSWORD)
        assert signs_in(server, sid, "wes", PASSWORD)[0]
    finally:
        holder.close()
        if controller:
            controller.stop()
        server.close()
