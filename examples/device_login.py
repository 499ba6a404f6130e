#!/usr/bin/env python3
"""Sign in to an iic user portal from a script, with the official SDKs only.

Registers an OIDC client, starts a device authorization for the portal's start URL, prints the
link and code for a person to approve in a browser, polls for the token as the server asks
(`interval`, five seconds more after `slow_down`), lists the accounts and agencies assigned to
the user, and fetches temporary credentials for the chosen one. They are written to an env file
(mode 0600) with --out, or printed as shell export lines.

    pip install huaweicloudsdkidentitycenteroidc huaweicloudsdkidentitycenterportalapi
    python3 device_login.py --endpoint http://127.0.0.1:8080 \\
        --start-url http://127.0.0.1:8080/<identity store id>/portal \\
        --account <account id or name> --agency <agency or permission set name> --out creds.env
"""

import argparse
import os
import sys
import time

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenteroidc.v1 import (
    CreateTokenReqBody, CreateTokenRequest, IdentityCenterOIDCClient, RegisterClientReqBody,
    RegisterClientRequest, StartDeviceAuthorizationReqBody, StartDeviceAuthorizationRequest)
from huaweicloudsdkidentitycenteroidc.v1.identitycenteroidc_credentials import (
    IdentityCenterOIDCCredentials)
from huaweicloudsdkidentitycenterportalapi.v1 import (
    GetAgencyCredentialsRequest, IdentityCenterPortalAPIClient, ListAccountAgenciesRequest,
    ListAccountsRequest)
from huaweicloudsdkidentitycenterportalapi.v1.identitycenterportalapi_credentials import (
    IdentityCenterPortalAPICredentials)

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_STEP_SECS = 5


def oidc_client(endpoint):
    return (IdentityCenterOIDCClient.new_builder()
            .with_credentials(IdentityCenterOIDCCredentials())
            .with_endpoint(endpoint)
            .build())


def portal_client(endpoint):
    return (IdentityCenterPortalAPIClient.new_builder()
            .with_credentials(IdentityCenterPortalAPICredentials())
            .with_endpoint(endpoint)
            .build())


def keep_polling(e):
    """Whether a refused CreateToken means "not yet": its message names the OAuth error."""
    message = e.error_msg or ""
    return "authorization_pending" in message or "slow_down" in message


def device_login(oidc, start_url):
    """Runs the device flow; returns the access token once a person approved it."""
    client = oidc.register_client(RegisterClientRequest(body=RegisterClientReqBody(
        client_name="device-login-example", client_type="public",
        token_endpoint_auth_method="client_secret_post", grant_types=[DEVICE_GRANT],
        response_types=["code"], scopes=["openid"]))).client_info
    device = oidc.start_device_authorization(StartDeviceAuthorizationRequest(
        body=StartDeviceAuthorizationReqBody(client_id=client.client_id,
                                             client_secret=client.client_secret,
                                             start_url=start_url)))
    print(f"Open {device.verification_uri_complete}", flush=True)
    print(f"and check that it shows the code {device.user_code}", flush=True)
    interval = device.interval
    deadline = time.monotonic() + device.expires_in
    while time.monotonic() < deadline:
        time.sleep(interval)
        try:
            token = oidc.create_token(CreateTokenRequest(body=CreateTokenReqBody(
                client_id=client.client_id, client_secret=client.client_secret,
                grant_type=DEVICE_GRANT, device_code=device.device_code))).token_info
            return token.access_token
        except ClientRequestException as e:
            if not keep_polling(e):
                raise SystemExit(f"sign-in failed: {e.error_msg}")
            if "slow_down" in e.error_msg:
                interval += SLOW_DOWN_STEP_SECS
    raise SystemExit("sign-in not approved before the code expired")


def all_pages(fetch, items):
    """Every item of a paged Portal API listing."""
    out, marker = [], None
    while True:
        page = fetch(marker)
        out += getattr(page, items) or []
        marker = page.page_info.next_marker if page.page_info else None
        if not marker:
            return out


def assigned(portal, token):
    """[(account, [agency, …]), …] for the signed-in user."""
    accounts = all_pages(lambda m: portal.list_accounts(
        ListAccountsRequest(access_token=token, marker=m)), "account_list")
    return [(a, all_pages(lambda m, a=a: portal.list_account_agencies(ListAccountAgenciesRequest(
        access_token=token, account_id=a.account_id, marker=m)), "agency_list"))
        for a in accounts]


def choose(found, wanted, names, what):
    """The one item whose id or name is `wanted`, or the only one when nothing was asked."""
    matches = [f for f in found if wanted is None or wanted in names(f)]
    if len(matches) != 1:
        raise SystemExit(f"choose one {what} with --{what}" if matches
                         else f"no {what} {wanted!r} is assigned to you")
    return matches[0]


def export_lines(credentials):
    return (f"export HUAWEICLOUD_SDK_AK={credentials.access_key_id}\n"
            f"export HUAWEICLOUD_SDK_SK={credentials.secret_access_key}\n"
            f"export HUAWEICLOUD_SDK_SECURITY_TOKEN={credentials.session_token}\n")


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", required=True, help="the iic server, e.g. http://127.0.0.1:8080")
    p.add_argument("--start-url", required=True, help="the user portal: <public url>/<store>/portal")
    p.add_argument("--account", help="account id or name (needed when several are assigned)")
    p.add_argument("--agency", help="agency or permission set name, or agency URN")
    p.add_argument("--out", help="write the credentials to this env file (mode 0600) "
                                 "instead of printing export lines")
    args = p.parse_args(argv)

    token = device_login(oidc_client(args.endpoint), args.start_url)
    print("Signed in.", flush=True)
    portal = portal_client(args.endpoint)
    found = assigned(portal, token)
    for account, agencies in found:
        print(f"account {account.account_id} ({account.account_name}): "
              + ", ".join(a.agency_name or a.permission_set_name for a in agencies), flush=True)
    account, agencies = choose(found, args.account,
                               lambda f: (f[0].account_id, f[0].account_name), "account")
    agency = choose(agencies, args.agency,
                    lambda a: (a.agency_name, a.permission_set_name, a.agency_urn), "agency")
    credentials = portal.get_agency_credentials(GetAgencyCredentialsRequest(
        access_token=token, target_account_id=account.account_id,
        agency_urn=agency.agency_urn)).agency_credentials
    if args.out:
        write_private(args.out, export_lines(credentials))
        print(f"credentials for {account.account_id} written to {args.out}", flush=True)
    else:
        sys.stdout.write(export_lines(credentials))


if __name__ == "__main__":
    main()
