#!/usr/bin/env python3
"""The client audit equals real libpq: for a matrix of connection strings (every sslmode x
a set of root files x five servers), pgcertprobe's `client` object says what libpq 15 does
with exactly that string: connects or not, encrypted or not (PQsslInUse and the server's
pg_stat_ssl for the same session), in libpq's words when it fails; plus which root file it
loads, whether it verifies and which anchors that file holds. --future-chain (the chain the
new-root server serves) gives `client.after`, checked against libpq on that server.

Servers (tests/fixtures/fleet.py, on 127.0.2.x): old-root chain, new-root chain, bridge
(cross-signed), ssl=off, name mismatch. libpq runs as tests/fixtures/libpq_verdict with
PCP_VERDICT_SSL=1, in a clean environment (no PG* variables, HOME a temp dir of ours, UTC),
from a working directory of ours so relative sslrootcert paths mean the same to both.
Prints the libpq matrix and `N passed, M failed`. `--libpq-only` checks libpq alone."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from harness import BUILD, PROBE_TIMEOUT, PROBER, SOURCE, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

LIBPQ_ONLY = "--libpq-only" in sys.argv[1:]
VERDICT = os.path.join(BUILD, "tests", "libpq_verdict")
MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SERVERS = ["old", "new", "bridge", "nossl", "mismatch"]
ALWAYS_CHAINS = ("old", "new", "bridge", "mismatch")  # servers that speak TLS

t = Tally()


class Root:
    """One root-file situation of a client. sslrootcert: the value written in the string
    (None: absent); home: which HOME the client runs with; path: the file libpq then loads
    (None: none); loads: it holds certificates."""

    def __init__(self, name, sslrootcert, home, path, loads, roots=None):
        self.name, self.sslrootcert, self.home = name, sslrootcert, home
        self.path, self.loads, self.roots = path, loads, roots or []


def clean_env(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = home
    env["TZ"] = "UTC"
    return env


def one_line(s):
    return " ".join((s or "").split())


def conninfo(probe, mode, root):
    s = "%s sslmode=%s dbname=postgres user=postgres connect_timeout=%d" % (
        probe.conninfo, mode, PROBE_TIMEOUT)
    if root.sslrootcert is not None:
        s += " sslrootcert=%s" % root.sslrootcert
    return s


def libpq(strings, home, cwd):
    """libpq's outcome per string: (connects, ssl, server_ssl, line); connects None when
    libpq_verdict itself broke."""
    env = clean_env(home)
    env["PCP_VERDICT_SSL"] = "1"
    try:
        p = subprocess.run([VERDICT] + strings, env=env, cwd=cwd, capture_output=True,
                           text=True, timeout=30 + 10 * len(strings))
    except subprocess.TimeoutExpired:
        return [(None, None, None, "libpq_verdict timed out")] * len(strings)
    lines = p.stdout.splitlines()
    if p.returncode != 0 or len(lines) != len(strings):
        return [(None, None, None, "libpq_verdict rc=%d: %s" % (p.returncode, p.stderr[-300:]))
                ] * len(strings)
    out = []
    for line in lines:
        m = re.fullmatch(r"ok ssl=(on|off) pg_stat_ssl=(on|off|\?)", line)
        if m:
            out.append((True, m.group(1) == "on", m.group(2), line))
        elif line.startswith("fail: "):
            out.append((False, None, None, line[len("fail: "):]))
        else:
            out.append((None, None, None, "unexpected line %r" % line))
    return out


def pgcertprobe(strings, stores, future, home_env, client_home, cwd):
    args = [PROBER, "--format", "json", "--timeout", str(PROBE_TIMEOUT), "--future-chain", future]
    for name, path in stores:
        args += ["--store", "%s=%s" % (name, path)]
    if client_home:
        args += ["--client-home", client_home]
    p = subprocess.run(args + strings, env=clean_env(home_env), cwd=cwd, capture_output=True,
                       text=True, timeout=300)
    records = []
    for line in p.stdout.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            records.append({"_bad_json": line[:200]})
    return p.returncode, records, p.stderr


def expected_verifies(mode, root):
    if mode == "disable":
        return False
    if mode in ("verify-ca", "verify-full"):
        return True
    return root.loads


def main():
    for exe in [VERDICT] + ([] if LIBPQ_ONLY else [PROBER]):
        if not os.access(exe, os.X_OK):
            print("missing executable: %s" % exe)
            return 1
    work = tempfile.mkdtemp(prefix="pcp-client-audit-")
    try:
        return run(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work):
    servers = [s for s in fleetmod.SERVERS if s.name in SERVERS]
    # 127.0.2.x: out of the way of other fleet tests running at the same time.
    with fleetmod.Fleet(servers=servers, base_octets="127.0.2") as fleet:
        pki = fleet.pki
        # Homes and files of the clients. cwd is `work`: relative paths resolve there.
        home_empty = os.path.join(work, "home-empty")
        home_root = os.path.join(work, "home-root")
        os.makedirs(home_empty)
        os.makedirs(os.path.join(home_root, ".postgresql"))
        default_crt = os.path.join(home_root, ".postgresql", "root.crt")
        shutil.copy(pki.stores["combined"], default_crt)
        os.makedirs(os.path.join(work, "rel"))
        shutil.copy(pki.stores["combined"], os.path.join(work, "rel", "root.pem"))
        broken = os.path.join(work, "empty.pem")
        with open(broken, "w") as f:
            f.write("# no certificate here\n")
        azure = os.path.join(SOURCE, "config", "combined.pem")
        old_sub = "CN=Test Baltimore-style Root,OU=CyberTrust,O=Test Baltimore,C=IE"
        new_sub = ("CN=Test DigiCert-G2-style Root,OU=www.example.test,O=Test DigiCert Inc,"
                   "C=US")
        roots = [
            Root("none", None, home_empty, None, False),
            Root("old", pki.stores["old"], home_empty, pki.stores["old"], True,
                 [(old_sub, None)]),
            Root("new", pki.stores["new"], home_empty, pki.stores["new"], True,
                 [(new_sub, None)]),
            Root("combined", pki.stores["combined"], home_empty, pki.stores["combined"], True,
                 [(old_sub, None), (new_sub, None)]),
            Root("azure", azure, home_empty, azure, True,
                 [("CN=Baltimore CyberTrust Root,OU=CyberTrust,O=Baltimore,C=IE",
                   "Baltimore CyberTrust Root"),
                  ("CN=DigiCert Global Root G2,OU=www.digicert.com,O=DigiCert Inc,C=US",
                   "DigiCert Global Root G2")]),
            Root("missing", os.path.join(work, "missing.pem"), home_empty,
                 os.path.join(work, "missing.pem"), False),
            Root("broken", broken, home_empty, broken, False),
            # A directory passes libpq's stat() but is no PEM file: it does not load.
            Root("dir", os.path.join(work, "rel"), home_empty, os.path.join(work, "rel"), False),
            # libpq 15: "system" is a file name (relative to the cwd), not the OS roots.
            Root("system", "system", home_empty, "system", False),
            Root("relative", "rel/root.pem", home_empty, "rel/root.pem", True,
                 [(old_sub, None), (new_sub, None)]),
            Root("default", None, home_root, default_crt, True,
                 [(old_sub, None), (new_sub, None)]),
        ]
        probes = [p for p in fleet.probes() if p.host == p.server.hosts[0]]
        cases = [(p, m, r) for p in probes for m in MODES for r in roots]

        # libpq: one process per (server, root file), one connection per mode.
        lib = {}
        with ThreadPoolExecutor(max_workers=8) as pool:
            jobs = {}
            for p in probes:
                for r in roots:
                    strings = [conninfo(p, m, r) for m in MODES]
                    jobs[(p.server.name, r.name)] = pool.submit(libpq, strings, r.home, work)
            for (server, rname), job in jobs.items():
                for m, res in zip(MODES, job.result()):
                    lib[(server, m, rname)] = res
        for key, (ok, ssl, stat, line) in sorted(lib.items()):
            if t.check("libpq_verdict %s %s %s ran" % key, ok is not None, line) and ok:
                t.check("libpq %s %s %s: PQsslInUse agrees with pg_stat_ssl" % key,
                        stat == ("on" if ssl else "off"), line)
        print_matrix(lib, roots)
        libpq_facts(lib, roots)
        if LIBPQ_ONLY:
            return t.finish()

        # pgcertprobe: every string at once with an empty client home; the default root
        # file once through --client-home and once through HOME.
        stores = [("old", pki.stores["old"]), ("combined", pki.stores["combined"])]
        future = pki.chains["new"]
        runs = [
            ("client-home empty", [c for c in cases if c[2].home == home_empty], home_root,
             home_empty),
            ("client-home with root.crt", [c for c in cases if c[2].home == home_root],
             home_empty, home_root),
            ("HOME with root.crt", [c for c in cases if c[2].home == home_root], home_root,
             None),
        ]
        for label, subset, home_env, client_home in runs:
            strings = [conninfo(p, m, r) for p, m, r in subset]
            rc, records, err = pgcertprobe(strings, stores, future, home_env, client_home, work)
            if not t.check("%s: one record per string" % label, len(records) == len(strings),
                           "%d records for %d strings, exit %d: %s"
                           % (len(records), len(strings), rc, err.strip()[-600:])):
                continue
            t.check("%s: exit code 2 (the ssl=off server)" % label, rc == 2,
                    "exit %d: %s" % (rc, err.strip()[-300:]))
            for (p, m, r), s, rec in zip(subset, strings, records):
                check_record(label, p, m, r, s, rec, lib, fleet)
    return t.finish()


def check_record(label, p, mode, root, string, rec, lib, fleet):
    name = "%s: %s %s %s" % (label, p.server.name, mode, root.name)
    if not t.check(name + ": record for its string", rec.get("target") == string,
                   rec.get("target")):
        return
    c = rec.get("client")
    if not t.check(name + ": has a client object", isinstance(c, dict), rec):
        return
    ok, ssl, _, line = lib[(p.server.name, mode, root.name)]
    t.check(name + ": sslmode", c.get("sslmode") == mode, c.get("sslmode"))
    t.check(name + ": rootcert", c.get("rootcert") == root.path,
            "%r, expected %r" % (c.get("rootcert"), root.path))
    t.check(name + ": rootcert_exists", c.get("rootcert_exists") == root.loads,
            c.get("rootcert_exists"))
    t.check(name + ": verifies", c.get("verifies") == expected_verifies(mode, root),
            c.get("verifies"))
    got_roots = [(x.get("subject"), x.get("known")) for x in c.get("roots") or []]
    t.check(name + ": roots", got_roots == (root.roots if root.loads else []),
            "%r, expected %r" % (got_roots, root.roots))
    if ok is None:
        return
    # The assertion: the same fate as libpq, in libpq's words.
    t.check(name + ": connects == libpq", c.get("connects") == ok,
            "pgcertprobe %r (%s), libpq: %s" % (c.get("connects"), c.get("error"), line))
    if ok:
        t.check(name + ": encrypted == libpq", c.get("encrypted") == ssl,
                "pgcertprobe %r, libpq %s" % (c.get("encrypted"), line))
        t.check(name + ": no error when connecting", c.get("error") in ("", None),
                c.get("error"))
    elif c.get("connects") is False:
        want = one_line(c.get("error"))
        if root.name in ("broken", "dir"):
            # libpq appends the first error in OpenSSL's thread queue, which may be left over
            # from an earlier connection of the same process: compare up to the path.
            want = want.split('": ', 1)[0] + '": ' if '": ' in want else want
        t.check(name + ": error in libpq's words", want != "" and want in line,
                "pgcertprobe %r, libpq %r" % (c.get("error"), line))

    # After the switch to the new-root chain: the new-root server is the future today.
    after = c.get("after")
    if not t.check(name + ": has after", isinstance(after, dict), c):
        return
    if p.server.name == "nossl":
        want = (c.get("connects"), c.get("encrypted"))
        t.check(name + ": after == now (no TLS)", (after.get("connects"),
                after.get("encrypted")) == want, after)
    elif mode != "verify-full" or p.server.name == "new":
        nok, nssl, _, nline = lib[("new", mode, root.name)]
        if nok is not None:
            t.check(name + ": after == libpq on the new-root server",
                    after.get("connects") == nok and (not nok or after.get("encrypted") == nssl),
                    "after %r, libpq on new: %s" % (after, nline))
    else:
        # verify-full: the future leaf names new.example.test, not this host.
        t.check(name + ": after fails (future leaf is for another name)",
                after.get("connects") is False, after)
    if mode in ("verify-ca", "verify-full") and (p.server.name == "new" or mode == "verify-ca") \
            and p.server.name != "nossl":
        if root.name == "old":
            t.check(name + ": after, old root only: fails", after.get("connects") is False,
                    after)
        if root.name == "combined":
            t.check(name + ": after, combined: connects", after.get("connects") is True, after)


def libpq_facts(lib, roots):
    """What libpq must do here, so that agreement cannot pass vacuously."""
    def fact(server, mode, root, want, text=None, enc=None):
        ok, ssl, _, line = lib[(server, mode, root)]
        good = ok is want and (text is None or text in (line or "")) and \
            (enc is None or ssl is enc)
        t.check("fact: libpq %s %s %s -> %s%s" % (server, mode, root, want,
                                                  " (%s)" % text if text else ""), good, line)

    missing = "does not exist Either provide the file or change sslmode"
    for s in ALWAYS_CHAINS:
        fact(s, "disable", "combined", True, enc=False)
        fact(s, "allow", "combined", True, enc=False)
        fact(s, "verify-ca", "none", False, missing)
        fact(s, "verify-ca", "missing", False, missing)
        fact(s, "verify-ca", "system", False, 'root certificate file "system" does not exist')
        fact(s, "require", "none", True, enc=True)
        fact(s, "require", "broken", False, "could not read root certificate file")
        fact(s, "prefer", "broken", True, enc=False)
        fact(s, "require", "dir", False, "could not read root certificate file")
    fact("new", "verify-full", "combined", True, enc=True)
    fact("new", "verify-full", "default", True, enc=True)
    fact("new", "verify-full", "relative", True, enc=True)
    fact("new", "require", "old", False, "certificate verify failed")  # root file -> verify
    fact("new", "prefer", "old", True, enc=False)                     # ... prefer falls back
    fact("old", "verify-ca", "combined", False, "certificate verify failed")  # expired root
    fact("bridge", "verify-ca", "new", True, enc=True)
    fact("bridge", "verify-ca", "old", False, "certificate verify failed")
    fact("mismatch", "verify-ca", "combined", True, enc=True)
    fact("mismatch", "verify-full", "combined", False, "does not match host name")
    fact("nossl", "prefer", "none", True, enc=False)
    fact("nossl", "require", "none", False, "server does not support SSL, but SSL was required")
    fact("nossl", "verify-full", "none", False, "server does not support SSL")


def print_matrix(lib, roots):
    """libpq's outcomes: per server a row per sslmode, a cell per root file:
    E connects encrypted, P connects unencrypted, - fails, ? broken."""
    print()
    print("libpq 15 (E encrypted, P plaintext, - fails)")
    head = "%-9s %-11s " % ("server", "sslmode") + " ".join("%-8s" % r.name[:8] for r in roots)
    print(head)
    for s in SERVERS:
        for m in MODES:
            cells = []
            for r in roots:
                ok, ssl, _, _ = lib[(s, m, r.name)]
                cells.append("?" if ok is None else ("E" if ssl else "P") if ok else "-")
            print("%-9s %-11s " % (s, m) + " ".join("%-8s" % c for c in cells))
    print()


if __name__ == "__main__":
    sys.exit(main())
