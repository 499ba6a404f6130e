"""A device flow survives restarts of the server (same data directory or database, same master
key): one between StartDeviceAuthorization and the approval, one between the approval and the
token's redemption. The token is then used: the Portal API lists the user's account and the
refresh grant answers new tokens. Runs on PostgreSQL too with IIC_BLACKBOX_BACKEND=postgres."""

import pytest
from huaweicloudsdkidentitycenterportalapi.v1 import ListAccountsRequest

from iic_harness import new_server
from portal_forms import approve_device
from portal_world import (
    REFRESH_GRANT, create_token, poll_for_token, portal_world, register_client,
    start_device_authorization)
from test_portal import portal_client

NEW_PASSWORD = "Restart-Flow-2026!"


@pytest.fixture()
def server():
    s = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    yield s
    s.close()


def test_device_flow_completes_across_two_restarts(server):
    w = portal_world(server, user_name="restart.user")
    client = register_client(server)
    device = start_device_authorization(server, client, w["start_url"])

    server.restart()
    approve_device(device.verification_uri_complete, w["user_name"], w["password"],
                   new_password=NEW_PASSWORD)

    server.restart()
    token = poll_for_token(server, client, device)
    assert len(token.access_token) == 64 and token.refresh_token
    accounts = portal_client(server).list_accounts(
        ListAccountsRequest(access_token=token.access_token)).account_list
    assert [a.account_id for a in accounts] == [w["account_id"]]

    refreshed = create_token(server, client, grant_type=REFRESH_GRANT,
                             refresh_token=token.refresh_token)
    assert refreshed.access_token and refreshed.access_token != token.access_token


def test_a_client_registered_before_a_restart_still_authenticates(server):
    w = portal_world(server, user_name="early.user")
    client = register_client(server)
    server.restart()
    device = start_device_authorization(server, client, w["start_url"])
    approve_device(device.verification_uri_complete, w["user_name"], w["password"],
                   new_password=NEW_PASSWORD)
    token = poll_for_token(server, client, device)
    server.restart()
    refreshed = create_token(server, client, grant_type=REFRESH_GRANT,
                             refresh_token=token.refresh_token)
    assert refreshed.access_token != token.access_token
