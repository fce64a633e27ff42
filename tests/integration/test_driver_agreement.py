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
The fleet adds fleet.DRIVER_SERVERS (intermediates with a clientAuth-only EKU, a P-192 and a
P-224 key) and the stores a hashed directory. Besides the grid: --future-chain's
future_drivers (each of FUTURE's own chains); connection strings audited per driver (JDBC
URLs with DefaultJavaSSLFactory in a JVM whose JDK cacerts holds the fixture's roots,
'E' in prefer against hostile_server's error listener, which relays the plaintext retry
to a real server; node-postgres URLs without a host); keytool truststores in a JVM whose
cacerts labels the fixture's roots "[jdk]" (Java's SHA-1 rule).
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
from harness import PROBE_TIMEOUT, HostileServer  # noqa: E402

BUILD = os.environ.get("PCP_BUILD_DIR")
MODES = ["verify-ca", "verify-full"]
# "dir": a hashed directory holding the new root, made here: no driver but libpq reads a
# directory as its root file.
STORES = ["old", "new", "combined", "newint", "newfull", "selfsigned", "newleaf", "oldint",
          "expint", "dir"]
# Compared now only: the servers of the drivers' own rules (algorithms, not dates), and the
# directory (a root file that does not open fails at every instant and for every name; its
# cells take each server's main name).
NOW_ONLY_SERVERS = {s.name for s in fleetmod.DRIVER_SERVERS}
NOW_ONLY_STORES = {"dir"}
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
    ("pgjdbc", "ekuint", "new", "*", "now", True),          # an intermediate's EKU ignored
    ("node-postgres", "ekuint", "new", "*", "now", False),
    ("pgx", "ekuint", "new", "*", "now", False),
    ("pgjdbc", "p192", "new", "*", "now", False),           # EC keySize < 224
    ("node-postgres", "p192", "new", "*", "now", True),     # security level 1: 80 bits
    ("pgx", "p192", "new", "*", "now", False),              # Go does not parse P-192
    ("pgjdbc", "p224", "new", "*", "now", False),           # SunEC has no P-224
    ("node-postgres", "p224", "new", "*", "now", True),
    ("pgx", "p224", "new", "*", "now", True),
    ("pgjdbc", "new", "dir", "*", "now", False),            # a directory is no root file
    ("node-postgres", "new", "dir", "*", "now", False),
    ("pgx", "new", "dir", "*", "now", False),
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
DEFAULT_JAVA = "sslfactory=org.postgresql.ssl.DefaultJavaSSLFactory"
NON_VALIDATING = "sslfactory=org.postgresql.ssl.NonValidatingFactory"
# The JDBC strings' JVM runs with a JDK home whose cacerts holds the fixture's old and new
# roots under Debian's aliases (debian:NAME.pem, no "[jdk]"): DefaultJavaSSLFactory then
# trusts them, and SHA-1 below them passes as on Debian. "hostile" is the hostile_server's
# 'error' listener (it answers 'E', and relays a plaintext retry to a real server).
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
    ("new", "ssl=true"),  # no root.crt: LibPQFactory fails, no fallback to the JVM's store
    ("new", "ssl=true&" + DEFAULT_JAVA),
    ("old", "sslmode=verify-full&" + DEFAULT_JAVA),
    ("sha1", "sslmode=verify-full&" + DEFAULT_JAVA),
    ("mismatch", "sslmode=verify-ca&" + DEFAULT_JAVA),
    ("mismatch", "sslmode=verify-full&" + DEFAULT_JAVA),
    ("unknown", "sslmode=prefer&" + DEFAULT_JAVA),
    ("unknown", "sslmode=require&" + DEFAULT_JAVA),
    ("p192", "sslmode=verify-full&" + DEFAULT_JAVA),
    ("p192", "sslmode=require"),
    ("p192", "sslmode=verify-full&" + NON_VALIDATING),
    ("p224", "sslmode=require"),
    ("ekuint", "sslmode=verify-full&sslrootcert={new}"),
    ("new", "sslmode=verify-full&sslrootcert={dir}"),
    ("new", "sslmode=require&sslrootcert={dir}"),
    ("hostile", "sslmode=prefer"),
    ("hostile", "sslmode=require"),
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
    ("new", "sslmode=no-verify", "nohost"),     # pg: localhost
    ("new", "sslmode=verify-full&sslrootcert={new}", "nohost"),
    ("new", "sslmode=require&uselibpqcompat=true&sslrootcert={new}", "nohost"),
    ("new", "sslmode=no-verify", "nohost-port"),  # pg-connection-string throws
    ("new", "sslmode=no-verify&sslrootcert={dir}"),
    ("new", "sslmode=disable&sslrootcert=/nonexistent/root.pem"),  # read all the same
    ("hostile", "sslmode=no-verify"),
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
    ("p192", "sslmode=require"),
    ("p192", "sslmode=prefer"),
    ("new", "sslmode=require sslrootcert={dir}"),
    ("new", "sslmode=allow sslrootcert=/nonexistent/root.pem"),  # read for allow too
    ("new", "sslmode=disable sslrootcert=/nonexistent/root.pem"),  # not for disable
    ("hostile", "sslmode=prefer"),
    ("hostile", "sslmode=require"),
]
# What the real drivers must do with some of these strings (id suffix: the entry's index),
# so that agreement cannot pass vacuously: (connects, encrypted).
STRING_FACTS = {
    ("pgjdbc", ("new", "ssl=true")): (False, None),
    ("pgjdbc", ("sha1", "sslmode=verify-full&" + DEFAULT_JAVA)): (True, True),
    ("pgjdbc", ("old", "sslmode=verify-full&" + DEFAULT_JAVA)): (True, True),
    ("pgjdbc", ("p192", "sslmode=require")): (False, None),
    ("pgjdbc", ("p224", "sslmode=require")): (True, True),
    ("pgjdbc", ("hostile", "sslmode=prefer")): (True, False),  # 'E' reconnects in plaintext
    ("pgjdbc", ("hostile", "sslmode=require")): (False, None),
    ("pgjdbc", ("new", "sslmode=require&sslrootcert={dir}")): (True, True),
    ("node-postgres", ("new", "sslmode=no-verify", "nohost")): (True, True),
    ("pgx", ("p192", "sslmode=prefer")): (True, False),
    ("pgx", ("hostile", "sslmode=prefer")): (True, False),
    ("pgx", ("new", "sslmode=allow sslrootcert=/nonexistent/root.pem")): (False, None),
    ("pgx", ("new", "sslmode=disable sslrootcert=/nonexistent/root.pem")): (True, False),
    ("node-postgres", ("new", "sslmode=disable&sslrootcert=/nonexistent/root.pem")):
        (False, None),
}


class Hostile:
    """hostile_server's 'error' listener as a server of client_strings."""

    name = "hostile"

    def __init__(self, port):
        self.addr = "127.0.0.1"
        self.port = port
        self.hosts = [self.addr]


def client_strings(kind, fleet, stores, hostile, entries=None):
    """[(id, string, server, host, entry)]: the host is the server's main name (an IP for
    ipsan, ipcn); node-postgres's "nohost" forms leave it out (pg then uses localhost)."""
    out = []
    entries = entries or {"pgjdbc": JDBC, "node-postgres": NODE, "pgx": PGX}[kind]
    for i, entry in enumerate(entries):
        name, opts, form = (entry + (None,))[:3]
        s = hostile if name == "hostile" else fleet.server(name)
        host = s.hosts[0].format(addr=s.addr)
        opts = opts.format(**stores)
        if kind == "pgjdbc":
            text = "jdbc:postgresql://%s:%d/postgres?%s" % (host, s.port, opts)
        elif kind == "node-postgres" and form == "nohost":
            host = "localhost"
            text = "postgres://postgres@/postgres?port=%d&%s" % (s.port, opts)
        elif kind == "node-postgres" and form == "nohost-port":
            host = "localhost"
            text = "postgres://postgres@:%d/postgres?%s" % (s.port, opts)
        elif kind == "node-postgres":
            text = "postgres://postgres@%s:%d/postgres%s" % (host, s.port,
                                                             "?" + opts if opts else "")
        else:
            text = "host=%s port=%d user=postgres dbname=postgres %s" % (host, s.port, opts)
        out.append(("%s%d" % (kind, i), text.strip(), s, host, entry))
    return out


# Java truststores made by keytool (the seed's recipe: -importcert … -storepass password):
# (name, store type, certificates of the fixture PKI). pgJDBC reads them through
# DefaultJavaSSLFactory with javax.net.ssl.trustStore (one JVM per store: the JVM's
# default SSLContext is made once). These JVMs run with a JDK home whose cacerts labels the
# fixture's roots "[jdk]", as upstream JDKs label theirs (Debian's labels none): Java then
# refuses SHA-1 below them, whatever the truststore (pgcertprobe: --java-cacerts).
TRUSTSTORES = [
    ("ts-pkcs12-old", "PKCS12", ["oldroot"]),
    ("ts-jks-pinned", "JKS", ["newint", "oldroot"]),
    ("ts-pkcs12-new", "PKCS12", ["newroot"]),
]
# JDBC URLs audited in the ts-pkcs12-new JVM, with --java-truststore ts-pkcs12-new.
JDK_JDBC = [
    ("sha1", "sslmode=verify-full&" + DEFAULT_JAVA),
    ("sha1", "sslmode=verify-full&sslrootcert={new}"),
    ("sha1", "sslmode=verify-full&sslrootcert={newint}"),
    ("sha1", "sslmode=require"),
    ("new", "sslmode=require&" + DEFAULT_JAVA),
    ("old", "sslmode=verify-full&" + DEFAULT_JAVA),
]
JDK_JDBC_FACTS = {0: False, 1: False, 2: True, 4: True}  # SHA-1 under a "[jdk]" root fails


def java_homes(pki, tmp):
    """The JDK homes of the JDBC strings' JVM (Debian's aliases) and of the truststores'
    JVMs ("[jdk]" aliases), both holding the fixture's old and new roots: {label: (home,
    cacerts)}."""
    return {label: drivermod.java_home(os.path.join(tmp, "jdk-" + label),
                                       [(fmt % "newroot", pki.certs["newroot"]),
                                        (fmt % "oldroot", pki.certs["oldroot"])])
            for label, fmt in (("debian", "debian:test_%s.pem"), ("jdk", "test%s [jdk]"))}


def truststore_jobs(fleet, stores, tmp, jenv):
    """One real-pgJDBC job per truststore (keytool makes the store, then one JVM judges
    every probe and mode with it; ts-pkcs12-new also the JDK_JDBC URLs), as callables."""
    pki = fleet.pki
    probes = [p for p in fleet.probes() if p.server.name != "nossl"]

    def job(name, stype, certs):
        path = os.path.join(tmp, name)
        for alias in certs:
            subprocess.run(["keytool", "-importcert", "-noprompt", "-alias", alias, "-file",
                            pki.certs[alias], "-keystore", path, "-storetype", stype,
                            "-storepass", "password"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        ts = {"truststore": path, "truststorepassword": "password"}
        cells = [dict(ts, id="%s|%s|%s" % (p.label, name, m), host=p.host, addr=p.server.addr,
                      port=p.server.port, sslmode=m,
                      sslfactory="org.postgresql.ssl.DefaultJavaSSLFactory")
                 for p in probes for m in MODES]
        if name == "ts-pkcs12-new":
            cells += [dict(ts, id="url|" + cid, url=text, addr=srv.addr)
                      for cid, text, srv, _, _ in
                      client_strings("pgjdbc", fleet, stores, None, JDK_JDBC)]
        return drivermod.run("pgjdbc", cells, jenv)

    return [lambda t=t: job(*t) for t in TRUSTSTORES]


def check_truststores(tally, fleet, stores, exe, env, tmp, real, cacerts):
    """pgcertprobe's drivers.pgjdbc under each truststore (and its audit of JDK_JDBC with
    --java-truststore) against what the truststore jobs' real pgJDBC did."""
    probes = [p for p in fleet.probes() if p.server.name != "nossl"]
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--driver", "pgjdbc",
            "--java-cacerts", cacerts]
    for name, _, _ in TRUSTSTORES:
        args += ["--store", "%s=%s" % (name, os.path.join(tmp, name)),
                 "--store-password", name + "=password"]
    recs = {}
    for mode in MODES:
        p = subprocess.run(args + ["--sslmode", mode] + [x.conninfo for x in probes], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=300)
        for x, line in zip(probes, p.stdout.splitlines()):
            recs[(x.label, mode)] = json.loads(line)
    grid = {k: v for k, v in real.items() if not k.startswith("url|")}
    bad = []
    for cid, (ok, error, _) in sorted(grid.items()):
        label, store, mode = cid.split("|")
        v = (((recs.get((label, mode)) or {}).get("drivers") or {}).get("pgjdbc") or {}).get(store)
        same = v is not None and v.get("ok") == ok and v.get("factory") == "DefaultJavaSSLFactory"
        if not tally.check(same, "disagreement"):
            bad.append("  %-28s %-14s %-11s pgcertprobe=%s || pgJDBC %s" % (
                label, store, mode, v and (v.get("ok"), v.get("reason"), v.get("factory")),
                "ok" if ok else error[:120]))
    n_ok = sum(1 for v in grid.values() if v[0])
    tally.check(0 < n_ok < len(grid), "truststores: pgJDBC connected in %d of %d cells"
                % (n_ok, len(grid)))
    tally.check(grid.get("sha1|ts-pkcs12-new|verify-ca", (True,))[0] is False,
                "truststores: real pgJDBC passed SHA-1 under a \"[jdk]\" root: %r"
                % (grid.get("sha1|ts-pkcs12-new|verify-ca"),))
    print("Java truststores (keytool, DefaultJavaSSLFactory, \"[jdk]\" cacerts): %d cells "
          "against real pgJDBC (%d connect), %d disagree" % (len(grid), n_ok, len(bad)))
    for b in bad:
        print(b)
    # The audit of JDBC URLs by the same JVM: --java-truststore, "[jdk]" roots.
    urls = client_strings("pgjdbc", fleet, stores, None, JDK_JDBC)
    compare_strings(tally, "pgjdbc (\"[jdk]\" cacerts, --java-truststore)", urls,
                    {cid: real["url|" + cid] for cid, _, _, _, _ in urls}, exe, env,
                    ["--java-cacerts", cacerts, "--java-truststore", "ts-pkcs12-new",
                     "--store", "ts-pkcs12-new=" + os.path.join(tmp, "ts-pkcs12-new"),
                     "--store-password", "ts-pkcs12-new=password"], stores, tmp)
    for i, want in JDK_JDBC_FACTS.items():
        got = real["url|" + urls[i][0]]
        tally.check(got[0] == want, "real pgJDBC, \"[jdk]\" cacerts, %s: connects %s, expected %s"
                    " (%s)" % (urls[i][1], got[0], want, got[1][:150]))


def string_job(kind, fleet, stores, env, home, hostile, java_home_dir):
    """The real driver over kind's strings, as a callable returning {id: verdict}. pgJDBC
    runs with java_home_dir as its JDK home."""
    strings = client_strings(kind, fleet, stores, hostile)
    key = "url" if kind == "pgjdbc" else "conn"
    cells = [{"id": cid, key: text, "addr": s.addr} for cid, text, s, _, _ in strings]
    tool = "-Duser.home=%s" % home
    if kind == "pgjdbc":
        tool += " -Djava.home=%s" % java_home_dir
    return lambda: drivermod.run(kind, cells, dict(env, JAVA_TOOL_OPTIONS=tool))


def check_strings(tally, kind, fleet, stores, exe, env, home, hostile, java_cacerts, real):
    """Connection strings: pgcertprobe's client audit (connects, encrypted) against what the
    real driver did with the same string (real)."""
    strings = client_strings(kind, fleet, stores, hostile)
    extra = ["--java-cacerts", java_cacerts] if kind == "pgjdbc" else ["--client-driver", kind]
    compare_strings(tally, kind, strings, real, exe, env, extra, stores, home)
    for (k, entry), (connects, encrypted) in STRING_FACTS.items():
        if k != kind:
            continue
        got = [real[cid] for cid, _, _, _, e in strings if e == entry]
        tally.check(len(got) == 1 and got[0][0] == connects and
                    (encrypted is None or got[0][2] == encrypted),
                    "real %s %r: expected connects=%s encrypted=%s, got %r"
                    % (kind, entry, connects, encrypted, got))


def compare_strings(tally, what, strings, real, exe, env, extra, stores, home):
    """One pgcertprobe run over the strings; each client's connects (and encrypted) must be
    the real driver's; a string pgcertprobe finds invalid must not connect."""
    kind = strings[0][0].rstrip("0123456789")
    args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--client-home", home,
            "--store", "new=%s" % stores["new"]] + extra
    for pin in sorted({"%s:%d:%s" % (host, s.port, s.addr)
                       for _, _, s, host, _ in strings if host != s.addr}):
        args += ["--resolve", pin]
    p = subprocess.run(args + [t for _, t, _, _, _ in strings], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    recs = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        recs.setdefault(r["target"], r)
    bad = []
    for cid, text, s, _, _ in strings:
        ok, error, encrypted = real[cid]
        rec = recs.get(text) or {}
        c = rec.get("client") or {}
        if rec.get("status") == "invalid_target":
            c = {"driver": kind, "connects": False, "error": rec.get("error")}
        same = c.get("driver") == kind and c.get("connects") == ok and \
            (not ok or encrypted is None or c.get("encrypted") == encrypted)
        if not tally.check(same, "disagreement"):
            bad.append("  %-70s pgcertprobe connects=%s encrypted=%s error=%s || %s %s%s"
                       % (text[:70], c.get("connects"), c.get("encrypted"),
                          (c.get("error") or rec.get("error") or "")[:80], kind,
                          "encrypted" if encrypted else "plaintext" if ok else "fails: ",
                          "" if ok else error[:100]))
    n_ok = sum(1 for cid, _, _, _, _ in strings if real[cid][0])
    tally.check(0 < n_ok < len(strings), "%s strings: the real driver connected with %d of %d"
                % (what, n_ok, len(strings)))
    print("%s strings: %d audited against the real driver (%d connect), %d disagree"
          % (what, len(strings), n_ok, len(bad)))
    for b in bad:
        print(b)


# --future-chain: each of these servers' own chain as the future chain, judged for its
# main host; future_drivers must be what the real drivers do with that chain now.
FUTURE = ["sha1", "old", "ekuint", "p192"]


def check_future(tally, fleet, stores, exe, env, real):
    n = bad = 0
    for name in FUTURE:
        s = fleet.server(name)
        probe = [p for p in fleet.probes() if p.label == name][0]
        for mode in MODES:
            args = [exe, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--sslmode", mode,
                    "--future-chain", fleet.pki.chains[name]]
            for d in DRIVERS:
                args += ["--driver", d]
            for st in STORES:
                args += ["--store", "%s=%s" % (st, stores[st])]
            p = subprocess.run(args + [probe.conninfo], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
            rec = json.loads(p.stdout.splitlines()[0]) if p.stdout.strip() else {}
            for d in DRIVERS:
                for st in STORES:
                    got = real.get((d, "now"), {}).get(cell_id(s.name, st, mode, "now"))
                    v = ((rec.get("future_drivers") or {}).get(d) or {}).get(st)
                    n += 1
                    if not tally.check(got is not None and v is not None and v.get("ok") == got[0],
                                       "disagreement"):
                        bad += 1
                        print("  future %-14s %-8s %-10s %-11s pgcertprobe=%s || driver=%s"
                              % (d, name, st, mode, v and (v.get("ok"), v.get("reason")),
                                 got and (got[0], got[1][:100])))
    print("--future-chain: %d future_drivers verdicts against the real drivers, %d disagree"
          % (n, bad))


def cell_id(label, store, mode, inst):
    return "%s|%s|%s|%s" % (label, store, mode, inst)


def real_cells(probes, stores, inst, driver):
    cells = []
    for p in probes:
        # Names do not depend on the instant: past instants take each server's main host.
        if p.server.name == "nossl" or (inst[1] and ("@" in p.label or
                                                     p.server.name in NOW_ONLY_SERVERS)):
            continue
        for store in STORES:
            for mode in MODES:
                if (driver == "pgx" and inst[1] and mode == "verify-ca") or \
                        (store in NOW_ONLY_STORES and (inst[1] or "@" in p.label)):
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
    hostile = None
    try:
        with fleetmod.Fleet(servers=fleetmod.SERVERS + fleetmod.DRIVER_SERVERS,
                            log=lambda m: print(m, flush=True)) as fleet:
            probes = fleet.probes()
            stores = dict(fleet.pki.stores, dir=hashed_dir(fleet.pki, home))
            new = fleet.server("new")
            hostile = HostileServer(["--mode", "error",
                                     "--backend", "%s:%d" % (new.addr, new.port)])
            hserver = Hostile(hostile.ports["error"])
            homes = java_homes(fleet.pki, home)
            jenv = dict(env, JAVA_TOOL_OPTIONS="-Djava.home=%s" % homes["jdk"][0])
            # Every real-driver process (per driver and instant; per kind of string; per
            # truststore) and pgcertprobe's runs, four at a time: they mostly wait on
            # sockets, and other tests share the two cores.
            with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
                pcp_jobs = {m: pool.submit(run_pgcertprobe, exe, env, stores, m, ats, probes)
                            for m in MODES}
                real_jobs = {(d, inst[0]): pool.submit(run_real, d, probes, stores, inst, env)
                             for inst in INSTANTS for d in DRIVERS}
                string_jobs = {k: pool.submit(string_job(k, fleet, stores, env, home, hserver,
                                                         homes["debian"][0]))
                               for k in DRIVERS}
                ts_jobs = [pool.submit(j) for j in truststore_jobs(fleet, stores, home, jenv)]
                real = {k: f.result() for k, f in real_jobs.items()}
                pcp_runs = {m: f.result() for m, f in pcp_jobs.items()}
                real_strings = {k: f.result() for k, f in string_jobs.items()}
                real_ts = {}
                for f in ts_jobs:
                    real_ts.update(f.result())
            print("real drivers and pgcertprobe in %.1fs" % (time.monotonic() - t0))
            compare(tally, probes, pcp_runs, real, ats)
            check_future(tally, fleet, stores, exe, env, real)
            for kind in DRIVERS:
                check_strings(tally, kind, fleet, stores, exe, env, home, hserver,
                              homes["debian"][1], real_strings[kind])
            check_truststores(tally, fleet, stores, exe, env, home, real_ts, homes["jdk"][1])
    finally:
        if hostile:
            hostile.stop()
        shutil.rmtree(home, ignore_errors=True)
    print("elapsed %.1fs" % (time.monotonic() - t0))
    return tally.finish()


def hashed_dir(pki, tmp):
    """A c_rehash directory holding the new root: the "dir" store."""
    d = os.path.join(tmp, "hashed")
    os.makedirs(d)
    shutil.copy(pki.certs["newroot"], os.path.join(d, "newroot.pem"))
    subprocess.run(["openssl", "rehash", d], check=True, stdout=subprocess.DEVNULL)
    return d


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
