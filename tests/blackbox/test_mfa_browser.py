"""MFA in a real browser: headless Chromium signs a new user in while MFA is always on, enrols an
authenticator app on the way (the QR code drawn by the server, the key read from the page and
turned into codes with pyotp), then signs in again with a code. Screenshots under
target/screenshots/."""

import time

import pyotp
from huaweicloudsdkidentitycenter.v1 import (
    ListInstancesRequest, SSOConfigurationDto, UpdateSsoConfigurationReqBody, UpdateSsoConfigurationRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchListMfaDevicesForUserReqBody, BatchListMfaDevicesForUserRequest,
    RetrieveMfaDevicesForUserDto)
from selenium.webdriver.common.by import By

from iic_harness import new_server
from portal_world import create_otp_user
from sdk_clients import identity_center, identity_store, started_store_id
from test_browser import browser, fill, form, page_text, screenshot, submit  # noqa: F401

NEW_PASSWORD = "Browser-Mfa-2026!"


def test_enrol_an_authenticator_app_at_sign_in_then_sign_in_with_a_code(browser):  # noqa: F811
    server = new_server()
    try:
        sid = started_store_id(server)
        ic = identity_center(server)
        instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
        ic.update_sso_configuration(UpdateSsoConfigurationRequest(
            instance_id=instance_id, body=UpdateSsoConfigurationReqBody(
                configuration_type="APP_AUTHENTICATION_CONFIGURATION",
                sso_configuration=SSOConfigurationDto(
                    mfa_mode="ALWAYS_ON", no_mfa_signin_behavior="ALLOWED_WITH_ENROLLMENT",
                    no_password_signin_behavior="BLOCKED", allowed_mfa_types=["TOTP"]))))
        user_id, otp = create_otp_user(server, sid, "chromium.mfa")
        driver = browser
        driver.set_window_size(1000, 1500)
        portal = f"{server.url}/{sid}/portal"

        driver.get(portal)
        f = form(driver, "sign-in")
        fill(f, username="chromium.mfa")
        submit(f)
        f = form(driver, "sign-in")
        fill(f, password=otp)
        submit(f)
        f = form(driver, "password-change")
        fill(f, new_password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
        submit(f)

        f = form(driver, "mfa-enroll")
        qr = driver.find_element(By.ID, "totp-qr")
        assert driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", qr) >= 200, \
            "the QR code, drawn by the server, is shown"
        uri = driver.find_element(By.ID, "otpauth-uri").text
        totp = pyotp.parse_uri(uri)
        assert driver.find_element(By.ID, "totp-secret").text.replace(" ", "") == totp.secret
        screenshot(driver, "mfa-1-enrol-authenticator-app")
        now = time.time()
        fill(f, otp=totp.at(now - 30), otp_next=totp.at(now), device_name="Chromium phone")
        submit(f)
        assert driver.find_element(By.ID, "user-name").text == "chromium.mfa", page_text(driver)
        screenshot(driver, "mfa-2-signed-in-after-enrolment")

        devices = identity_store(server).batch_list_mfa_devices_for_user(
            BatchListMfaDevicesForUserRequest(
                identity_store_id=sid, body=BatchListMfaDevicesForUserReqBody(user_list=[
                    RetrieveMfaDevicesForUserDto(identity_store_id=sid, user_id=user_id)]))
        ).user_mfa_devices_entry_list[0].mfa_devices
        assert [(d.mfa_type, d.display_name) for d in devices] == [("TOTP", "Chromium phone")]

        submit(form(driver, "sign-out"))
        driver.get(portal)
        f = form(driver, "sign-in")
        fill(f, username="chromium.mfa")
        submit(f)
        f = form(driver, "sign-in")
        fill(f, password=NEW_PASSWORD)
        submit(f)
        f = form(driver, "mfa")
        fill(f, otp="000000" if totp.at(time.time() + 30) != "000000" else "111111")
        submit(f)
        assert "not right" in driver.find_element(By.ID, "error").text
        screenshot(driver, "mfa-3-wrong-code")
        f = form(driver, "mfa")
        fill(f, otp=totp.at(time.time() + 30))
        submit(f)
        assert driver.find_element(By.ID, "user-name").text == "chromium.mfa", page_text(driver)
        screenshot(driver, "mfa-4-signed-in-with-a-code")
    finally:
        server.close()
