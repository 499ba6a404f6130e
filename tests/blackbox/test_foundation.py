"""Foundation: service lifecycle, instances, regions, discovery, signing and the error envelope,
driven through the official Python SDK against the real binary."""

import json
import os
import re
import signal
import socket
import stat
import time

import requests
from huaweicloudsdkidentitycenter.v1 import (
    CreateAliasReqBody, CreateAliasRequest, DeleteIdentityCenterRequest,
    DescribeRegisteredRegionsRequest, GetIdentityCenterServiceStatusRequest,
    ListIdentityStoreAssociationRequest, ListInstancesRequest, RegisterRegionReqBody,
    RegisterRegionRequest, StartIdentityCenterRequest)

from iic_harness import HEX32, expect_error, sdk_date, send, signed, stored_bytes
from sdk_clients import identity_center



def status(client):
    return client.get_identity_center_service_status(
        GetIdentityCenterServiceStatusRequest()).service_status


def instances(client, **kw):
    return client.list_instances(ListInstancesRequest(**kw))


def test_healthz_needs_no_signature(server):
    r = requests.get(server.url + "/healthz", timeout=5)
    assert r.status_code == 200
    assert HEX32.match(r.headers["X-Request-Id"])


def test_readyz_says_the_database_answers_with_the_current_schema(server):
    r = requests.get(server.url + "/readyz", timeout=5)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready"}
    assert HEX32.match(r.headers["X-Request-Id"])


def test_bootstrap_credentials_file(server):
    path = os.path.join(server.data_dir, "bootstrap-credentials.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    creds = json.load(open(path))
    assert set(creds) == {"access_key", "secret_key", "account_id", "project_id", "region"}
    assert HEX32.match(creds["account_id"]) and HEX32.match(creds["project_id"])
    assert creds["region"] == "cn-north-4"
    db = stored_bytes(server, ["credentials"])
    assert db, "the store holds the credential"
    assert creds["secret_key"].encode() not in db, "the secret key must not be stored in clear"


def test_lifecycle_start_list_alias_delete(fresh_server):
    c = identity_center(fresh_server)
    assert status(c) == "DISABLED"
    assert instances(c).instances == []
    c.start_identity_center(StartIdentityCenterRequest())
    assert status(c) == "ENABLED"
    first = instances(c)
    assert len(first.instances) == 1
    ins = first.instances[0]
    assert re.match(r"^ins-[0-9a-f]{16}$", ins.instance_id)
    assert re.match(r"^d-[0-9a-f]{10}$", ins.identity_store_id)
    assert ins.instance_urn == f"IdentityCenter::system:instance:{ins.instance_id}"
    assert ins.alias is None
    assert first.page_info.next_marker is None
    assert first.page_info.current_count == 1

    c.start_identity_center(StartIdentityCenterRequest())  # idempotent
    again = instances(c, limit=1)
    assert [i.instance_id for i in again.instances] == [ins.instance_id]
    assert again.page_info.next_marker is None

    c.create_alias(CreateAliasRequest(instance_id=ins.instance_id,
                                      body=CreateAliasReqBody(alias="acme-corp")))
    assert instances(c).instances[0].alias == "acme-corp"
    expect_error(lambda: c.create_alias(CreateAliasRequest(
        instance_id=ins.instance_id, body=CreateAliasReqBody(alias="other"))), 409, "IIC.1007",
        "only once")

    assoc = c.list_identity_store_association(
        ListIdentityStoreAssociationRequest(instance_id=ins.instance_id))
    assert assoc.identity_store_associations[0].identity_store_id == ins.identity_store_id
    assert assoc.identity_store_associations[0].status == "ENABLED"

    regions = c.describe_registered_regions(DescribeRegisteredRegionsRequest()).regions
    assert [r.region_id for r in regions] == ["cn-north-4"]
    c.register_region(RegisterRegionRequest(body=RegisterRegionReqBody(region_id="cn-north-4")))
    expect_error(lambda: c.register_region(RegisterRegionRequest(
        body=RegisterRegionReqBody(region_id="cn-south-1"))), 400, "IIC.400", "region_id")

    c.delete_identity_center(DeleteIdentityCenterRequest())
    assert status(c) == "DISABLED"
    assert instances(c).instances == []
    expect_error(lambda: c.delete_identity_center(DeleteIdentityCenterRequest()), 404, "IIC.404")
    expect_error(lambda: c.list_identity_store_association(
        ListIdentityStoreAssociationRequest(instance_id=ins.instance_id)), 404, "IIC.404")

    c.start_identity_center(StartIdentityCenterRequest())
    reborn = instances(c).instances
    assert len(reborn) == 1 and reborn[0].instance_id != ins.instance_id
    assert reborn[0].alias is None


def test_restart_keeps_instance_status_and_credentials(fresh_server):
    c = identity_center(fresh_server)
    c.start_identity_center(StartIdentityCenterRequest())
    before = instances(c).instances[0].instance_id
    creds_before = dict(fresh_server.creds)
    assert fresh_server.stop() == 0, "SIGTERM ends the server cleanly"
    fresh_server.start()
    assert fresh_server.creds == creds_before, "a restart never mints a second organization"
    c = identity_center(fresh_server)
    assert status(c) == "ENABLED"
    assert [i.instance_id for i in instances(c).instances] == [before]


def test_sigterm_finishes_a_request_in_flight(fresh_server):
    url, headers, body = signed(fresh_server, "POST", "/v1/register-regions",
                                body={"region_id": "cn-north-4"})
    path = url.split(str(fresh_server.port), 1)[1]
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", fresh_server.port), timeout=10) as conn:
        conn.sendall(head.encode() + body[:5])  # the request is now in flight
        time.sleep(0.2)
        fresh_server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert fresh_server.proc.poll() is None, "the server waits for the request in flight"
        conn.sendall(body[5:])
        answer = conn.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 200"), answer
    assert fresh_server.proc.wait(timeout=20) == 0


def test_list_instances_bad_limit_and_marker(server):
    c = identity_center(server)
    for bad in (0, 101, -1):
        expect_error(lambda: instances(c, limit=bad), 400, "IIC.400", "limit")
    expect_error(lambda: instances(c, marker="abc"), 400, "IIC.400", "marker")
    expect_error(lambda: instances(c, marker="0" * 23 + "g"), 400, "IIC.400", "marker")
    expect_error(lambda: instances(c, marker="00000000000000010a0b0c0d"), 400, "IIC.400",
                 "marker")


def test_unknown_instance_is_404(server):
    c = identity_center(server)
    c.start_identity_center(StartIdentityCenterRequest())
    expect_error(lambda: c.create_alias(CreateAliasRequest(
        instance_id="ins-0000000000000000", body=CreateAliasReqBody(alias="x1"))), 404,
        "IIC.404", "ins-0000000000000000")
    expect_error(lambda: c.list_identity_store_association(
        ListIdentityStoreAssociationRequest(instance_id="ins-ffffffffffffffff")), 404, "IIC.404")


def test_alias_validation_names_the_field(server):
    c = identity_center(server)
    c.start_identity_center(StartIdentityCenterRequest())
    ins = instances(c).instances[0].instance_id
    for bad in ("d-1234567890", "-lead", "trail-", "under_score", "x" * 63):
        expect_error(lambda: c.create_alias(CreateAliasRequest(
            instance_id=ins, body=CreateAliasReqBody(alias=bad))), 400, "IIC.400", "alias")


# --- signing -------------------------------------------------------------------------------

def test_wrong_secret_key_is_refused(server):
    c = identity_center(server, sk="X" * 40)
    expect_error(lambda: status(c), 401, "APIGW.0301", "signature")


def test_unknown_access_key_is_refused(server):
    c = identity_center(server, ak="NOSUCHKEY00000000000")
    expect_error(lambda: status(c), 401, "APIGW.0301", "NOSUCHKEY00000000000")


def test_wrong_domain_id_is_refused(server):
    c = identity_center(server, domain_id="0" * 32)
    expect_error(lambda: status(c), 401, "APIGW.0301", "X-Domain-Id")


def test_stale_and_future_dates_are_refused(server):
    for offset in (-16 * 60, 16 * 60):
        url, headers, body = signed(server, "GET", "/v1/identity-center-service/status",
                                    date=sdk_date(offset))
        r = send("GET", url, headers, body)
        assert r.status_code == 401, r.text
        assert r.json()["error_code"] == "APIGW.0301"
        assert "X-Sdk-Date" in r.json()["error_msg"]
    url, headers, body = signed(server, "GET", "/v1/identity-center-service/status",
                                date=sdk_date(-14 * 60))
    assert send("GET", url, headers, body).status_code == 200


def test_tampered_query_is_refused(server):
    url, headers, body = signed(server, "GET", "/v1/instances", query={"limit": 5})
    assert send("GET", url, headers, body).status_code == 200
    r = send("GET", url.replace("limit=5", "limit=6"), headers, body)
    assert r.status_code == 401 and r.json()["error_code"] == "APIGW.0301"


def test_tampered_body_is_refused(fresh_server):
    url, headers, body = signed(fresh_server, "POST", "/v1/register-regions",
                                body={"region_id": "cn-north-4"})
    r = send("POST", url, headers, body.replace(b"cn-north-4", b"cn-north-9"))
    assert r.status_code == 401 and r.json()["error_code"] == "APIGW.0301"
    assert send("POST", url, headers, body).status_code == 200


def test_missing_and_malformed_authorization(server):
    url, headers, body = signed(server, "GET", "/v1/instances")
    del headers["Authorization"]
    r = send("GET", url, headers, body)
    assert r.status_code == 401 and "Authorization" in r.json()["error_msg"]
    headers["Authorization"] = "Basic dXNlcjpwYXNz"
    r = send("GET", url, headers, body)
    assert r.status_code == 401 and "SDK-HMAC-SHA256" in r.json()["error_msg"]


# --- envelope -----------------------------------------------------------------------------

def test_error_envelope_shape_and_request_id(server):
    url, headers, body = signed(server, "GET", "/v1/instances", query={"limit": 0})
    r = send("GET", url, headers, body)
    assert r.status_code == 400
    j = r.json()
    assert set(j) == {"error_code", "error_msg", "request_id"}
    assert j["request_id"] == r.headers["X-Request-Id"]
    assert j["error_msg"].startswith("Bad Request: ")


def test_every_request_has_one_access_log_line(server):
    url, headers, body = signed(server, "GET", "/v1/instances", query={"limit": 0})
    r = send("GET", url, headers, body)
    rid = r.headers["X-Request-Id"]
    line = None
    for _ in range(50):  # lines are written in batches every 100 ms
        line = next((l for l in server.log().splitlines() if rid in l), None)
        if line:
            break
        time.sleep(0.05)
    assert line, "no access-log line names the request id"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z  INFO iic::access: ", line), line
    assert "method=GET path=/v1/instances operation=ListInstances status=400 latency_us=" in line, line
    assert line.endswith(f"request_id={rid}"), line
    assert server.creds["secret_key"] not in server.log(tail=None)


def test_unknown_route_and_wrong_method(server):
    url, headers, body = signed(server, "GET", "/v1/no-such-thing")
    r = send("GET", url, headers, body)
    assert r.status_code == 404 and r.json()["error_code"] == "APIGW.0101"
    url, headers, body = signed(server, "DELETE", "/v1/instances")
    r = send("DELETE", url, headers, body)
    assert r.status_code == 405
    assert HEX32.match(r.json()["request_id"])


def test_malformed_json_and_wrong_types(server):
    url, headers, body = signed(server, "POST", "/v1/register-regions", body={"region_id": 5})
    r = send("POST", url, headers, body)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "IIC.400" and "region_id" in r.json()["error_msg"]
    url, headers, body = signed(server, "POST", "/v1/register-regions", raw=b'{"region_id": ')
    r = send("POST", url, headers, body)
    assert r.status_code == 400 and r.json()["error_code"] == "IIC.400", r.text
    url, headers, body = signed(server, "POST", "/v1/register-regions", body={})
    r = send("POST", url, headers, body)
    assert r.status_code == 400 and "region_id" in r.json()["error_msg"], r.text


def test_body_over_12_mb_is_413(server):
    big = {"region_id": "x" * (12 * 1024 * 1024 + 10)}
    url, headers, body = signed(server, "POST", "/v1/register-regions", body=big)
    r = send("POST", url, headers, body)
    assert r.status_code == 413
    assert r.json()["error_code"] == "APIGW.0201"


# --- discovery -----------------------------------------------------------------------------

def test_sdk_discovers_account_and_project_by_region(server, monkeypatch):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
    from huaweicloudsdkidentitycenter.v1 import IdentityCenterClient
    from huaweicloudsdkidentitycenter.v1.region.identitycenter_region import IdentityCenterRegion
    from huaweicloudsdkidentitycenterstore.v1.region.identitycenterstore_region import (
        IdentityCenterStoreRegion)
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IDENTITYCENTER_CN_NORTH_4", server.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4", server.url)
    creds = GlobalCredentials(server.creds["access_key"], server.creds["secret_key"])
    client = (IdentityCenterClient.new_builder().with_credentials(creds)
              .with_region(IdentityCenterRegion.value_of("cn-north-4")).build())
    assert status(client) in ("ENABLED", "DISABLED")
    assert creds.domain_id == server.creds["account_id"]

    basic = BasicCredentials(server.creds["access_key"], server.creds["secret_key"])
    from huaweicloudsdkidentitycenterstore.v1 import IdentityCenterStoreClient
    (IdentityCenterStoreClient.new_builder().with_credentials(basic)
     .with_region(IdentityCenterStoreRegion.value_of("cn-north-4")).build())
    assert basic.project_id == server.creds["project_id"]
