"""Account creations survive a SIGKILL of the server: after a restart every one of them reaches
`succeeded`, none twice. Runs on SQLite, and on PostgreSQL when IIC_TEST_POSTGRES_URL is set."""

import os
import signal
import time
import uuid

import pytest
from huaweicloudsdkorganizations.v1 import (
    CreateAccountReqBody, CreateAccountRequest, ListAccountsRequest,
    ListCreateAccountStatusesRequest)

from iic_harness import new_server
from sdk_clients import organizations

PG_URL = os.environ.get("IIC_TEST_POSTGRES_URL")


def backends():
    yield pytest.param(None, id="sqlite")
    yield pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(
        not PG_URL, reason="IIC_TEST_POSTGRES_URL not set"))


@pytest.fixture(params=list(backends()))
def crash_env(request):
    env = {"IIC_ACCOUNT_CREATION_DELAY_MS": "1500"}
    schema = None
    if request.param == "postgres":
        schema = "iic_bb_" + uuid.uuid4().hex[:12]
        env.update({"IIC_DATABASE_URL": PG_URL, "IIC_DATABASE_SCHEMA": schema})
    server = new_server(env)
    yield server
    server.close()
    if schema:
        import psycopg
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_account_creations_finish_after_sigkill(crash_env):
    server = crash_env
    c = organizations(server)
    names = [f"crash-{i:02d}" for i in range(20)]
    ids = {}
    for n in names:
        st = c.create_account(CreateAccountRequest(body=CreateAccountReqBody(name=n))).create_account_status
        assert st.state == "in_progress"
        ids[st.id] = n
    server.stop(signal.SIGKILL)
    assert server.proc.returncode == -signal.SIGKILL
    server.start()
    c = organizations(server)
    deadline = time.time() + 30
    while time.time() < deadline:
        statuses = c.list_create_account_statuses(
            ListCreateAccountStatusesRequest()).create_account_statuses
        mine = {s.id: s.state for s in statuses if s.id in ids}
        if len(mine) == len(ids) and all(v == "succeeded" for v in mine.values()):
            break
        time.sleep(0.2)
    assert mine == {i: "succeeded" for i in ids}, mine
    accounts = [a.name for a in c.list_accounts(ListAccountsRequest()).accounts]
    for n in names:
        assert accounts.count(n) == 1, (n, accounts)


@pytest.fixture(params=list(backends()))
def assignment_crash_env(request):
    env = {"IIC_ASYNC_DELAY_MS": "1500"}
    schema = None
    if request.param == "postgres":
        schema = "iic_bb_" + uuid.uuid4().hex[:12]
        env.update({"IIC_DATABASE_URL": PG_URL, "IIC_DATABASE_SCHEMA": schema})
    server = new_server(env)
    yield server
    server.close()
    if schema:
        import psycopg
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_500_assignment_creations_finish_after_sigkill(assignment_crash_env):
    from huaweicloudsdkidentitycenter.v1 import (
        CreateAccountAssignmentReqBody, CreateAccountAssignmentRequest, CreatePermissionSetReqBody,
        CreatePermissionSetRequest, ListAccountAssignmentCreationStatusRequest,
        ListAccountAssignmentsRequest, ListInstancesRequest, StartIdentityCenterRequest)
    from huaweicloudsdkidentitycenterstore.v1 import (
        CreateUserReqBody, CreateUserRequest, EmailDto, NameDto)
    from huaweicloudsdkorganizations.v1 import ShowCreateAccountStatusRequest
    from sdk_clients import identity_center, identity_store

    server = assignment_crash_env
    ic = identity_center(server)
    ic.start_identity_center(StartIdentityCenterRequest())
    ins = ic.list_instances(ListInstancesRequest()).instances[0]
    org = organizations(server)
    accounts = []
    for i in range(5):
        st = org.create_account(CreateAccountRequest(body=CreateAccountReqBody(name=f"target-{i}"))).create_account_status
        for _ in range(200):
            s = org.show_create_account_status(ShowCreateAccountStatusRequest(
                create_account_status_id=st.id)).create_account_status
            if s.state == "succeeded":
                accounts.append(s.account_id)
                break
            time.sleep(0.05)
    assert len(accounts) == 5
    user = identity_store(server).create_user(CreateUserRequest(
        identity_store_id=ins.identity_store_id, body=CreateUserReqBody(
            user_name="crash.user", display_name="Crash", password_mode="EMAIL",
            name=NameDto(family_name="C", given_name="Crash"),
            emails=[EmailDto(value="crash@example.com", type="work", primary=True)]))).user_id
    sets = [ic.create_permission_set(CreatePermissionSetRequest(
        instance_id=ins.instance_id, body=CreatePermissionSetReqBody(name=f"Set{i:03d}")
    )).permission_set.permission_set_id for i in range(100)]
    requested = set()
    for ps in sets:
        for account in accounts:
            st = ic.create_account_assignment(CreateAccountAssignmentRequest(
                instance_id=ins.instance_id, body=CreateAccountAssignmentReqBody(
                    permission_set_id=ps, principal_id=user, principal_type="USER",
                    target_id=account, target_type="ACCOUNT"))).account_assignment_creation_status
            requested.add(st.request_id)
    assert len(requested) == 500
    server.stop(signal.SIGKILL)
    server.start()
    ic = identity_center(server)
    deadline = time.time() + 60
    while time.time() < deadline:
        pending = ic.list_account_assignment_creation_status(ListAccountAssignmentCreationStatusRequest(
            instance_id=ins.instance_id, status="IN_PROGRESS")).account_assignments_creation_status
        if not pending:
            break
        time.sleep(0.2)
    assert not pending
    done, marker = set(), None
    while True:
        r = ic.list_account_assignment_creation_status(ListAccountAssignmentCreationStatusRequest(
            instance_id=ins.instance_id, status="SUCCEEDED", marker=marker))
        done |= {s.request_id for s in r.account_assignments_creation_status}
        marker = r.page_info.next_marker
        if not marker:
            break
    assert requested <= done
    for account in accounts:
        seen, marker = [], None
        while True:
            r = ic.list_account_assignments(ListAccountAssignmentsRequest(
                instance_id=ins.instance_id, account_id=account, marker=marker))
            seen += [(a.permission_set_id, a.principal_id) for a in r.account_assignments]
            marker = r.page_info.next_marker
            if not marker:
                break
        assert len(seen) == len(set(seen)) == 100, account
