#!/usr/bin/env python3
"""Each driver's verdict, asserted: pgcertprobe's `drivers` equal what the real drivers do.

Starts the fleet of tests/fixtures/fleet.py (real PostgreSQL 15 servers and a PgBouncer, one
scenario chain each), then for every probe (server x host name) x store x sslmode x instant
asks
  - pgcertprobe, once per sslmode over all probes, stores and instants, with
    --driver pgjdbc --driver node-postgres --driver pgx (JSON "drivers_at"), and
  - each real driver (tests/fixtures/drivers.py: pgJDBC on OpenJDK 17, node-postgres on
    Node, pgx on Go; one process per driver and instant for all cells), with the store as
    its root certificate file (sslrootcert) and that sslmode,
and asserts drivers_at.<instant>.<driver>.<store>.ok == (the driver connected). Past
instants (each server's main host name only: names do not depend on time): pgJDBC and
node-postgres run under faketime; Go reads the clock without libc,
so pgx gets tls.Config.Time, which only its verify-full honours (pgx's verify-ca callback
reads the real clock): pgx verify-ca is compared at "now" only.
A few expected facts are asserted too, so that agreement cannot pass vacuously. Prints
each driver's disagreements with libpq (the issue's numbers), any disagreement with
pgcertprobe as a table naming the cell, and `N passed, M failed`.
Needs PCP_BUILD_DIR (pgcertprobe); PCP_SOURCE_DIR optional.
"""

import concurrent.futures
import datetime
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
import drivers as drivermod  # noqa: E402
import fleet as fleetmod  # noqa: E402
from harness import PROBE_TIMEOUT  # noqa: E402

BUILD = os.environ.get("PCP_BUILD_DIR")
MODES = ["verify-ca", "verify-full"]
STORES = ["old", "new", "combined", "newint", "newfull", "selfsigned", "newleaf", "oldint",
          "expint"]
DRIVERS = ["pgjdbc", "node-postgres", "pgx"]
# (label, pgcertprobe --at or None for now, faketime argument or None).
INSTANTS = [
    ("now", None, None),
    ("2021-02-14", "2021-02-14T12:00:00Z", "2021-02-14 12:00:00"),
    ("2025-05-12T23:58", "2025-05-12T23:58:00Z", "2025-05-12 23:58:00"),
]

# (driver, probe label, store, sslmode or "*", instant, ok): what the drivers are known to
# do (issue 9, semantics.md section 5), for the real driver and pgcertprobe alike.
FACTS = [
    ("pgjdbc", "old", "old", "*", "now", True),             # expired anchor ignored
    ("pgjdbc", "new", "newint", "*", "now", True),          # intermediate-only store
    ("pgjdbc", "new", "newleaf", "*", "now", True),         # the server's own certificate
    ("pgjdbc", "sha1", "new", "*", "now", True),            # SHA-1 under a private root
    ("pgjdbc", "ipcn", "new", "verify-full", "now", False),  # a dNSName rules out the CN
    ("pgjdbc", "expint", "expint", "*", "now", True),       # expired intermediate as anchor
    ("pgjdbc", "eku", "new", "*", "now", False),
    ("pgx", "new", "newint", "*", "now", True),
    ("pgx", "old", "old", "*", "now", False),               # the anchor's dates count
    ("pgx", "expint", "expint", "*", "now", False),
    ("pgx", "sha1", "new", "*", "now", False),
    ("pgx", "cnonly", "new", "verify-full", "now", False),  # never the CN
    ("pgx", "cnonly", "new", "verify-ca", "now", True),
    ("pgx", "ipsan", "new", "verify-full", "now", True),
    ("node-postgres", "new", "newint", "*", "now", False),  # no partial chains
    ("node-postgres", "mismatch", "new", "verify-ca", "now", False),  # verify-ca checks names
    ("node-postgres", "ipsan", "new", "*", "now", False),   # an IP host is checked as localhost
    ("node-postgres", "cnonly", "new", "verify-full", "now", True),
    ("node-postgres", "sha1", "new", "*", "now", False),
]


class Checks:
    """Counts silently (thousands of cells); failures are kept and printed at the end."""

    def __init__(self):
        self.passed = 0
        self.failed = []

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
        return cond

    def finish(self):
        for f in self.failed:
            if f != "disagreement":
                print("FAIL: " + f)
        print("%d passed, %d failed" % (self.passed, len(self.failed)))
        return 1 if self.failed else 0

# JDBC URLs (server, query with {STORE} for a store's path): the client audit of each,
# compared with real pgJDBC's connects and encrypted. ~/.postgresql/root.crt is absent.
JDBC = [
    ("new", "sslmode=verify-full&sslrootcert={new}"),
    ("new", "sslmode=verify-full&sslrootcert={newint}"),
    ("new", "sslmode=verify-ca"),
    ("old", "sslmode=verify-full&sslrootcert={old}"),
    ("old", "ssl=true&sslrootcert={new}"),
    ("mismatch", "ssl=true&sslrootcert={new}"),
    ("mismatch", "sslmode=verify-ca&sslrootcert={new}"),
    ("unknown", "sslmode=require&sslrootcert={new}"),
    ("unknown", "sslmode=prefer"),
    ("unknown", "ssl=false"),
    ("nossl", "sslmode=prefer"),
    ("nossl", "sslmode=require"),
    ("nossl", "sslmode=disable"),
    ("mismatch", "sslmode=verify-full&sslfactory=org.postgresql.ssl.NonValidatingFactory"),
    ("unknown", "sslmode=verify-full&sslfactory=org.postgresql.ssl.NonValidatingFactory"),
    ("sha1", "sslmode=verify-full&sslrootcert={new}"),
    ("expint", "sslmode=verify-ca&sslrootcert={expint}"),
    ("cnonly", "sslmode=verify-full&sslrootcert={new}"),
    ("ipcn", "sslmode=VERIFY-FULL&sslrootcert={new}"),
]

# (driver, probe label, store, pinned): verify-full passes at now, marked pinned or not.
PINNED = [
    ("pgjdbc", "new", "newint", True),
    ("pgjdbc", "new", "newleaf", True),
    ("pgx", "old", "oldint", True),
    ("pgjdbc", "new", "newfull", False),   # the root is there too: a rotation is survived
    ("pgjdbc", "old", "old", False),       # an expired root, but a root
    ("pgx", "new", "new", False),
]


def clean_env(home):
    """No PG* variables, an empty HOME (no ~/.postgresql), UTC."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = home
    env["TZ"] = "UTC"
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


def run_pgcertprobe(exe, env, stores, mode, ats, probes):
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--sslmode", mode]
    for d in DRIVERS:
        args += ["--driver", d]
    for name in STORES:
        args += ["--store", "%s=%s" % (name, stores[name])]
    for at in ats:
        args += ["--at", at]
    args += [p.conninfo for p in probes]
    p = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=300)
    records = []
    for line in p.stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append(None)
    return p.returncode, records, p.stderr


# node-postgres URLs (--client-driver node-postgres) and pgx strings (--client-driver pgx).
NODE = [
    ("new", "sslmode=verify-full&sslrootcert={new}"),
    ("mismatch", "sslmode=verify-ca&sslrootcert={new}"),
    ("mismatch", "sslmode=verify-ca&sslrootcert={new}&uselibpqcompat=true"),
    ("mismatch", "sslmode=require&sslrootcert={new}&uselibpqcompat=true"),
    ("unknown", "sslmode=require&sslrootcert={new}&uselibpqcompat=true"),
    ("unknown", "sslmode=no-verify"),
    ("unknown", "sslmode=require"),
    ("unknown", "sslmode=prefer&uselibpqcompat=true"),
    ("nossl", "sslmode=prefer"),
    ("nossl", ""),
    ("new", "ssl=true"),
    ("new", "ssl=0"),
    ("new", "sslmode=disable&ssl=true"),
    ("new", "sslmode=verify-ca&uselibpqcompat=true"),
    ("old", "sslmode=verify-full&sslrootcert={old}"),
    ("ipsan", "sslmode=verify-full&sslrootcert={new}"),
    ("cnonly", "sslmode=verify-full&sslrootcert={new}"),
    ("new", "sslmode=verify-full&sslrootcert=/nonexistent/root.pem"),
]
PGX = [
    ("new", "sslmode=verify-full sslrootcert={new}"),
    ("new", "sslmode=verify-full sslrootcert={newint}"),
    ("cnonly", "sslmode=verify-full sslrootcert={new}"),
    ("mismatch", "sslmode=require sslrootcert={new}"),
    ("unknown", "sslmode=require sslrootcert={new}"),
    ("unknown", "sslmode=require"),
    ("unknown", ""),
    ("nossl", ""),
    ("nossl", "sslmode=require"),
    ("unknown", "sslmode=verify-full"),
    ("new", "sslmode=verify-ca sslrootcert=/nonexistent/root.pem"),
    ("old", "sslmode=verify-full sslrootcert={old}"),
    ("sha1", "sslmode=verify-full sslrootcert={new}"),
    ("ipsan", "sslmode=verify-full sslrootcert={new}"),
]


def client_strings(kind, fleet, stores):
    """[(id, string, server)]: the host is the server's main name (an IP for ipsan, ipcn)."""
    out = []
    for i, (name, opts) in enumerate({"pgjdbc": JDBC, "node-postgres": NODE, "pgx": PGX}[kind]):
        s = fleet.server(name)
        host = s.hosts[0].format(addr=s.addr)
        opts = opts.format(**stores)
        if kind == "pgjdbc":
            text = "jdbc:postgresql://%s:%d/postgres?%s" % (host, s.port, opts)
        elif kind == "node-postgres":
            text = "postgres://postgres@%s:%d/postgres%s" % (host, s.port,
                                                             "?" + opts if opts else "")
        else:
            text = "host=%s port=%d user=postgres dbname=postgres %s" % (host, s.port, opts)
        out.append(("%s%d" % (kind, i), text.strip(), s))
    return out


# Java truststores made by keytool (the seed's recipe: -importcert … -storepass password):
# (name, store type, certificates of the fixture PKI). pgJDBC reads them through
# DefaultJavaSSLFactory with javax.net.ssl.trustStore (one JVM per store: the JVM's
# default SSLContext is made once).
TRUSTSTORES = [
    ("ts-pkcs12-old", "PKCS12", ["oldroot"]),
    ("ts-jks-pinned", "JKS", ["newint", "oldroot"]),
]


def check_truststores(tally, fleet, exe, env, tmp):
    pki = fleet.pki
    probes = [p for p in fleet.probes() if p.server.name != "nossl"]
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--driver", "pgjdbc"]
    jobs = []
    for name, stype, certs in TRUSTSTORES:
        path = os.path.join(tmp, name)
        for alias in certs:
            subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", alias, "-file",
                            pki.certs[alias], "-keystore", path, "-storetype", stype,
                            "-storepass", "password"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        args += ["--store", "%s=%s" % (name, path), "--store-password", name + "=password"]
        cells = [{"id": "%s|%s|%s" % (p.label, name, m), "host": p.host, "addr": p.server.addr,
                  "port": p.server.port, "sslmode": m,
                  "sslfactory": "org.postgresql.ssl.DefaultJavaSSLFactory",
                  "truststore": path, "truststorepassword": "password"}
                 for p in probes for m in MODES]
        jobs.append(cells)
    real = {}
    for cells in jobs:
        real.update(drivermod.run("pgjdbc", cells, env))
    recs = {}
    for mode in MODES:
        p = subprocess.run(args + ["--sslmode", mode] + [x.conninfo for x in probes], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=300)
        for x, line in zip(probes, p.stdout.splitlines()):
            recs[(x.label, mode)] = json.loads(line)
    bad = []
    for cid, (ok, error, _) in sorted(real.items()):
        label, store, mode = cid.split("|")
        v = (((recs.get((label, mode)) or {}).get("drivers") or {}).get("pgjdbc") or {}).get(store)
        same = v is not None and v.get("ok") == ok and v.get("factory") == "DefaultJavaSSLFactory"
        if not tally.check(same, "disagreement"):
            bad.append("  %-28s %-14s %-11s pgcertprobe=%s || pgJDBC %s" % (
                label, store, mode, v and (v.get("ok"), v.get("reason"), v.get("factory")),
                "ok" if ok else error[:120]))
    n_ok = sum(1 for v in real.values() if v[0])
    tally.check(0 < n_ok < len(real), "truststores: pgJDBC connected in %d of %d cells"
                % (n_ok, len(real)))
    print("Java truststores (keytool, DefaultJavaSSLFactory): %d cells against real pgJDBC "
          "(%d connect), %d disagree" % (len(real), n_ok, len(bad)))
    for b in bad:
        print(b)


def check_strings(tally, kind, fleet, stores, exe, env, home):
    """Connection strings: pgcertprobe's client audit (connects, encrypted) against the real
    driver given the same string."""
    strings = client_strings(kind, fleet, stores)
    key = "url" if kind == "pgjdbc" else "conn"
    cells = [{"id": cid, key: text, "addr": s.addr} for cid, text, s in strings]
    denv = dict(env, JAVA_TOOL_OPTIONS="-Duser.home=%s" % home)
    real = drivermod.run(kind, cells, denv)
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--client-home", home,
            "--store", "new=%s" % stores["new"]]
    if kind != "pgjdbc":
        args += ["--client-driver", kind]
    for _, _, s in strings:
        host = s.hosts[0].format(addr=s.addr)
        if host != s.addr:
            args += ["--resolve", "%s:%d:%s" % (host, s.port, s.addr)]
    p = subprocess.run(args + [t for _, t, _ in strings], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    recs = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        recs[r["target"]] = r
    bad = []
    for cid, text, s in strings:
        ok, error, encrypted = real[cid]
        c = (recs.get(text) or {}).get("client") or {}
        same = c.get("driver") == kind and c.get("connects") == ok and \
            (not ok or encrypted is None or c.get("encrypted") == encrypted)
        if not tally.check(same, "disagreement"):
            bad.append("  %-70s pgcertprobe connects=%s encrypted=%s error=%s || %s %s%s"
                       % (text[:70], c.get("connects"), c.get("encrypted"),
                          (c.get("error") or recs.get(text, {}).get("error") or "")[:80], kind,
                          "encrypted" if encrypted else "plaintext" if ok else "fails: ",
                          "" if ok else error[:100]))
    n_ok = sum(1 for cid, _, _ in strings if real[cid][0])
    tally.check(0 < n_ok < len(strings), "%s strings: the real driver connected with %d of %d"
                % (kind, n_ok, len(strings)))
    print("%s strings: %d audited against the real driver (%d connect), %d disagree"
          % (kind, len(strings), n_ok, len(bad)))
    for b in bad:
        print(b)


def cell_id(label, store, mode, inst):
    return "%s|%s|%s|%s" % (label, store, mode, inst)


def real_cells(probes, stores, inst, driver):
    cells = []
    for p in probes:
        # Names do not depend on the instant: past instants take each server's main host.
        if p.server.name == "nossl" or (inst[1] and "@" in p.label):
            continue
        for store in STORES:
            for mode in MODES:
                if driver == "pgx" and inst[1] and mode == "verify-ca":
                    continue
                c = {"id": cell_id(p.label, store, mode, inst[0]), "host": p.host,
                     "addr": p.server.addr, "port": p.server.port, "sslmode": mode,
                     "rootcert": stores[store]}
                if driver == "pgx" and inst[1]:
                    c["at"] = inst[1]
                cells.append(c)
    return cells


def run_real(driver, probes, stores, inst, env):
    cells = real_cells(probes, stores, inst, driver)
    fake = inst[2] if driver != "pgx" else None
    return drivermod.run(driver, cells, env, faketime=fake)


def main():
    if not BUILD:
        print("PCP_BUILD_DIR is not set")
        return 1
    exe = os.path.join(BUILD, "pgcertprobe")
    tally = Checks()
    t0 = time.monotonic()
    for d in DRIVERS:
        drivermod.command(d)  # build once, before the clock of the fleet starts
    print("drivers: %s" % drivermod.versions())
    home = tempfile.mkdtemp(prefix="pcp-drivers-home-")
    env = clean_env(home)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    ats = [at or now for _, at, _ in INSTANTS]
    try:
        with fleetmod.Fleet(log=lambda m: print(m, flush=True)) as fleet:
            probes = fleet.probes()
            stores = fleet.pki.stores
            # One process per driver and instant, four at a time: they mostly wait on
            # sockets, and other tests share the two cores.
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                pcp_jobs = {m: pool.submit(run_pgcertprobe, exe, env, stores, m, ats, probes)
                            for m in MODES}
                real_jobs = {(d, inst[0]): pool.submit(run_real, d, probes, stores, inst, env)
                             for inst in INSTANTS for d in DRIVERS}
                real = {k: f.result() for k, f in real_jobs.items()}
                pcp_runs = {m: f.result() for m, f in pcp_jobs.items()}
            print("real drivers and pgcertprobe in %.1fs" % (time.monotonic() - t0))
            compare(tally, probes, pcp_runs, real, ats)
            for kind in DRIVERS:
                check_strings(tally, kind, fleet, stores, exe, env, home)
            check_truststores(tally, fleet, exe, env, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print("elapsed %.1fs" % (time.monotonic() - t0))
    return tally.finish()


def pcp_verdict(rec, driver, at, store):
    return ((((rec or {}).get("drivers_at") or {}).get(driver) or {}).get(at) or {}).get(store)


def compare(tally, probes, pcp_runs, real, ats):
    pcp = {}
    for mode, (rc, records, stderr) in pcp_runs.items():
        tally.check(len(records) == len(probes) and all(records),
                    "pgcertprobe %s: %d records for %d probes (rc %d): %s"
                    % (mode, len(records), len(probes), rc, stderr[-500:]))
        tally.check(rc == 2, "pgcertprobe %s: exit %d, expected 2 (nossl)" % (mode, rc))
        for p, rec in zip(probes, records):
            pcp[(p.label, mode)] = rec
    mismatches = []
    compared = {d: 0 for d in DRIVERS}
    vs_libpq = {d: 0 for d in DRIVERS}
    for (driver, inst), verdicts in sorted(real.items()):
        a = [i for i, x in enumerate(INSTANTS) if x[0] == inst][0]
        for cid, (ok, error, _) in sorted(verdicts.items()):
            label, store, mode, _ = cid.split("|")
            rec = pcp.get((label, mode))
            v = pcp_verdict(rec, driver, ats_key(rec, a), store)
            compared[driver] += 1
            libpq = (((rec or {}).get("verify_at") or {}).get(ats_key(rec, a)) or {}).get(store)
            if libpq is not None and libpq.get("ok") != ok:
                vs_libpq[driver] += 1
            if not tally.check(v is not None and v.get("ok") == ok, "disagreement"):
                mismatches.append((driver, label, store, mode, inst,
                                   "no verdict" if v is None else
                                   ("ok" if v.get("ok") else "fail: %s" % v.get("reason")),
                                   "ok" if ok else "fail: %s" % error[:140]))
    for driver, label, store, mode, inst, ok in FACTS:
        for m in (MODES if mode == "*" else [mode]):
            got = real.get((driver, inst), {}).get(cell_id(label, store, m, inst))
            tally.check(got is not None and got[0] == ok, "fact: real %s %s %s %s %s: expected %s, got %s"
                        % (driver, label, store, m, inst, ok, got))
    # Pins: a pass that rests on a non-root anchor is marked, one that has a root path is not.
    for driver, label, store, pinned in PINNED:
        v = pcp_verdict(pcp.get((label, "verify-full")), driver, ats_key(pcp.get((label, "verify-full")), 0), store) or {}
        tally.check(v.get("ok") is True and bool(v.get("pinned")) == pinned,
                    "pinned: pgcertprobe %s %s %s: %r, expected ok and pinned=%s"
                    % (driver, label, store, v, pinned))
    for d in DRIVERS:
        print("%-14s %4d cells compared; the real driver and libpq differ on %d of them"
              % (d, compared[d], vs_libpq[d]))
        tally.check(compared[d] > 500, "%s: only %d cells compared" % (d, compared[d]))
    if mismatches:
        print("DISAGREEMENTS between pgcertprobe and the real drivers (%d):" % len(mismatches))
        for m in mismatches:
            print("  %-14s %-28s %-10s %-11s %-16s pgcertprobe=%s || driver=%s" % m)


def ats_key(rec, a):
    """The record's key for instant a in drivers_at / verify_at (the order of --at)."""
    keys = list(((rec or {}).get("verify_at") or {}).keys())
    return keys[a] if a < len(keys) else None


if __name__ == "__main__":
    sys.exit(main())
