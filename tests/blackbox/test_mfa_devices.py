"""The identity store's MFA device API and the instance's device management setting through the
official SDKs: enrolment links, the empty list, renames and deletions of unknown devices, bounds.
Devices themselves are registered in the browser: test_mfa_sign_in.py."""

import pytest
from huaweicloudsdkidentitycenter.v1 import (
    GetMfaDeviceManagementForIdentityStoreRequest, ListInstancesRequest,
    PutMfaDeviceManagementForDirectoryReqBody, PutMfaDeviceManagementForIdentityStoreRequest)
from huaweicloudsdkidentitycenterstore.v1 import (
    BatchListMfaDevicesForUserReqBody, BatchListMfaDevicesForUserRequest, CreateUserReqBody,
    CreateUserRequest, DeleteMfaDeviceForUserRequest, EmailDto, NameDto,
    RegisterMfaDeviceForUserRequest, RetrieveMfaDevicesForUserDto, UpdateMfaDeviceForUserReqBody,
    UpdateMfaDeviceForUserRequest)

from iic_harness import expect_error, new_server
from sdk_clients import identity_center, identity_store, started_store_id

GHOST = "0000000000-00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def env():
    server = new_server()
    sid = started_store_id(server)
    ic = identity_center(server)
    instance_id = ic.list_instances(ListInstancesRequest()).instances[0].instance_id
    store = identity_store(server)
    uid = store.create_user(CreateUserRequest(identity_store_id=sid, body=CreateUserReqBody(
        user_name="mfa-user", display_name="MFA user", password_mode="OTP",
        name=NameDto(family_name="Doe", given_name="Mfa"),
        emails=[EmailDto(value="mfa@example.com", type="work", primary=True)]))).user_id
    yield server, ic, store, instance_id, sid, uid
    server.close()


def list_devices(store, sid, *uids):
    return store.batch_list_mfa_devices_for_user(BatchListMfaDevicesForUserRequest(
        identity_store_id=sid, body=BatchListMfaDevicesForUserReqBody(user_list=[
            RetrieveMfaDevicesForUserDto(identity_store_id=sid, user_id=u) for u in uids])))


def test_register_returns_a_one_time_link_to_the_enrolment_page(env):
    server, _, store, _, sid, uid = env
    first = store.register_mfa_device_for_user(
        RegisterMfaDeviceForUserRequest(identity_store_id=sid, user_id=uid))
    second = store.register_mfa_device_for_user(
        RegisterMfaDeviceForUserRequest(identity_store_id=sid, user_id=uid))
    assert (first.identity_store_id, first.user_id) == (sid, uid)
    assert first.redirect_url.endswith(f"/{sid}/portal/mfa/enroll"), first.redirect_url
    assert len(first.work_flow) >= 32 and first.work_flow != second.work_flow
    expect_error(lambda: store.register_mfa_device_for_user(
        RegisterMfaDeviceForUserRequest(identity_store_id=sid, user_id=GHOST)), 404, "IIC.404", GHOST)


def test_a_user_without_devices_lists_none(env):
    _, _, store, _, sid, uid = env
    entries = list_devices(store, sid, uid).user_mfa_devices_entry_list
    assert len(entries) == 1
    assert entries[0].mfa_devices == []
    assert (entries[0].user.identity_store_id, entries[0].user.user_id) == (sid, uid)


def test_listing_refuses_unknown_users_and_bad_lists(env):
    _, _, store, _, sid, uid = env
    expect_error(lambda: list_devices(store, sid, uid, GHOST), 404, "IIC.404", GHOST)
    expect_error(lambda: list_devices(store, sid), 400, "IIC.400", "user_list")
    expect_error(lambda: store.batch_list_mfa_devices_for_user(BatchListMfaDevicesForUserRequest(
        identity_store_id=sid, body=BatchListMfaDevicesForUserReqBody(user_list=[
            RetrieveMfaDevicesForUserDto(identity_store_id="d-0000000000", user_id=uid)]))),
        400, "IIC.400", "user_list.identity_store_id")


def test_renaming_and_deleting_unknown_devices_are_refused(env):
    _, _, store, _, sid, uid = env

    def rename(user_id, device_id, name):
        return store.update_mfa_device_for_user(UpdateMfaDeviceForUserRequest(
            identity_store_id=sid, user_id=user_id, device_id=device_id,
            body=UpdateMfaDeviceForUserReqBody(display_name=name)))

    expect_error(lambda: rename(uid, "no-such-device", "phone"), 404, "IIC.404", "no-such-device")
    expect_error(lambda: rename(GHOST, "no-such-device", "phone"), 404, "IIC.404", GHOST)
    expect_error(lambda: rename(uid, "no-such-device", "x" * 1025), 400, "IIC.400", "display_name")
    expect_error(lambda: rename(uid, "no-such-device", ""), 400, "IIC.400", "display_name")
    expect_error(lambda: store.delete_mfa_device_for_user(DeleteMfaDeviceForUserRequest(
        identity_store_id=sid, user_id=uid, device_id="no-such-device")), 404, "IIC.404", "no-such-device")


def test_device_management_defaults_to_all_actions_and_round_trips(env):
    _, ic, _, instance_id, sid, _ = env

    def get():
        return ic.get_mfa_device_management_for_identity_store(
            GetMfaDeviceManagementForIdentityStoreRequest(instance_id=instance_id))

    def put(permission, store_id=sid, instance=instance_id):
        return ic.put_mfa_device_management_for_identity_store(
            PutMfaDeviceManagementForIdentityStoreRequest(
                instance_id=instance, body=PutMfaDeviceManagementForDirectoryReqBody(
                    identity_store_id=store_id, user_permission=permission)))

    assert (get().identity_store_id, get().user_permission) == (sid, "ALL_ACTIONS")
    put("READ_ACTIONS")
    assert get().user_permission == "READ_ACTIONS"
    put("ALL_ACTIONS")
    assert get().user_permission == "ALL_ACTIONS"
    expect_error(lambda: put("SOME_ACTIONS"), 400, "IIC.400", "user_permission")
    expect_error(lambda: put("READ_ACTIONS", store_id="d-0000000000"), 400, "IIC.400",
                 "identity_store_id")
    expect_error(lambda: put("READ_ACTIONS", instance="ins-0000000000000000"), 404, "IIC.404",
                 "ins-0000000000000000")
