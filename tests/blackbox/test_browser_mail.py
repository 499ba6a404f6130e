"""The pages of the mailed links in a real browser (headless Chromium, as test_browser.py): a new
user's password link opened from the mail, the password chosen, sign-in with it; "forgot your
password?" from the sign-in page; the e-mail confirmation. Each page is saved as a screenshot
(target/screenshots/mail-*.png)."""

import re

import pytest
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, DescribeUserRequest, EmailDto, NameDto,
    VerifyEmailRequest)
from selenium.webdriver.common.by import By

from iic_harness import free_port, new_server
from mail_sink import body_of, smtp_env, start_sink
from sdk_clients import identity_store, started_store_id
from test_browser import (  # noqa: F401 (browser is a fixture)
    browser, fill, form, page_text, screenshot, sign_in_in_browser, submit)

PASSWORD = "Mailed-Link-2026!"


@pytest.fixture(scope="module")
def env():
    controller, sink = start_sink(free_port())
    server = new_server(smtp_env(controller.port))
    try:
        sid = started_store_id(server)
        yield server, sid, identity_store(server), sink
    finally:
        server.close()
        controller.stop()


def create_user(store, sid, name, mode):
    return store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name=name, display_name=f"{name} Doe", password_mode=mode,
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)])))


def mailed_link(sink, address, page, count=1):
    mail = sink.wait_for(address, count=count)[-1]
    found = re.search(r"(http://\S+/portal/" + page + r"\?token=[0-9a-f]{64})", body_of(mail))
    assert found, body_of(mail)
    return found.group(1)


def choose_password(browser, link, shot=None):
    browser.get(link)
    reset = form(browser, "password-reset")
    if shot:
        screenshot(browser, shot)
    fill(reset, new_password=PASSWORD, confirm_password=PASSWORD)
    submit(reset)
    assert "Your password is set" in page_text(browser), page_text(browser)


def test_a_new_user_sets_a_password_from_the_mail_and_signs_in(env, browser):
    server, sid, store, sink = env
    create_user(store, sid, "mail.walker", "EMAIL")
    choose_password(browser, mailed_link(sink, "mail.walker@example.com", "reset-password"),
                    shot="mail-1-password-reset")
    screenshot(browser, "mail-2-password-set")
    browser.find_element(By.ID, "sign-in-link").click()
    sign_in_in_browser(browser, f"{server.url}/{sid}/portal", "mail.walker", PASSWORD)
    assert browser.find_elements(By.ID, "user-name"), page_text(browser)
    # The link is spent.
    browser.get(mailed_link(sink, "mail.walker@example.com", "reset-password"))
    assert browser.find_elements(By.ID, "link-invalid")
    screenshot(browser, "mail-3-link-invalid")


def test_forgot_password_from_the_sign_in_page(env, browser):
    server, sid, store, sink = env
    create_user(store, sid, "forgetful", "OTP")
    browser.get(f"{server.url}/{sid}/portal")
    step = form(browser, "sign-in")
    fill(step, username="forgetful")
    submit(step)
    browser.find_element(By.ID, "forgot-password-link").click()
    ask = form(browser, "forgot-password")
    screenshot(browser, "mail-4-forgot-password")
    fill(ask, username="forgetful")
    submit(ask)
    assert browser.find_elements(By.ID, "forgot-password-sent"), page_text(browser)
    screenshot(browser, "mail-5-forgot-password-sent")
    choose_password(browser, mailed_link(sink, "forgetful@example.com", "reset-password"))


def test_an_address_is_confirmed_in_the_browser(env, browser):
    _, sid, store, sink = env
    uid = create_user(store, sid, "confirmer", "OTP").user_id
    store.verify_email(VerifyEmailRequest(identity_store_id=sid, user_id=uid))
    browser.get(mailed_link(sink, "confirmer@example.com", "verify-email"))
    confirm = form(browser, "verify-email")
    screenshot(browser, "mail-6-verify-email")
    submit(confirm)
    assert browser.find_elements(By.ID, "email-verified"), page_text(browser)
    screenshot(browser, "mail-7-email-verified")
    user = store.describe_user(DescribeUserRequest(identity_store_id=sid, user_id=uid))
    assert user.email_verified is True
