#!/usr/bin/env python3
"""Name resolution end to end: pgcertprobe with --dns-server pointed at the fake DNS server
(tests/fixtures/fake_dns.py, in a thread) and hostile_server --mode ok --ipv6 listening on
127.0.0.1 and ::1. Every A and AAAA becomes a record, -4/-6 filter, NXDOMAIN, SERVFAIL and
silence become dns_failed with the resolver's reason, a slow name delays no other, pins and
the hosts file skip DNS. Stdlib only; prints "N passed, M failed"."""

import json
import os
import select
import subprocess
import sys
import tempfile
import time

from harness import BUILD, PROBER, SOURCE, Tally, stop_process_group

from fake_dns import FakeDNS

HOSTILE = os.path.join(BUILD, "tests", "hostile_server")
STORE = os.path.join(SOURCE, "config", "combined.pem")
SLOW_S = 1.5          # the slow name's answer delay
N_FAST = 20

ZONE = {
    "both.pcp.test": ["127.0.0.1", "::1"],
    "v4.pcp.test": ["127.0.0.1"],
    "nx.pcp.test": "NXDOMAIN",
    "fail.pcp.test": "SERVFAIL",
    "silent.pcp.test": "DROP",
    "slow.pcp.test": {"addrs": ["127.0.0.1"], "delay_ms": int(SLOW_S * 1000)},
    # DNS would send a pinned probe to an address where nothing listens.
    "pinned.pcp.test": ["127.0.0.2"],
}
ZONE.update({f"fast{i}.pcp.test": ["127.0.0.1"] for i in range(N_FAST)})


class Server:
    """hostile_server --mode ok --ipv6: one port on 127.0.0.1 and ::1."""

    def __init__(self):
        self.proc = subprocess.Popen([HOSTILE, "--exit-on-stdin-eof", "--mode", "ok", "--ipv6"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline().decode() if ready else ""
        words = line.split()
        if not words or words[0] != "READY" or not words[1].startswith("ok="):
            self.stop()
            raise RuntimeError(f"hostile_server did not get ready: {line!r}")
        self.port = int(words[1][3:])

    def stop(self):
        stop_process_group(self.proc)


def run(args, dns=None, timeout=5, env=None):
    """(exit code, records, stderr, wall seconds)."""
    cmd = [PROBER, "--format", "json", "--timeout", str(timeout), "--store", f"test={STORE}"]
    if dns:
        cmd += ["--dns-server", f"127.0.0.1:{dns.port}"]
    start = time.monotonic()
    p = subprocess.run(cmd + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, env=env)
    wall = time.monotonic() - start
    records = [json.loads(line) for line in p.stdout.decode().splitlines() if line.strip()]
    return p.returncode, records, p.stderr.decode("utf-8", "replace"), wall


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
    rc, recs, err, wall = run([f"silent.pcp.test:{port}"], dns, timeout=2)
    t.check("silent: one dns_failed record",
            len(recs) == 1 and recs[0].get("status") == "dns_failed", brief(recs) + err)
    t.check("silent: timeout reason",
            bool(recs) and (recs[0].get("error") or "").endswith(
                "to address: Timeout while contacting DNS servers"), brief(recs))
    t.check("silent: ends within about --timeout 2", 1.5 <= wall <= 3.5, f"{wall:.2f}s")


def test_slow_does_not_delay(t, dns, port):
    """The slow name comes first; records come out in input order, so the run lasts as long
    as the slow answer, but the fast names were asked and probed meanwhile."""
    dns.clear()
    targets = [f"slow.pcp.test:{port}"] + [f"fast{i}.pcp.test:{port}" for i in range(N_FAST)]
    start = time.monotonic()
    rc, recs, err, wall = run(["--concurrency", "4"] + targets, dns, timeout=5)
    t.check("slow+fast: a record per name, in input order",
            [r.get("target") for r in recs] == targets, brief(recs) + err)
    t.check("slow+fast: all ok", all(r.get("status") == "ok" for r in recs), brief(recs))
    t.check("slow+fast: run lasts about the slow answer",
            SLOW_S - 0.1 <= wall <= SLOW_S + 1.2, f"{wall:.2f}s")
    first = [dns.first_asked(f"fast{i}.pcp.test") for i in range(N_FAST)]
    t.check("slow+fast: every fast name asked before the slow answer",
            all(x is not None and x - start < SLOW_S - 0.3 for x in first),
            str([None if x is None else round(x - start, 2) for x in first]))
    fast_ms = [((r.get("timing") or {}).get("total_ms") or 1e9) for r in recs[1:]]
    t.check("slow+fast: fast probes quick (total_ms < 500)",
            len(fast_ms) == N_FAST and max(fast_ms) < 500, str(fast_ms))


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
    rc, recs, err, _ = run(["--timeout", "1", "--resolve", f"pinned.pcp.test:{other}:127.0.0.1",
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
    server = Server()
    try:
        with FakeDNS(ZONE) as dns:
            test_both_families(t, dns, server.port)
            test_failures(t, dns, server.port)
            test_timeout(t, dns, server.port)
            test_slow_does_not_delay(t, dns, server.port)
            test_pins(t, dns, server.port)
            test_hosts_file(t, dns, server.port)
        test_bad_options(t)
    finally:
        server.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
