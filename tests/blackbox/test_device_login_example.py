"""examples/device_login.py run as a user would run it: it prints the verification link, a person
approves it (portal_forms, over plain HTTP), and the script writes temporary credentials to an
env file of mode 0600 that sign requests the server accepts."""

import os
import re
import stat
import subprocess
import sys
import tempfile

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkidentitycenter.v1 import ListInstancesRequest

from iic_harness import ROOT, expect_error, new_server
from portal_forms import approve_device
from portal_world import portal_world
from sdk_clients import identity_center

EXAMPLE = os.path.join(ROOT, "examples", "device_login.py")


@pytest.fixture()
def world():
    server = new_server({"IIC_DEVICE_POLL_INTERVAL_SECS": "1"})
    try:
        yield server, portal_world(server, user_name="script.user")
    finally:
        server.close()


def run_example(*args):
    return subprocess.Popen([sys.executable, EXAMPLE, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_link(proc):
    """The verification link the script prints, read as soon as it is printed."""
    for line in proc.stdout:
        if line.startswith("Open "):
            return line.split()[1]
    raise AssertionError(f"the script printed no link: {proc.stderr.read()}")


def test_the_example_signs_in_and_writes_usable_credentials(world):
    server, w = world
    out = os.path.join(tempfile.mkdtemp(prefix="iic-example-"), "creds.env")
    proc = run_example("--endpoint", server.url, "--start-url", w["start_url"],
                       "--account", w["account_id"], "--agency", w["set_name"], "--out", out)
    try:
        link = read_link(proc)
        assert link.startswith(w["start_url"] + "/device?user_code=")
        approve_device(link, w["user_name"], w["password"], new_password="Script-Login-2026!")
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Signed in." in rest, (rest, err)
    assert proc.returncode == 0, err
    assert w["account_id"] in rest and w["set_name"] in rest, rest
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    env = dict(re.findall(r"^export (\w+)=(\S+)$", open(out).read(), re.M))
    assert set(env) == {"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
                        "HUAWEICLOUD_SDK_SECURITY_TOKEN"}, env

    # The credentials sign a request the server accepts as the member account: authenticated,
    # then refused only because a member account may not administer the instance.
    client = identity_center(server, ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"],
                             domain_id=w["account_id"],
                             security_token=env["HUAWEICLOUD_SDK_SECURITY_TOKEN"])
    expect_error(lambda: client.list_instances(ListInstancesRequest()), 403, "IIC.1215",
                 "administrator account")
    forged = identity_center(server, ak=env["HUAWEICLOUD_SDK_AK"], sk="x" * 40,
                             domain_id=w["account_id"],
                             security_token=env["HUAWEICLOUD_SDK_SECURITY_TOKEN"])
    with pytest.raises(ClientRequestException) as refused:
        forged.list_instances(ListInstancesRequest())
    assert refused.value.status_code == 401, refused.value


def test_an_unknown_account_is_refused_with_its_name(world):
    server, w = world
    proc = run_example("--endpoint", server.url, "--start-url", w["start_url"],
                       "--account", "no-such-account")
    try:
        approve_device(read_link(proc), w["user_name"], w["password"],
                       new_password="Script-Login-2026!")
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "no account 'no-such-account' is assigned to you" in err, err
