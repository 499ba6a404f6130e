"""SCIM automatic provisioning through the official SDK (`huaweicloudsdkidentitycenterstore`):
provisioning tenants and their bearer tokens, the limits on both, a token's value shown once and
stored only as a hash, and the refusals of unknown and malformed ids."""

import hashlib
import re
import time

import pytest
from huaweicloudsdkidentitycenterstore.v1 import (
    CreateBearerTokenRequest, CreateProvisioningTenantRequest, DeleteBearerTokenRequest,
    DeleteProvisioningTenantRequest, ListBearerTokensRequest, ListProvisioningTenantsRequest)

from iic_harness import expect_error, new_server, send, signed, stored_bytes
from sdk_clients import identity_store, started_store_id

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
YEAR_MS = 365 * 24 * 3600 * 1000
GHOST = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def env():
    server = new_server()
    sid = started_store_id(server)
    yield server, identity_store(server), sid
    server.close()


def tenants(client, sid):
    return client.list_provisioning_tenants(
        ListProvisioningTenantsRequest(identity_store_id=sid)).provisioning_tenants


def create_tenant(client, sid):
    return client.create_provisioning_tenant(CreateProvisioningTenantRequest(identity_store_id=sid))


def delete_tenant(client, sid, tenant_id):
    return client.delete_provisioning_tenant(
        DeleteProvisioningTenantRequest(identity_store_id=sid, tenant_id=tenant_id))


def create_token(client, sid, tenant_id):
    return client.create_bearer_token(
        CreateBearerTokenRequest(identity_store_id=sid, tenant_id=tenant_id))


def tokens(client, sid, tenant_id):
    return client.list_bearer_tokens(
        ListBearerTokensRequest(identity_store_id=sid, tenant_id=tenant_id)).bearer_tokens


def delete_token(client, sid, tenant_id, token_id):
    return client.delete_bearer_token(
        DeleteBearerTokenRequest(identity_store_id=sid, tenant_id=tenant_id, token_id=token_id))


@pytest.fixture()
def tenant(env):
    """A tenant of its own: the store's tenants are deleted first (a store holds one)."""
    _, client, sid = env
    for t in tenants(client, sid):
        delete_tenant(client, sid, t.tenant_id)
    return create_tenant(client, sid).tenant_id


def test_provisioning_is_on_from_creating_a_tenant_until_deleting_it(env):
    server, client, sid = env
    for t in tenants(client, sid):
        delete_tenant(client, sid, t.tenant_id)
    assert tenants(client, sid) == []
    before = int(time.time() * 1000)
    created = create_tenant(client, sid)
    after = int(time.time() * 1000)
    assert created.status_code == 201
    assert UUID4.match(created.tenant_id), created.tenant_id
    assert created.scim_endpoint == f"{server.url}/{created.tenant_id}/scim/v2"
    assert before <= created.creation_time <= after
    [listed] = tenants(client, sid)
    assert (listed.tenant_id, listed.scim_endpoint, listed.creation_time) == (
        created.tenant_id, created.scim_endpoint, created.creation_time)
    delete_tenant(client, sid, created.tenant_id)
    assert tenants(client, sid) == []
    expect_error(lambda: delete_tenant(client, sid, created.tenant_id), 404, "IIC.404",
                 created.tenant_id)


def test_an_identity_store_holds_one_tenant(env, tenant):
    _, client, sid = env
    expect_error(lambda: create_tenant(client, sid), 400, "IIC.400", "at most 1 provisioning tenant",
                 sid)
    assert [t.tenant_id for t in tenants(client, sid)] == [tenant]


def test_a_token_is_shown_once_and_never_listed_or_stored(env, tenant):
    server, client, sid = env
    before = int(time.time() * 1000)
    created = create_token(client, sid, tenant)
    assert created.status_code == 201
    assert UUID4.match(created.token_id), created.token_id
    assert HEX64.match(created.token), "a 256-bit random value"
    assert before <= created.creation_time
    assert created.expiration_time - created.creation_time == YEAR_MS
    [listed] = tokens(client, sid, tenant)
    assert (listed.token_id, listed.creation_time, listed.expiration_time) == (
        created.token_id, created.creation_time, created.expiration_time)
    url, headers, body = signed(server, "GET",
                                f"/v1/identity-stores/{sid}/tenant/{tenant}/bearer-token",
                                identity="project")
    raw = send("GET", url, headers, body)
    assert raw.status_code == 200, raw.text
    assert [set(k) for k in raw.json()["bearer_tokens"]] == [
        {"token_id", "creation_time", "expiration_time"}]
    assert created.token not in raw.text
    stored = stored_bytes(server, ["scim_tokens"])
    assert created.token.encode() not in stored
    assert hashlib.sha256(created.token.encode()).hexdigest().encode() in stored


def test_a_tenant_holds_two_tokens_and_a_deleted_one_makes_room(env, tenant):
    _, client, sid = env
    first = create_token(client, sid, tenant)
    second = create_token(client, sid, tenant)
    assert first.token != second.token and first.token_id != second.token_id
    expect_error(lambda: create_token(client, sid, tenant), 400, "IIC.400", tenant,
                 "2 bearer tokens")
    assert [k.token_id for k in tokens(client, sid, tenant)] == [first.token_id, second.token_id]
    deleted = delete_token(client, sid, tenant, first.token_id)
    assert deleted.status_code == 200
    expect_error(lambda: delete_token(client, sid, tenant, first.token_id), 404, "IIC.404",
                 first.token_id)
    third = create_token(client, sid, tenant)
    assert [k.token_id for k in tokens(client, sid, tenant)] == [second.token_id, third.token_id]


def test_deleting_a_tenant_deletes_its_tokens(env, tenant):
    _, client, sid = env
    token = create_token(client, sid, tenant)
    delete_tenant(client, sid, tenant)
    expect_error(lambda: tokens(client, sid, tenant), 404, "IIC.404", tenant)
    expect_error(lambda: delete_token(client, sid, tenant, token.token_id), 404, "IIC.404", tenant)
    fresh = create_tenant(client, sid).tenant_id
    assert fresh != tenant
    assert tokens(client, sid, fresh) == []


def test_unknown_tenants_and_tokens_are_not_found(env, tenant):
    _, client, sid = env
    expect_error(lambda: delete_tenant(client, sid, GHOST), 404, "IIC.404", GHOST)
    expect_error(lambda: create_token(client, sid, GHOST), 404, "IIC.404", GHOST)
    expect_error(lambda: tokens(client, sid, GHOST), 404, "IIC.404", GHOST)
    expect_error(lambda: delete_token(client, sid, GHOST, GHOST), 404, "IIC.404", GHOST)
    expect_error(lambda: delete_token(client, sid, tenant, GHOST), 404, "IIC.404",
                 f"bearer token {GHOST}")
    assert tenants(client, sid)[0].tenant_id == tenant


def test_unknown_and_malformed_identity_stores_are_refused(env):
    _, client, _ = env
    for call in (lambda s: tenants(client, s), lambda s: create_tenant(client, s),
                 lambda s: delete_tenant(client, s, GHOST),
                 lambda s: create_token(client, s, GHOST), lambda s: tokens(client, s, GHOST),
                 lambda s: delete_token(client, s, GHOST, GHOST)):
        expect_error(lambda: call("d-0000000000"), 404, "IIC.404", "d-0000000000")
        expect_error(lambda: call("x"), 400, "IIC.400", "identity_store_id")


@pytest.mark.parametrize("bad", ["bad_id!", "x" * 65])
def test_malformed_tenant_and_token_ids_are_refused(env, tenant, bad):
    _, client, sid = env
    expect_error(lambda: delete_tenant(client, sid, bad), 400, "IIC.400", "tenant_id")
    expect_error(lambda: create_token(client, sid, bad), 400, "IIC.400", "tenant_id")
    expect_error(lambda: tokens(client, sid, bad), 400, "IIC.400", "tenant_id")
    expect_error(lambda: delete_token(client, sid, bad, GHOST), 400, "IIC.400", "tenant_id")
    expect_error(lambda: delete_token(client, sid, tenant, bad), 400, "IIC.400", "token_id")

