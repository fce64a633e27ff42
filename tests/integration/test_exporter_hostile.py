#!/usr/bin/env python3
"""Hostile HTTP clients against the exporter (--listen), over raw sockets: garbage bytes, a
TLS ClientHello, a huge request line, a huge header, thousands of headers, a request that
stops half-way, thousands of idle connections from one address, a client that leaves while
its probe runs, pipelined requests, bad percent-encoding. Each gets an error answer or is
closed (on the 10 s idle timeout at the latest), and after each the exporter still answers
another client, on another source address, at once. Stdlib only; prints "N passed, M
failed"."""

import http.client
import os
import resource
import socket
import sys
import time

from harness import SOURCE, Exporter, HostileServer, Tally, wait_for
from promtext import one, parse_prom

STORE = os.path.join(SOURCE, "config", "combined.pem")
OTHER = "127.0.0.2"  # the well-behaved client's source address
PATIENCE = 60        # seconds for an idle connection to be closed (the timeout is 10 s)

t = Tally()


def fetch(x, path, source=OTHER, timeout=30):
    conn = http.client.HTTPConnection(x.host, x.port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def still_serving(x, after):
    try:
        status, body = fetch(x, "/metrics")
        ok = status == 200 and b"pgcertprobe_exporter_build_info" in body
    except OSError as e:
        ok, body = False, repr(e)
    t.check("after %s: another client is answered" % after, ok and x.proc.poll() is None,
            body[:200])
    return parse_prom(body.decode()) if ok else {}


def connect(x, source="127.0.0.1"):
    s = socket.create_connection((x.host, x.port), timeout=PATIENCE,
                                 source_address=(source, 0))
    return s


def reply_to(x, data, limit=1 << 20):
    """Sends data, then reads until the server closes or PATIENCE passes: (bytes, closed)."""
    with connect(x) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out, closed = b"", False
        deadline = time.monotonic() + PATIENCE
        while len(out) < limit and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            except socket.timeout:
                break
            if not chunk:
                closed = True
                break
            out += chunk
        return out, closed


def status_of(reply):
    line = reply.split(b"\r\n", 1)[0]
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") else None


def check_bad_requests(x):
    cases = [
        ("garbage bytes", b"\x00\xff\xfe garbage \x01\x02\r\n\r\n"),
        ("a TLS ClientHello", bytes.fromhex("16030100c4010000c00303") + os.urandom(180)),
        ("a request line of 100 KB", b"GET /probe?target=" + b"a" * 100000 +
         b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("a header of 100 KB", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " +
         b"b" * 100000 + b"\r\n\r\n"),
        ("5000 headers", b"GET /metrics HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n"),
        ("a bare LF request with NUL in the path", b"GET /pro\x00be HTTP/1.1\nHost: x\n\n"),
        ("an unknown HTTP version", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
    ]
    for name, data in cases:
        reply, closed = reply_to(x, data)
        code = status_of(reply)
        t.check("%s: an error answer, or closed" % name,
                (code is not None and 400 <= code < 600) or (closed and not reply) or
                (code is None and closed), (code, closed, reply[:200]))
        still_serving(x, name)


def start_half_request(x):
    """Half a request, then silence; the other checks run meanwhile."""
    s = connect(x)
    s.sendall(b"GET /probe?target=127.0.0.1:1 HTTP/1.1\r\nHost: x\r\nX-Half: ")
    still_serving(x, "half a request (while it stalls)")
    return s, time.monotonic()


def check_half_request(s, t0):
    """The stalled request is closed on the idle timeout."""
    with s:
        s.settimeout(max(1, t0 + PATIENCE - time.monotonic()))
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            data = None
    t.check("half a request, then silence: closed by the server within %d s" % PATIENCE,
            data is not None and (data == b"" or status_of(data) == 408),
            (data, time.monotonic() - t0))


def check_idle_crowd(x, n=2000):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    socks = []
    try:
        for _ in range(n):
            try:
                socks.append(connect(x))
            except OSError:
                break
        t.check("%d idle connections opened from one address" % n, len(socks) == n,
                len(socks))
        s = still_serving(x, "%d idle connections from one address" % len(socks))
        conns = one(s, "pgcertprobe_exporter_connections")
        t.check("one address holds at most half the connections (512), the rest are closed",
                isinstance(conns, float) and conns <= 513, conns)
        closed, deadline = 0, time.monotonic() + PATIENCE
        for c in socks:
            c.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                closed += c.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        t.check("every idle connection closed by the server within %d s" % PATIENCE,
                closed == len(socks), "%d of %d" % (closed, len(socks)))
    finally:
        for c in socks:
            c.close()
    s = still_serving(x, "the idle crowd left")
    t.check("connections back to the well-behaved client's", one(
        s, "pgcertprobe_exporter_connections") <= 2, s and one(
        s, "pgcertprobe_exporter_connections"))


def check_leaver(x, silent_port):
    def gauges():
        s = parse_prom(fetch(x, "/metrics")[1].decode())
        return (one(s, "pgcertprobe_exporter_requests_waiting"),
                one(s, "pgcertprobe_exporter_probes_total", status="timeout"))

    timeouts_before = gauges()[1]
    seen = []

    def taken():
        # Held now, or already timed out (3 s) between two looks on a loaded machine.
        seen.append(gauges())
        return seen[-1][0] == 1 or seen[-1][1] > timeouts_before

    with connect(x) as s:
        s.sendall(b"GET /probe?target=127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % silent_port)
        # Leave once the exporter holds the request and its probe runs, not after a sleep.
        t.check("the leaving client's request is taken", wait_for(taken, PATIENCE),
                ("waiting, timeouts", timeouts_before, seen[-3:]))
    deadline, s = time.monotonic() + PATIENCE, {}
    while time.monotonic() < deadline:
        s = still_serving(x, "a client left while its probe ran") if not s else \
            parse_prom(fetch(x, "/metrics")[1].decode())
        if one(s, "pgcertprobe_exporter_requests_waiting") == 0:
            break
        time.sleep(0.5)
    t.check("the left request's probe finished; nothing waits",
            one(s, "pgcertprobe_exporter_requests_waiting") == 0 and
            one(s, "pgcertprobe_exporter_probes_total", status="timeout") >= 1, s)


def check_pipelined(x):
    reply, _ = reply_to(x, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.check("two pipelined requests: both answered, in order",
            reply.count(b"HTTP/1.1 ") == 2 and reply.index(b"HTTP/1.1 200") <
            reply.index(b"HTTP/1.1 404"), reply[:300])
    status, body = fetch(x, "/probe?target=%zz%00%C0%AF&module=")
    t.check("bad percent-encoding in target: answered (200, an unusable target)",
            status == 200 and b"pgcertprobe_probe_success" in body and
            b"} 0\n" in body, (status, body[:300]))


def main():
    hostile = HostileServer(["--mode", "silent"])
    ports = hostile.ports
    x = Exporter("--store", "combined=" + STORE, "--timeout", "3")
    try:
        still_serving(x, "start")
        half = start_half_request(x)
        check_bad_requests(x)
        check_pipelined(x)
        check_leaver(x, ports["silent"])
        check_half_request(*half)
        check_idle_crowd(x)
    finally:
        rc, err = x.stop()
        hostile.stop()
    t.check("exit 0 on SIGTERM; stderr holds only the start and stop lines",
            rc == 0 and len(err.strip().splitlines()) == 3, (rc, err[-2000:]))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
