"""Control characters in every field of every routed operation: the walk takes the server's own
list of operations (`iic operations`), finds each one's request class in the official SDK, reads
its fields from the SDK (path and query parameters from the client's request builder, body
fields from the body models, nested ones included), and sends each field, one at a time, holding
NUL and then another control character, signed by the SDK's own signer. Every answer must be a
400 in the error envelope naming the field, with a request id; none may be a 5xx."""

import importlib
import json
import re
import subprocess
import time
from urllib.parse import quote, unquote_to_bytes

import requests
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkidentitycenter.v1 import (
    CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
    CreatePermissionSetRequest, DeleteAccountAssignmentReqBody, DeleteAccountAssignmentRequest,
    ListInstancesRequest, ProvisionPermissionSetReqBody, ProvisionPermissionSetRequest,
    StartIdentityCenterRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateBearerTokenRequest, CreateProvisioningTenantRequest, CreateGroupMembershipReqBody, CreateGroupMembershipRequest, CreateGroupReqBody,
    CreateGroupRequest, CreateUserReqBody, CreateUserRequest, EmailDto, MemberIdDto, NameDto)
from huaweicloudsdkorganizations.v1 import (
    CreateAccountReqBody, CreateAccountRequest, CreateOrganizationalUnitReqBody,
    CreateOrganizationalUnitRequest, ListRootsRequest, ShowCreateAccountStatusRequest)

from iic_harness import HEX32, iic_binary, sdk_date, send, signed
from sdk_clients import identity_center, identity_store, organizations


# The SDK package and client of each wire API the server routes.
SDKS = {
    "identitycenter": ("huaweicloudsdkidentitycenter.v1", "IdentityCenterClient"),
    "identitystore": ("huaweicloudsdkidentitycenterstore.v1", "IdentityCenterStoreClient"),
    "organizations": ("huaweicloudsdkorganizations.v1", "OrganizationsClient"),
    "oidc": ("huaweicloudsdkidentitycenteroidc.v1", "IdentityCenterOIDCClient"),
    "portal": ("huaweicloudsdkidentitycenterportalapi.v1", "IdentityCenterPortalAPIClient"),
    "scim": ("huaweicloudsdkidentitycenterscim.v1", "IdentityCenterSCIMClient"),
}
# SCIM operations the server routes beyond the SDK (RFC 7644 discovery, PUT of a group): only
# their path parameters and a stray query parameter are probed.
BEYOND_SDK = {"ListSchemas", "GetSchema", "ListResourceTypes", "GetResourceType", "PutGroup",
              "SearchUsers", "SearchGroups", "Search"}
# The IAM discovery calls have no request class: the SDK core makes them itself, with these
# query parameters (huaweicloudsdkcore.auth.internal.Iam).
IAM_QUERY = {"KeystoneListAuthDomains": [], "KeystoneListProjects": ["name"]}
# How each API is signed: the identity header its credentials send.
# The OIDC and portal APIs are unsigned: their signature is sent and ignored.
IDENTITY = {"identitycenter": "domain", "identitystore": "project", "organizations": "domain",
            "iam": "domain", "oidc": "domain", "portal": "domain", "scim": "bearer"}
# Controls sent after NUL, one per field in turn: ESC, DEL, NEL (C1), backspace, APC (C1).
OTHER_CONTROLS = ["\u001b", "\u007f", "\u0085", "\u0008", "\u009f"]
# Operations that, should a probe be accepted, change the world the walk needs: sent last.
LAST = ["DeleteBearerToken", "DeleteProvisioningTenant",
        "DeleteGroupMembership", "DeleteUser", "DeleteGroup", "DeletePermissionSet",
        "RemoveAccount", "CloseAccount", "DeleteOrganization", "DeleteIdentityCenter"]


def routed_operations():
    out = subprocess.run([iic_binary(), "operations"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    ops = json.loads(out.stdout)
    assert len(ops) > 50, ops
    return ops


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --- fields, as the SDK declares them ----------------------------------------------------------

class Field:
    """One field of an operation: where it goes (path, query, body), its wire name or body path
    (`tags[0].value`), the SDK type of its value, and whether it is text."""

    def __init__(self, where, name, sdk_type, steps=()):
        self.where, self.name, self.sdk_type, self.steps = where, name, sdk_type, tuple(steps)

    @property
    def text(self):
        return self.sdk_type in ("str", "object")

    def __repr__(self):
        return f"{self.where}:{self.name}({self.sdk_type})"


def body_path(steps):
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


def model_leaves(module, type_name, steps, depth=0):
    """(steps, leaf type) of every leaf under a model or container type."""
    if depth > 6:
        return []
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        return model_leaves(module, m.group(1), steps + (0,), depth + 1)
    m = re.fullmatch(r"dict\(str, *(.+)\)", type_name)
    if m:
        return model_leaves(module, m.group(1), steps + ("k",), depth + 1)
    cls = getattr(module, type_name, None)
    if cls is None or not hasattr(cls, "openapi_types"):
        return [(steps, type_name)]
    out = []
    for attr, t in cls.openapi_types.items():
        out += model_leaves(module, t, steps + (cls.attribute_map[attr],), depth + 1)
    return out


def sdk_operation(op):
    """The SDK's view of a routed operation: (resource path, [Field])."""
    service = op["service"]
    if service == "iam":
        return op["path"], [Field("query", q, "str") for q in IAM_QUERY[op["name"]]]
    if op["name"] in BEYOND_SDK:
        names = dict(op.get("path_names", []))
        path = re.sub(r"\{([^}]+)\}", lambda m: "{" + names.get(m.group(1), m.group(1)) + "}",
                      op["path"])
        return path, [Field("path", n, "str") for n in re.findall(r"\{([^}]+)\}", path)]
    mod_name, client_name = SDKS[service]
    module = importlib.import_module(mod_name)
    client = getattr(importlib.import_module(mod_name), client_name)
    req_cls = getattr(module, op["name"] + "Request", None)
    assert req_cls is not None, f"{op['name']}: no {op['name']}Request in {mod_name}"
    build = getattr(client, f"_{snake(op['name'])}_http_info")
    # Every attribute set to a marker: the request builder says where each one goes.
    req = req_cls()
    markers = {}
    for attr in req_cls.openapi_types:
        markers[attr] = f"@{attr}@"
        setattr(req, attr, markers[attr])
    info = build(req)
    assert info["method"] == op["method"], (op, info["method"])
    fields = []
    for attr, t in req_cls.openapi_types.items():
        if attr == "body":
            assert info["body"] == markers[attr]
            fields += [Field("body", body_path(steps), leaf, steps)
                       for steps, leaf in model_leaves(module, t, ())]
        elif markers[attr] in info["path_params"].values():
            (wire,) = [k for k, v in info["path_params"].items() if v == markers[attr]]
            fields.append(Field("path", wire, t))
        elif any(v == markers[attr] for _, v in info["query_params"]):
            (wire,) = [k for k, v in info["query_params"] if v == markers[attr]]
            fields.append(Field("query", wire, t))
        else:
            assert markers[attr] in info["header_params"].values(), (op["name"], attr)
    return info["resource_path"], fields


def placeholder(leaf):
    return {"str": "probe", "int": 1, "bool": True, "float": 1.0, "object": "probe"}.get(
        leaf, "probe")


def set_at(doc, steps, value):
    """Sets `value` at `steps` in a nested dict/list document, creating what is missing."""
    cur = doc
    for i, s in enumerate(steps):
        last = i == len(steps) - 1
        nxt = None if last else ([] if isinstance(steps[i + 1], int) else {})
        if isinstance(s, int):
            while len(cur) <= s:
                cur.append(nxt)
            if last:
                cur[s] = value
            elif cur[s] is None:
                cur[s] = nxt
            cur = cur[s]
        else:
            if last:
                cur[s] = value
            else:
                cur = cur.setdefault(s, nxt)


def baseline_body(fields):
    doc = {}
    for f in fields:
        if f.where == "body":
            set_at(doc, f.steps, placeholder(f.sdk_type))
    return doc


# --- the world whose ids fill the paths --------------------------------------------------------

def wait_for(fn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = fn()
        if out is not None:
            return out
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def build_world(server):
    ic, st, org = identity_center(server), identity_store(server), organizations(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    iid, sid = ins.instance_id, ins.identity_store_id
    user = st.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name="ctl.user", display_name="Ctl User", password_mode="EMAIL",
        name=NameDto(family_name="User", given_name="Ctl"),
        emails=[EmailDto(value="ctl.user@example.com", type="work", primary=True)]))).user_id
    group = st.create_group(CreateGroupRequest(identity_store_id=sid, body=CreateGroupReqBody(
        display_name="ctl-group"))).group_id
    membership = st.create_group_membership(CreateGroupMembershipRequest(
        identity_store_id=sid, body=CreateGroupMembershipReqBody(
            group_id=group, member_id=MemberIdDto(user_id=user)))).membership_id
    ps = ic.create_permission_set(CreatePermissionSetRequest(
        instance_id=iid, body=CreatePermissionSetReqBody(name="CtlSet"))).permission_set.permission_set_id
    created = org.create_account(CreateAccountRequest(
        body=CreateAccountReqBody(name="ctl-member"))).create_account_status

    def account_ready():
        s = org.show_create_account_status(ShowCreateAccountStatusRequest(
            create_account_status_id=created.id)).create_account_status
        return s.account_id if s.state == "succeeded" else None
    account = wait_for(account_ready)
    root = org.list_roots(ListRootsRequest()).roots[0].id
    ou = org.create_organizational_unit(CreateOrganizationalUnitRequest(
        body=CreateOrganizationalUnitReqBody(name="ctl-ou", parent_id=root))).organizational_unit.id
    assignment = dict(target_id=account, target_type="ACCOUNT", permission_set_id=ps,
                      principal_type="USER", principal_id=user)
    creation = ic.create_account_assignment(CreateAccountAssignmentRequest(
        instance_id=iid, body=CreateAccountAssignmentReqBody(**assignment))
    ).account_assignment_creation_status.request_id
    provisioning = ic.provision_permission_set(ProvisionPermissionSetRequest(
        instance_id=iid, permission_set_id=ps, body=ProvisionPermissionSetReqBody(
            target_type="ALL_PROVISIONED_ACCOUNTS"))).permission_set_provisioning_status.request_id
    time.sleep(0.3)
    deletion = ic.delete_account_assignment(DeleteAccountAssignmentRequest(
        instance_id=iid, body=DeleteAccountAssignmentReqBody(**assignment))
    ).account_assignment_deletion_status.request_id
    tenant = st.create_provisioning_tenant(
        CreateProvisioningTenantRequest(identity_store_id=sid)).tenant_id
    made = st.create_bearer_token(CreateBearerTokenRequest(identity_store_id=sid, tenant_id=tenant))
    token, token_id = made.token, made.token_id
    return {
        "instance_id": iid, "identity_store_id": sid, "user_id": user, "group_id": group,
        "membership_id": membership, "permission_set_id": ps,
        # No device can be enrolled here; the body is checked before the device is looked up.
        "device_id": "0123456789abcdef0123456789abcdef",
        # A real tenant and token, so that SCIM requests pass authentication and reach their
        # fields; provisioning operations check ids before they look them up.
        "tenant_id": tenant, "token_id": token_id, "scim_token": token,
        "schema_id": "urn:ietf:params:scim:schemas:core:2.0:User",
        ("GetResourceType", "resource_type"): "User",
        "resource_type": "identitycenter:permissionset", "resource_id": ps,
        "account_id": account, "organizational_unit_id": ou,
        "create_account_status_id": created.id,
        ("DescribeAccountAssignmentCreationStatus", "request_id"): creation,
        ("DescribeAccountAssignmentDeletionStatus", "request_id"): deletion,
        ("DescribePermissionSetProvisioningStatus", "request_id"): provisioning,
    }


# --- requests ----------------------------------------------------------------------------------

class ByteSigner(Signer):
    """The SDK's signer, canonicalising a path that holds bytes which are not UTF-8 the way the
    server does (percent-decoded bytes, re-encoded), where the SDK itself would turn them into
    U+FFFD first."""

    def _process_canonical_uri(self, request):
        segments = [quote(unquote_to_bytes(s), safe="~")
                    for s in request.resource_path.split("/")]
        path = "/".join(segments)
        return path if path.endswith("/") else path + "/"


def byte_signed(server, method, path):
    hdrs = {"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0",
            "X-Domain-Id": server.creds["account_id"], "X-Sdk-Date": sdk_date()}
    req = SdkRequest(method=method, schema="http", host=f"127.0.0.1:{server.port}",
                     resource_path=path, uri=path, query_params=[], header_params=hdrs, body=None)
    ByteSigner(GlobalCredentials(server.creds["access_key"], server.creds["secret_key"])).sign(req)
    return server.url + req.uri, dict(req.header_params)


def fill_path(resource_path, op_name, world, override=None):
    def one(m):
        name = m.group(1)
        if override and name == override[0]:
            return override[1]
        value = world.get((op_name, name), world.get(name))
        assert value is not None, f"{op_name}: no id in the world for path parameter {name}"
        return quote(value, safe="~")
    return re.sub(r"\{([^}]+)\}", one, resource_path)


def call(server, op, resource_path, world, fields, field=None, value=None):
    """Sends `op` with `value` in `field` (None: the probe without an injected field)."""
    path = fill_path(resource_path, op["name"], world,
                     (field.name, quote(value, safe="~")) if field and field.where == "path"
                     else None)
    query = {field.name: value} if field and field.where == "query" else {}
    body = None
    if op["body"] == "json":
        body = baseline_body(fields)
        if field and field.where == "body":
            set_at(body, field.steps, value)
    if IDENTITY[op["service"]] == "bearer":
        headers = {"Authorization": f"Bearer {world['scim_token']}",
                   "Content-Type": "application/json"}
        raw = None if body is None else json.dumps(body).encode()
        return requests.request(op["method"], server.url + path, params=query, headers=headers,
                                data=raw, timeout=10)
    url, headers, raw = signed(server, op["method"], path, query=query, body=body,
                               identity=IDENTITY[op["service"]])
    return requests.request(op["method"], url, headers=headers, data=raw, timeout=10)


def problem(op, r, field=None, value=None):
    """What is wrong with the answer to a refused control character, or None."""
    if r.status_code >= 500 or not 400 <= r.status_code < 500:
        return f"status {r.status_code}"
    if not HEX32.match(r.headers.get("X-Request-Id", "")):
        return "no X-Request-Id"
    try:
        env = r.json()
    except ValueError:
        return "body is not JSON"
    if op["service"] == "scim":
        return scim_problem(r, env, field, value)
    if not isinstance(env, dict) or not {"error_code", "error_msg"} <= set(env):
        return "body is not the error envelope"
    if field is None:
        return None
    family = "Organizations.400" if op["service"] == "organizations" else "IIC.400"
    if r.status_code != 400 or env["error_code"] != family:
        return f"status {r.status_code} {env['error_code']}, not 400 {family}"
    # Named as the SDK (the catalogue) names it, whatever the server's route calls its place.
    code = f"U+{ord(value[2]):04X}"
    if f"{field.name} must not contain control characters ({code} at character 3)" \
            not in env["error_msg"]:
        return f"the message does not name {field.name} and {code}"
    return None


def scim_problem(r, body, field, value):
    """The SCIM API answers with SCIM error bodies: `detail` names the field."""
    if not isinstance(body, dict) or "urn:ietf:params:scim:api:messages:2.0:Error" not in \
            body.get("schemas", []) or body.get("status") != r.status_code:
        return "body is not the SCIM error body"
    if field is None:
        return None
    if r.status_code != 400:
        return f"status {r.status_code}, not 400"
    code = f"U+{ord(value[2]):04X}"
    if f"{field.name} must not contain control characters ({code} at character 3)" \
            not in body.get("detail", ""):
        return f"the detail does not name {field.name} and {code}"
    return None


# --- the walk ----------------------------------------------------------------------------------

def test_every_field_of_every_operation_refuses_control_characters(server):
    started = time.time()
    ops = routed_operations()
    world = build_world(server)
    plan = []
    for op in ops:
        sdk_path, fields = sdk_operation(op)
        shape = lambda p: re.sub(r"\{[^}]+\}", "{}", p)  # noqa: E731
        assert shape(sdk_path) == shape(op["path"]), (op["name"], sdk_path, op["path"])
        op["_sdk_path"] = sdk_path
        plan.append((op, sdk_path, fields))
    plan.sort(key=lambda p: (not p[2], LAST.index(p[0]["name"]) if p[0]["name"] in LAST else -1))

    failures, exercised, counts = [], {}, {"requests": 0, "fields": 0, "typed": 0,
                                            "ignored_body": 0}
    n, fieldless = 0, []
    for op, sdk_path, fields in plan:
        name = op["name"]
        sent = [f for f in fields if f.where != "body" or op["body"] == "json"]
        counts["ignored_body"] += len(fields) - len(sent)
        for f in sent:
            counts["fields"] += 1
            counts["typed"] += not f.text
            for ctl in ("\u0000", OTHER_CONTROLS[n % len(OTHER_CONTROLS)]):
                value = f"ab{ctl}cd"
                r = call(server, op, sdk_path, world, fields, f, value)
                counts["requests"] += 1
                why = problem(op, r, f, value)
                if why:
                    failures.append(f"{name} {f} {ctl!r}: {why}: {r.status_code} {r.text[:300]}")
            n += 1
            exercised[name] = exercised.get(name, 0) + 1
        if not sent:
            # No field of its own: a stray query parameter with NUL is refused all the same,
            # whether the operation reads its query or not.
            probe = Field("query", "probe", "str")
            r = call(server, op, sdk_path, world, fields, probe, "ab\u0000cd")
            counts["requests"] += 1
            why = problem(op, r, probe, "ab\u0000cd")
            if why:
                failures.append(f"{name} (no fields) probe: {why}: {r.status_code} {r.text[:300]}")
            exercised[name] = 0
            fieldless.append(f"{name}={r.status_code}")
    summary = (f"{len(ops)} operations, {counts['fields']} fields ({counts['typed']} typed "
               f"non-text, sent text anyway), {counts['requests']} requests, "
               f"{len(fieldless)} operations without fields ({', '.join(fieldless)}), "
               f"{counts['ignored_body']} body fields of operations that take no body, "
               f"{time.time() - started:.1f}s")
    print(summary)
    assert not failures, f"{len(failures)} failures ({summary}):\n" + "\n".join(failures)
    assert set(exercised) == {op["name"] for op in ops}, summary


def test_nul_and_bad_utf8_in_a_path_id(server):
    build_instance(server)
    for raw, fragment in (("%00", "instance_id must not contain control characters"),
                          ("%ff", "instance_id must be UTF-8")):
        url, headers = byte_signed(server, "GET", f"/v1/instances/{raw}/identity-store-associations")
        r = requests.get(url, headers=headers, timeout=10)
        assert r.status_code == 400, (raw, r.status_code, r.text)
        assert HEX32.match(r.headers.get("X-Request-Id", "")), r.headers
        env = r.json()
        assert env["error_code"] == "IIC.400", env
        assert fragment in env["error_msg"], env
        assert env["request_id"] == r.headers["X-Request-Id"]


def build_instance(server):
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    return ic.list_instances(ListInstancesRequest()).instances[0].instance_id


def test_nul_inside_json_valued_attribute_value(server):
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    st = identity_store(server)
    uid = st.create_user(CreateUserRequest(identity_store_id=ins.identity_store_id,
                                           body=CreateUserReqBody(
        user_name="json.attr", display_name="Json Attr", password_mode="EMAIL",
        name=NameDto(family_name="Attr", given_name="Json"),
        emails=[EmailDto(value="json.attr@example.com", type="work", primary=True)]))).user_id
    path = f"/v1/identity-stores/{ins.identity_store_id}/users/{uid}"
    for attribute_path, text in (
            ("emails", '[{"value": "a\\u0000b@example.com", "primary": true}]'),
            ("name", '{"family_name": "A\\u0000", "given_name": "B"}')):
        body = {"operations": [{"attribute_path": attribute_path, "attribute_value": text}]}
        assert "\u0000" not in json.dumps(body), "the NUL is inside the JSON text only"
        url, headers, raw = signed(server, "PUT", path, body=body, identity="project")
        r = send("PUT", url, headers, raw)
        assert r.status_code == 400, r.text
        assert HEX32.match(r.headers.get("X-Request-Id", ""))
        env = r.json()
        assert env["error_code"] == "IIC.400", env
        assert "operations[0].attribute_value" in env["error_msg"], env
        assert "must not contain control characters (U+0000" in env["error_msg"], env
