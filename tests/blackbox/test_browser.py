"""The sign-in pages in a real browser: headless Chromium driven through chromedriver walks the
device flow a person would — the verification link, sign-in with a one-time password, the forced
password change, the device confirmation — while the OIDC SDK polls for its token; then the
portal home, temporary credentials and sign-out. Every page is saved as a screenshot under
target/screenshots/, and the security headers and cookie flags are checked over plain HTTP."""

import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from iic_harness import ROOT, new_server
from portal_world import (
    create_otp_user, poll_for_token, portal_world, register_client, start_device_authorization)

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


def submit(form_element):
    form_element.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


# --- plain HTTP: headers, cookies, forms --------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url, cookies=None, form_fields=None):
    """One request, redirects not followed: (status, headers, body text)."""
    data = urllib.parse.urlencode(form_fields).encode() if form_fields is not None else None
    request = urllib.request.Request(url, data=data)
    if cookies:
        request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
    try:
        with _opener.open(request, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


class _Forms(HTMLParser):
    """The forms of a page: id → (action, method, {name: value} of its fields as served)."""

    def __init__(self):
        super().__init__()
        self.forms, self._current = {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = a.get("id")
            self.forms[self._current] = (a.get("action") or "", a.get("method") or "get", {})
        elif tag in ("input", "button") and self._current is not None and a.get("name"):
            if tag == "input" or a.get("type") != "submit":
                self.forms[self._current][2][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(html):
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def assert_security_headers(headers, where):
    csp = headers.get("Content-Security-Policy")
    assert csp, f"{where}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp, f"{where}: CSP allows inline code: {csp}"
    assert headers.get("X-Frame-Options") or "frame-ancestors" in csp, \
        f"{where}: framing is not forbidden"


def assert_page_headers(driver, where):
    """Fetches the browser's current page again over plain HTTP, with its session."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    status, headers, body = fetch(driver.current_url, cookies)
    assert status == 200, (where, status, body)
    assert_security_headers(headers, where)


def session_cookie(headers):
    for line in headers.get_all("Set-Cookie") or []:
        if line.startswith("iic_session="):
            return line
    return None


def sign_in_over_http(portal, user_name, password):
    """Signs in through the two sign-in steps as served; checks the headers of each answer and
    the flags of the session cookie; returns the cookies."""
    cookies = {}

    def keep(headers):
        for line in headers.get_all("Set-Cookie") or []:
            name, _, rest = line.partition("=")
            cookies[name] = rest.split(";")[0]

    url = portal + "/login"
    status, headers, body = fetch(url)
    assert status == 200, (status, body)
    assert_security_headers(headers, "GET login")
    keep(headers)
    for field, value in (("username", user_name), ("password", password)):
        action, method, fields = forms_of(body)["sign-in"]
        assert method.lower() == "post"
        fields[field] = value
        url = urllib.parse.urljoin(url, action)
        status, headers, body = fetch(url, cookies, fields)
        assert_security_headers(headers, f"POST sign-in ({field})")
        keep(headers)
    assert status in (302, 303), (status, body)
    cookie = session_cookie(headers)
    assert cookie, f"no iic_session cookie set: {headers.get_all('Set-Cookie')}"
    flags = [f.strip().lower() for f in cookie.split(";")[1:]]
    assert "httponly" in flags, cookie
    assert "samesite=lax" in flags, cookie
    return cookies


# --- the walk -----------------------------------------------------------------------------------

def test_device_flow_portal_and_credentials_in_a_browser(world, browser):
    server, w = world
    portal = w["start_url"]
    client = register_client(server)
    device = start_device_authorization(server, client, portal)
    assert device.verification_uri_complete.startswith(portal + "/device?user_code=")

    browser.get(device.verification_uri_complete)
    assert browser.current_url.startswith(portal + "/login"), browser.current_url
    sign_in = form(browser, "sign-in")
    screenshot(browser, "01-sign-in")
    assert_page_headers(browser, "GET sign-in")
    fill(sign_in, username=w["user_name"])
    submit(sign_in)

    step = form(browser, "sign-in")
    assert step.find_element(By.NAME, "username").get_attribute("value") == w["user_name"]
    screenshot(browser, "02-password-step")
    fill(step, password=w["password"])
    submit(step)

    assert browser.current_url.startswith(portal + "/password"), browser.current_url
    change = form(browser, "password-change")
    screenshot(browser, "03-password-change")
    assert_page_headers(browser, "GET password change")
    fill(change, new_password="short", confirm_password="short")
    submit(change)
    form(browser, "password-change")
    assert "at least 8 characters" in page_text(browser), page_text(browser)
    change = form(browser, "password-change")
    fill(change, new_password=w["password"], confirm_password=w["password"])
    submit(change)
    form(browser, "password-change")
    assert re.search(r"one-time|reuse|same|previous|current", page_text(browser), re.I), \
        page_text(browser)
    change = form(browser, "password-change")
    fill(change, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    submit(change)

    assert browser.current_url.startswith(portal + "/device"), browser.current_url
    entry = form(browser, "device-code")
    assert entry.find_element(By.NAME, "user_code").get_attribute("value") == device.user_code
    screenshot(browser, "04-device")
    assert_page_headers(browser, "GET device")
    submit(entry)

    decision = form(browser, "device-decision")
    assert device.user_code in page_text(browser)
    screenshot(browser, "05-device-confirmation")
    decision.find_element(By.CSS_SELECTOR, "button[name=action][value=approve]").click()
    result = browser.find_element(By.ID, "device-result")
    assert "approved" in result.text.lower(), result.text
    screenshot(browser, "06-approved")

    token = poll_for_token(server, client, device)
    assert len(token.access_token) == 64 and token.refresh_token

    browser.get(portal)
    accounts = browser.find_elements(By.CSS_SELECTOR, "section.account")
    assert [a.get_attribute("data-account-id") for a in accounts] == [w["account_id"]]
    assert w["set_name"] in accounts[0].text
    assert browser.find_elements(By.ID, "sign-out")
    screenshot(browser, "07-portal-home")
    assert_page_headers(browser, "GET portal home")

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
    screenshot(browser, "09-signed-out")
    assert browser.get_cookie("iic_session") is None or \
        not browser.get_cookie("iic_session")["value"]
    browser.get(portal)
    assert browser.current_url.startswith(portal + "/login"), browser.current_url


def test_security_headers_and_session_cookie_over_plain_http(world):
    server, w = world
    portal = w["start_url"]
    status, headers, _ = fetch(portal)
    assert status == 303, status
    assert urllib.parse.urljoin(portal, headers["Location"]).startswith(portal + "/login"), \
        headers["Location"]
    _, one_time = create_otp_user(server, w["store_id"], "headers.user")
    cookies = sign_in_over_http(portal, "headers.user", one_time)
    status, headers, body = fetch(portal + "/password", cookies)
    assert status == 200, (status, body)
    assert "password-change" in forms_of(body)
    assert_security_headers(headers, "GET password change")
