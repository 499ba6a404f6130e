"""SCIM 2.0 through the official SDK (`huaweicloudsdkidentitycenterscim`): all twelve operations,
their refusals (the SDK's exception: status, request id, SCIM error body), bearer-token
authentication, and the same rows seen through the identity-store SDK. Raw requests cover what
the SDK has no parameter for (filters, paging, projections, discovery endpoints)."""

import json

import pytest
import requests
from huaweicloudsdkidentitycenterscim.v1 import (
    AddressItemDto, CreateGroupReqBody, CreateGroupRequest, CreateUserReqBody, CreateUserRequest,
    DeleteGroupRequest, DeleteUserRequest, EmailItemDto, EnterpriseDto, GetGroupRequest,
    GetUserRequest, ListGroupsRequest, ListUsersRequest, ManagerDto, MemberItemDto, NameDto,
    OperationItemDto, PatchGroupReqBody, PatchGroupRequest, PatchUserReqBody, PatchUserRequest,
    PhoneNumberItemDto, PutUserRequest, ServiceProviderConfigRequest, UpdateUserReqBody)
from huaweicloudsdkidentitycenterstore.v1 import (
    AlternateIdentifierDto, CreateUserReqBody as StoreUserBody,
    CreateUserRequest as StoreCreateUser,
    DeleteBearerTokenRequest, DeleteProvisioningTenantRequest, DeleteUserRequest as StoreDeleteUser,
    DescribeGroupRequest, EmailDto, ExternalIdDto, GetGroupIdReqBody, GetGroupIdRequest,
    GetUserIdReqBody, GetUserIdRequest, ListGroupMembershipsRequest, ListSessionsRequest,
    NameDto as StoreName, ResetPwdModeRequest, UpdatePwdModeReqBody)

from iic_harness import expect_error, new_server
from scim_support import (
    CORE_GROUP, CORE_USER, ENTERPRISE, ISO_TIME, LIST, PATCH_OP, SCIM_JSON, SPC,
    expect_scim_error, expect_sdk_error, new_token, op, provision, run_sql, user_body)


def auth(t):
    return {"authorization": t.bearer, "tenant_id": t.tenant_id}


def sdk_user(name, **extra):
    return CreateUserReqBody(
        schemas=[CORE_USER], user_name=name, display_name=f"{name} display",
        name=NameDto(given_name=name.split(".")[0].title(), family_name="Doe"),
        emails=[EmailItemDto(value=f"{name}@example.com", type="work", primary=True)], **extra)


def sdk_put(name, **extra):
    """The same user as `sdk_user`, as the body of a replacement."""
    return UpdateUserReqBody(
        schemas=[CORE_USER], user_name=name, display_name=f"{name} display",
        name=NameDto(given_name=name.split(".")[0].title(), family_name="Doe"),
        emails=[EmailItemDto(value=f"{name}@example.com", type="work", primary=True)], **extra)


def create(t, name, **extra):
    return t.sdk().create_user(CreateUserRequest(**auth(t), body=sdk_user(name, **extra)))


def memberships(t, group_id):
    r = t.store.list_group_memberships(ListGroupMembershipsRequest(identity_store_id=t.sid,
                                                                   group_id=group_id, limit=100))
    return sorted(m.member_id.user_id for m in r.group_memberships)


def user_id_by_external(t, ext, issuer=None):
    return t.store.get_user_id(GetUserIdRequest(identity_store_id=t.sid, body=GetUserIdReqBody(
        alternate_identifier=AlternateIdentifierDto(external_id=ExternalIdDto(
            issuer=issuer or t.tenant_id, id=ext))))).user_id


# --- discovery -------------------------------------------------------------------------------

def test_service_provider_config_advertises_what_is_supported(scim_tenant):
    t = scim_tenant
    r = t.sdk().service_provider_config(ServiceProviderConfigRequest(**auth(t)))
    assert r.status_code == 200
    assert r.schemas == [SPC]
    assert r.patch.supported is True
    assert r.bulk.supported is False
    assert r.filter.supported is True and r.filter.max_results == 50
    assert r.change_password.supported is False
    assert r.sort.supported is False
    assert isinstance(r.etag.supported, bool)
    assert [s.type for s in r.authentication_schemes] == ["oauthbearertoken"]
    raw = t.get("/ServiceProviderConfig")
    assert raw.headers["Content-Type"].startswith(SCIM_JSON)
    assert raw.json()["patch"] == {"supported": True}


def test_schemas_and_resource_types_describe_users_groups_and_the_enterprise_extension(scim_tenant):
    t = scim_tenant
    schemas = t.list("Schemas")
    ids = {s["id"] for s in schemas["Resources"]}
    assert {CORE_USER, CORE_GROUP, ENTERPRISE} <= ids, ids
    assert schemas["totalResults"] == len(schemas["Resources"])
    user = t.get(f"/Schemas/{CORE_USER}").json()
    names = {a["name"] for a in user["attributes"]}
    assert {"userName", "name", "displayName", "emails", "active"} <= names, names
    user_name = next(a for a in user["attributes"] if a["name"] == "userName")
    assert user_name["uniqueness"] == "server" and user_name["required"] is True
    types = {rt["name"]: rt for rt in t.list("ResourceTypes")["Resources"]}
    assert types["User"]["endpoint"] == "/Users" and types["User"]["schema"] == CORE_USER
    assert [e["schema"] for e in types["User"]["schemaExtensions"]] == [ENTERPRISE]
    assert types["Group"]["endpoint"] == "/Groups" and types["Group"]["schema"] == CORE_GROUP
    assert t.get("/ResourceTypes/Group").json()["schema"] == CORE_GROUP
    expect_scim_error(t.get("/Schemas/urn:example:nothing"), 404)
    expect_scim_error(t.get("/ResourceTypes/Printer"), 404)


# --- users -----------------------------------------------------------------------------------

def test_create_user_with_every_attribute_reads_back_the_same_and_is_the_store_s_row(scim_tenant):
    t = scim_tenant
    boss = create(t, "boss.person").id
    body = CreateUserReqBody(
        schemas=[CORE_USER, ENTERPRISE], external_id="ext-ada-1", user_name="ada.lovelace",
        name=NameDto(formatted="Ms Ada K Lovelace III", given_name="Ada", family_name="Lovelace",
                     middle_name="K", honorific_prefix="Ms", honorific_suffix="III"),
        display_name="Ada Lovelace", nick_name="ada", profile_url="https://example.com/ada",
        emails=[EmailItemDto(value="ada@example.com", type="work", primary=True)],
        addresses=[AddressItemDto(street_address="12 St James's Square", locality="London",
                                  region="Westminster", postal_code="SW1Y 4JH", country="GB",
                                  formatted="12 St James's Square, London", type="work",
                                  primary=True)],
        phone_numbers=[PhoneNumberItemDto(value="+44 20 7946 0000", type="work", primary=True)],
        user_type="Employee", title="Analyst", preferred_language="en-GB", locale="en-GB",
        timezone="Europe/London", active=True,
        urnietfparamsscimschemasextensionenterprise2_0_user=EnterpriseDto(
            cost_center="CC-1", department="Engines", division="R&D", employee_number="1815",
            organization="Analytical", manager=ManagerDto(value=boss)))
    r = t.sdk().create_user(CreateUserRequest(**auth(t), body=body))
    assert r.status_code == 201
    created = r.to_json_object()
    assert r.id and r.user_name == "ada.lovelace" and r.external_id == "ext-ada-1"
    assert r.name.middle_name == "K" and r.display_name == "Ada Lovelace" and r.active is True
    assert (r.emails[0].value, r.emails[0].primary) == ("ada@example.com", True)
    assert r.addresses[0].locality == "London" and r.phone_numbers[0].value == "+44 20 7946 0000"
    ent = r.urnietfparamsscimschemasextensionenterprise2_0_user
    assert (ent.department, ent.employee_number, ent.manager.value) == ("Engines", "1815", boss)
    assert set(created["schemas"]) == {CORE_USER, ENTERPRISE}
    meta = created["meta"]
    assert meta["resourceType"] == "User"
    assert ISO_TIME.match(meta["created"]) and ISO_TIME.match(meta["lastModified"]), meta
    assert meta["location"] == f"{t.base}/Users/{r.id}"
    assert isinstance(meta["version"], str) and meta["version"]
    assert created["profileUrl"] == "https://example.com/ada"

    got = t.sdk().get_user(GetUserRequest(**auth(t), user_id=r.id))
    assert got.status_code == 200 and got.to_json_object() == created
    raw = t.get(f"/Users/{r.id}")
    assert raw.headers["Content-Type"].startswith(SCIM_JSON)

    u = t.describe_user(r.id)
    assert (u.user_name, u.display_name, u.nickname, u.title, u.user_type) == \
        ("ada.lovelace", "Ada Lovelace", "ada", "Analyst", "Employee")
    assert (u.name.given_name, u.name.family_name, u.name.honorific_suffix) == \
        ("Ada", "Lovelace", "III")
    assert (u.locale, u.timezone, u.preferred_language, u.profile_url) == \
        ("en-GB", "Europe/London", "en-GB", "https://example.com/ada")
    assert u.emails[0].value == "ada@example.com" and u.enabled is True
    assert u.addresses[0].postal_code == "SW1Y 4JH" and u.phone_numbers[0].type == "work"
    assert (u.enterprise.cost_center, u.enterprise.manager.value) == ("CC-1", boss)
    assert [(e.issuer, e.id) for e in u.external_ids] == [(t.tenant_id, "ext-ada-1")]
    assert user_id_by_external(t, "ext-ada-1") == r.id


@pytest.mark.parametrize("drop", ["name.givenName", "name.familyName", "name", "displayName",
                                  "emails", "userName"])
def test_create_user_without_what_the_identity_store_requires_is_invalid_value(scim_tenant, drop):
    t = scim_tenant
    body = user_body(f"missing.{drop.replace('.', '-').lower()}")
    if "." in drop:
        outer, inner = drop.split(".")
        del body[outer][inner]
    else:
        del body[drop]
    expect_scim_error(t.post("/Users", body), 400, "invalidValue")
    raw = json.dumps(body)
    req = CreateUserRequest(**auth(t), body=json.loads(raw))
    expect_sdk_error(lambda: t.sdk().create_user(req), 400, "invalidValue")


def test_create_user_with_an_empty_email_list_is_invalid_value(scim_tenant):
    t = scim_tenant
    expect_sdk_error(lambda: t.sdk().create_user(CreateUserRequest(
        **auth(t), body=CreateUserReqBody(
            schemas=[CORE_USER], user_name="no.mail", display_name="No Mail",
            name=NameDto(given_name="No", family_name="Mail"), emails=[]))),
        400, "invalidValue")


def test_a_taken_user_name_is_409_uniqueness_whatever_its_case(scim_tenant):
    t = scim_tenant
    create(t, "taken.name")
    expect_sdk_error(lambda: create(t, "TAKEN.Name"), 409, "uniqueness")
    # A name taken through the identity-store API clashes the same way.
    t.store.create_user(StoreCreateUser(identity_store_id=t.sid, body=StoreUserBody(
        user_name="store.made", display_name="Store Made", password_mode="EMAIL",
        name=StoreName(given_name="Store", family_name="Made"),
        emails=[EmailDto(value="store.made@example.com", type="work", primary=True)])))
    expect_sdk_error(lambda: create(t, "store.made"), 409, "uniqueness")


def test_unknown_users_are_404_through_every_operation(scim_tenant):
    t = scim_tenant
    sdk = t.sdk()
    missing = "00000000-0000-4000-8000-000000000000"
    expect_sdk_error(lambda: sdk.get_user(GetUserRequest(**auth(t), user_id=missing)), 404)
    expect_sdk_error(lambda: sdk.delete_user(DeleteUserRequest(**auth(t), user_id=missing)), 404)
    expect_sdk_error(lambda: sdk.put_user(PutUserRequest(**auth(t), user_id=missing,
                                                         body=sdk_put("put.missing"))), 404)
    expect_sdk_error(lambda: sdk.patch_user(PatchUserRequest(
        **auth(t), user_id=missing, body=PatchUserReqBody(schemas=[PATCH_OP], operations=[
            OperationItemDto(op="replace", path="title", value="x")]))), 404)
    r = t.get(f"/Users/{missing}")
    body = expect_scim_error(r, 404)
    assert missing in body["detail"]


def test_list_users_pages_by_50_and_counts_them_all():
    server = new_server()
    try:
        t = provision(server)
        ids = [t.create_user(f"page.{i:03d}")["id"] for i in range(57)]
        r = t.sdk().list_users(ListUsersRequest(**auth(t)))
        assert r.status_code == 200 and r.schemas == [LIST]
        assert r.total_results == 57 and len(r.resources) == 50
        assert int(r.items_per_page) == 50 and int(r.start_index) == 1
        assert [u.id for u in r.resources] == ids[:50]
        first = r.resources[0]
        assert first.user_name == "page.000" and first.meta.resource_type == "User"
        rest = t.list("Users", startIndex=51, count=50)
        assert (rest["totalResults"], rest["itemsPerPage"], rest["startIndex"]) == (57, 7, 51)
        assert [u["id"] for u in rest["Resources"]] == ids[50:]
        capped = t.list("Users", count=500)
        assert len(capped["Resources"]) == 50 and capped["itemsPerPage"] == 50
        window = t.list("Users", startIndex=10, count=3)
        assert [u["id"] for u in window["Resources"]] == ids[9:12]
        none = t.list("Users", count=0)
        assert (none["totalResults"], none.get("Resources", [])) == (57, [])
        beyond = t.list("Users", startIndex=1000)
        assert (beyond["totalResults"], beyond.get("Resources", [])) == (57, [])
        # startIndex below 1 is read as 1 (RFC 7644 §3.4.2.4).
        assert t.list("Users", startIndex=0, count=1)["Resources"][0]["id"] == ids[0]
    finally:
        server.close()


def test_filters_projections_and_their_refusals(scim_tenant):
    t = scim_tenant
    a = t.create_user("filter.alpha", externalId="ext-filter-a", title="Engineer")
    b = t.create_user("filter.beta", title="Designer")
    assert [u["id"] for u in t.find("Users", 'userName eq "FILTER.ALPHA"')] == [a["id"]]
    assert [u["id"] for u in t.find("Users", 'externalId eq "ext-filter-a"')] == [a["id"]]
    assert t.find("Users", 'externalId eq "EXT-FILTER-A"') == [], "externalId is case-exact"
    assert [u["id"] for u in t.find("Users", f'id eq "{b["id"]}"')] == [b["id"]]
    assert t.find("Users", 'userName eq "nobody.here"') == []
    both = t.find("Users", 'userName sw "filter." and (title eq "Engineer" or title eq "Designer")')
    assert sorted(u["id"] for u in both) == sorted([a["id"], b["id"]])
    assert [u["id"] for u in t.find("Users", 'emails[type eq "work" and value co "beta"]')] == \
        [b["id"]]
    ids = [u["id"] for u in t.find("Users", 'userName sw "filter." and not (title eq "Engineer")')]
    assert ids == [b["id"]]
    ids = [u["id"] for u in t.find("Users", 'userName sw "filter." and externalId pr')]
    assert ids == [a["id"]]
    only = t.list("Users", filter='userName eq "filter.alpha"', attributes="userName")
    [u] = only["Resources"]
    assert set(u) == {"schemas", "id", "userName"}, u
    lean = t.get(f"/Users/{a['id']}", params={"excludedAttributes": "emails,name"}).json()
    assert "emails" not in lean and "name" not in lean and lean["userName"] == "filter.alpha"
    for bad in ['userName eq', 'userName xx "a"', '(userName eq "a"', 'userName eq "a" and']:
        expect_scim_error(t.get("/Users", params={"filter": bad}), 400, "invalidFilter")


def test_put_replaces_the_user_and_clears_what_it_leaves_out(scim_tenant):
    t = scim_tenant
    r = create(t, "put.user", title="Engineer", nick_name="putty", external_id="ext-put")
    body = UpdateUserReqBody(
        schemas=[CORE_USER], id=r.id, user_name="put.renamed", external_id="ext-put-2",
        display_name="Put Renamed", name=NameDto(given_name="Put", family_name="Renamed"),
        emails=[EmailItemDto(value="put.renamed@example.com", type="home", primary=True)],
        locale="fr-FR", active=True)
    p = t.sdk().put_user(PutUserRequest(**auth(t), user_id=r.id, body=body))
    assert p.status_code == 200
    assert (p.id, p.user_name, p.display_name, p.locale, p.external_id) == \
        (r.id, "put.renamed", "Put Renamed", "fr-FR", "ext-put-2")
    assert p.title is None and p.nick_name is None
    assert p.meta.last_modified >= r.meta.last_modified
    u = t.describe_user(r.id)
    assert (u.user_name, u.title, u.nickname, u.emails[0].type) == \
        ("put.renamed", None, None, "home")
    assert user_id_by_external(t, "ext-put-2") == r.id
    other = create(t, "put.other")
    clash = sdk_put("PUT.RENAMED")
    expect_sdk_error(lambda: t.sdk().put_user(PutUserRequest(**auth(t), user_id=other.id,
                                                             body=clash)), 409, "uniqueness")
    broken = sdk_put("put.renamed")
    broken.emails = []
    expect_sdk_error(lambda: t.sdk().put_user(PutUserRequest(**auth(t), user_id=r.id,
                                                             body=broken)), 400, "invalidValue")


def patch_user(t, user_id, *ops):
    return t.sdk().patch_user(PatchUserRequest(**auth(t), user_id=user_id, body=PatchUserReqBody(
        schemas=[PATCH_OP], operations=[OperationItemDto(**o) for o in ops])))


def test_patch_user_adds_replaces_and_removes(scim_tenant):
    t = scim_tenant
    r = create(t, "patch.user", nick_name="patchy")
    p = patch_user(t, r.id,
                   {"op": "replace", "path": "displayName", "value": "Patched Name"},
                   {"op": "add", "path": "title", "value": "Lead"},
                   {"op": "remove", "path": "nickName"},
                   {"op": "replace", "path": 'emails[type eq "work"].value',
                    "value": "patched@example.com"},
                   {"op": "add", "value": {"name.givenName": "Pat", "userType": "Contractor"}},
                   {"op": "add", "path": f"{ENTERPRISE}:department", "value": "Ops"})
    assert p.status_code == 200
    assert (p.display_name, p.title, p.nick_name, p.user_type) == \
        ("Patched Name", "Lead", None, "Contractor")
    assert p.emails[0].value == "patched@example.com" and p.name.given_name == "Pat"
    assert p.urnietfparamsscimschemasextensionenterprise2_0_user.department == "Ops"
    assert p.to_json_object() == t.get(f"/Users/{r.id}").json()
    u = t.describe_user(r.id)
    assert (u.display_name, u.title, u.nickname, u.emails[0].value, u.enterprise.department) == \
        ("Patched Name", "Lead", None, "patched@example.com", "Ops")
    # Refusals: a bad path, an unknown attribute, removing what the store requires, a bad op.
    expect_sdk_error(lambda: patch_user(t, r.id, {"op": "replace", "path": "emails[type eq",
                                                  "value": "x"}), 400, "invalidPath")
    expect_sdk_error(lambda: patch_user(t, r.id, {"op": "remove", "path": "displayName"}),
                     400, "invalidValue")
    expect_sdk_error(lambda: patch_user(t, r.id, {"op": "remove"}), 400, "noTarget")
    expect_sdk_error(lambda: patch_user(t, r.id, {"op": "move", "path": "title", "value": "x"}),
                     400)
    assert t.describe_user(r.id).display_name == "Patched Name", "a refused PATCH changes nothing"


def test_active_false_disables_the_user_and_ends_their_sessions():
    from portal_forms import Browser, sign_in
    server = new_server()
    try:
        t = provision(server)
        u = t.create_user("leaver")
        otp = t.store.reset_pwd_mode(ResetPwdModeRequest(
            identity_store_id=t.sid, user_id=u["id"],
            body=UpdatePwdModeReqBody(mode="OTP"))).password
        b = Browser()
        portal = f"{server.url}/{t.sid}/portal"
        page = sign_in(b, b.get(portal), "leaver", otp, "Correct-Horse-9-Battery")
        assert page.status == 200 and page.text("user-name"), page.body[:1000]
        sessions = t.store.list_sessions(ListSessionsRequest(identity_store_id=t.sid,
                                                             user_id=u["id"])).session_list
        assert len(sessions) == 1
        p = patch_user(t, u["id"], {"op": "replace", "path": "active", "value": False})
        assert p.active is False
        assert t.describe_user(u["id"]).enabled is False
        assert t.store.list_sessions(ListSessionsRequest(identity_store_id=t.sid,
                                                         user_id=u["id"])).session_list == []
        assert b.get(portal).form("sign-in"), "the browser is signed out"
        assert [x["id"] for x in t.find("Users", "active eq false")] == [u["id"]]
        patch_user(t, u["id"], {"op": "replace", "value": {"active": True}})
        assert t.describe_user(u["id"]).enabled is True
    finally:
        server.close()


def test_removing_active_never_re_enables_a_disabled_user(scim_tenant):
    t = scim_tenant
    u = t.create_user("still.disabled", active=False)
    assert t.describe_user(u["id"]).enabled is False
    r = t.patch(f"/Users/{u['id']}", [op("remove", "active")])
    assert r.status_code == 200, (r.status_code, r.text)
    # `active` is unassigned (RFC 7644 §3.5.2.2), the user as disabled as before.
    assert "active" not in r.json(), r.text
    assert t.describe_user(u["id"]).enabled is False, r.text
    assert "active" not in t.get(f"/Users/{u['id']}").json()
    # Setting it again assigns it.
    r = t.patch(f"/Users/{u['id']}", [op("replace", "active", True)])
    assert r.json()["active"] is True
    assert t.describe_user(u["id"]).enabled is True


def test_an_extension_object_may_carry_its_schemas_list(scim_tenant):
    """Clients built on SCIM models send an extension value with its `schemas` member."""
    t = scim_tenant
    u = t.create_user("ext.schemas")
    for kind, department in (("add", "Finance"), ("replace", "Audit")):
        r = t.patch(f"/Users/{u['id']}", [op(kind, ENTERPRISE, {"schemas": [ENTERPRISE],
                                                                 "department": department})])
        assert r.status_code == 200, (kind, r.text)
        assert r.json()[ENTERPRISE]["department"] == department
        assert t.describe_user(u["id"]).enterprise.department == department


def test_the_manager_reference_is_kept_when_the_schema_publishes_it(scim_tenant):
    t = scim_tenant
    subs = {a["name"]: a for a in t.get(f"/Schemas/{ENTERPRISE}").json()["attributes"]}
    published = [x["name"] for x in subs["manager"].get("subAttributes", [])]
    boss = t.create_user("ref.boss")
    u = t.create_user("ref.report")
    r = t.patch(f"/Users/{u['id']}", [op("add", f"{ENTERPRISE}:manager", {
        "value": boss["id"], "$ref": boss["meta"]["location"]})])
    assert r.status_code == 200, r.text
    manager = r.json()[ENTERPRISE]["manager"]
    assert manager["value"] == boss["id"]
    if "$ref" in published:
        assert manager.get("$ref") == boss["meta"]["location"], manager


def test_delete_user_is_seen_by_the_identity_store_and_the_other_way_round(scim_tenant):
    t = scim_tenant
    r = create(t, "gone.user")
    d = t.sdk().delete_user(DeleteUserRequest(**auth(t), user_id=r.id))
    assert d.status_code == 204
    expect_sdk_error(lambda: t.sdk().get_user(GetUserRequest(**auth(t), user_id=r.id)), 404)
    expect_error(lambda: t.describe_user(r.id), 404, "IIC.404")
    expect_sdk_error(lambda: t.sdk().delete_user(DeleteUserRequest(**auth(t), user_id=r.id)), 404)
    s = create(t, "store.deleted")
    t.store.delete_user(StoreDeleteUser(identity_store_id=t.sid, user_id=s.id))
    expect_sdk_error(lambda: t.sdk().get_user(GetUserRequest(**auth(t), user_id=s.id)), 404)
    assert t.find("Users", 'userName eq "store.deleted"') == []


def test_users_made_by_the_identity_store_api_are_visible_through_scim(scim_tenant):
    t = scim_tenant
    uid = t.store.create_user(StoreCreateUser(identity_store_id=t.sid, body=StoreUserBody(
        user_name="console.made", display_name="Console Made", password_mode="EMAIL",
        name=StoreName(given_name="Console", family_name="Made"),
        emails=[EmailDto(value="console.made@example.com", type="work", primary=True)]))).user_id
    g = t.sdk().get_user(GetUserRequest(**auth(t), user_id=uid))
    assert (g.user_name, g.display_name, g.name.given_name, g.active) == \
        ("console.made", "Console Made", "Console", True)
    assert g.external_id is None
    assert [u["id"] for u in t.find("Users", 'userName eq "console.made"')] == [uid]


# --- groups ----------------------------------------------------------------------------------

def patch_group(t, group_id, *ops):
    body = PatchGroupReqBody(schemas=[PATCH_OP], operations=[OperationItemDto(**o) for o in ops])
    return t.sdk().patch_group(PatchGroupRequest(**auth(t), group_id=group_id, body=body))


def test_groups_through_every_sdk_operation(scim_tenant):
    t = scim_tenant
    sdk = t.sdk()
    a, b, c = (create(t, f"member.{x}").id for x in "abc")
    g = sdk.create_group(CreateGroupRequest(**auth(t), body=CreateGroupReqBody(
        schemas=[CORE_GROUP], display_name="Engineering", external_id="ext-eng",
        members=[MemberItemDto(value=a), MemberItemDto(value=b)])))
    assert g.status_code == 201
    assert g.display_name == "Engineering" and g.external_id == "ext-eng"
    assert sorted(m.value for m in g.members) == sorted([a, b])
    created = g.to_json_object()
    assert created["meta"]["resourceType"] == "Group"
    assert created["meta"]["location"] == f"{t.base}/Groups/{g.id}"
    assert memberships(t, g.id) == sorted([a, b])
    d = t.store.describe_group(DescribeGroupRequest(identity_store_id=t.sid, group_id=g.id))
    assert d.display_name == "Engineering"
    assert [(e.issuer, e.id) for e in d.external_ids] == [(t.tenant_id, "ext-eng")]
    found = t.store.get_group_id(GetGroupIdRequest(identity_store_id=t.sid, body=GetGroupIdReqBody(
        alternate_identifier=AlternateIdentifierDto(external_id=ExternalIdDto(
            issuer=t.tenant_id, id="ext-eng")))))
    assert found.group_id == g.id

    got = sdk.get_group(GetGroupRequest(**auth(t), group_id=g.id))
    assert got.status_code == 200 and sorted(m.value for m in got.members) == sorted([a, b])
    listed = sdk.list_groups(ListGroupsRequest(**auth(t)))
    assert listed.status_code == 200 and g.id in [x.id for x in listed.resources]
    assert listed.total_results >= 1

    p = patch_group(t, g.id, {"op": "add", "path": "members", "value": [{"value": c}]},
                    {"op": "remove", "path": f'members[value eq "{a}"]'})
    assert p.status_code == 204 and p.raw_content in (None, b"")
    assert memberships(t, g.id) == sorted([b, c])
    patch_group(t, g.id, {"op": "replace", "path": "displayName", "value": "Platform"})
    assert t.store.describe_group(DescribeGroupRequest(identity_store_id=t.sid,
                                                       group_id=g.id)).display_name == "Platform"
    patch_group(t, g.id, {"op": "replace", "path": "members", "value": [{"value": a}]})
    assert memberships(t, g.id) == [a]
    patch_group(t, g.id, {"op": "remove", "path": "members"})
    assert memberships(t, g.id) == []

    gone = sdk.delete_group(DeleteGroupRequest(**auth(t), group_id=g.id))
    assert gone.status_code == 204
    expect_sdk_error(lambda: sdk.get_group(GetGroupRequest(**auth(t), group_id=g.id)), 404)
    expect_error(lambda: t.store.describe_group(DescribeGroupRequest(identity_store_id=t.sid,
                                                                     group_id=g.id)),
                 404, "IIC.404")
    expect_sdk_error(lambda: sdk.delete_group(DeleteGroupRequest(**auth(t), group_id=g.id)), 404)
    expect_sdk_error(lambda: patch_group(t, g.id, {"op": "replace", "path": "displayName",
                                                   "value": "x"}), 404)


def test_group_refusals(scim_tenant):
    t = scim_tenant
    sdk = t.sdk()
    g = t.create_group("Unique Group")
    expect_sdk_error(lambda: sdk.create_group(CreateGroupRequest(**auth(t), body=CreateGroupReqBody(
        schemas=[CORE_GROUP], display_name="UNIQUE group"))), 409, "uniqueness")
    expect_sdk_error(lambda: sdk.create_group(CreateGroupRequest(**auth(t), body=CreateGroupReqBody(
        schemas=[CORE_GROUP], display_name=""))), 400, "invalidValue")
    ghost = "00000000-0000-4000-8000-00000000abcd"
    member = t.create_user("real.member")["id"]
    # An unknown member refuses the whole change: nothing is written.
    r = t.patch(f"/Groups/{g['id']}", [op("add", "members", [{"value": member}, {"value": ghost}])])
    assert r.status_code in (400, 404), (r.status_code, r.text)
    expect_scim_error(r, r.status_code)
    assert memberships(t, g["id"]) == []
    other = t.create_group("Other Group")
    expect_sdk_error(lambda: patch_group(t, other["id"], {"op": "replace", "path": "displayName",
                                                          "value": "unique group"}),
                     409, "uniqueness")
    expect_sdk_error(lambda: patch_group(t, g["id"], {"op": "add", "path": "owner",
                                                      "value": "x"}), 400)
    expect_sdk_error(lambda: sdk.get_group(GetGroupRequest(**auth(t), group_id=ghost)), 404)


def test_put_group_replaces_name_and_members(scim_tenant):
    t = scim_tenant
    a = t.create_user("put.member.a")["id"]
    b = t.create_user("put.member.b")["id"]
    g = t.create_group("Put Group", members=[a])
    r = t.put(f"/Groups/{g['id']}", {"schemas": [CORE_GROUP], "displayName": "Put Group 2",
                                     "members": [{"value": b}]})
    assert r.status_code == 200, r.text
    assert r.json()["displayName"] == "Put Group 2"
    assert [m["value"] for m in r.json()["members"]] == [b]
    assert memberships(t, g["id"]) == [b]


def test_group_filters_and_member_exclusion(scim_tenant):
    t = scim_tenant
    a = t.create_user("gf.member")["id"]
    g = t.create_group("Filter Me", members=[a], externalId="ext-filter-group")
    [hit] = t.find("Groups", 'displayName eq "filter me"', excludedAttributes="members")
    assert hit["id"] == g["id"] and "members" not in hit
    assert [x["id"] for x in t.find("Groups", 'externalId eq "ext-filter-group"')] == [g["id"]]
    assert [x["id"] for x in t.find("Groups", f'members.value eq "{a}"')] == [g["id"]]
    assert t.find("Groups", 'displayName eq "nothing like it"') == []


# --- authentication --------------------------------------------------------------------------

def test_requests_without_a_live_token_of_this_tenant_are_401():
    server = new_server()
    try:
        t = provision(server)
        sdk = t.sdk()
        uid = t.create_user("auth.user")["id"]

        def refused(authorization, tenant_id=None):
            expect_sdk_error(lambda: sdk.get_user(GetUserRequest(
                authorization=authorization, tenant_id=tenant_id or t.tenant_id, user_id=uid)),
                401)
            expect_sdk_error(lambda: sdk.service_provider_config(ServiceProviderConfigRequest(
                authorization=authorization, tenant_id=tenant_id or t.tenant_id)), 401)

        refused(None)
        refused("Bearer")
        refused("Bearer not-a-token")
        refused(f"Basic {t.token}")
        refused(f"Bearer {t.token}x")
        refused(t.bearer, tenant_id="00000000-0000-4000-8000-000000000000")
        expect_scim_error(t.get("/Users", token=None), 401)

        # A deleted token, an expired one (aged in the database), a deleted tenant.
        spare, spare_id = new_token(t)
        assert t.get(f"/Users/{uid}", token=spare).status_code == 200
        t.store.delete_bearer_token(DeleteBearerTokenRequest(
            identity_store_id=t.sid, tenant_id=t.tenant_id, token_id=spare_id))
        refused(f"Bearer {spare}")
        aged, aged_id = new_token(t)
        assert run_sql(server, "UPDATE scim_tokens SET expires_at = ? WHERE token_id = ?",
                       (1, aged_id)) == 1
        refused(f"Bearer {aged}")
        assert t.get(f"/Users/{uid}").status_code == 200, "the first token still works"
        t.store.delete_provisioning_tenant(DeleteProvisioningTenantRequest(
            identity_store_id=t.sid, tenant_id=t.tenant_id))
        refused(t.bearer)
        # A new tenant of the store sees the same users; the old tenant's path stays closed.
        again = provision(server, t.store, t.sid)
        assert again.get(f"/Users/{uid}").status_code == 200
        refused(again.bearer)
        expect_scim_error(again.get(f"/Users/{uid}", token=t.token), 401)
    finally:
        server.close()


def test_a_token_of_another_tenant_is_401():
    one, two = new_server(), new_server()
    try:
        a = provision(one)
        b = provision(two)
        uid = a.create_user("private.user")["id"]
        expect_scim_error(a.get(f"/Users/{uid}", token=b.token), 401)
        foreign = requests.get(f"{one.url}/{b.tenant_id}/scim/v2/Users/{uid}",
                               headers={"Authorization": b.bearer}, timeout=10)
        expect_scim_error(foreign, 401)
        assert b.get(f"/Users/{uid}").status_code == 404
    finally:
        one.close()
        two.close()


def test_content_types_and_malformed_bodies(scim_tenant):
    t = scim_tenant
    plain = t.post("/Users", user_body("json.user"), content_type="application/json")
    assert plain.status_code == 201 and plain.headers["Content-Type"].startswith(SCIM_JSON)
    expect_scim_error(t.request("POST", "/Users", raw=b"{not json", content_type=SCIM_JSON),
                      400, "invalidSyntax")
    expect_scim_error(t.post("/Users", {**user_body("no.schemas"), "schemas": []}), 400)
    expect_scim_error(t.patch(f"/Users/{plain.json()['id']}", [{"op": "replace"}]), 400)
    expect_scim_error(t.get("/NoSuchEndpoint"), 404)
