"""Hostile clients against a real server, while a well-behaved client keeps calling: stalled
request heads, stalled bodies (large declared lengths, and bodies one byte short), and thousands
of idle connections beyond the connection cap. Throughout, the server's resident memory stays
under 100 MB, `/healthz` answers within 100 ms on a health checker's keep-alive connection (and
on a new connection every time, admitted in a silent one's place), and every signed SDK call
succeeds."""

import http.client
import json
import resource
import selectors
import socket
import threading
import time

from huaweicloudsdkidentitycenter.v1 import (
    GetIdentityCenterServiceStatusRequest, ListInstancesRequest, StartIdentityCenterRequest)
from huaweicloudsdkidentitycenterstore.v1 import ListUsersRequest

from iic_harness import new_server, signed
from sdk_clients import identity_center, identity_store

HEADER_TIMEOUT_MS = 1500
BODY_IDLE_TIMEOUT_MS = 1500
MAX_CONNECTIONS = 512
IDLE_FLOOD = 3000
RSS_LIMIT_KB = 100 * 1024
HEALTHZ_LIMIT_S = 0.100
# A new connection opened while thousands of others arrive waits its turn in the kernel's accept
# queue behind them (about 60-110 ms here, on the debug build sharing two cores with the client);
# it must never wait for a dropped handshake's retry (one second) nor behind silent connections.
NEW_CONNECTION_LIMIT_S = 0.300
# Slack after a timeout for the server's sweep (every 250 ms) and a loaded machine.
SLACK_S = 2.5


def raise_file_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        assert target >= wanted, f"the hard file limit {hard} is below the {wanted} this test needs"
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return soft, hard


class Background:
    """The observers and the well-behaved client, each in its own thread until stopped."""

    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.errors = []
        self.healthz = []  # (at, seconds, kind)
        self.rss_kb = []
        self.sdk_calls = 0
        self.phase = "start"
        self.threads = [threading.Thread(target=t, daemon=True) for t in
                        (self.keepalive_healthz, self.fresh_healthz, self.rss, self.sdk_client)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)

    def record(self, what):
        self.errors.append(f"{time.strftime('%H:%M:%S')} {what}")

    def probe(self, conn, kind):
        t0 = time.perf_counter()
        if conn.sock is None:
            conn.connect()
        connected = time.perf_counter() - t0
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        r.read()
        took = time.perf_counter() - t0
        self.healthz.append((time.time(), took, kind))
        if r.status != 200:
            self.record(f"{kind} /healthz answered {r.status}")
        if took > (HEALTHZ_LIMIT_S if kind == "keep-alive" else NEW_CONNECTION_LIMIT_S):
            self.record(f"{kind} /healthz took {took * 1000:.0f} ms "
                        f"({connected * 1000:.0f} ms to connect) during {self.phase}")

    def keepalive_healthz(self):
        """One keep-alive connection, as a load balancer's health check keeps."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        while not self.stop.wait(0.02):
            try:
                self.probe(conn, "keep-alive")
            except (OSError, http.client.HTTPException) as e:
                self.record(f"keep-alive /healthz failed: {e!r}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        conn.close()

    def fresh_healthz(self):
        """A new connection each time: at the cap it must be admitted in a silent one's place."""
        while not self.stop.wait(0.05):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
            try:
                self.probe(conn, "new-connection")
            except (OSError, http.client.HTTPException) as e:
                self.record(f"new-connection /healthz failed: {e!r}")
            finally:
                conn.close()

    def rss(self):
        path = f"/proc/{self.server.proc.pid}/status"
        while not self.stop.wait(0.05):
            try:
                with open(path) as f:
                    line = next(x for x in f if x.startswith("VmRSS:"))
            except (OSError, StopIteration):
                self.record("the server process is gone")
                return
            kb = int(line.split()[1])
            self.rss_kb.append(kb)
            if kb > RSS_LIMIT_KB:
                self.record(f"server RSS {kb} kB")

    def sdk_client(self):
        ic, st = identity_center(self.server), identity_store(self.server)
        sid = ic.list_instances(ListInstancesRequest()).instances[0].identity_store_id
        calls = (lambda: ic.get_identity_center_service_status(
                     GetIdentityCenterServiceStatusRequest()),
                 lambda: ic.list_instances(ListInstancesRequest(limit=10)),
                 lambda: st.list_users(ListUsersRequest(identity_store_id=sid, limit=5)))
        i = 0
        while not self.stop.wait(0.01):
            try:
                calls[i % len(calls)]()
                self.sdk_calls += 1
            except Exception as e:  # noqa: BLE001 - every failure is the finding
                self.record(f"signed SDK call failed: {e!r}")
            i += 1


def read_response(sock, timeout):
    """Reads one HTTP response (head and Content-Length body), or what came before `timeout`
    or the peer closing."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if len(body) >= length:
                    return data
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        return data


def status_of(answer):
    line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = line.split(" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def envelope_of(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"x-request-id:" in head.lower(), answer[:500]
    env = json.loads(body)
    assert {"error_code", "error_msg", "request_id"} <= set(env), env
    return env


def wait_all_closed(socks, deadline):
    """Waits until the server has closed every socket; returns {socket: bytes it sent first}."""
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    open_ = set(socks)
    while open_ and time.time() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except BlockingIOError:
                continue
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if chunk:
                got[s] += chunk
            else:
                sel.unregister(s)
                open_.discard(s)
    sel.close()
    return got, open_


def head_bytes(method, url, headers, length):
    path = url.split("/", 3)[3]
    head = f"{method} /{path} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "content-length")
    return (head + f"Content-Length: {length}\r\n\r\n").encode()


def test_hostile_clients_do_not_starve_a_well_behaved_one():
    started = time.time()
    raise_file_limit(IDLE_FLOOD + 1500)
    server = new_server({
        "IIC_HEADER_TIMEOUT_MS": str(HEADER_TIMEOUT_MS),
        "IIC_BODY_IDLE_TIMEOUT_MS": str(BODY_IDLE_TIMEOUT_MS),
        "IIC_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    })
    opened = []
    try:
        ic = identity_center(server)
        ic.start_identity_center(StartIdentityCenterRequest())
        sid = ic.list_instances(ListInstancesRequest()).instances[0].identity_store_id
        addr = ("127.0.0.1", server.port)
        with Background(server) as bg:
            time.sleep(0.3)

            bg.phase = "stalled heads"
            # (a) Stalled heads: a partial request head, then silence. Closed after the header
            # timeout (a 408 envelope first is allowed).
            stalled = []
            for i in range(200):
                s = socket.create_connection(addr, timeout=5)
                s.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stall: {i}\r\n".encode())
                stalled.append(s)
            opened += stalled
            t0 = time.time()
            got, still_open = wait_all_closed(stalled, t0 + HEADER_TIMEOUT_MS / 1000 + SLACK_S)
            assert not still_open, f"{len(still_open)} stalled heads still open"
            assert time.time() - t0 >= HEADER_TIMEOUT_MS / 1000 - 0.3, "closed before the timeout"
            for answer in got.values():
                if answer:
                    assert status_of(answer) == 408, answer[:300]
                    envelope_of(answer)

            bg.phase = "large declared lengths"
            # (b1) Declared lengths far above the operation's limit: refused before a byte of
            # the body is read — 401 unsigned, 413 signed.
            big = 12_000_000
            post_path = "/v1/register-regions"
            for signed_request in (False, True):
                socks = []
                for _ in range(25):
                    if signed_request:
                        url, headers, _ = signed(server, "POST", post_path, body={})
                    else:
                        url = server.url + post_path
                        headers = {"Host": f"127.0.0.1:{server.port}",
                                   "Content-Type": "application/json"}
                    s = socket.create_connection(addr, timeout=5)
                    s.sendall(head_bytes("POST", url, headers, big) + b"{")
                    socks.append(s)
                opened += socks
                want = 413 if signed_request else 401
                for s in socks:
                    t1 = time.time()
                    answer = read_response(s, 3)
                    assert status_of(answer) == want, answer[:300]
                    assert time.time() - t1 < 2, "answered without waiting for the body"
                    envelope_of(answer)

            bg.phase = "stalled bodies"
            # (b2) Bodies within the limit stalled one byte short: 408 after the idle timeout,
            # the partial bodies held in memory meanwhile.
            user_path = f"/v1/identity-stores/{sid}/users/00000000000000000000000000000000"
            socks = []
            for _ in range(50):
                filler = "x" * 240_000
                body = {"operations": [{"attribute_path": "title", "attribute_value": filler}]}
                url, headers, raw = signed(server, "PUT", user_path, body=body,
                                           identity="project")
                s = socket.create_connection(addr, timeout=5)
                s.sendall(head_bytes("PUT", url, headers, len(raw)) + raw[:-1])
                socks.append(s)
            opened += socks
            t0 = time.time()
            got, still_open = wait_all_closed(socks, t0 + BODY_IDLE_TIMEOUT_MS / 1000 + SLACK_S)
            for s, answer in got.items():
                assert status_of(answer) == 408, answer[:300]
                assert envelope_of(answer)["error_code"], answer[:300]
            assert not still_open, f"{len(still_open)} stalled bodies still open"

            bg.phase = "idle flood"
            # (c) Thousands of idle connections beyond the cap: the longest silent make room.
            flood = []
            for _ in range(IDLE_FLOOD):
                s = socket.socket()
                s.settimeout(5)
                s.connect(addr)
                flood.append(s)
            opened += flood
            bg.phase = "idle flood held"
            time.sleep(2.0)
            sdk_before = bg.sdk_calls
            time.sleep(1.0)
            assert bg.sdk_calls > sdk_before, "the well-behaved client made no progress"
        for s in opened:
            s.close()
        opened = []

        log = server.log(tail=None)
        assert "connection limit reached" in log, log[-3000:]
        probes = [h for h in bg.healthz]
        kinds = {k for _, _, k in probes}
        assert kinds == {"keep-alive", "new-connection"}, kinds
        worst = {k: max(t for _, t, kind in probes if kind == k) * 1000 for k in kinds}
        summary = (f"{len(probes)} /healthz probes (worst: keep-alive "
                   f"{worst['keep-alive']:.1f} ms, new connection {worst['new-connection']:.1f} ms), "
                   f"{bg.sdk_calls} signed SDK calls, RSS max {max(bg.rss_kb)} kB, "
                   f"{time.time() - started:.1f}s")
        print(summary)
        assert not bg.errors, f"{len(bg.errors)} problems ({summary}):\n" + "\n".join(bg.errors[:50])
        assert bg.sdk_calls >= 50, summary
        assert max(bg.rss_kb) < RSS_LIMIT_KB, summary
        assert server.proc.poll() is None, "the server is still running"
    finally:
        for s in opened:
            s.close()
        server.close()
    assert time.time() - started < 60, "bounded in time"
