#!/usr/bin/env python3
"""The probe plans in probes/ work as their README says: the Azure cutover plan loads the
shipped stores and gates on the combined bundle (exit 1 naming each offender), and the same
plan pointed at a test PKI passes or fails exactly as the chains' dates say, against real
PostgreSQL servers. Stdlib only; prints "N passed, M failed"."""

import json
import os
import re
import subprocess
import sys
import tempfile

from harness import PROBER, SOURCE, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

PLAN = os.path.join(SOURCE, "probes", "azure-cutover.conf")


def run(args):
    proc = subprocess.run([PROBER, "--format", "json", "--timeout", "10", *args],
                          capture_output=True, text=True)
    return proc.returncode, [json.loads(l) for l in proc.stdout.splitlines()], proc.stderr

t = Tally()


def main():
    servers = [s for s in fleetmod.SERVERS if s.name in ("old", "new", "bridge")]
    # 127.0.1.x: out of the way of other fleet tests running at the same time.
    with fleetmod.Fleet(servers=servers, base_octets="127.0.1") as fleet:
        targets = [p.conninfo for p in fleet.probes()]
        names = [p.server.name for p in fleet.probes()]

        # As shipped: the real roots; no test server chains to them.
        rc, records, err = run(["--config", PLAN, *targets])
        t.check("shipped plan: exit 1", rc == 1, f"exit {rc}: {err}")
        t.check("shipped plan: stores of the plan", records and
              list(records[0]["verify"]) == ["baltimore", "digicert-g2", "combined"],
              records[:1])
        for p in fleet.probes():
            t.check(f"shipped plan: offender {p.host} named on stderr",
                  re.search(re.escape(p.host) + r" .* fails required store combined", err), err)

        # The same plan with its stores pointed at the test PKI.
        with tempfile.TemporaryDirectory() as tmp:
            text = open(PLAN).read()
            for store, pem in (("baltimore", "old.pem"), ("digicert-g2", "new.pem"),
                               ("combined", "combined.pem")):
                text = re.sub(rf"^{store} = .*$",
                              f"{store} = {os.path.join(fleet.pki.dir, pem)}", text,
                              flags=re.M)
            conf = os.path.join(tmp, "plan.conf")
            with open(conf, "w") as f:
                f.write(text)
            rc, records, err = run(["--config", conf, "--at", "2021-02-14", *targets])
            t.check("test PKI before the old root expired: exit 0", rc == 0, f"exit {rc}: {err}")
            rc, records, err = run(["--config", conf, *targets])
            t.check("test PKI now: exit 1", rc == 1, f"exit {rc}: {err}")
            failing = [n for n, r in zip(names, records) if not r["verify"]["combined"]["ok"]]
            t.check("test PKI now: only the old-root chain fails combined", failing == ["old"],
                  failing)
            t.check("test PKI now: its reason", records[0]["verify"]["combined"]["reason"] ==
                  "root expired 2025-05-12", records[0]["verify"]["combined"])
    # The Indexed Job: the shard count in the command equals completions and parallelism.
    job = open(os.path.join(SOURCE, "probes", "k8s-indexed-job.yaml")).read()
    shard = re.search(r'--shard "\$\{JOB_COMPLETION_INDEX\}/(\d+)"', job)
    counts = {k: int(v) for k, v in re.findall(r"^  (completions|parallelism): (\d+)$", job, re.M)}
    t.check("indexed job: shard N equals completions and parallelism",
            shard and counts.get("completions") == int(shard.group(1)) ==
            counts.get("parallelism"), (shard and shard.group(1), counts))
    t.check("indexed job: Indexed completion mode", "completionMode: Indexed" in job)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
