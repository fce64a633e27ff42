#!/usr/bin/env python3
"""The exporter (--listen) against real PostgreSQL servers. Every /probe answer holds the
--format prometheus families for the target's addresses, with the values a one-shot
--format json run gives for the same target, per store and per module ([module NAME]:
stores, sslmode, instants); promtool accepts /probe and /metrics; missing target and unknown
module get 400, other paths 404, other methods 405, bodies 413; an invalid target is 200 with
probe_success 0; a connection string naming two hosts is one answer with both; Prometheus's
scrape-timeout header shortens the probe, counted from the request (a request waiting for a
probe slot times out at its own deadline); identical concurrent requests share one probe;
requests beyond the bound get 503; SIGTERM answers the requests in flight with 503 and
exits 0; --listen with a bad address or a port in use exits 64 or 71 with the reason.
Stdlib only; prints "N passed, M failed"."""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from harness import PROBE_TIMEOUT, PROBER, Exporter, HostileServer, Tally
from promtext import grouping_problems, one, parse_prom, record_mismatches, select
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

PROMTOOL = "/usr/bin/promtool"
PAST = "2021-02-14T12:00:00Z"  # before the old root expired

t = Tally()


def probe_path(target, module=None):
    q = {"target": target}
    if module is not None:
        q["module"] = module
    return "/probe?" + urllib.parse.urlencode(q)


def json_records(conf, args, target):
    p = subprocess.run([PROBER, "--config", conf, "--format", "json", *args, target],
                       capture_output=True, text=True)
    return [json.loads(line) for line in p.stdout.splitlines()]


def promtool_ok(body):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True)
    return p.returncode == 0 and not (p.stdout + p.stderr).strip(), (p.stdout + p.stderr)


def labels_of(r):
    return dict(target=r["target"], addr=r["addr"], port=str(r["port"]))


def write_conf(tmp, pki):
    conf = os.path.join(tmp, "exporter.conf")
    with open(conf, "w") as f:
        f.write("[defaults]\ntimeout = %d\n[stores]\n" % PROBE_TIMEOUT)
        for name in ("old", "new", "combined"):
            f.write("%s = %s\n" % (name, pki.stores[name]))
        f.write("[module ca]\nsslmode = verify-ca\nstores = new, combined\n"
                "[module past]\nat = %s\nat = now\n"
                "[module drivers]\ndriver = pgjdbc\ndriver = pgx\n" % PAST)
    return conf


def check_probes(x, fleet, conf):
    """Each server's answer equals the JSON run's, in each module."""
    for module, args, extra in ((None, [], {}),
                                ("ca", ["--sslmode", "verify-ca", "--store",
                                        "new=" + fleet.pki.stores["new"], "--store",
                                        "combined=" + fleet.pki.stores["combined"]], {}),
                                ("past", ["--at", PAST], {"at": PAST})):
        bad = []
        for p in fleet.probes():
            status, headers, body = x.get(probe_path(p.conninfo, module))
            text = body.decode()
            if status != 200 or not headers.get("content-type", "").startswith("text/plain"):
                bad.append((p.label, status, text[:200]))
                continue
            ok, msg = promtool_ok(body)
            if not ok or grouping_problems(text):
                bad.append((p.label, "promtool", msg, grouping_problems(text)[:3]))
            s = parse_prom(text)
            for r in json_records(conf, args, p.conninfo):
                bad += [(p.label, *m) for m in record_mismatches(s, r, labels_of(r), **extra)]
            if select(s, "pgcertprobe_run_addresses") or "pgcertprobe_build_info" in text:
                bad.append((p.label, "run-level families in a /probe answer"))
        t.check("module %s: /probe values equal the JSON run's, promtool accepts them"
                % (module or "default"), not bad, bad[:5])


def check_drivers(x, fleet, conf):
    """A module with drivers: the answer is what --format prometheus says for the target with
    the same --driver options, sample for sample (durations and run totals aside)."""
    skip = ("pgcertprobe_probe_duration_seconds", "pgcertprobe_run_", "pgcertprobe_build_info")
    bad = []
    for p in fleet.probes():
        got = parse_prom(x.get(probe_path(p.conninfo, "drivers"))[2].decode())
        cli = subprocess.run([PROBER, "--config", conf, "--format", "prometheus", "--driver",
                              "pgjdbc", "--driver", "pgx", p.conninfo], capture_output=True,
                             text=True)
        want = parse_prom(cli.stdout)
        got, want = ({k: v for k, v in d.items() if not k[0].startswith(skip)}
                     for d in (got, want))
        drivers = any(dict(k[1]).get("driver") for k in got)
        if got != want or drivers != bool(select(got, "pgcertprobe_verified")):
            bad.append((p.label, set(got.items()) ^ set(want.items())))
    t.check("module drivers: each answer equals --format prometheus --driver pgjdbc --driver "
            "pgx for the target", not bad, bad[:3])


def check_shapes(x, fleet):
    main = {p.server.name: p.conninfo for p in fleet.probes() if p.label == p.server.name}
    new, old = fleet.server("new"), fleet.server("old")
    s = parse_prom(x.get(probe_path(main["new"], "ca"))[2].decode())
    t.check("module ca: only its stores", sorted({dict(k[1])["store"] for k in
                                                  select(s, "pgcertprobe_verified")}) ==
            ["combined", "new"], select(s, "pgcertprobe_verified"))
    s = parse_prom(x.get(probe_path(main["old"], "past"))[2].decode())
    t.check("module past: the old server verified under old in 2021, not now",
            one(s, "pgcertprobe_verified", store="old", at=PAST) == 1 and
            one(s, "pgcertprobe_verified", store="old", at="now") == 0,
            select(s, "pgcertprobe_verified", store="old"))

    # Two hosts in one connection string: one answer, both addresses.
    two = "host=new.example.test,old.example.test hostaddr=%s,%s port=%d,%d" % (
        new.addr, old.addr, new.port, old.port)
    status, _, body = x.get(probe_path(two))
    s = parse_prom(body.decode())
    t.check("a host list: one answer with both addresses",
            status == 200 and sorted(dict(k[1])["addr"] for k in
                                     select(s, "pgcertprobe_probe_success")) ==
            sorted([new.addr, old.addr]), body[:300])

    # Invalid targets are answered like blackbox's failed probes.
    for bad in ("host=x sslmode=bogus", "db.example.com:99999"):
        status, _, body = x.get(probe_path(bad))
        s = parse_prom(body.decode())
        t.check("invalid target %r: 200, probe_success 0, status invalid_target" % bad,
                status == 200 and one(s, "pgcertprobe_probe_success") == 0 and
                one(s, "pgcertprobe_probe_status", status="invalid_target") == 1, body[:300])
    status, _, body = x.get(probe_path("nosuchhost.invalid:5432"))
    s = parse_prom(body.decode())
    t.check("unresolvable name: 200, status dns_failed",
            status == 200 and one(s, "pgcertprobe_probe_status", status="dns_failed") == 1,
            body[:300])


def check_errors(x):
    cases = [
        ("/probe", "GET", {}, 400, "target"),
        ("/probe?target=", "GET", {}, 400, "target"),
        (probe_path("127.0.0.1:1", "nosuch"), "GET", {}, 400, "nosuch"),
        (probe_path("127.0.0.1:1", "<b>x\x1b[31m</b>"), "GET", {}, 400, "unknown module"),
        ("/nope", "GET", {}, 404, "not found"),
        ("/probe/../metrics", "GET", {}, 404, "not found"),
        ("/metrics", "POST", {}, 405, "GET"),
        ("/probe?target=127.0.0.1:1", "DELETE", {}, 405, "GET"),
    ]
    for path, method, headers, want, words in cases:
        status, h, body = x.get(path, headers=headers, method=method)
        text = body.decode(errors="replace")
        t.check("%s %s: %d with a one-line reason" % (method, path[:40], want),
                status == want and words in text and text.count("\n") == 1 and
                h.get("x-content-type-options") == "nosniff" and "\x1b" not in text,
                (status, text[:200]))
    # A body is refused at once (and the connection closed).
    with socket.create_connection((x.host, x.port), timeout=30) as c:
        c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        reply = recv_all(c)
    t.check("a request with a body: 413", reply.startswith(b"HTTP/1.1 413"), reply[:200])


def recv_all(sock, limit=1 << 20):
    out = b""
    while len(out) < limit:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        out += chunk
    return out


def check_pages(x):
    status, h, body = x.get("/metrics")
    ok, msg = promtool_ok(body)
    s = parse_prom(body.decode())
    t.check("/metrics: 200, promtool check metrics passes", status == 200 and ok, msg)
    t.check("/metrics: requests and probes counted",
            one(s, "pgcertprobe_exporter_http_requests_total", handler="probe", code="200")
            >= 30 and one(s, "pgcertprobe_exporter_http_requests_total", handler="probe",
                          code="400") >= 3 and
            one(s, "pgcertprobe_exporter_probes_total", status="ok") >= 20 and
            one(s, "pgcertprobe_exporter_probes_total", status="invalid_target") >= 2 and
            one(s, "pgcertprobe_exporter_probe_request_duration_seconds_count") >= 30,
            body.decode()[:3000])
    version = subprocess.run([PROBER, "--version"], capture_output=True,
                             text=True).stdout.split()[1]
    t.check("/metrics: build_info with the version",
            one(s, "pgcertprobe_exporter_build_info", version=version) == 1)
    status, h, body = x.get("/")
    page = body.decode()
    t.check("/: an HTML page with the version, every module and a form",
            status == 200 and h["content-type"].startswith("text/html") and version in page
            and all('<option value="%s">' % m in page for m in ("", "ca", "past", "drivers")) and
            '<form action="probe"' in page and 'href="metrics"' in page, page[:500])
    status, h, body = x.get("/", method="HEAD")
    t.check("HEAD /: 200 without a body", status == 200 and body == b"")


def check_scrape_timeout(x, silent_port):
    target = "127.0.0.1:%d" % silent_port
    t0 = time.monotonic()
    status, _, body = x.get(probe_path(target),
                            headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
    took = time.monotonic() - t0
    s = parse_prom(body.decode())
    dur = one(s, "pgcertprobe_probe_duration_seconds")
    # The module's timeout is PROBE_TIMEOUT; the header's 2 s less the margin cuts it to
    # 1.5 s from the request's arrival: the answer comes no sooner (load only makes it
    # later), and far from the module's timeout. The probe itself gets what is left of the
    # 1.5 s after it starts (nothing, and no duration, if load delayed its start that long).
    t.check("scrape timeout header: the probe times out well before --timeout",
            status == 200 and one(s, "pgcertprobe_probe_status", status="timeout") == 1 and
            1.4 <= took < PROBE_TIMEOUT / 2 and
            (not isinstance(dur, float) or dur < PROBE_TIMEOUT / 2), (took, dur, body[:300]))


def parallel(n, fn):
    results = [None] * n

    def run(i):
        try:
            results[i] = fn(i)
        except Exception as e:  # noqa: BLE001 (reported as the result)
            results[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    return results


def check_sharing_and_bound(fleet, conf, silent_port):
    # --concurrency 64: groups held at most 2 x 64 + 64 = 192. The silent probes must still
    # be in flight when the last of a burst of requests arrives, on a loaded machine too.
    x = Exporter("--config", conf, "--concurrency", "64", "--timeout", "20")
    try:
        target = "127.0.0.1:%d" % silent_port
        res = parallel(12, lambda i: x.get(probe_path(target)))
        s = parse_prom(x.get("/metrics")[2].decode())
        t.check("12 identical requests at once: all answered 200",
                all(not isinstance(r, Exception) and r[0] == 200 for r in res),
                [r if isinstance(r, Exception) else r[0] for r in res])
        shared = one(s, "pgcertprobe_exporter_shared_requests_total")
        timeouts = one(s, "pgcertprobe_exporter_probes_total", status="timeout")
        t.check("identical requests share probes (fewer probes than requests)",
                shared >= 1 and timeouts + shared == 12, (shared, timeouts))

        res = parallel(230, lambda i: x.get(probe_path("host=h%d.test hostaddr=127.0.0.1 "
                                                       "port=%d" % (i, silent_port))))
        codes = [repr(r) if isinstance(r, Exception) else r[0] for r in res]
        # Those beyond the 64 in flight wait for a slot that frees only at their own
        # deadline: they time out unprobed then, so none is answered after 20 s + load.
        t.check("230 distinct requests, bound 192 groups: the rest 503, none lost",
                codes.count(200) >= 64 and codes.count(503) >= 1 and
                codes.count(200) + codes.count(503) == 230,
                {c: codes.count(c) for c in set(codes)})
        busy = [r for r in res if not isinstance(r, Exception) and r[0] == 503]
        t.check("503 says why and when to retry", busy and b"try again" in busy[0][2] and
                busy[0][1].get("retry-after") == "1", busy[:1])
        status, _, body = x.get("/metrics")
        s = parse_prom(body.decode())
        t.check("after the burst: nothing waiting, nothing in flight",
                one(s, "pgcertprobe_exporter_requests_waiting") == 0 and
                one(s, "pgcertprobe_exporter_probes_in_flight") == 0, body.decode()[-1500:])
    finally:
        rc, err = x.stop()
    t.check("sharing run: exit 0 on SIGTERM", rc == 0, err)


def start_held(x, box, key, target, gauge):
    """A thread asking x to probe target (the answer goes to box[key]), started; returns
    once x's gauge reads 1 (the request is held), or after a minute."""
    def ask():
        box[key] = x.get(probe_path(target), timeout=120)
    th = threading.Thread(target=ask)
    th.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if one(parse_prom(x.get("/metrics")[2].decode()), gauge) == 1:
            break
        time.sleep(0.1)
    return th


def check_deadline_from_request(conf, silent_port):
    # One probe slot, held 20 s by A. B's scrape timeout (2 s) passes while B waits for the
    # slot: B is answered "timeout" at its deadline, while A is still in flight. Were the
    # deadline counted from the probe's start, B would wait for A and be answered after it.
    # A DNS server that never answers: the resolver's own timeout is the module's, 20 s.
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    x = Exporter("--config", conf, "--concurrency", "1", "--timeout", "20", "--dns-server",
                 "127.0.0.1:%d" % mute.getsockname()[1])
    box, th = {}, None
    try:
        th = start_held(x, box, "a", "host=a.test hostaddr=127.0.0.1 port=%d" % silent_port,
                        "pgcertprobe_exporter_probes_in_flight")
        for what, target in (
                ("a request waiting for a probe slot times out at its own deadline, before "
                 "the probe holding the slot ends",
                 "host=b.test hostaddr=127.0.0.1 port=%d" % silent_port),
                ("a name still resolving at its deadline: answered timeout then, not at the "
                 "resolver's own timeout", "unanswered.test:5432"),
                ("an identical request with a shorter deadline does not wait for the running "
                 "probe that ends after it", "host=a.test hostaddr=127.0.0.1 port=%d" %
                 silent_port)):
            status, _, body = x.get(probe_path(target),
                                    headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
            a_answered = "a" in box
            s = parse_prom(body.decode())
            t.check(what, status == 200 and not a_answered and
                    one(s, "pgcertprobe_probe_status", status="timeout") == 1 and
                    not select(s, "pgcertprobe_probe_duration_seconds"),
                    (status, a_answered, body[:400]))
        s = parse_prom(x.get("/metrics")[2].decode())
        t.check("/metrics: the three counted as timed out unprobed, the held one not",
                one(s, "pgcertprobe_exporter_unprobed_timeouts_total") == 3 and
                one(s, "pgcertprobe_exporter_probes_in_flight") == 1,
                (one(s, "pgcertprobe_exporter_unprobed_timeouts_total"),
                 one(s, "pgcertprobe_exporter_probes_in_flight")))
    finally:
        rc, err = x.stop()
        mute.close()
        if th:
            th.join(60)
    t.check("the probe holding the slot: answered 503 on SIGTERM, exit 0",
            rc == 0 and box.get("a", (None,))[0] == 503, (rc, box.get("a"), err))


def check_sigterm(conf, silent_port):
    x = Exporter("--config", conf, "--timeout", "60")
    box = {}
    th = start_held(x, box, "reply", "127.0.0.1:%d" % silent_port,
                    "pgcertprobe_exporter_requests_waiting")
    t0 = time.monotonic()
    rc, err = x.stop(patience=60)
    took = time.monotonic() - t0
    th.join(60)
    reply = box.get("reply")
    t.check("SIGTERM: exit 0 within seconds (not the 60 s probe timeout)",
            rc == 0 and took < 30, (rc, took, err))
    t.check("SIGTERM: the request in flight is answered 503",
            reply is not None and reply[0] == 503 and b"shutting down" in reply[2], reply)
    t.check("SIGTERM: stderr says it stopped, one line per event",
            "stopping" in err and "stopped" in err and len(err.strip().splitlines()) == 3, err)
    try:
        socket.create_connection((x.host, x.port), timeout=5).close()
        refused = False
    except OSError:
        refused = True
    t.check("SIGTERM: the port is closed afterwards", refused)


def check_bad_listen(conf):
    def run(*args):
        return subprocess.run([PROBER, "--config", conf, *args], capture_output=True, text=True,
                              timeout=60)
    for listen, code, words in (("nonsense", 64, "ADDR:PORT"), ("127.0.0.1:99999", 64, "PORT"),
                                ("::1:80", 64, "[IPV6]"), ("192.0.2.1:9100", 64,
                                                           "not an address of this machine"),
                                ("no-such-host.invalid:9100", 64, "no-such-host.invalid")):
        p = run("--listen", listen)
        t.check("--listen %s: exit %d with the reason" % (listen, code),
                p.returncode == code and listen in p.stderr and words in p.stderr,
                (p.returncode, p.stderr))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        p = run("--listen", "127.0.0.1:%d" % port)
        t.check("--listen on a port in use: exit 71, Address already in use",
                p.returncode == 71 and "already in use" in p.stderr, (p.returncode, p.stderr))
    p = run("--listen", "127.0.0.1:0", "db.example.com")
    t.check("--listen with a target argument: exit 64", p.returncode == 64 and "/probe" in
            p.stderr, (p.returncode, p.stderr))
    p = run("--listen", "127.0.0.1:0", "--output", "x.prom")
    t.check("--listen with --output: exit 64", p.returncode == 64 and "--output" in p.stderr,
            (p.returncode, p.stderr))
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
        f.write(open(conf).read() + "[module bad]\nstores = nosuch\n")
        f.flush()
        p = subprocess.run([PROBER, "--config", f.name, "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=60)
        t.check("a module naming an unknown store: exit 78", p.returncode == 78 and
                "nosuch" in p.stderr, (p.returncode, p.stderr))
    p = subprocess.run([PROBER, "--config", conf, "--listen", "127.0.0.1:0", "--store",
                        "x=/nonexistent.pem"], capture_output=True, text=True, timeout=60)
    t.check("a store that does not load: exit 78", p.returncode == 78 and
            "/nonexistent.pem" in p.stderr, (p.returncode, p.stderr))


def main():
    servers = [s for s in fleetmod.SERVERS
               if s.name in ("old", "new", "bridge", "mismatch", "wildcard", "nossl")]
    hostile = HostileServer(["--mode", "silent"])
    ports = hostile.ports
    try:
        with fleetmod.Fleet(servers=servers, base_octets="127.0.14") as fleet, \
                tempfile.TemporaryDirectory() as tmp:
            conf = write_conf(tmp, fleet.pki)
            x = Exporter("--config", conf)
            try:
                check_probes(x, fleet, conf)
                check_drivers(x, fleet, conf)
                check_shapes(x, fleet)
                check_errors(x)
                check_scrape_timeout(x, ports["silent"])
                check_pages(x)
            finally:
                rc, err = x.stop()
            t.check("exit 0 on SIGTERM, no per-request lines on stderr",
                    rc == 0 and len(err.strip().splitlines()) == 3, (rc, err))
            check_sharing_and_bound(fleet, conf, ports["silent"])
            check_deadline_from_request(conf, ports["silent"])
            check_sigterm(conf, ports["silent"])
            check_bad_listen(conf)
    finally:
        hostile.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
