#!/usr/bin/env python3
"""Fleet inputs against real PostgreSQL servers: one name behind two servers that serve
different chains is reported as divergent on both records (and listed in the text summary),
one behind a single server is not; multi-host connection strings and service files become
one record per host; --shard K/N splits a list into disjoint parts whose union is the list.
Stdlib only; prints "N passed, M failed"."""

import json
import os
import subprocess
import sys
import tempfile

from harness import PROBE_TIMEOUT, PROBER, SOURCE, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

t = Tally()


def run(args, env=None, fmt="json"):
    proc = subprocess.run([PROBER, "--format", fmt, "--timeout", str(PROBE_TIMEOUT), *args],
                          capture_output=True, text=True, env=env)
    if fmt != "json":
        return proc.returncode, proc.stdout, proc.stderr
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def main():
    servers = [s for s in fleetmod.SERVERS if s.name in ("old", "new", "bridge")]
    # 127.0.3.x: out of the way of other fleet tests running at the same time.
    with fleetmod.Fleet(servers=servers, base_octets="127.0.3", ipv6_for="new") as fleet:
        old, new, bridge = (fleet.server(n) for n in ("old", "new", "bridge"))
        port = old.port
        stores = ["--store", f"old={fleet.pki.dir}/old.pem",
                  "--store", f"new={fleet.pki.dir}/new.pem",
                  "--store", f"combined={fleet.pki.dir}/combined.pem"]

        # Divergence: rotation.example.test is served by the old and the new server.
        pins = ["--resolve", f"rotation.example.test:{port}:{old.addr},{new.addr}",
                "--resolve", f"steady.example.test:{port}:{new.addr}"]
        rc, recs, err = run([*stores, *pins, "--sslmode", "verify-ca",
                             f"rotation.example.test:{port}", f"steady.example.test:{port}"])
        t.check("divergence: three records", len(recs) == 3, recs)
        t.check("divergence: both addresses of the rotating name",
                [r["addr"] for r in recs[:2]] == [old.addr, new.addr], [r["addr"] for r in recs])
        t.check("divergence: rotating name divergent", all(r["divergent"] for r in recs[:2]),
                [r.get("divergent") for r in recs])
        t.check("divergence: steady name not divergent", recs[2]["divergent"] is False, recs[2])
        rc, text, err = run([*stores, *pins, "--sslmode", "verify-ca",
                             f"rotation.example.test:{port}", f"steady.example.test:{port}"],
                            fmt="text")
        t.check("divergence: text summary names the rotating name",
                "rotation.example.test" in text.split("\n\n")[-1] or
                any("divergent" in l and "rotation.example.test" in l for l in text.splitlines()),
                text)

        # One name, two addresses of one real server (127.0.3.12 and ::1), via the hosts file.
        with tempfile.TemporaryDirectory() as tmp:
            hosts = os.path.join(tmp, "hosts")
            with open(hosts, "w") as f:
                f.write(f"{new.addr} dual.example.test\n::1 dual.example.test\n")
            env = dict(os.environ, CARES_HOSTS=hosts)
            rc, recs, err = run([*stores, "--sslmode", "verify-ca", f"dual.example.test:{port}"],
                                env=env)
            t.check("dual stack: two records for one name",
                    sorted(r["addr"] for r in recs) == sorted([new.addr, "::1"]), recs)
            t.check("dual stack: both verify, not divergent",
                    all(r["verify"]["new"]["ok"] and not r["divergent"] for r in recs), recs)
            rc, recs, err = run([*stores, "-6", f"dual.example.test:{port}"], env=env)
            t.check("dual stack: -6 keeps ::1 only", [r["addr"] for r in recs] == ["::1"], recs)

        # Multi-host strings: one record per host, in order, each checked under its own name.
        multi = (f"host=old.example.test,new.example.test,bridge.example.test "
                 f"hostaddr={old.addr},{new.addr},{bridge.addr} port={port}")
        rc, recs, err = run([*stores, multi])
        t.check("multi-host: three records", len(recs) == 3, recs)
        t.check("multi-host: hosts in order", [r["host"] for r in recs] ==
                ["old.example.test", "new.example.test", "bridge.example.test"], recs)
        t.check("multi-host: same target text", {r["target"] for r in recs} == {multi})
        t.check("multi-host: verdicts per host", [r["verify"]["new"]["ok"] for r in recs] ==
                [False, True, True], [r["verify"]["new"] for r in recs])

        # A URI with two hosts and a service file entry.
        uri = (f"postgresql://new.example.test:{port},bridge.example.test:{port}/postgres"
               f"?hostaddr={new.addr},{bridge.addr}&sslmode=verify-full")
        with tempfile.TemporaryDirectory() as tmp:
            services = os.path.join(tmp, "pg_service.conf")
            with open(services, "w") as f:
                f.write(f"[orders]\nhost=new.example.test\nhostaddr={new.addr}\nport={port}\n"
                        "sslmode=verify-ca\n")
            env = dict(os.environ, PGSERVICEFILE=services)
            rc, recs, err = run([*stores, uri, "service=orders"], env=env)
            t.check("uri + service: three records", len(recs) == 3, recs)
            t.check("uri + service: addresses",
                    [r["addr"] for r in recs] == [new.addr, bridge.addr, new.addr], recs)
            t.check("uri + service: all verify under new",
                    all(r["verify"]["new"]["ok"] for r in recs), [r["verify"] for r in recs])
            t.check("service: sslmode from the service file", recs[2]["sslmode"] == "verify-ca",
                    recs[2])
            rc, recs, err = run([*stores, "service=missing"], env=env)
            t.check("service: missing definition is invalid_target",
                    len(recs) == 1 and recs[0]["status"] == "invalid_target" and
                    'definition of service "missing" not found' in recs[0]["error"], recs)

    # Shards: disjoint parts whose union is the whole list (no network needed).
    targets = [f"127.0.0.1:{p}" for p in range(1, 61)]
    with tempfile.TemporaryDirectory() as tmp:
        lst = os.path.join(tmp, "targets.txt")
        with open(lst, "w") as f:
            f.write("\n".join(targets) + "\n")
        parts = []
        for k in range(3):
            rc, recs, err = run(["--store", "x=" + os.path.join(SOURCE, "config", "combined.pem"),
                                 "--timeout", "2", "--shard", f"{k}/3", "--targets", lst])
            parts.append([r["target"] for r in recs])
        union = sorted(sum(parts, []))
        t.check("shards: union is the list", union == sorted(targets), len(union))
        t.check("shards: disjoint", len(union) == len(set(union)))
        t.check("shards: each non-empty", all(parts), [len(p) for p in parts])
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
