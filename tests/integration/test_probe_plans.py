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

from harness import PROBE_TIMEOUT, PROBER, SOURCE, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

PLAN = os.path.join(SOURCE, "probes", "azure-cutover.conf")
FLEX = os.path.join(SOURCE, "probes", "azure-flexible-rotation.conf")
# The roots of the Flexible Server plan, by SHA-256 of the DER (shared/roots/README.md).
FLEX_ROOTS = {
    "digicert-global-root-g2.pem":
        "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F",
    "microsoft-rsa-root-ca-2017.pem":
        "C7:41:F7:0F:4B:2A:8D:88:BF:2E:71:C1:41:22:EF:53:EF:10:EB:A0:CF:A5:E6:4C:FA:20:F4:18:85:30:73:E0",
    "digicert-global-root-ca.pem":
        "43:48:A0:E9:44:4C:78:CB:26:5E:05:8D:5E:89:44:B4:D8:4F:96:62:BD:26:DB:25:7F:89:34:A4:43:C7:01:61",
}


def fingerprints(pem_path):
    """SHA-256 fingerprints of every certificate of a PEM file, openssl's notation."""
    text = open(pem_path).read()
    out = []
    for m in re.finditer(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S):
        p = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                           input=m.group(0), capture_output=True, text=True)
        out.append(p.stdout.strip().split("=", 1)[-1])
    return out


def check_flexible_plan(fleet, targets, names):
    """The Flexible Server rotation plan: its roots are the ones Azure names (by
    fingerprint), it judges every driver, and --forbid-pinned fails a run whose store pins
    an intermediate."""
    config = os.path.join(SOURCE, "config")
    for name, fp in FLEX_ROOTS.items():
        t.check(f"flexible plan: {name} is the named root", fingerprints(
            os.path.join(config, name)) == [fp], fingerprints(os.path.join(config, name)))
    t.check("flexible plan: azure-flexible-roots.pem holds exactly those three",
            sorted(fingerprints(os.path.join(config, "azure-flexible-roots.pem"))) ==
            sorted(FLEX_ROOTS.values()))
    rc, records, err = run(["--config", FLEX, *targets])
    t.check("flexible plan as shipped: exit 1 (no test server chains to Azure's roots)",
            rc == 1, f"exit {rc}: {err}")
    t.check("flexible plan: every driver judged",
            records and sorted(records[0].get("drivers", {})) ==
            sorted(["pgjdbc", "node-postgres", "pgx"]), (records[:1] or [{}])[0].get("drivers"))
    with tempfile.TemporaryDirectory() as tmp:
        text = open(FLEX).read().replace("../config/", config + "/")
        # The clients' store pins the new intermediate (the fleet's new and bridge servers
        # chain through it): libpq refuses, pgJDBC and pgx pass, pinned.
        text = re.sub(r"^flexible = .*$", f"flexible = {fleet.pki.stores['newint']}", text,
                      flags=re.M)
        conf = os.path.join(tmp, "flex.conf")
        with open(conf, "w") as f:
            f.write(text)
        rc, records, err = run(["--config", conf, "--forbid-pinned", *targets])
        t.check("flexible plan, pinned intermediate: exit 1", rc == 1, f"exit {rc}: {err}")
        by = dict(zip(names, records))
        v = (by.get("new") or {}).get("drivers", {}).get("pgjdbc", {}).get("flexible", {})
        t.check("flexible plan: pgJDBC passes new only through the pinned intermediate",
                v.get("ok") is True and v.get("pinned") is True, v)
        t.check("flexible plan: --forbid-pinned names the offender",
                "forbidden by --forbid-pinned" in err and "new.example.test" in err, err)
        t.check("flexible plan: the store's contents are said",
                "store flexible holds 0 root(s), 1 intermediate(s)" in err, err)


def run(args):
    proc = subprocess.run([PROBER, "--format", "json", "--timeout", str(PROBE_TIMEOUT), *args],
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
        check_flexible_plan(fleet, targets, names)
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
