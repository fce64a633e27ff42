#!/usr/bin/env python3
"""The product's promise, asserted: pgcertprobe's verdict equals real libpq's.

Starts the fleet of tests/fixtures/fleet.py (real PostgreSQL 15 servers and a PgBouncer,
each serving one scenario chain from a PKI generated now), then for every probe (server x
host name) x store x sslmode x instant asks
  - pgcertprobe, once per (sslmode, instant) over all probes at once, in JSON, and
  - real libpq (tests/fixtures/libpq_verdict, under faketime for past instants; one
    process per probe x sslmode x instant, one connection per store),
and asserts verify.<store>.ok == (libpq connected). A few expected facts are asserted too,
so that agreement cannot pass vacuously (e.g. both sides failing everything).
Prints the libpq verdict matrix, any disagreement as a table, and `N passed, M failed`.
Needs PCP_BUILD_DIR (pgcertprobe, tests/libpq_verdict); PCP_SOURCE_DIR optional.
`--libpq-only` (by hand, while debugging fixtures) skips pgcertprobe and checks only libpq.
"""

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("PCP_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "fixtures"))
import fleet as fleetmod  # noqa: E402
from harness import PROBE_TIMEOUT  # noqa: E402

BUILD = os.environ.get("PCP_BUILD_DIR")
LIBPQ_ONLY = "--libpq-only" in sys.argv[1:]
MODES = ["verify-ca", "verify-full"]
STORES = ["old", "new", "combined", "newint", "newfull", "selfsigned"]
# Column headings of the printed matrix.
SHORT = {"old": "old", "new": "new", "combined": "cmb", "newint": "int", "newfull": "ful",
         "selfsigned": "sel"}
# (label, pgcertprobe --at, faketime argument); None = the real now for both.
INSTANTS = [
    ("now", None, None),
    ("2021-02-14", "2021-02-14T12:00:00Z", "2021-02-14 12:00:00"),      # before the old root expired
    ("2025-05-12T23:58", "2025-05-12T23:58:00Z", "2025-05-12 23:58:00"),  # a minute before; leaf "expired" is past
]

# Facts that must hold for both pgcertprobe and libpq: (probe label, store, sslmode,
# instant label, ok, pgcertprobe code or None). "*" for mode = both modes.
FACTS = [
    ("old", "old", "*", "2021-02-14", True, None),
    ("old", "old", "*", "2025-05-12T23:58", True, None),
    ("old", "old", "*", "now", False, 10),           # the anchor expired 2025-05-12 23:59
    ("old", "combined", "*", "now", False, 10),      # having the new root does not help
    ("old", "new", "*", "now", False, 20),
    ("oldfull", "new", "*", "now", False, 19),       # self-signed root in the served chain
    ("oldfull", "old", "*", "now", False, 10),
    ("new", "new", "*", "now", True, None),
    ("new", "newint", "*", "now", False, 2),          # no partial chains
    ("bridge", "combined", "*", "now", True, None),
    ("bridge", "new", "*", "now", True, None),
    ("bridge", "old", "*", "now", False, 10),
    ("bridge", "old", "*", "2021-02-14", True, None),
    ("expired", "new", "*", "2021-02-14", True, None),
    ("expired", "new", "*", "2025-05-12T23:58", False, 10),
    ("expired", "new", "*", "now", False, 10),
    ("nointer", "new", "*", "now", False, 20),
    ("nointer", "newfull", "*", "now", True, None),   # intermediates in the store complete it
    ("unknown", "combined", "*", "now", False, 20),
    ("selfsigned", "combined", "*", "now", False, 18),
    ("selfsigned", "selfsigned", "*", "now", True, None),
    ("sha1", "new", "*", "now", False, 68),           # CA md too weak at security level 2
    ("eku", "new", "*", "now", False, 26),
    ("mismatch", "new", "verify-ca", "now", True, None),
    ("mismatch", "new", "verify-full", "now", False, None),
    ("wildcard", "new", "verify-full", "now", True, None),
    ("wildcard@WILD.Example.TEST", "new", "verify-full", "now", True, None),
    ("wildcard@a.b.example.test", "new", "verify-full", "now", False, None),
    ("wildcard@example.test", "new", "verify-full", "now", False, None),
    ("cnonly", "new", "verify-full", "now", True, None),
    ("cnonly@other.example.test", "new", "verify-full", "now", False, None),
    ("ipsan", "new", "verify-full", "now", True, None),
    ("ipsan@127.0.0.250", "new", "verify-full", "now", False, None),
    ("ipcn", "new", "verify-full", "now", True, None),    # IP host falls back to the CN
    ("bouncer", "new", "*", "now", True, None),
    ("bouncer", "old", "*", "now", False, 20),
    ("nossl", "combined", "*", "now", False, None),
]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
        return cond


def clean_env(home):
    """No PG* variables, an empty HOME (no ~/.postgresql/root.crt, root.crl, client cert)
    and UTC, so that only the connection string decides what libpq does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = home
    env["TZ"] = "UTC"
    # libfaketime is LD_PRELOADed before the ASan runtime in a sanitizer build.
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


def libpq_verdicts(exe, env, conninfos, faketime):
    """libpq's verdicts for several connection strings (one libpq_verdict process, one
    independent connection each): a list of (ok, line); ok is None if the program broke."""
    args = [exe] + conninfos
    if faketime:
        args = ["faketime", faketime] + args
    try:
        p = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=30 + 10 * len(conninfos))
    except subprocess.TimeoutExpired:
        return [(None, "libpq_verdict timed out")] * len(conninfos)
    lines = p.stdout.splitlines()
    if (p.returncode != 0 or len(lines) != len(conninfos)
            or not all(l == "ok" or l.startswith("fail: ") for l in lines)):
        return [(None, "libpq_verdict rc=%d stdout=%r stderr=%r" % (
            p.returncode, p.stdout[-300:], p.stderr[-500:]))] * len(conninfos)
    return [(l == "ok", l) for l in lines]


def run_pgcertprobe(exe, env, stores, mode, at, probes):
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--sslmode", mode]
    for name in STORES:
        args += ["--store", "%s=%s" % (name, stores[name])]
    if at:
        args += ["--at", at]
    args += [p.conninfo for p in probes]
    p = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=120)
    records = []
    for line in p.stdout.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError as e:
                records.append({"_bad_json": "%s: %r" % (e, line[:200])})
    return p.returncode, records, p.stderr, args


def short_pcp(rec, store):
    if rec is None:
        return "(no record)"
    if rec.get("status") != "ok":
        return "status=%s" % rec.get("status")
    v = (rec.get("verify") or {}).get(store)
    if v is None:
        return "(no verdict)"
    if v.get("ok"):
        return "ok"
    return "fail code=%s depth=%s %s" % (v.get("code"), v.get("depth"), v.get("error"))


def pcp_ok(rec, store):
    v = ((rec or {}).get("verify") or {}).get(store) or {}
    return v.get("ok") is True


def main():
    if not BUILD:
        print("PCP_BUILD_DIR is not set")
        return 1
    pcp_exe = os.path.join(BUILD, "pgcertprobe")
    lv_exe = os.path.join(BUILD, "tests", "libpq_verdict")
    for exe in ([lv_exe] if LIBPQ_ONLY else [pcp_exe, lv_exe]):
        if not os.access(exe, os.X_OK):
            print("missing executable: %s" % exe)
            return 1
    t0 = time.monotonic()
    checks = Checks()
    home = tempfile.mkdtemp(prefix="pcp-agree-home-")
    env = clean_env(home)
    workers = max(4, 4 * (os.cpu_count() or 2))
    try:
        with fleetmod.Fleet(log=lambda m: print(m, flush=True)) as fleet:
            t_fleet = time.monotonic()
            probes = fleet.probes()
            stores = fleet.pki.stores
            by_label = {p.label: p for p in probes}
            with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
                pcp_jobs = {}
                for inst, at, _ in ([] if LIBPQ_ONLY else INSTANTS):
                    for mode in MODES:
                        pcp_jobs[(mode, inst)] = pool.submit(
                            run_pgcertprobe, pcp_exe, env, stores, mode, at, probes)
                lib_jobs = {}
                for inst, _, fake in INSTANTS:
                    for mode in MODES:
                        for p in probes:
                            conninfos = ["%s sslmode=%s sslrootcert=%s dbname=postgres "
                                         "user=postgres connect_timeout=%d"
                                         % (p.conninfo, mode, stores[store], PROBE_TIMEOUT)
                                         for store in STORES]
                            lib_jobs[(p.label, mode, inst)] = pool.submit(
                                libpq_verdicts, lv_exe, env, conninfos, fake)
                lib = {}
                for (label, mode, inst), f in lib_jobs.items():
                    for store, verdict in zip(STORES, f.result()):
                        lib[(label, store, mode, inst)] = verdict
                pcp_runs = {k: f.result() for k, f in pcp_jobs.items()}
            print("%d libpq connections and %d pgcertprobe runs in %.1fs (%d workers)" % (
                len(lib), len(pcp_runs), time.monotonic() - t_fleet, workers))

            # pgcertprobe runs: exit code, one record per target in input order.
            pcp = {}
            for (mode, inst), (rc, records, stderr, args) in sorted(pcp_runs.items()):
                ok_shape = checks.check(
                    len(records) == len(probes),
                    "pgcertprobe %s at %s: %d records for %d targets (rc %d); stderr: %s" % (
                        mode, inst, len(records), len(probes), rc, stderr.strip()[-800:]))
                # Exit 2: the ssl=off server could not be probed; nothing is --require'd.
                checks.check(rc == 2, "pgcertprobe %s at %s: exit code %d, expected 2; stderr: %s"
                             % (mode, inst, rc, stderr.strip()[-300:]))
                for i, p in enumerate(probes):
                    rec = records[i] if ok_shape and i < len(records) else None
                    if rec is not None and rec.get("target") != p.conninfo:
                        checks.check(False, "pgcertprobe %s at %s: record %d is for %r, expected %r"
                                     % (mode, inst, i, rec.get("target"), p.conninfo))
                        rec = None
                    pcp[(p.label, mode, inst)] = rec

            # The assertion: agreement on every combination.
            mismatches = []
            for (label, store, mode, inst), (lok, lmsg) in sorted(lib.items()):
                rec = pcp.get((label, mode, inst))
                if lok is None:
                    checks.check(False, "libpq_verdict broken for %s %s %s %s: %s" % (
                        label, store, mode, inst, lmsg))
                    continue
                if LIBPQ_ONLY:
                    continue
                agree = rec is not None and pcp_ok(rec, store) == lok
                if not checks.check(agree, "disagreement"):
                    mismatches.append((label, store, mode, inst, short_pcp(rec, store), lmsg))

            # Status sanity: the ssl=off server is no_ssl, the rest reached TLS; no
            # verdict is ok for a target that was not probed.
            for (label, mode, inst), rec in sorted(pcp.items()):
                if rec is None:
                    continue
                want = "no_ssl" if by_label[label].server.name == "nossl" else "ok"
                checks.check(rec.get("status") == want, "pgcertprobe %s %s %s: status %r, expected %r (%s)"
                             % (label, mode, inst, rec.get("status"), want, rec.get("error")))
                if rec.get("status") != "ok":
                    checks.check(not any(pcp_ok(rec, s) for s in STORES),
                                 "pgcertprobe %s %s %s: a verdict is ok although status is %r"
                                 % (label, mode, inst, rec.get("status")))
            rec = pcp.get(("bouncer", "verify-full", "now"))
            if rec and rec.get("chain"):
                checks.check("bouncer.example.test" in rec["chain"][0].get("subject", ""),
                             "bouncer: leaf subject %r is not PgBouncer's own certificate"
                             % rec["chain"][0].get("subject"))
            rec = pcp.get(("bridge", "verify-full", "now"))
            if rec and rec.get("chain") is not None:
                checks.check(len(rec["chain"]) == 3, "bridge: %d certificates captured, expected 3"
                             % len(rec["chain"]))

            # Expected facts, for both sides.
            for label, store, mode, inst, ok, code in FACTS:
                for m in (MODES if mode == "*" else [mode]):
                    lok, lmsg = lib[(label, store, m, inst)]
                    checks.check(lok == ok, "fact: libpq %s %s %s %s: expected %s, got %s" % (
                        label, store, m, inst, "ok" if ok else "fail", lmsg))
                    rec = pcp.get((label, m, inst))
                    if LIBPQ_ONLY:
                        continue
                    checks.check(rec is not None and pcp_ok(rec, store) == ok,
                                 "fact: pgcertprobe %s %s %s %s: expected %s, got %s" % (
                                     label, store, m, inst, "ok" if ok else "fail",
                                     short_pcp(rec, store)))
                    if code is not None and rec is not None and rec.get("status") == "ok":
                        got = ((rec.get("verify") or {}).get(store) or {}).get("code")
                        checks.check(got == code, "fact: pgcertprobe %s %s %s %s: code %r, expected %d"
                                     % (label, store, m, inst, got, code))
            lok, lmsg = lib[("nossl", "combined", "verify-ca", "now")]
            checks.check("does not support SSL" in lmsg,
                         "fact: libpq on the ssl=off server said %r" % lmsg)

            print_matrix(probes, lib)
            if mismatches:
                print_mismatches(mismatches)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    others = [f for f in checks.failed if f != "disagreement"]
    for f in others:
        print("FAIL: " + f)
    print("elapsed %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (checks.passed, len(checks.failed)))
    return 1 if checks.failed else 0


def print_matrix(probes, lib):
    """libpq's verdicts: one row per probe, per instant a cell per store with two marks
    (verify-ca, verify-full): + connects, - fails."""
    print()
    print("libpq verdicts (each cell: verify-ca verify-full; + connects, - fails)")
    print("stores: old = old root, new = new root, cmb = both, int = new intermediate only,")
    print("        ful = new root + intermediate, sel = the self-signed leaf")
    head = "%-28s" % "probe"
    for inst, _, _ in INSTANTS:
        head += " | " + ("%s" % inst).ljust(len(STORES) * 4 - 1)
    print(head)
    sub = " " * 28
    for _ in INSTANTS:
        sub += " | " + " ".join(SHORT[s].ljust(3) for s in STORES)
    print(sub)
    for p in probes:
        row = "%-28s" % p.label[:28]
        for inst, _, _ in INSTANTS:
            cells = []
            for s in STORES:
                cells.append("".join("+" if lib[(p.label, s, m, inst)][0] else "-" for m in MODES).ljust(3))
            row += " | " + " ".join(cells)
        print(row)
    print()


def print_mismatches(rows):
    print("DISAGREEMENTS between pgcertprobe and libpq (%d):" % len(rows))
    w = [max(len(str(r[i])) for r in rows + [("probe", "store", "sslmode", "instant", "pgcertprobe", "libpq")])
         for i in range(4)]
    print("  %-*s  %-*s  %-*s  %-*s  %s  ||  %s" % (w[0], "probe", w[1], "store", w[2], "sslmode",
                                                  w[3], "instant", "pgcertprobe", "libpq"))
    for r in rows:
        print("  %-*s  %-*s  %-*s  %-*s  %s  ||  %s" % (w[0], r[0], w[1], r[1], w[2], r[2],
                                                      w[3], r[3], r[4], r[5]))
    print()


if __name__ == "__main__":
    sys.exit(main())
