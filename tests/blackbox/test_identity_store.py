"""Identity store: users, groups, memberships, password policy and summary through the official
SDK (`huaweicloudsdkidentitycenterstore`, BasicCredentials with the project id)."""

import re

import pytest
from huaweicloudsdkidentitycenterstore.v1 import (
    AlternateIdentifierDto, AttributeOperationDto, CreateGroupMembershipReqBody,
    CreateGroupMembershipRequest, CreateGroupReqBody, CreateGroupRequest, CreateUserReqBody,
    CreateUserRequest, DeleteGroupMembershipRequest, DeleteGroupRequest, DeleteUserRequest,
    DescribeGroupMembershipRequest, DescribeGroupRequest, DescribeGroupsRequest,
    DescribeGroupsRequestBody, DescribePasswordPolicyRequest, DescribeUserRequest,
    DescribeUsersRequest, DescribeUsersRequestBody, DisableUserRequest, EmailDto, EnableUserRequest,
    EnterpriseDto, ExternalIdDto, GetGroupIdReqBody, GetGroupIdRequest,
    GetGroupMembershipIdReqBody, GetGroupMembershipIdRequest, GetIdentityStoreSummaryRequest,
    GetUserIdReqBody, GetUserIdRequest, IsMemberInGroupsReqBody, IsMemberInGroupsRequest,
    ListGroupMembershipsForMemberRequest, ListGroupMembershipsRequest, ListGroupsRequest,
    ListUsersRequest, MemberIdDto, NameDto, PasswordPolicyDto, ResetPwdModeRequest,
    UniqueAttributeDto, UpdateGroupReqBody, UpdateGroupRequest, UpdatePasswordPolicyReqBody,
    UpdatePasswordPolicyRequest, UpdatePwdModeReqBody, UpdateUserReqBody, UpdateUserRequest,
    VerifyEmailRequest)

from iic_harness import expect_error, new_server, stored_bytes
from sdk_clients import identity_store, started_store_id

ID = re.compile(r"^[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def env():
    server = new_server()
    sid = started_store_id(server)
    yield server, identity_store(server), sid
    server.close()


def user_body(name, mode="EMAIL", **extra):
    return CreateUserReqBody(
        user_name=name, display_name=f"{name} display", password_mode=mode,
        name=NameDto(family_name="Doe", given_name=name),
        emails=[EmailDto(value=f"{name}@example.com", type="work", primary=True)], **extra)


def create_user(client, sid, name, mode="EMAIL", **extra):
    return client.create_user(CreateUserRequest(identity_store_id=sid,
                                                body=user_body(name, mode, **extra)))


def create_group(client, sid, name, description=None):
    return client.create_group(CreateGroupRequest(
        identity_store_id=sid, body=CreateGroupReqBody(display_name=name, description=description)))


def describe_user(client, sid, uid):
    return client.describe_user(DescribeUserRequest(identity_store_id=sid, user_id=uid))


# --- users ---------------------------------------------------------------------------------

def test_create_user_with_otp_returns_the_password_once(env):
    server, c, sid = env
    r = create_user(c, sid, "otp.user", "OTP", title="Engineer",
                    enterprise=EnterpriseDto(department="R&D"))
    assert r.identity_store_id == sid
    assert ID.match(r.user_id), r.user_id
    assert r.user_id.startswith(sid[2:] + "-")
    assert r.password and len(r.password) >= 16
    u = describe_user(c, sid, r.user_id)
    assert u.user_name == "otp.user" and u.title == "Engineer"
    assert u.enterprise.department == "R&D"
    assert u.enabled is True and u.email_verified is False
    assert u.created_by == server.creds["account_id"] and u.created_at > 0
    assert u.updated_at >= u.created_at
    assert not hasattr(u, "password") or getattr(u, "password", None) is None
    db = stored_bytes(server, ["users"])
    assert r.password.encode() not in db, "the one-time password is stored only hashed"
    assert b"$argon2id$" in db


def test_create_user_with_email_mode_returns_no_password(env):
    _, c, sid = env
    r = create_user(c, sid, "mail.user", "EMAIL")
    assert r.password is None
    assert describe_user(c, sid, r.user_id).emails[0].value == "mail.user@example.com"


@pytest.mark.parametrize("mutate,fragment", [
    (lambda b: setattr(b, "user_name", "a"), "user_name"),
    (lambda b: setattr(b, "user_name", "x" * 129), "user_name"),
    (lambda b: setattr(b, "user_name", "has space"), "user_name"),
    (lambda b: setattr(b, "display_name", ""), "display_name"),
    (lambda b: setattr(b, "password_mode", "SMS"), "password_mode"),
    (lambda b: setattr(b, "emails", []), "emails"),
    (lambda b: setattr(b, "emails", [EmailDto(value="nope", type="work", primary=True)]), "emails.value"),
    (lambda b: setattr(b, "name", None), "name"),
    (lambda b: setattr(b, "title", "x" * 1025), "title"),
])
def test_create_user_bad_input_names_the_field(env, mutate, fragment):
    _, c, sid = env
    body = user_body("valid.name")
    mutate(body)
    expect_error(lambda: c.create_user(CreateUserRequest(identity_store_id=sid, body=body)),
                 400, "IIC.400", fragment)


def test_user_name_is_unique_case_insensitively(env):
    _, c, sid = env
    create_user(c, sid, "Unique.One")
    expect_error(lambda: create_user(c, sid, "unique.one"), 409, "IIC.1007", "unique.one")


def test_unknown_and_malformed_user_ids(env):
    _, c, sid = env
    missing = sid[2:] + "-00000000-0000-4000-8000-000000000000"
    expect_error(lambda: describe_user(c, sid, missing), 404, "IIC.404", missing)
    expect_error(lambda: describe_user(c, sid, "bad_id!"), 400, "IIC.400", "user_id")
    expect_error(lambda: c.delete_user(DeleteUserRequest(identity_store_id=sid, user_id=missing)),
                 404, "IIC.404")


def test_another_store_is_not_found(env):
    _, c, _ = env
    expect_error(lambda: c.list_users(ListUsersRequest(identity_store_id="d-0000000000")),
                 404, "IIC.404", "d-0000000000")
    expect_error(lambda: c.list_users(ListUsersRequest(identity_store_id="x")), 400, "IIC.400",
                 "identity_store_id")


def test_wrong_project_id_is_refused(env):
    server, _, sid = env
    c = identity_store(server, project_id="0" * 32)
    expect_error(lambda: c.list_users(ListUsersRequest(identity_store_id=sid)), 401,
                 "APIGW.0301", "X-Project-Id")


def test_batch_query_and_get_user_id(env):
    _, c, sid = env
    a = create_user(c, sid, "batch.a").user_id
    b = create_user(c, sid, "batch.b").user_id
    missing = sid[2:] + "-00000000-0000-4000-8000-000000000001"
    got = c.describe_users(DescribeUsersRequest(
        identity_store_id=sid, body=DescribeUsersRequestBody(user_ids=[b, missing, a]))).users
    assert [u.user_id for u in got] == [b, a]
    expect_error(lambda: c.describe_users(DescribeUsersRequest(
        identity_store_id=sid, body=DescribeUsersRequestBody(user_ids=[]))), 400, "IIC.400",
        "user_ids")

    def get_id(**alt):
        return c.get_user_id(GetUserIdRequest(identity_store_id=sid, body=GetUserIdReqBody(
            alternate_identifier=AlternateIdentifierDto(**alt))))
    by_name = get_id(unique_attribute=UniqueAttributeDto(attribute_path="user_name",
                                                         attribute_value="BATCH.A"))
    assert by_name.user_id == a and by_name.identity_store_id == sid
    by_mail = get_id(unique_attribute=UniqueAttributeDto(attribute_path="emails.value",
                                                         attribute_value="batch.b@example.com"))
    assert by_mail.user_id == b
    expect_error(lambda: get_id(unique_attribute=UniqueAttributeDto(
        attribute_path="user_name", attribute_value="nobody")), 404, "IIC.404")
    expect_error(lambda: get_id(external_id=ExternalIdDto(issuer="okta", id="1")), 404, "IIC.404")
    expect_error(lambda: get_id(), 400, "IIC.400", "alternate_identifier")
    expect_error(lambda: get_id(unique_attribute=UniqueAttributeDto(
        attribute_path="title", attribute_value="x")), 400, "IIC.400", "attribute_path")


def test_paging_through_250_users_reaches_each_once():
    server = new_server()
    try:
        sid = started_store_id(server)
        c = identity_store(server)
        created = {create_user(c, sid, f"page.{i:03d}").user_id for i in range(250)}
        seen, marker, pages = [], None, []
        while True:
            r = c.list_users(ListUsersRequest(identity_store_id=sid, limit=100, marker=marker))
            pages.append(r.page_info.current_count)
            assert r.page_info.current_count == len(r.users)
            seen += [u.user_id for u in r.users]
            marker = r.page_info.next_marker
            if marker is None:
                break
            assert re.match(r"^[0-9a-f]{24}$", marker)
        assert pages == [100, 100, 50]
        assert len(seen) == 250 and set(seen) == created
        only = c.list_users(ListUsersRequest(identity_store_id=sid, user_name="PAGE.007"))
        assert [u.user_name for u in only.users] == ["page.007"]
        expect_error(lambda: c.list_users(ListUsersRequest(identity_store_id=sid, limit=101)),
                     400, "IIC.400", "limit")
        expect_error(lambda: c.list_users(ListUsersRequest(identity_store_id=sid,
                                                           marker="f" * 24)), 400, "IIC.400",
                     "marker")
    finally:
        server.close()


def test_update_user_operations(env):
    _, c, sid = env
    uid = create_user(c, sid, "upd.user").user_id
    other = create_user(c, sid, "upd.other").user_id

    def update(*ops):
        return c.update_user(UpdateUserRequest(identity_store_id=sid, user_id=uid,
                                               body=UpdateUserReqBody(operations=list(ops))))
    update(AttributeOperationDto(attribute_path="display_name", attribute_value="New Name"),
           AttributeOperationDto(attribute_path="name.given_name", attribute_value="Neo"),
           AttributeOperationDto(attribute_path="emails", attribute_value=
                                 '[{"value": "neo@example.org", "type": "home", "primary": true}]'),
           AttributeOperationDto(attribute_path="title", attribute_value="Lead"))
    u = describe_user(c, sid, uid)
    assert (u.display_name, u.name.given_name, u.emails[0].value, u.title) == \
        ("New Name", "Neo", "neo@example.org", "Lead")
    update(AttributeOperationDto(attribute_path="title", attribute_value=None))
    assert describe_user(c, sid, uid).title is None
    expect_error(lambda: update(AttributeOperationDto(attribute_path="user_id", attribute_value="x")),
                 400, "IIC.400", "read-only")
    expect_error(lambda: update(AttributeOperationDto(attribute_path="shoe_size",
                                                      attribute_value="9")), 400, "IIC.400",
                 "shoe_size")
    expect_error(lambda: update(AttributeOperationDto(attribute_path="display_name",
                                                      attribute_value=None)), 400, "IIC.400",
                 "display_name")
    expect_error(lambda: update(AttributeOperationDto(attribute_path="user_name",
                                                      attribute_value="UPD.OTHER")), 409,
                 "IIC.1007")
    assert describe_user(c, sid, other).user_name == "upd.other"


def test_enable_disable_reset_and_verify(env):
    _, c, sid = env
    uid = create_user(c, sid, "life.user").user_id
    c.disable_user(DisableUserRequest(identity_store_id=sid, user_id=uid))
    assert describe_user(c, sid, uid).enabled is False
    c.enable_user(EnableUserRequest(identity_store_id=sid, user_id=uid))
    assert describe_user(c, sid, uid).enabled is True
    r = c.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=uid,
                                             body=UpdatePwdModeReqBody(mode="OTP")))
    assert r.password and len(r.password) >= 16
    r2 = c.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=uid,
                                              body=UpdatePwdModeReqBody(mode="OTP")))
    assert r2.password != r.password
    assert c.reset_pwd_mode(ResetPwdModeRequest(identity_store_id=sid, user_id=uid, body=
                                                UpdatePwdModeReqBody(mode="EMAIL"))).password is None
    expect_error(lambda: c.reset_pwd_mode(ResetPwdModeRequest(
        identity_store_id=sid, user_id=uid, body=UpdatePwdModeReqBody(mode="SMS"))), 400,
        "IIC.400", "mode")
    c.verify_email(VerifyEmailRequest(identity_store_id=sid, user_id=uid))
    u = describe_user(c, sid, uid)
    assert u.email_verified is True and u.emails[0].verification_status == "VERIFIED"
    expect_error(lambda: c.verify_email(VerifyEmailRequest(identity_store_id=sid, user_id=uid)),
                 409, "IIC.1007", "already verified")


# --- groups and memberships ------------------------------------------------------------------

def test_groups_crud(env):
    _, c, sid = env
    g = create_group(c, sid, "Platform Team", "runs the platform")
    assert ID.match(g.group_id) and g.identity_store_id == sid
    expect_error(lambda: create_group(c, sid, "platform team"), 409, "IIC.1007")
    expect_error(lambda: create_group(c, sid, ""), 400, "IIC.400", "display_name")
    d = c.describe_group(DescribeGroupRequest(identity_store_id=sid, group_id=g.group_id))
    assert (d.display_name, d.description) == ("Platform Team", "runs the platform")
    h = create_group(c, sid, "Platform Ops")
    create_group(c, sid, "Security")
    listed = c.list_groups(ListGroupsRequest(identity_store_id=sid, display_name="platform"))
    assert [x.display_name for x in listed.groups] == ["Platform Team", "Platform Ops"]
    batch = c.describe_groups(DescribeGroupsRequest(identity_store_id=sid,
                                                    body=DescribeGroupsRequestBody(
                                                        group_ids=[h.group_id, g.group_id])))
    assert [x.group_id for x in batch.groups] == [h.group_id, g.group_id]
    found = c.get_group_id(GetGroupIdRequest(identity_store_id=sid, body=GetGroupIdReqBody(
        alternate_identifier=AlternateIdentifierDto(unique_attribute=UniqueAttributeDto(
            attribute_path="display_name", attribute_value="SECURITY")))))
    assert found.identity_store_id == sid and ID.match(found.group_id)
    c.update_group(UpdateGroupRequest(identity_store_id=sid, group_id=g.group_id,
                                      body=UpdateGroupReqBody(operations=[AttributeOperationDto(
                                          attribute_path="description", attribute_value="new")])))
    assert c.describe_group(DescribeGroupRequest(identity_store_id=sid,
                                                 group_id=g.group_id)).description == "new"
    expect_error(lambda: c.update_group(UpdateGroupRequest(
        identity_store_id=sid, group_id=g.group_id, body=UpdateGroupReqBody(operations=[
            AttributeOperationDto(attribute_path="display_name", attribute_value="security")]))),
        409, "IIC.1007")
    c.delete_group(DeleteGroupRequest(identity_store_id=sid, group_id=h.group_id))
    expect_error(lambda: c.describe_group(DescribeGroupRequest(identity_store_id=sid,
                                                               group_id=h.group_id)),
                 404, "IIC.404")
    expect_error(lambda: c.delete_group(DeleteGroupRequest(identity_store_id=sid,
                                                           group_id=h.group_id)), 404, "IIC.404")


def test_memberships_and_cascade(env):
    _, c, sid = env
    uid = create_user(c, sid, "member.user").user_id
    g1 = create_group(c, sid, "Members One").group_id
    g2 = create_group(c, sid, "Members Two").group_id
    g3 = create_group(c, sid, "Members Three").group_id

    def join(gid, user=uid):
        return c.create_group_membership(CreateGroupMembershipRequest(
            identity_store_id=sid, body=CreateGroupMembershipReqBody(
                group_id=gid, member_id=MemberIdDto(user_id=user))))
    m1 = join(g1)
    assert ID.match(m1.membership_id) and m1.identity_store_id == sid
    join(g2)
    expect_error(lambda: join(g1), 409, "IIC.1007", "already a member")
    ghost = sid[2:] + "-00000000-0000-4000-8000-0000000000ff"
    expect_error(lambda: join(g1, ghost), 404, "IIC.404", ghost)
    expect_error(lambda: join(ghost), 404, "IIC.404", ghost)
    expect_error(lambda: join("not-an-id"), 400, "IIC.400", "group_id")

    d = c.describe_group_membership(DescribeGroupMembershipRequest(
        identity_store_id=sid, membership_id=m1.membership_id))
    assert (d.group_id, d.member_id.user_id) == (g1, uid)
    got = c.get_group_membership_id(GetGroupMembershipIdRequest(
        identity_store_id=sid, body=GetGroupMembershipIdReqBody(group_id=g1,
                                                               member_id=MemberIdDto(user_id=uid))))
    assert got.membership_id == m1.membership_id
    of_group = c.list_group_memberships(ListGroupMembershipsRequest(identity_store_id=sid,
                                                                    group_id=g1))
    assert [m.member_id.user_id for m in of_group.group_memberships] == [uid]
    of_user = c.list_group_memberships_for_member(ListGroupMembershipsForMemberRequest(
        identity_store_id=sid, user_id=uid, limit=1))
    assert len(of_user.group_memberships) == 1 and of_user.page_info.next_marker
    rest = c.list_group_memberships_for_member(ListGroupMembershipsForMemberRequest(
        identity_store_id=sid, user_id=uid, marker=of_user.page_info.next_marker))
    assert {m.group_id for m in of_user.group_memberships + rest.group_memberships} == {g1, g2}
    assert rest.page_info.next_marker is None
    res = c.is_member_in_groups(IsMemberInGroupsRequest(identity_store_id=sid,
                                                        body=IsMemberInGroupsReqBody(
                                                            group_ids=[g1, g3, g2],
                                                            member_id=MemberIdDto(user_id=uid))))
    assert [(r.group_id, r.membership_exists) for r in res.results] == \
        [(g1, True), (g3, False), (g2, True)]

    c.delete_group_membership(DeleteGroupMembershipRequest(identity_store_id=sid,
                                                           membership_id=m1.membership_id))
    expect_error(lambda: c.delete_group_membership(DeleteGroupMembershipRequest(
        identity_store_id=sid, membership_id=m1.membership_id)), 404, "IIC.404")
    # Deleting the user removes its remaining memberships in the same transaction.
    c.delete_user(DeleteUserRequest(identity_store_id=sid, user_id=uid))
    assert c.list_group_memberships(ListGroupMembershipsRequest(
        identity_store_id=sid, group_id=g2)).group_memberships == []


def test_a_user_belongs_to_at_most_1000_groups():
    server = new_server()
    try:
        sid = started_store_id(server)
        c = identity_store(server)
        uid = create_user(c, sid, "joiner").user_id
        for i in range(1001):
            gid = create_group(c, sid, f"g{i:04d}").group_id
            req = CreateGroupMembershipRequest(identity_store_id=sid, body=
                                               CreateGroupMembershipReqBody(
                                                   group_id=gid, member_id=MemberIdDto(user_id=uid)))
            if i < 1000:
                c.create_group_membership(req)
            else:
                expect_error(lambda: c.create_group_membership(req), 400, "IIC.400", "1000")
        summary = c.get_identity_store_summary(GetIdentityStoreSummaryRequest(identity_store_id=sid))
        assert (summary.users, summary.groups) == (1, 1001)
    finally:
        server.close()


# --- password policy and summary ------------------------------------------------------------

def test_password_policy_describe_update_and_bounds(env):
    _, c, sid = env
    p = c.describe_password_policy(DescribePasswordPolicyRequest(identity_store_id=sid)).password_policy
    assert p.minimum_password_length == 8 and p.password_reuse_prevention == 1
    c.update_password_policy(UpdatePasswordPolicyRequest(identity_store_id=sid, body=
                                                         UpdatePasswordPolicyReqBody(
                                                             password_policy=PasswordPolicyDto(
                                                                 minimum_password_length=24,
                                                                 require_symbols=False))))
    p = c.describe_password_policy(DescribePasswordPolicyRequest(identity_store_id=sid)).password_policy
    assert (p.minimum_password_length, p.require_symbols, p.require_numbers) == (24, False, True)
    pw = create_user(c, sid, "policy.user", "OTP").password
    assert len(pw) >= 24
    assert re.search(r"[a-z]", pw) and re.search(r"[A-Z]", pw) and re.search(r"[0-9]", pw)
    for bad, field in [(PasswordPolicyDto(minimum_password_length=7), "minimum_password_length"),
                       (PasswordPolicyDto(minimum_password_length=129), "minimum_password_length"),
                       (PasswordPolicyDto(max_password_age=1096), "max_password_age"),
                       (PasswordPolicyDto(password_reuse_prevention=2), "password_reuse_prevention")]:
        expect_error(lambda: c.update_password_policy(UpdatePasswordPolicyRequest(
            identity_store_id=sid, body=UpdatePasswordPolicyReqBody(password_policy=bad))),
            400, "IIC.400", field)
    c.update_password_policy(UpdatePasswordPolicyRequest(identity_store_id=sid, body=
                                                         UpdatePasswordPolicyReqBody(
                                                             password_policy=PasswordPolicyDto(
                                                                 minimum_password_length=8,
                                                                 require_symbols=True))))


def test_summary_counts_live_and_reports_quotas(env):
    _, c, sid = env
    before = c.get_identity_store_summary(GetIdentityStoreSummaryRequest(identity_store_id=sid))
    assert before.users_quota == 100000 and before.groups_quota == 100000
    uid = create_user(c, sid, "summary.user").user_id
    create_group(c, sid, "Summary Group")
    after = c.get_identity_store_summary(GetIdentityStoreSummaryRequest(identity_store_id=sid))
    assert (after.users, after.groups) == (before.users + 1, before.groups + 1)
    c.delete_user(DeleteUserRequest(identity_store_id=sid, user_id=uid))
    again = c.get_identity_store_summary(GetIdentityStoreSummaryRequest(identity_store_id=sid))
    assert again.users == before.users


def test_quota_is_enforced_and_configurable():
    server = new_server(env={"IIC_USERS_QUOTA": "2", "IIC_GROUPS_QUOTA": "1"})
    try:
        sid = started_store_id(server)
        c = identity_store(server)
        create_user(c, sid, "q.one")
        create_user(c, sid, "q.two")
        expect_error(lambda: create_user(c, sid, "q.three"), 409, "IIC.1007", "quota")
        create_group(c, sid, "only")
        expect_error(lambda: create_group(c, sid, "second"), 409, "IIC.1007", "quota")
        s = c.get_identity_store_summary(GetIdentityStoreSummaryRequest(identity_store_id=sid))
        assert (s.users, s.users_quota, s.groups, s.groups_quota) == (2, 2, 1, 1)
    finally:
        server.close()
