"""Mail: the SMTP settings and the relay, against a local SMTP sink (aiosmtpd); bodies sealed in
the outbox until sent. Delivery across a killed server: test_mail_flows.py."""

import os
import re
import subprocess
import time

import pytest

from huaweicloudsdkidentitycenterstore.v1 import (
    CreateUserReqBody, CreateUserRequest, EmailDto, NameDto)

from iic_harness import free_port, iic_binary, new_server
from mail_sink import smtp_env, start_sink, wait_for_log
from sdk_clients import identity_store, started_store_id


@pytest.fixture
def sink():
    controller, handler = start_sink(free_port())
    yield controller, handler
    controller.stop()


def run_iic(env, *args):
    full = dict(os.environ)
    full.update(env)
    return subprocess.run([iic_binary(), *args], env=full, capture_output=True, text=True,
                          timeout=60)


def test_without_a_relay_the_log_says_mail_is_not_sent():
    server = new_server()
    try:
        wait_for_log(server, "mail is not sent")
    finally:
        server.close()


def test_with_a_relay_the_server_says_which(sink):
    controller, _ = sink
    server = new_server(smtp_env(controller.port))
    try:
        log = wait_for_log(server, "mail goes through this SMTP relay")
        assert "mail is not sent" not in log
    finally:
        server.close()


def test_send_test_mail_reaches_the_relay_with_its_message_id(sink, tmp_path):
    controller, handler = sink
    env = dict(smtp_env(controller.port), IIC_DATA_DIR=str(tmp_path))
    out = run_iic(env, "send-test-mail", "alice@example.test")
    assert out.returncode == 0, out.stderr
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "alice@example.test"
    assert message["From"] == "iic@example.test"
    assert message["Message-ID"] in out.stdout


def test_an_unreachable_relay_and_bad_settings_are_reported(tmp_path):
    env = dict(smtp_env(free_port()), IIC_DATA_DIR=str(tmp_path))
    out = run_iic(env, "send-test-mail", "alice@example.test")
    assert out.returncode == 1
    assert "not delivered" in out.stderr
    for name, value in [("IIC_SMTP_TLS", "ssl"), ("IIC_SMTP_PORT", "0"),
                        ("IIC_SMTP_PORT", "65536")]:
        out = run_iic(dict(env, **{name: value}), "send-test-mail", "alice@example.test")
        assert out.returncode == 1, (name, value)
        assert "smtp" in out.stderr, out.stderr
    password_only = dict(env, IIC_SMTP_PASSWORD="s3cret-relay-password")
    out = run_iic(password_only, "send-test-mail", "alice@example.test")
    assert out.returncode == 1
    assert "s3cret-relay-password" not in out.stderr


def database(server, sql, params=()):
    """Runs `sql` (with %s placeholders) on the server's own database; returns the rows."""
    url = server.env.get("IIC_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {server.env['IIC_DATABASE_SCHEMA']}")
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []
    import sqlite3
    conn = sqlite3.connect(os.path.join(server.data_dir, "iic.db"), timeout=10)
    try:
        with conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
    finally:
        conn.close()


def test_queued_bodies_are_sealed_at_rest_and_a_foreign_one_is_never_sent():
    import socket
    # Bound but not listening: the relay refuses connections, so mails stay queued.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    server = new_server(smtp_env(holder.getsockname()[1]))
    try:
        sid = started_store_id(server)
        identity_store(server).create_user(CreateUserRequest(
            identity_store_id=sid, body=CreateUserReqBody(
                user_name="sealed", display_name="Sealed", password_mode="EMAIL",
                name=NameDto(family_name="Doe", given_name="Sealed"),
                emails=[EmailDto(value="sealed@example.com", type="work", primary=True)])))
        wait_for_log(server, "mail not delivered yet")
        rows = database(server, "SELECT recipient, body, state FROM outbox")
        assert len(rows) == 1, rows
        recipient, body, state = rows[0]
        assert (recipient, state) == ("sealed@example.com", "pending")
        assert re.fullmatch(r"[0-9a-f]{200,}", body), f"a sealed body, not clear text: {body[:200]}"

        # A row this server did not seal (written by hand) is refused, never sent.
        database(server, "INSERT INTO outbox (message_id, recipient, subject, body, state,"
                 " attempts, send_after, created_at) VALUES"
                 " ('foreign-1@iic', 'bob@example.test', 'hello', 'plain body', 'pending', 0, 0, 0)")
        wait_for_log(server, "does not open with this server's key")
        state = database(server, "SELECT state, body FROM outbox WHERE message_id = 'foreign-1@iic'")
        assert state == [("refused", "")]
    finally:
        holder.close()
        server.close()
