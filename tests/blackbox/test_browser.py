"""The sign-in pages in a real browser: headless Chromium driven through chromedriver walks the
device flow a person would — the verification link, sign-in with a one-time password, the forced
password change (a weak password and the one-time password itself refused), the device
confirmation — while the OIDC SDK polls for its token; then sign-out; and, for a second user, the
portal home with the assigned account and temporary credentials. Every page is saved as a
screenshot under target/screenshots/; the security headers and cookie flags are checked over
plain HTTP."""

import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from iic_harness import ROOT, new_server
from portal_forms import Browser, sign_in
from portal_world import (
    assign_and_provision, create_otp_user, poll_for_token, portal_world, register_client,
    start_device_authorization)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = os.path.join(ROOT, "target", "screenshots")
NEW_PASSWORD = "Browser-Walk-2026!"


@pytest.fixture(scope="module")
def world():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    try:
        yield server, portal_world(server, user_name="browser.user")
    finally:
        server.close()


@pytest.fixture()
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), \
            f"{path} is missing: install the Debian packages chromium and chromium-driver"
    profile = tempfile.mkdtemp(prefix="iic-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-first-run", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    assert driver.save_screenshot(path), f"screenshot {name} not saved"
    assert os.path.getsize(path) > 1000, f"screenshot {name} is empty"


def form(driver, form_id):
    found = driver.find_elements(By.ID, form_id)
    assert found, f"no form id={form_id} on {driver.current_url}:\n{page_text(driver)}"
    return found[0]


def page_text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def fill(form_element, **fields):
    for name, value in fields.items():
        field = form_element.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def replaced(page):
    """Whether `page` (an element of the old document) is gone. While the next document loads,
    Chromium may answer an inspector error rather than a stale-element one: both mean gone."""
    def gone(_driver):
        try:
            page.is_enabled()
            return False
        except WebDriverException:
            return True
    return gone


def click_and_wait(driver, button):
    """Clicks a button that submits a form and waits until the next page replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 15).until(replaced(page))


def submit(form_element):
    click_and_wait(form_element.parent,
                   form_element.find_element(By.CSS_SELECTOR, "button[type=submit]"))


# --- plain HTTP: headers and cookies ------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url, cookies):
    """A GET with these cookies, redirects not followed: (status, headers, body text)."""
    request = urllib.request.Request(url)
    if cookies:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with _opener.open(request, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def assert_security_headers(headers, where):
    csp = headers.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp, f"{where}: CSP allows inline code: {csp}"
    assert headers.get("X-Frame-Options") or "frame-ancestors" in csp, \
        f"{where}: framing is not forbidden"


def assert_page_headers(driver, where):
    """Fetches the browser's current page again over plain HTTP, with the browser's cookies."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    status, headers, body = fetch(driver.current_url, cookies)
    assert status == 200, (where, status, body)
    assert_security_headers(headers, where)


def assert_cookie_flags(set_cookie):
    flags = [f.strip().lower() for f in set_cookie.split(";")[1:]]
    assert "httponly" in flags and "samesite=lax" in flags, set_cookie


# --- the walks ---------------------------------------------------------------------------------

def sign_in_in_browser(browser, portal, user_name, password, screenshots=False):
    """Types the user name, then the password, into the two sign-in steps."""
    sign_in_form = form(browser, "sign-in")
    if screenshots:
        screenshot(browser, "01-sign-in")
        assert_page_headers(browser, "GET sign-in")
    fill(sign_in_form, username=user_name)
    submit(sign_in_form)
    step = form(browser, "sign-in")
    assert step.find_element(By.NAME, "username").get_attribute("value") == user_name
    if screenshots:
        screenshot(browser, "02-password-step")
    fill(step, password=password)
    submit(step)


def change_password(browser, new_password):
    change = form(browser, "password-change")
    fill(change, new_password=new_password, confirm_password=new_password)
    submit(change)


def test_device_flow_in_a_browser(world, browser):
    server, w = world
    portal = w["start_url"]
    client = register_client(server)
    device = start_device_authorization(server, client, portal)
    assert device.verification_uri_complete.startswith(portal + "/device?user_code=")

    browser.get(device.verification_uri_complete)
    assert browser.current_url.startswith(portal + "/login"), browser.current_url
    sign_in_in_browser(browser, portal, w["user_name"], w["password"], screenshots=True)

    assert browser.current_url.startswith(portal + "/password"), browser.current_url
    form(browser, "password-change")
    screenshot(browser, "03-password-change")
    change_password(browser, "short")
    form(browser, "password-change")
    assert "at least 8 characters" in page_text(browser), page_text(browser)
    change_password(browser, w["password"])
    form(browser, "password-change")
    assert "must differ from your current password" in page_text(browser), page_text(browser)
    change_password(browser, NEW_PASSWORD)

    assert browser.current_url.startswith(portal + "/device"), browser.current_url
    entry = form(browser, "device-code")
    assert entry.find_element(By.NAME, "user_code").get_attribute("value") == device.user_code
    screenshot(browser, "04-device")
    assert_page_headers(browser, "GET device")
    submit(entry)

    decision = form(browser, "device-decision")
    assert device.user_code in page_text(browser)
    screenshot(browser, "05-device-confirmation")
    click_and_wait(browser,
                   decision.find_element(By.CSS_SELECTOR, "button[name=action][value=approve]"))
    result = browser.find_element(By.ID, "device-result")
    assert "approved" in result.text.lower(), result.text
    screenshot(browser, "06-approved")

    token = poll_for_token(server, client, device)
    assert len(token.access_token) == 64 and token.refresh_token

    browser.get(portal)
    assert browser.find_element(By.ID, "user-name").text == w["user_name"]
    assert_page_headers(browser, "GET portal home")
    submit(form(browser, "sign-out"))
    screenshot(browser, "09-signed-out")
    assert browser.get_cookie("iic_session") is None
    browser.get(portal)
    assert browser.current_url.startswith(portal + "/login"), browser.current_url


def test_portal_home_lists_the_assignment_and_hands_out_credentials(world, browser):
    server, w = world
    portal = w["start_url"]
    user_id, one_time = create_otp_user(server, w["store_id"], "portal.browser")
    set_name = "BrowserOperators"
    assign_and_provision(server, w["instance_id"], user_id, w["account_id"], set_name)
    browser.get(portal)
    sign_in_in_browser(browser, portal, "portal.browser", one_time)
    change_password(browser, NEW_PASSWORD)

    assert browser.current_url.split("?")[0].rstrip("/") == portal, browser.current_url
    accounts = browser.find_elements(By.CSS_SELECTOR, "section.account")
    assert [a.get_attribute("data-account-id") for a in accounts] == [w["account_id"]], \
        page_text(browser)
    assert set_name in accounts[0].text
    screenshot(browser, "07-portal-home")

    credentials = accounts[0].find_elements(By.CSS_SELECTOR, "form.credentials")
    assert len(credentials) == 1
    submit(credentials[0])
    export = browser.find_element(By.ID, "export").text
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        assert re.search(rf"^export {name}=\S+", export, re.M), export
    assert browser.find_element(By.ID, "sdk").text.strip()
    screenshot(browser, "08-credentials")

    browser.get(portal)
    submit(form(browser, "sign-out"))
    assert browser.get_cookie("iic_session") is None


def test_every_page_and_cookie_of_a_sign_in_carries_the_security_settings(world):
    server, w = world
    portal = w["start_url"]
    _, one_time = create_otp_user(server, w["store_id"], "headers.user")
    b = Browser()
    home = sign_in(b, b.get(portal), "headers.user", one_time, new_password=NEW_PASSWORD)
    assert home.status == 200 and home.text("user-name"), home.body[:2000]
    assert b.cookie("iic_session") is not None
    set_cookies = []
    for hop in b.hops:
        assert_security_headers(hop.headers, f"{hop.status} {hop.url}")
        set_cookies += hop.headers.get_all("Set-Cookie") or []
    assert any(c.startswith("iic_session=") for c in set_cookies), set_cookies
    for cookie in set_cookies:
        assert_cookie_flags(cookie)
