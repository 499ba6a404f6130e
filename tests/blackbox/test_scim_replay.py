"""Request sequences shaped like those Microsoft Entra ID and Okta send to a SCIM service, written
for this suite from the shapes their public provisioning documentation describes (nothing is
copied): the probes and lookups they filter with, user creation, attribute updates in each one's
PATCH dialect, deactivation, group creation, membership changes (thousands of members in one
request), renames and deletion. After each step the identity store is read through its own SDK."""

import uuid

import pytest
from huaweicloudsdkidentitycenterstore.v1 import (
    AlternateIdentifierDto, DescribeGroupRequest, ExternalIdDto, GetGroupIdReqBody,
    GetGroupIdRequest, GetUserIdReqBody, GetUserIdRequest, IsMemberInGroupsReqBody,
    IsMemberInGroupsRequest, ListGroupMembershipsForMemberRequest, ListGroupMembershipsRequest,
    MemberIdDto)

from iic_harness import expect_error
from scim_support import CORE_GROUP, CORE_USER, ENTERPRISE, LIST, op

ENTRA_JSON = "application/scim+json"
OKTA_JSON = "application/scim+json; charset=utf-8"


@pytest.fixture(scope="module")
def t(scim_tenant):
    return scim_tenant


def members_of(t, group_id):
    """Every member user id of a group, through the identity store's paged listing."""
    out, marker = [], None
    while True:
        r = t.store.list_group_memberships(ListGroupMembershipsRequest(
            identity_store_id=t.sid, group_id=group_id, limit=100, marker=marker))
        out += [m.member_id.user_id for m in r.group_memberships]
        marker = r.page_info.next_marker
        if not marker:
            return out


def groups_of(t, user_id):
    r = t.store.list_group_memberships_for_member(ListGroupMembershipsForMemberRequest(
        identity_store_id=t.sid, user_id=user_id, limit=100))
    return sorted(m.group_id for m in r.group_memberships)


def user_by_external(t, ext):
    return t.store.get_user_id(GetUserIdRequest(identity_store_id=t.sid, body=GetUserIdReqBody(
        alternate_identifier=AlternateIdentifierDto(external_id=ExternalIdDto(
            issuer=t.tenant_id, id=ext))))).user_id


def group_by_external(t, ext):
    return t.store.get_group_id(GetGroupIdRequest(identity_store_id=t.sid, body=GetGroupIdReqBody(
        alternate_identifier=AlternateIdentifierDto(external_id=ExternalIdDto(
            issuer=t.tenant_id, id=ext))))).group_id


def describe_group(t, group_id):
    return t.store.describe_group(DescribeGroupRequest(identity_store_id=t.sid, group_id=group_id))


def ok(response, status=200):
    assert response.status_code == status, (response.request.method, response.request.url,
                                            response.status_code, response.text[:2000])
    return response.json() if status != 204 else None


def entra(t, method, path, body=None, **params):
    return t.request(method, path, body=body, params=params or None, content_type=ENTRA_JSON)


def okta(t, method, path, body=None, **params):
    return t.request(method, path, body=body, params=params or None, content_type=OKTA_JSON,
                     headers={"User-Agent": "Okta SCIM Client 1.0.0"})


def patch_op(*operations):
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": list(operations)}


# --- Microsoft Entra ID ----------------------------------------------------------------------

def test_entra_probe_lookups_of_what_does_not_exist_answer_empty_lists_and_404(t):
    absent = str(uuid.uuid4())
    r = ok(entra(t, "GET", "/Users", filter=f'userName eq "{absent}"'))
    assert (r["schemas"], r["totalResults"], r.get("Resources", [])) == ([LIST], 0, [])
    r = ok(entra(t, "GET", "/Groups", filter=f'displayName eq "{absent}"',
                 excludedAttributes="members"))
    assert (r["totalResults"], r.get("Resources", [])) == (0, [])
    assert entra(t, "GET", f"/Users/{absent}").status_code == 404


def test_entra_user_lifecycle(t):
    boss = t.create_user("entra.boss@contoso.test")["id"]
    name = "alex.wu@contoso.test"
    assert ok(entra(t, "GET", "/Users", filter=f'userName eq "{name}"'))["totalResults"] == 0
    created = ok(entra(t, "POST", "/Users", {
        "schemas": [CORE_USER, ENTERPRISE],
        "externalId": "0a1b2c3d-entra-alex",
        "userName": name,
        "active": True,
        "displayName": "Alex Wu",
        "emails": [{"primary": True, "type": "work", "value": name}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Alex Wu", "familyName": "Wu", "givenName": "Alex"},
        "title": "Engineer",
        ENTERPRISE: {"department": "Research", "employeeNumber": "4711"},
    }), 201)
    uid = created["id"]
    assert user_by_external(t, "0a1b2c3d-entra-alex") == uid
    by_ext = ok(entra(t, "GET", "/Users", filter='externalId eq "0a1b2c3d-entra-alex"'))
    [found] = by_ext["Resources"]
    assert found["id"] == uid and found["userName"] == name
    u = t.describe_user(uid)
    assert (u.user_name, u.display_name, u.title, u.enterprise.employee_number) == \
        (name, "Alex Wu", "Engineer", "4711")

    # Attribute updates: capitalised ops, paths with value filters, the manager as a bare id.
    ok(entra(t, "PATCH", f"/Users/{uid}", patch_op(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "alex.w@contoso.test"},
        {"op": "Replace", "path": "name.familyName", "value": "Wu-Lee"},
        {"op": "Add", "path": "title", "value": "Senior Engineer"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": boss},
        {"op": "Replace", "path": "userName", "value": "alex.wulee@contoso.test"})))
    u = t.describe_user(uid)
    assert (u.emails[0].value, u.name.family_name, u.title, u.user_name) == \
        ("alex.w@contoso.test", "Wu-Lee", "Senior Engineer", "alex.wulee@contoso.test")
    assert u.enterprise.manager.value == boss

    # Replace without a path: a map of dotted and schema-qualified attribute names.
    after = ok(entra(t, "PATCH", f"/Users/{uid}", patch_op({"op": "Replace", "value": {
        "displayName": "Alexandra Wu-Lee",
        "name.givenName": "Alexandra",
        f"{ENTERPRISE}:department": "Applied Research",
    }})))
    assert after["name"]["givenName"] == "Alexandra" and after["displayName"] == "Alexandra Wu-Lee"
    u = t.describe_user(uid)
    assert (u.display_name, u.name.given_name, u.name.family_name, u.enterprise.department) == \
        ("Alexandra Wu-Lee", "Alexandra", "Wu-Lee", "Applied Research")

    # The manager cleared, then the account disabled with the string "False", and back.
    ok(entra(t, "PATCH", f"/Users/{uid}", patch_op({"op": "Remove",
                                                    "path": f"{ENTERPRISE}:manager"})))
    assert t.describe_user(uid).enterprise.manager is None
    off = ok(entra(t, "PATCH", f"/Users/{uid}", patch_op(
        {"op": "Replace", "path": "active", "value": "False"})))
    assert off["active"] is False and t.describe_user(uid).enabled is False
    ok(entra(t, "PATCH", f"/Users/{uid}", patch_op(
        {"op": "Replace", "path": "active", "value": "True"})))
    assert t.describe_user(uid).enabled is True

    ok(entra(t, "DELETE", f"/Users/{uid}"), 204)
    expect_error(lambda: t.describe_user(uid), 404, "IIC.404")
    expect_error(lambda: user_by_external(t, "0a1b2c3d-entra-alex"), 404, "IIC.404")
    assert entra(t, "GET", f"/Users/{uid}").status_code == 404


def test_entra_group_lifecycle(t):
    a = t.create_user("entra.member.a@contoso.test")["id"]
    b = t.create_user("entra.member.b@contoso.test")["id"]
    lookup = ok(entra(t, "GET", "/Groups", filter='displayName eq "Sales Team"',
                      excludedAttributes="members"))
    assert lookup["totalResults"] == 0
    g = ok(entra(t, "POST", "/Groups", {
        "schemas": [CORE_GROUP], "externalId": "9f8e7d6c-entra-sales", "displayName": "Sales Team",
        "members": [], "meta": {"resourceType": "Group"}}), 201)
    gid = g["id"]
    assert group_by_external(t, "9f8e7d6c-entra-sales") == gid
    ok(entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "Add", "path": "members", "value": [{"value": a}, {"value": b}]})), 204)
    assert sorted(members_of(t, gid)) == sorted([a, b])
    assert groups_of(t, a) == [gid]
    ok(entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "Remove", "path": "members", "value": [{"value": a}]})), 204)
    assert members_of(t, gid) == [b]
    ok(entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "Replace", "path": "displayName", "value": "Sales Organisation"},
        {"op": "Replace", "path": "externalId", "value": "9f8e7d6c-entra-sales-2"})), 204)
    assert describe_group(t, gid).display_name == "Sales Organisation"
    assert group_by_external(t, "9f8e7d6c-entra-sales-2") == gid
    [hit] = ok(entra(t, "GET", "/Groups", filter='displayName eq "Sales Organisation"',
                     excludedAttributes="members"))["Resources"]
    assert hit["id"] == gid and "members" not in hit
    lean = ok(entra(t, "GET", f"/Groups/{gid}", excludedAttributes="members"))
    assert "members" not in lean and lean["displayName"] == "Sales Organisation"
    full = ok(entra(t, "GET", f"/Groups/{gid}"))
    assert [m["value"] for m in full["members"]] == [b]
    ok(entra(t, "DELETE", f"/Groups/{gid}"), 204)
    expect_error(lambda: describe_group(t, gid), 404, "IIC.404")
    assert groups_of(t, b) == []


# --- Okta ------------------------------------------------------------------------------------

def test_okta_connection_test_pages(t):
    users = ok(okta(t, "GET", "/Users", startIndex=1, count=2))
    assert users["schemas"] == [LIST] and users["startIndex"] == 1
    assert len(users.get("Resources", [])) <= 2
    groups = ok(okta(t, "GET", "/Groups", startIndex=1, count=100))
    assert groups["itemsPerPage"] <= 50


def test_okta_user_lifecycle(t):
    name = "jane.doe@acme.test"
    lookup = ok(okta(t, "GET", "/Users", filter=f'userName eq "{name}"', startIndex=1, count=100))
    assert lookup["totalResults"] == 0
    created = ok(okta(t, "POST", "/Users", {
        "schemas": [CORE_USER],
        "userName": name,
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": True, "value": name, "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00u1okta2jane3",
        "groups": [],
        "active": True,
    }), 201)
    uid = created["id"]
    assert created["active"] is True and created["externalId"] == "00u1okta2jane3"
    assert ok(okta(t, "GET", f"/Users/{uid}"))["userName"] == name
    assert user_by_external(t, "00u1okta2jane3") == uid

    # Profile changes arrive as a full replacement.
    replaced = ok(okta(t, "PUT", f"/Users/{uid}", {
        "schemas": [CORE_USER],
        "id": uid,
        "userName": name,
        "name": {"givenName": "Jane", "familyName": "Smith"},
        "emails": [{"primary": True, "value": "jane.smith@acme.test", "type": "work"}],
        "displayName": "Jane Smith",
        "locale": "en-GB",
        "externalId": "00u1okta2jane3",
        "groups": [],
        "active": True,
        "meta": {"resourceType": "User"},
    }))
    assert replaced["name"]["familyName"] == "Smith"
    u = t.describe_user(uid)
    assert (u.name.family_name, u.emails[0].value, u.display_name, u.locale) == \
        ("Smith", "jane.smith@acme.test", "Jane Smith", "en-GB")

    # Deactivation: replace without a path, a boolean in a map.
    off = ok(okta(t, "PATCH", f"/Users/{uid}",
                  patch_op({"op": "replace", "value": {"active": False}})))
    assert off["active"] is False and t.describe_user(uid).enabled is False
    ok(okta(t, "PATCH", f"/Users/{uid}", patch_op({"op": "replace", "value": {"active": True}})))
    assert t.describe_user(uid).enabled is True
    ok(okta(t, "DELETE", f"/Users/{uid}"), 204)
    expect_error(lambda: t.describe_user(uid), 404, "IIC.404")


def test_okta_group_push(t):
    a = t.create_user("okta.member.a@acme.test")
    b = t.create_user("okta.member.b@acme.test")
    c = t.create_user("okta.member.c@acme.test")
    assert ok(okta(t, "GET", "/Groups", filter='displayName eq "Engineering"'))["totalResults"] == 0
    g = ok(okta(t, "POST", "/Groups", {
        "schemas": [CORE_GROUP], "displayName": "Engineering",
        "members": [{"value": a["id"], "display": a["userName"]}]}), 201)
    gid = g["id"]
    assert [m["value"] for m in g["members"]] == [a["id"]]
    assert members_of(t, gid) == [a["id"]]

    # Rename: replace without a path carrying the id and the new name.
    ok(okta(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "replace", "value": {"id": gid, "displayName": "Engineering Team"}})), 204)
    assert describe_group(t, gid).display_name == "Engineering Team"
    ok(okta(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "add", "path": "members", "value": [
            {"value": b["id"], "display": b["userName"]},
            {"value": c["id"], "display": c["userName"]}]})), 204)
    assert sorted(members_of(t, gid)) == sorted([a["id"], b["id"], c["id"]])
    ok(okta(t, "PATCH", f"/Groups/{gid}", patch_op(
        {"op": "remove", "path": f'members[value eq "{a["id"]}"]'})), 204)
    assert sorted(members_of(t, gid)) == sorted([b["id"], c["id"]])
    res = t.store.is_member_in_groups(IsMemberInGroupsRequest(
        identity_store_id=t.sid, body=IsMemberInGroupsReqBody(
            group_ids=[gid], member_id=MemberIdDto(user_id=a["id"])))).results
    assert [r.membership_exists for r in res] == [False]

    # Older Okta integrations push the whole group with PUT.
    put = ok(okta(t, "PUT", f"/Groups/{gid}", {
        "schemas": [CORE_GROUP], "id": gid, "displayName": "Engineering",
        "members": [{"value": a["id"], "display": a["userName"]}]}))
    assert put["displayName"] == "Engineering"
    assert members_of(t, gid) == [a["id"]]
    [hit] = ok(okta(t, "GET", "/Groups", filter='displayName eq "Engineering"'))["Resources"]
    assert hit["id"] == gid
    ok(okta(t, "DELETE", f"/Groups/{gid}"), 204)
    expect_error(lambda: describe_group(t, gid), 404, "IIC.404")
    assert groups_of(t, a["id"]) == []


# --- membership in bulk --------------------------------------------------------------------

BULK = 3000


def test_thousands_of_members_join_and_leave_in_one_request(t):
    ids = [t.create_user(f"bulk.{i:05d}")["id"] for i in range(BULK)]
    g = t.create_group("Everyone")
    gid = g["id"]
    ok(entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        op("Add", "members", [{"value": i} for i in ids]))), 204)
    assert sorted(members_of(t, gid)) == sorted(ids)
    full = ok(entra(t, "GET", f"/Groups/{gid}"))
    assert len(full["members"]) == BULK
    leaving = ids[: BULK // 2]
    ok(entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        op("Remove", "members", [{"value": i} for i in leaving]))), 204)
    assert sorted(members_of(t, gid)) == sorted(ids[BULK // 2:])
    few = ids[BULK // 2: BULK // 2 + 3]
    selector = " or ".join(f'value eq "{i}"' for i in few)
    ok(okta(t, "PATCH", f"/Groups/{gid}", patch_op(op("remove", f"members[{selector}]"))), 204)
    assert len(members_of(t, gid)) == BULK - BULK // 2 - 3
    # One unknown id refuses the whole change.
    ghost = str(uuid.uuid4())
    r = entra(t, "PATCH", f"/Groups/{gid}", patch_op(
        op("Add", "members", [{"value": i} for i in leaving] + [{"value": ghost}])))
    assert r.status_code in (400, 404), (r.status_code, r.text[:500])
    assert len(members_of(t, gid)) == BULK - BULK // 2 - 3
