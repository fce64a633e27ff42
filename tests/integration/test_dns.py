#!/usr/bin/env python3
"""Name resolution end to end: pgcertprobe with --dns-server pointed at the fake DNS server
(tests/fixtures/fake_dns.py, in a thread) and hostile_server --mode ok --ipv6 listening on
127.0.0.1 and ::1. Every A and AAAA becomes a record, -4/-6 filter, NXDOMAIN, SERVFAIL and
silence become dns_failed with the resolver's reason, a slow name delays no other, pins and
the hosts file skip DNS. Stdlib only; prints "N passed, M failed"."""

import json
import os
import subprocess
import sys
import tempfile
import time

from harness import PROBE_TIMEOUT, PROBER, SOURCE, HostileServer, Tally, wait_for

from fake_dns import FakeDNS

STORE = os.path.join(SOURCE, "config", "combined.pem")
N_FAST = 20
# --timeout against the silent DNS server: above the resolver's own default (5 s), so that
# a run that ignored --timeout for DNS would end too early for the lower bound.
SILENT_TIMEOUT = 8

ZONE = {
    "both.pcp.test": ["127.0.0.1", "::1"],
    "v4.pcp.test": ["127.0.0.1"],
    "nx.pcp.test": "NXDOMAIN",
    "fail.pcp.test": "SERVFAIL",
    "silent.pcp.test": "DROP",
    # Answered only when the test releases it: see test_slow_does_not_delay.
    "slow.pcp.test": {"addrs": ["127.0.0.1"], "hold": True},
    # DNS would send a pinned probe to an address where nothing listens.
    "pinned.pcp.test": ["127.0.0.2"],
}
ZONE.update({f"fast{i}.pcp.test": ["127.0.0.1"] for i in range(N_FAST)})


def command(args, dns=None, timeout=PROBE_TIMEOUT):
    cmd = [PROBER, "--format", "json", "--timeout", str(timeout), "--store", f"test={STORE}"]
    if dns:
        cmd += ["--dns-server", f"127.0.0.1:{dns.port}"]
    return cmd + args


def parse(stdout):
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def run(args, dns=None, timeout=PROBE_TIMEOUT, env=None):
    """(exit code, records, stderr, wall seconds); exit code None if the run had to be
    killed after 300 s."""
    start = time.monotonic()
    try:
        p = subprocess.run(command(args, dns, timeout), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=300, env=env)
    except subprocess.TimeoutExpired as e:
        return None, [], f"killed after {e.timeout} s", time.monotonic() - start
    wall = time.monotonic() - start
    return p.returncode, parse(p.stdout), p.stderr.decode("utf-8", "replace"), wall


def brief(records):
    return json.dumps([{k: r.get(k) for k in ("target", "addr", "status", "error")}
                       for r in records])[:600]


def test_both_families(t, dns, port):
    dns.clear()
    rc, recs, err, _ = run([f"both.pcp.test:{port}"], dns)
    t.check("both: two records", len(recs) == 2, brief(recs) + err)
    t.check("both: addr 127.0.0.1 and ::1",
            sorted(r.get("addr") or "" for r in recs) == ["127.0.0.1", "::1"], brief(recs))
    t.check("both: one target, both ok",
            all(r.get("target") == f"both.pcp.test:{port}" and r.get("status") == "ok"
                for r in recs), brief(recs))
    t.check("both: exit 0", rc == 0, f"rc={rc} {err}")
    t.check("both: A and AAAA asked",
            dns.asked("both.pcp.test", "A") >= 1 and dns.asked("both.pcp.test", "AAAA") >= 1,
            str(dns.queries))

    for flag, want, other in (("-4", "127.0.0.1", "AAAA"), ("-6", "::1", "A")):
        dns.clear()
        rc, recs, err, _ = run([flag, f"both.pcp.test:{port}"], dns)
        t.check(f"both {flag}: one record at {want}",
                len(recs) == 1 and recs[0].get("addr") == want and recs[0].get("status") == "ok",
                brief(recs) + err)
        t.check(f"both {flag}: no {other} question", dns.asked("both.pcp.test", other) == 0,
                str(dns.queries))

    rc, recs, err, _ = run(["-6", f"v4.pcp.test:{port}"], dns)
    t.check("-6 on an IPv4-only name: dns_failed",
            len(recs) == 1 and recs[0].get("status") == "dns_failed" and
            "could not translate host name \"v4.pcp.test\" to address: " in
            (recs[0].get("error") or ""), brief(recs) + err)


def test_failures(t, dns, port):
    rc, recs, err, _ = run([f"nx.pcp.test:{port}", f"fail.pcp.test:{port}"], dns)
    t.check("nx+servfail: one record each", len(recs) == 2, brief(recs) + err)
    if len(recs) == 2:
        nx, sf = recs
        t.check("nxdomain: dns_failed, addr null",
                nx.get("status") == "dns_failed" and nx.get("addr") is None, brief(recs))
        t.check("nxdomain: the resolver's reason",
                nx.get("error") == "could not translate host name \"nx.pcp.test\" to address: "
                                   "Domain name not found", nx.get("error"))
        t.check("servfail: dns_failed", sf.get("status") == "dns_failed", brief(recs))
        t.check("servfail: its own reason",
                sf.get("error") == "could not translate host name \"fail.pcp.test\" to "
                                   "address: DNS server returned general failure",
                sf.get("error"))
    t.check("nx+servfail: exit 2 (not probed)", rc == 2, f"rc={rc}")


def test_timeout(t, dns, port):
    """A silent DNS server ends the lookup at --timeout: not before (a lower bound, which
    load cannot break), and without hanging the run (it ends within a few times --timeout;
    c-ares left to its defaults would take over a minute). How --timeout is split between
    c-ares's tries is checked exactly in unit_test_resolve."""
    dns.clear()
    rc, recs, err, wall = run([f"silent.pcp.test:{port}"], dns, timeout=SILENT_TIMEOUT)
    t.check("silent: one dns_failed record",
            len(recs) == 1 and recs[0].get("status") == "dns_failed", brief(recs) + err)
    t.check("silent: timeout reason",
            bool(recs) and (recs[0].get("error") or "").endswith(
                "to address: Timeout while contacting DNS servers"), brief(recs))
    t.check("silent: the question reached the server", dns.asked("silent.pcp.test") >= 1,
            str(dns.queries))
    t.check(f"silent: waited for --timeout {SILENT_TIMEOUT}", wall >= 0.9 * SILENT_TIMEOUT,
            f"{wall:.2f}s")
    t.check(f"silent: the run ends within 4 x --timeout {SILENT_TIMEOUT}",
            rc is not None and wall < 4 * SILENT_TIMEOUT, f"rc={rc} {wall:.2f}s")


def test_slow_does_not_delay(t, dns, server):
    """The slow name comes first, and the fake server holds its answer until every fast
    name has been asked and its address probed to the end (the fixture saw each connection
    end). A slow name that delayed the others would never be answered: the run would end
    with the slow name dns_failed. Records still come out in input order."""
    port = server.ports["ok"]
    dns.clear()
    targets = [f"slow.pcp.test:{port}"] + [f"fast{i}.pcp.test:{port}" for i in range(N_FAST)]
    ended = server.count("ok", "ended")
    proc = subprocess.Popen(command(["--concurrency", "4"] + targets, dns),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def fast_done():
        return (all(dns.asked(f"fast{i}.pcp.test") for i in range(N_FAST)) and
                server.count("ok", "ended") >= ended + N_FAST)

    wait_for(lambda: fast_done() or proc.poll() is not None)
    waiting = proc.poll() is None
    t.check("slow+fast: every fast name asked and probed while the slow one waited",
            waiting and fast_done() and dns.asked("slow.pcp.test") >= 1,
            f"run still going: {waiting}; fast names asked: "
            f"{sum(1 for i in range(N_FAST) if dns.asked(f'fast{i}.pcp.test'))} of {N_FAST}; "
            f"connections ended: {server.count('ok', 'ended') - ended}; "
            f"slow asked: {dns.asked('slow.pcp.test')}")
    dns.release("slow.pcp.test")
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    recs = parse(out)
    t.check("slow+fast: a record per name, in input order",
            [r.get("target") for r in recs] == targets, brief(recs) + err.decode())
    t.check("slow+fast: all ok", all(r.get("status") == "ok" for r in recs), brief(recs))


def test_pins(t, dns, port):
    dns.clear()
    rc, recs, err, _ = run(["--resolve", f"pinned.pcp.test:{port}:127.0.0.1",
                            f"pinned.pcp.test:{port}"], dns)
    t.check("pin: one ok record at the pinned address",
            len(recs) == 1 and recs[0].get("addr") == "127.0.0.1" and
            recs[0].get("status") == "ok", brief(recs) + err)
    t.check("pin: DNS not asked", dns.asked("pinned.pcp.test") == 0, str(dns.queries))

    dns.clear()
    rc, recs, err, _ = run(["--resolve", f"PINNED.pcp.test:{port}:127.0.0.1,[::1]",
                            f"pinned.pcp.test:{port}"], dns)
    t.check("pin: two addresses, host case-insensitive",
            sorted(r.get("addr") or "" for r in recs) == ["127.0.0.1", "::1"], brief(recs) + err)
    t.check("pin (two): DNS not asked", dns.asked("pinned.pcp.test") == 0, str(dns.queries))

    dns.clear()
    other = port + 1 if port < 65535 else port - 1
    rc, recs, err, _ = run(["--resolve", f"pinned.pcp.test:{other}:127.0.0.1",
                            f"pinned.pcp.test:{port}"], dns)
    t.check("pin for another port: DNS asked", dns.asked("pinned.pcp.test") >= 1,
            str(dns.queries))
    t.check("pin for another port: DNS's address used",
            len(recs) == 1 and recs[0].get("addr") == "127.0.0.2", brief(recs) + err)


def test_hosts_file(t, dns, port):
    dns.clear()
    rc, recs, err, _ = run([f"localhost:{port}"], dns)
    t.check("localhost: resolved, probed ok",
            len(recs) >= 1 and all(r.get("status") == "ok" for r in recs) and
            {r.get("addr") for r in recs} <= {"127.0.0.1", "::1"}, brief(recs) + err)
    t.check("localhost: DNS not asked", "localhost" not in dns.names(), str(dns.queries))

    with tempfile.NamedTemporaryFile("w", suffix=".hosts") as hosts:
        hosts.write("127.0.0.1 hosts-only.pcp.test\n127.0.0.1 both.pcp.test\n")
        hosts.flush()
        env = dict(os.environ, CARES_HOSTS=hosts.name)
        dns.clear()
        rc, recs, err, _ = run([f"hosts-only.pcp.test:{port}", f"both.pcp.test:{port}"], dns,
                               env=env)
        t.check("hosts file: names resolved from it, before DNS",
                [(r.get("target"), r.get("addr")) for r in recs] ==
                [(f"hosts-only.pcp.test:{port}", "127.0.0.1"),
                 (f"both.pcp.test:{port}", "127.0.0.1")], brief(recs) + err)
        t.check("hosts file: DNS not asked", not dns.names(), str(dns.queries))


def test_bad_options(t):
    for value in ("1.2.3.4:99999", "dns.example", "[::1"):
        p = subprocess.run([PROBER, "--dns-server", value, "127.0.0.1:1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        msg = p.stderr.decode("utf-8", "replace")
        t.check(f"--dns-server {value}: exit 64 naming it",
                p.returncode == 64 and f'"{value}"' in msg, f"rc={p.returncode} {msg}")
    for value in ("db:5432", "db:0:127.0.0.1", "db:5432:nope"):
        p = subprocess.run([PROBER, "--resolve", value, "127.0.0.1:1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        msg = p.stderr.decode("utf-8", "replace")
        t.check(f"--resolve {value}: exit 64 naming it",
                p.returncode == 64 and f'"{value}"' in msg, f"rc={p.returncode} {msg}")


def main():
    t = Tally()
    server = HostileServer(["--mode", "ok", "--ipv6"])
    port = server.ports["ok"]
    try:
        with FakeDNS(ZONE) as dns:
            test_both_families(t, dns, port)
            test_failures(t, dns, port)
            test_timeout(t, dns, port)
            test_slow_does_not_delay(t, dns, server)
            test_pins(t, dns, port)
            test_hosts_file(t, dns, port)
        test_bad_options(t)
    finally:
        server.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
