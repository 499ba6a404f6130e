"""Security keys in a real browser: headless Chromium with Chrome's virtual authenticator (CTAP2
over USB, like a key on a keyring) registers a security key from the portal's device page, the
identity store SDK's BatchListMfaDevicesForUser shows it, the user renames it in the browser,
the identity store's READ_ACTIONS setting leaves the page a list (its changes refused), then,
with mfa_mode ALWAYS_ON, the user signs in again completing WebAuthn, and finally removes the
key. The public URL is http://localhost:<port>: WebAuthn needs a domain name as relying party id
and a secure context, which localhost is over plain HTTP. Screenshots go to target/screenshots/.
"""

import os
import tempfile
import uuid

import pytest
import requests
from huaweicloudsdkidentitycenter.v1 import (
    ListInstancesRequest, PutMfaDeviceManagementForDirectoryReqBody,
    PutMfaDeviceManagementForIdentityStoreRequest, SSOConfigurationDto,
    UpdateSsoConfigurationReqBody, UpdateSsoConfigurationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchListMfaDevicesForUserReqBody, BatchListMfaDevicesForUserRequest,
    RetrieveMfaDevicesForUserDto)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.support.ui import WebDriverWait

from iic_harness import Server, drop_schema, free_port
from portal_world import create_otp_user
from sdk_clients import identity_center, identity_store, started_store_id
from test_browser import (  # noqa: F401  (browser is a fixture)
    NEW_PASSWORD, browser, change_password, click_and_wait, fill, form, page_text, screenshot,
    sign_in_in_browser, submit)


def localhost_server():
    """A fresh server whose public URL is http://localhost:<its port>."""
    port = free_port()
    env = {"IIC_PUBLIC_URL": f"http://localhost:{port}"}
    if os.environ.get("IIC_BLACKBOX_BACKEND") == "postgres":
        env["IIC_DATABASE_URL"] = os.environ["IIC_TEST_POSTGRES_URL"]
        env["IIC_DATABASE_SCHEMA"] = "iic_bb_" + uuid.uuid4().hex[:12]
    server = Server(data_dir=tempfile.mkdtemp(prefix="iic-blackbox-"), env=env, port=port)
    try:
        return server.start()
    except Exception:
        server.stop()
        drop_schema(server)
        raise


@pytest.fixture(scope="module")
def world():
    server = localhost_server()
    try:
        sid = started_store_id(server)
        ic = identity_center(server)
        instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
        yield {
            "server": server,
            "sid": sid,
            "instance_id": instance_id,
            "ic": ic,
            "store": identity_store(server),
            "portal": f"http://localhost:{server.port}/{sid}/portal",
        }
    finally:
        server.close()


def devices_of(w, user_id):
    r = w["store"].batch_list_mfa_devices_for_user(BatchListMfaDevicesForUserRequest(
        identity_store_id=w["sid"], body=BatchListMfaDevicesForUserReqBody(user_list=[
            RetrieveMfaDevicesForUserDto(identity_store_id=w["sid"], user_id=user_id)])))
    return r.user_mfa_devices_entry_list[0].mfa_devices


def device_management(w, permission):
    w["ic"].put_mfa_device_management_for_identity_store(
        PutMfaDeviceManagementForIdentityStoreRequest(
            instance_id=w["instance_id"], body=PutMfaDeviceManagementForDirectoryReqBody(
                identity_store_id=w["sid"], user_permission=permission)))


def mfa_mode(w, mode):
    w["ic"].update_sso_configuration(UpdateSsoConfigurationRequest(
        instance_id=w["instance_id"], body=UpdateSsoConfigurationReqBody(
            configuration_type="APP_AUTHENTICATION_CONFIGURATION",
            sso_configuration=SSOConfigurationDto(mfa_mode=mode))))


def security_key(driver):
    """Plugs a virtual CTAP2 security key into the browser: USB, with a PIN it verifies."""
    options = VirtualAuthenticatorOptions()
    options.protocol = VirtualAuthenticatorOptions.Protocol.CTAP2
    options.transport = VirtualAuthenticatorOptions.Transport.USB
    options.has_resident_key = False
    options.has_user_verification = True
    options.is_user_verified = True
    options.is_user_consenting = True
    driver.add_virtual_authenticator(options)


def ready(driver, form_id):
    """The form, once the script has taken it over."""
    WebDriverWait(driver, 10).until(
        lambda d: form(d, form_id).get_attribute("data-ready") == "true")
    return form(driver, form_id)


def session_post(driver, w, path, fields):
    """Posts a form with the browser's cookies and CSRF token, outside the browser."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    driver.get(w["portal"])
    token = form(driver, "sign-out").find_element(
        By.NAME, "csrf_token").get_attribute("value")
    return requests.post(w["portal"] + path, data={**fields, "csrf_token": token},
                         cookies=cookies, allow_redirects=False, timeout=10)


def test_a_security_key_is_registered_renamed_used_and_removed(world, browser):
    w = world
    portal = w["portal"]
    user_id, one_time = create_otp_user(w["server"], w["sid"], "key.user")
    security_key(browser)
    browser.set_window_size(900, 1000)

    browser.get(portal)
    sign_in_in_browser(browser, portal, "key.user", one_time)
    change_password(browser, NEW_PASSWORD)
    click_and_wait(browser, browser.find_element(By.ID, "mfa-devices"))
    assert browser.find_element(By.ID, "no-devices")
    click_and_wait(browser, browser.find_element(By.ID, "add-webauthn"))

    # The default SSO configuration allows security keys (and TOTP), not passkeys.
    assert browser.current_url.startswith(portal + "/mfa/webauthn/register"), browser.current_url
    register = ready(browser, "register-security-key")
    assert not browser.find_elements(By.ID, "register-passkey")
    fill(register, device_name="Keyring key")
    screenshot(browser, "20-webauthn-register")
    submit(register)

    assert browser.current_url.startswith(portal + "/devices"), \
        (browser.current_url, page_text(browser))
    assert browser.find_element(By.ID, "done").text == "The device was registered."
    listed = browser.find_elements(By.CSS_SELECTOR, "li.device")
    assert len(listed) == 1 and listed[0].get_attribute("data-mfa-type") == \
        "WEBAUTHN_SECURITY_KEY"
    screenshot(browser, "21-mfa-devices")

    [device] = devices_of(w, user_id)
    assert (device.mfa_type, device.display_name) == ("WEBAUTHN_SECURITY_KEY", "Keyring key")
    assert device.device_id == listed[0].get_attribute("data-device-id")

    rename = listed[0].find_element(By.CSS_SELECTOR, "form.rename")
    fill(rename, display_name="Blue key")
    submit(rename)
    assert browser.find_element(By.ID, "done").text == "The device was renamed."
    [device] = devices_of(w, user_id)
    assert device.display_name == "Blue key"

    # READ_ACTIONS: listed, no buttons, changes refused.
    device_management(w, "READ_ACTIONS")
    try:
        browser.get(portal + "/devices")
        assert "Blue key" in page_text(browser)
        assert browser.find_element(By.ID, "managed-by-administrator")
        assert not browser.find_elements(By.CSS_SELECTOR, "form.rename, a.remove, #add-webauthn")
        screenshot(browser, "22-mfa-devices-read-only")
        for path, fields in (
                ("/devices/rename", {"device_id": device.device_id, "display_name": "Mine"}),
                ("/devices/remove", {"device_id": device.device_id, "confirm": "yes"}),
                ("/mfa/webauthn/register", {"kind": "security-key"})):
            r = session_post(browser, w, path, fields)
            assert r.status_code == 403, (path, r.status_code, r.text[:500])
        assert [d.display_name for d in devices_of(w, user_id)] == ["Blue key"]
    finally:
        device_management(w, "ALL_ACTIONS")

    # Signing in again with MFA always on: the password, then the key.
    mfa_mode(w, "ALWAYS_ON")
    try:
        browser.get(portal)
        submit(form(browser, "sign-out"))
        browser.get(portal)
        sign_in_in_browser(browser, portal, "key.user", NEW_PASSWORD)
        assert browser.current_url.startswith(portal + "/mfa"), browser.current_url
        assert not browser.get_cookie("iic_session"), "no session before the second factor"
        click_and_wait(browser, browser.find_element(By.ID, "use-security-key"))
        step = ready(browser, "sign-in-security-key")
        screenshot(browser, "23-webauthn-sign-in")
        submit(step)
        assert browser.find_elements(By.ID, "user-name"), \
            (browser.current_url, page_text(browser))
        assert browser.get_cookie("iic_session")
        [device] = devices_of(w, user_id)
        assert device.display_name == "Blue key"
    finally:
        mfa_mode(w, "DISABLED")

    browser.get(portal + "/devices")
    assert "last used never" not in page_text(browser), "the sign-in recorded its use"
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "li.device a.remove"))
    assert browser.find_element(By.ID, "device-name").text == "Blue key"
    submit(form(browser, "remove-device"))
    assert browser.find_element(By.ID, "done").text == "The device was removed."
    assert devices_of(w, user_id) == []


def passkey(driver):
    """The browser's own authenticator (internal transport, a discoverable credential, the
    user verified by the device), as a laptop's fingerprint reader would be."""
    driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=VirtualAuthenticatorOptions.Protocol.CTAP2,
        transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
        has_resident_key=True, has_user_verification=True, is_user_verified=True,
        is_user_consenting=True))


def configure(w, **fields):
    w["ic"].update_sso_configuration(UpdateSsoConfigurationRequest(
        instance_id=w["instance_id"], body=UpdateSsoConfigurationReqBody(
            configuration_type="APP_AUTHENTICATION_CONFIGURATION",
            sso_configuration=SSOConfigurationDto(**fields))))


def test_a_user_who_must_enrol_registers_a_passkey_at_sign_in_and_signs_in_with_it(world, browser):
    w = world
    portal = w["portal"]
    user_id, one_time = create_otp_user(w["server"], w["sid"], "passkey.user")
    passkey(browser)
    browser.set_window_size(900, 1000)
    # Only the device management setting would stop a signed-in user; enrolment at sign-in
    # goes on whatever it says.
    device_management(w, "READ_ACTIONS")
    configure(w, mfa_mode="ALWAYS_ON", no_mfa_signin_behavior="ALLOWED_WITH_ENROLLMENT",
              allowed_mfa_types=["WEBAUTHN", "WEBAUTHN_SECURITY_KEY"])
    try:
        browser.get(portal)
        sign_in_in_browser(browser, portal, "passkey.user", one_time)
        change_password(browser, NEW_PASSWORD)
        assert browser.current_url.startswith(portal + "/mfa/enroll"), browser.current_url
        assert not browser.get_cookie("iic_session")
        click_and_wait(browser, browser.find_element(By.ID, "register-security-key"))

        assert browser.current_url.startswith(portal + "/mfa/webauthn/register")
        ready(browser, "register-security-key")
        register = ready(browser, "register-passkey")
        screenshot(browser, "24-webauthn-enrol-at-sign-in")
        fill(register, device_name="Laptop")
        submit(register)
        assert browser.find_elements(By.ID, "user-name"), \
            (browser.current_url, page_text(browser))
        assert browser.get_cookie("iic_session")
        [device] = devices_of(w, user_id)
        assert (device.mfa_type, device.display_name) == ("WEBAUTHN", "Laptop")

        submit(form(browser, "sign-out"))
        browser.get(portal)
        sign_in_in_browser(browser, portal, "passkey.user", NEW_PASSWORD)
        assert browser.current_url.startswith(portal + "/mfa"), browser.current_url
        click_and_wait(browser, browser.find_element(By.ID, "use-security-key"))
        step = ready(browser, "sign-in-passkey")
        assert not browser.find_elements(By.ID, "sign-in-security-key"), "she has no key"
        submit(step)
        assert browser.find_elements(By.ID, "user-name"), \
            (browser.current_url, page_text(browser))
    finally:
        configure(w, mfa_mode="DISABLED",
                  allowed_mfa_types=["TOTP", "WEBAUTHN_SECURITY_KEY"])
        device_management(w, "ALL_ACTIONS")
