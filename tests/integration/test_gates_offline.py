#!/usr/bin/env python3
"""Gates and offline chains against real PostgreSQL servers: --require STORE@TIME and
--forbid-class give exit 1 and name the offenders; chains saved with --save-chains and
judged offline with --chain/--host get the same verdicts as the online probe, at every
instant, without any network. Stdlib only; prints "N passed, M failed"."""

import json
import os
import subprocess
import sys
import tempfile

from harness import PROBE_TIMEOUT, PROBER, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

t = Tally()
PAST = "2021-02-14T12:00:00Z"


def run(args):
    proc = subprocess.run([PROBER, "--format", "json", "--timeout", str(PROBE_TIMEOUT), *args],
                          capture_output=True, text=True)
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr


def main():
    servers = [s for s in fleetmod.SERVERS if s.name in ("old", "new", "bridge")]
    # 127.0.7.x: out of the way of other fleet tests running at the same time.
    with fleetmod.Fleet(servers=servers, base_octets="127.0.7") as fleet:
        stores = ["--store", f"old={fleet.pki.dir}/old.pem",
                  "--store", f"new={fleet.pki.dir}/new.pem",
                  "--store", f"combined={fleet.pki.dir}/combined.pem",
                  "--old-store", "old", "--new-store", "new"]
        probes = fleet.probes()
        targets = [p.conninfo for p in probes]

        # Gates on instants.
        rc, recs, err = run([*stores, "--require", f"combined@{PAST}", *targets])
        t.check("require combined@past: exit 0", rc == 0, f"{rc} {err}")
        rc, recs, err = run([*stores, "--require", "combined", *targets])
        t.check("require combined now: exit 1", rc == 1, f"{rc} {err}")
        t.check("require combined now: the old-root server is named",
                "old.example.test" in err and "fails required store combined" in err and
                "new.example.test" not in err, err)
        rc, recs, err = run([*stores, "--require", f"combined@{PAST}", "--require", "combined",
                             *targets])
        t.check("two required instants: both computed", len(recs[0].get("ats", [])) == 2,
                recs[0].get("ats"))
        t.check("two required instants: exit 1", rc == 1, rc)

        # Classes and --forbid-class.
        rc, recs, err = run([*stores, "--at", PAST, *targets])
        classes = {p.server.name: r["class"] for p, r in zip(probes, recs)}
        t.check("classes as of the past", classes == {"old": "old-only", "new": "new-only",
                                                       "bridge": "both"}, classes)
        rc, recs, err = run([*stores, "--at", PAST, "--forbid-class", "old-only", *targets])
        t.check("forbid old-only in the past: exit 1 naming the old server",
                rc == 1 and "old.example.test" in err and "old-only" in err, f"{rc} {err}")
        rc, recs, err = run([*stores, "--forbid-class", "old-only", *targets])
        t.check("forbid old-only now: exit 0 (the old server is now 'neither')",
                rc == 0 and recs[0]["class"] == "neither", f"{rc} {err}")

        # Offline chains equal online verdicts, at two instants.
        with tempfile.TemporaryDirectory() as chains:
            rc, online, err = run([*stores, "--at", PAST, "--at", "2026-01-01",
                                   "--save-chains", chains, *targets])
            files = sorted(os.listdir(chains))
            t.check("one saved chain per address", len(files) == len(targets), files)
            for p, rec, f in zip(probes, online, files):
                rc, off, err = run([*stores, "--at", PAST, "--at", "2026-01-01",
                                    "--chain", os.path.join(chains, f), "--host", p.host])
                ok = len(off) == 1 and off[0]["status"] == "ok"
                t.check(f"offline {p.server.name}: one ok record", ok, off)
                if not ok:
                    continue
                t.check(f"offline {p.server.name}: same verdicts at every instant",
                        {k: {s: v["ok"] for s, v in m.items()}
                         for k, m in off[0]["verify_at"].items()} ==
                        {k: {s: v["ok"] for s, v in m.items()}
                         for k, m in rec["verify_at"].items()},
                        (off[0]["verify_at"], rec["verify_at"]))
                t.check(f"offline {p.server.name}: same chain",
                        [c["sha256"] for c in off[0]["chain"]] ==
                        [c["sha256"] for c in rec["chain"]])
            rc, off, err = run([*stores, "--chain", os.path.join(chains, "missing.pem")])
            t.check("offline: an unreadable chain is an invalid_target record",
                    rc == 2 and off[0]["status"] == "invalid_target", (rc, off))
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
