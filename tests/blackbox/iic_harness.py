"""Starts the real `iic` binary on a free port with its own data directory, and signs raw requests
with the official SDK's own signer for the cases the SDK clients cannot produce (tampering)."""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def iic_binary():
    path = os.environ.get("IIC_BIN") or os.path.join(ROOT, "target", "release", "iic")
    if not os.path.exists(path):
        raise RuntimeError(f"iic binary not found at {path}; build it with cargo build --release")
    return path


def free_port():
    # Fixed range below the ephemeral ports, as CALIBRATION.md advises.
    for port in range(20000 + os.getpid() % 5000, 32000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


@dataclass
class Server:
    data_dir: str
    env: dict
    port: int = 0
    proc: subprocess.Popen = None
    log_path: str = ""
    creds: dict = field(default_factory=dict)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30):
        if not self.port:
            self.port = free_port()
        env = dict(os.environ)
        env.update(self.env)
        env["IIC_LISTEN"] = f"127.0.0.1:{self.port}"
        env["IIC_DATA_DIR"] = self.data_dir
        self.log_path = os.path.join(self.data_dir, "server.log")
        os.makedirs(self.data_dir, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([iic_binary(), "serve"], env=env, stdout=log, stderr=log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"iic exited early:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError(f"iic did not become healthy:\n{self.log()}")
        with open(os.path.join(self.data_dir, "bootstrap-credentials.json")) as f:
            self.creds = json.load(f)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def close(self):
        """Stops the server for good and drops its PostgreSQL schema, if it has one."""
        self.stop()
        drop_schema(self)

    def restart(self):
        self.stop()
        return self.start()

    def log(self, tail=5000):
        """The server's output: its last `tail` characters, or all of it with tail=None."""
        try:
            with open(self.log_path, errors="replace") as f:
                text = f.read()
                return text if tail is None else text[-tail:]
        except OSError:
            return ""


def new_server(env=None):
    """A fresh server. With IIC_BLACKBOX_BACKEND=postgres (and IIC_TEST_POSTGRES_URL) it keeps its
    data in a PostgreSQL schema of its own, dropped when the server stops."""
    env = dict(env or {})
    if os.environ.get("IIC_BLACKBOX_BACKEND") == "postgres" and "IIC_DATABASE_URL" not in env:
        url = os.environ["IIC_TEST_POSTGRES_URL"]
        env["IIC_DATABASE_URL"] = url
        env["IIC_DATABASE_SCHEMA"] = "iic_bb_" + uuid.uuid4().hex[:12]
    server = Server(data_dir=tempfile.mkdtemp(prefix="iic-blackbox-"), env=env)
    try:
        return server.start()
    except Exception:
        server.stop()
        drop_schema(server)
        raise


def drop_schema(server):
    schema = server.env.get("IIC_DATABASE_SCHEMA")
    if schema and server.env.get("IIC_DATABASE_URL", "").startswith("postgres"):
        import psycopg
        with psycopg.connect(server.env["IIC_DATABASE_URL"], autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def sdk_date(offset_seconds=0):
    t = datetime.fromtimestamp(time.time() + offset_seconds, tz=timezone.utc)
    return t.strftime("%Y%m%dT%H%M%SZ")


def signed(server, method, path, query=None, body=None, headers=None, ak=None, sk=None,
           date=None, identity="domain", raw=None):
    """Builds a request signed by the SDK's own Signer; returns (url, headers, body bytes).
    `body` is JSON-encoded as the SDK does; `raw` sends bytes as they are (malformed JSON)."""
    ak = ak or server.creds["access_key"]
    sk = sk or server.creds["secret_key"]
    hdrs = {"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0"}
    if identity == "domain":
        hdrs["X-Domain-Id"] = server.creds["account_id"]
    elif identity == "project":
        hdrs["X-Project-Id"] = server.creds["project_id"]
    hdrs["X-Sdk-Date"] = date or sdk_date()
    hdrs.update(headers or {})
    if raw is None and body is not None:
        raw = json.dumps(body).encode()
    req = SdkRequest(method=method, schema="http", host=f"127.0.0.1:{server.port}",
                     resource_path=path, uri=path, query_params=list((query or {}).items()),
                     header_params=hdrs, body=raw)
    creds = GlobalCredentials(ak, sk) if identity != "project" else BasicCredentials(ak, sk)
    Signer(creds).sign(req)
    return server.url + req.uri, dict(req.header_params), raw


def send(method, url, headers, body):
    return requests.request(method, url, headers=headers, data=body, timeout=10)


def iic_cli(server, *args):
    """Runs an operator command of the binary against the server's data directory."""
    env = dict(os.environ)
    env.update(server.env)
    env["IIC_DATA_DIR"] = server.data_dir
    out = subprocess.run([iic_binary(), *args], env=env, capture_output=True, text=True,
                         timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"iic {' '.join(args)} failed: {out.stderr}")
    return json.loads(out.stdout)


def stored_bytes(server, tables):
    """Everything the server stored in `tables`, as bytes: to check what is (not) kept in clear."""
    url = server.env.get("IIC_DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg
        schema = server.env["IIC_DATABASE_SCHEMA"]
        out = b""
        with psycopg.connect(url, autocommit=True) as conn:
            for t in tables:
                for row in conn.execute(f"SELECT t::text FROM {schema}.{t} t"):
                    out += row[0].encode()
        return out
    out = b""
    for name in ("iic.db", "iic.db-wal"):
        path = os.path.join(server.data_dir, name)
        if os.path.exists(path):
            out += open(path, "rb").read()
    return out


HEX32 = re.compile(r"^[0-9a-f]{32}$")


def expect_error(fn, status_code, code, *fragments):
    """Calls `fn` through the SDK and expects it refused: the status, the IIC code, a request id,
    and each fragment in the message."""
    with pytest.raises(ClientRequestException) as info:
        fn()
    e = info.value
    assert e.status_code == status_code, (e.status_code, e.error_code, e.error_msg)
    assert e.error_code == code, (e.error_code, e.error_msg)
    assert HEX32.match(e.request_id or ""), e.request_id
    for fragment in fragments:
        assert fragment in e.error_msg, (fragment, e.error_msg)
    return e
