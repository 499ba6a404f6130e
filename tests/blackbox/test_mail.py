"""Mail: the SMTP settings and the relay, against a local SMTP sink (aiosmtpd)."""

import os
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller

from iic_harness import free_port, iic_binary, new_server
from mail_sink import Sink, smtp_env, start_sink, wait_for_log


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


def queue_directly(server, message_id):
    """Puts a mail in the outbox as the server's own code would, until an API queues one."""
    sql = ("INSERT INTO {t} (message_id, recipient, subject, body, state, attempts, send_after,"
           " created_at) VALUES (%s, 'bob@example.test', 'hello', 'body', 'pending', 0, 0, 0)")
    url = server.env.get("IIC_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.format(t=server.env["IIC_DATABASE_SCHEMA"] + ".outbox"),
                         (message_id,))
        return
    import sqlite3
    conn = sqlite3.connect(os.path.join(server.data_dir, "iic.db"), timeout=10)
    with conn:
        conn.execute(sql.format(t="outbox").replace("%s", "?"), (message_id,))
    conn.close()


def test_a_queued_mail_survives_a_killed_server_and_keeps_its_message_id():
    import signal
    import socket
    # Bound but not listening: connections to it are refused, and nothing else takes the port.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    server = new_server(smtp_env(port))
    try:
        queue_directly(server, "outbox-crash-1@iic")
        wait_for_log(server, "mail not delivered yet")
        server.stop(signal.SIGKILL)
        holder.close()
        handler = Sink()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            server.start()
            deadline = time.time() + 45
            while not handler.messages and time.time() < deadline:
                time.sleep(0.2)
            assert [m["Message-ID"] for m in handler.messages] == ["<outbox-crash-1@iic>"]
            time.sleep(2)
            assert len(handler.messages) == 1
        finally:
            controller.stop()
    finally:
        holder.close()
        server.close()
