"""SCIM helpers for the black-box suite: a provisioning tenant and its bearer token made through the
identity-store SDK, raw SCIM requests with `requests`, valid request bodies, and the checks every
SCIM error answer must pass."""

import json
import os
import re
import sqlite3
from dataclasses import dataclass

import requests
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateBearerTokenRequest, CreateProvisioningTenantRequest, DescribeUserRequest)

from sdk_clients import identity_store, scim, started_store_id

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SPC = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
SCIM_JSON = "application/scim+json"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass
class Tenant:
    """A provisioning tenant of a started identity store, with one live bearer token."""
    server: object
    store: object
    sid: str
    tenant_id: str
    token: str
    token_id: str
    base: str
    http: requests.Session = None

    @property
    def bearer(self):
        return f"Bearer {self.token}"

    def sdk(self):
        return scim(self.server)

    def request(self, method, path, body=None, params=None, token="own",
                content_type=SCIM_JSON, raw=None, headers=None, timeout=60):
        """A raw SCIM request to `<base><path>`; `token=None` sends no Authorization header."""
        hdrs = {"Accept": SCIM_JSON}
        if token == "own":
            token = self.token
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        if raw is None and body is not None:
            raw = json.dumps(body).encode()
        if raw is not None:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        if self.http is None:
            self.http = requests.Session()
        return self.http.request(method, self.base + path, params=params, data=raw,
                                 headers=hdrs, timeout=timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body=body, **kw)

    def patch(self, path, operations, **kw):
        return self.request("PATCH", path, body=patch_body(*operations), **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # --- shortcuts that expect success -------------------------------------------------------

    def create_user(self, name, **extra):
        r = self.post("/Users", user_body(name, **extra))
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def create_group(self, display_name, members=(), **extra):
        body = {"schemas": [CORE_GROUP], "displayName": display_name,
                "members": [{"value": m} for m in members], **extra}
        r = self.post("/Groups", body)
        assert r.status_code == 201, (r.status_code, r.text)
        return r.json()

    def list(self, resource, **params):
        r = self.get(f"/{resource}", params=params)
        assert r.status_code == 200, (r.status_code, r.text)
        body = r.json()
        assert body["schemas"] == [LIST], body
        return body

    def find(self, resource, filter_text, **params):
        return self.list(resource, filter=filter_text, **params)["Resources"]

    def describe_user(self, user_id):
        return self.store.describe_user(DescribeUserRequest(identity_store_id=self.sid,
                                                            user_id=user_id))


def provision(server, store=None, sid=None):
    """Starts the service when needed, then creates a tenant and a bearer token through the
    identity-store SDK, as an administrator would."""
    store = store or identity_store(server)
    sid = sid or started_store_id(server)
    t = store.create_provisioning_tenant(CreateProvisioningTenantRequest(identity_store_id=sid))
    k = store.create_bearer_token(CreateBearerTokenRequest(identity_store_id=sid,
                                                           tenant_id=t.tenant_id))
    assert t.scim_endpoint == f"{server.url}/{t.tenant_id}/scim/v2", t.scim_endpoint
    return Tenant(server=server, store=store, sid=sid, tenant_id=t.tenant_id, token=k.token,
                  token_id=k.token_id, base=t.scim_endpoint)


def new_token(tenant):
    """A second bearer token of the same tenant: (token, token_id)."""
    k = tenant.store.create_bearer_token(CreateBearerTokenRequest(
        identity_store_id=tenant.sid, tenant_id=tenant.tenant_id))
    return k.token, k.token_id


def user_body(name, given=None, family="Doe", email=None, **extra):
    """A User with what the identity store requires: userName, name.givenName, name.familyName,
    displayName and one primary email."""
    body = {
        "schemas": [CORE_USER],
        "userName": name,
        "name": {"givenName": given or name.split("@")[0].split(".")[0].title(),
                 "familyName": family},
        "displayName": f"{name} display",
        "emails": [{"value": email or (name if "@" in name else f"{name}@example.com"),
                    "type": "work", "primary": True}],
    }
    body.update(extra)
    return body


def patch_body(*operations):
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def op(kind, path=None, value=None):
    o = {"op": kind}
    if path is not None:
        o["path"] = path
    if value is not None:
        o["value"] = value
    return o


def expect_scim_error(response, status, scim_type=None):
    """A SCIM error answer (RFC 7644 §3.12): the status, the error schema, `status` beside it
    (an integer as the API catalogue has it, or the RFC's string), `scimType` when one is
    expected, a `detail`, the SCIM content type and an X-Request-Id header. Returns the body."""
    assert response.status_code == status, (response.status_code, response.text[:2000])
    assert response.headers.get("Content-Type", "").startswith(SCIM_JSON), response.headers
    assert REQUEST_ID.match(response.headers.get("X-Request-Id", "")), response.headers
    body = response.json()
    check_error_body(body, status, scim_type)
    return body


def check_error_body(body, status, scim_type=None):
    assert body.get("schemas") == [ERROR], body
    assert str(body.get("status")) == str(status), body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if scim_type is not None:
        assert body.get("scimType") == scim_type, body


def expect_sdk_error(fn, status, scim_type=None):
    """Calls the SCIM SDK and expects it refused: the SDK's exception carries the HTTP status,
    the request id of the X-Request-Id header, and the SCIM error body as its message (it finds
    no `error_code`/`error_msg` in it, so its error code is the status). Returns the body."""
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
    try:
        fn()
    except ClientRequestException as e:
        assert e.status_code == status, (e.status_code, e.error_msg)
        assert e.error_code == str(status), e.error_code
        assert REQUEST_ID.match(e.request_id or ""), e.request_id
        body = json.loads(e.error_msg)
        check_error_body(body, status, scim_type)
        return body
    raise AssertionError(f"expected a {status} refusal, the call succeeded")


def run_sql(server, statement, params=()):
    """Runs one statement on the server's database (`?` placeholders), as an operator with
    database access would: to age a token past its expiry without waiting a year."""
    url = server.env.get("IIC_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg
        schema = server.env["IIC_DATABASE_SCHEMA"]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {schema}")
            return conn.execute(statement.replace("?", "%s"), params).rowcount
    conn = sqlite3.connect(os.path.join(server.data_dir, "iic.db"), timeout=10)
    try:
        with conn:
            return conn.execute(statement, params).rowcount
    finally:
        conn.close()
