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
    server.stop()
    if schema:
        import psycopg
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


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
