#!/usr/bin/env python3
"""Hostile servers: pgcertprobe against tests/fixtures/hostile_server (silence, 'E', unknown
bytes, 'S' plus plaintext, EOF, RST, trickled TLS, huge chains, hostile certificate fields).
Each behaviour must give exactly one record with the right status (a silent server at the
deadline, every other one long before it), the prober must never send anything after the
SSLRequest but TLS, and real libpq (psql) must reach the same verdict for the TLS phase.
Stdlib only; prints "N passed, M failed"."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness import (FIXTURES_BIN, LOG_LINE, PROBE_TIMEOUT, PROBER, SOURCE, HostileServer,
                     Tally, refused_port, wait_for)

FIXTURE = os.path.join(FIXTURES_BIN, "hostile_server")
STORE = os.path.join(SOURCE, "config", "combined.pem")

# --timeout (and libpq's connect_timeout) where the deadline is what is tested: a silent
# server. Everything that must end otherwise gets PROBE_TIMEOUT, which it never reaches.
TIMEOUT = 2
# --timeout of the run with every behaviour at once, two at a time: the silent server holds
# one slot until then, and the other slot must serve everyone else meanwhile. Above what a
# trickled handshake takes on a loaded machine (14 s seen with 16 CPU hogs on 2 cores),
# four times over.
ALL_TIMEOUT = 60

# behaviour -> status pgcertprobe must report. huge-chain serves 60 certificates (~29 KB),
# under OpenSSL's default max_cert_list of 100 KB, which libpq and pgcertprobe both keep;
# oversize-chain serves ~150 KB and fails the handshake with "excessive message size".
EXPECT = {
    "ok": "ok",
    "silent": "timeout",
    "error": "protocol_error",
    "error-v3": "protocol_error",
    "error-empty": "protocol_error",
    "unknown": "protocol_error",
    "unknown-nul": "protocol_error",
    "s-extra": "protocol_error",
    "s-extra-silent": "protocol_error",
    "close": "protocol_error",
    "reset": "protocol_error",
    "close-after-s": "tls_failed",
    "trickle": "ok",
    "slow-s": "ok",
    "no-ssl": "no_ssl",
    "tls-garbage": "tls_failed",
    "huge-chain": "ok",
    "oversize-chain": "tls_failed",
    "weird-cert": "ok",
}
CHAIN_LEN = {"ok": 1, "trickle": 1, "slow-s": 1, "weird-cert": 1, "huge-chain": 60}
# Where libpq 15 knowingly differs. s-extra-silent: libpq reads the extra bytes into its
# buffer, sends a ClientHello and checks the buffer only after a completed handshake, so
# with no TLS server behind the injected bytes it waits until connect_timeout; the prober
# sees the bytes right after 'S' and fails at once (same verdict: no connection).
LIBPQ_DIFFERS = {"s-extra-silent": "timeout"}
# Behaviours probed again on [::1].
IPV6_NAMES = ("error", "ok", "s-extra")
# Statuses for which the documented exit code is 2 ("some target could not be probed").
NOT_PROBED = {"timeout", "refused", "protocol_error", "tls_failed", "dns_failed"}


def deadline(name):
    """The --timeout for a behaviour's single run: short only where it is the outcome."""
    return TIMEOUT if EXPECT[name] == "timeout" else PROBE_TIMEOUT


def run_prober(targets, timeout, concurrency=None):
    cmd = [PROBER, "--format", "json", "--timeout", str(timeout), "--store", f"test={STORE}"]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    cmd += targets
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout * len(targets) + 120)
    elapsed = time.monotonic() - start
    records, bad = [], []
    for line in p.stdout.split(b"\n"):
        if not line:
            continue
        try:
            # strict json.loads rejects raw control characters inside strings.
            records.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            bad.append(f"{e}: {line[:200]!r}")
    return p.returncode, records, bad, p.stderr.decode("utf-8", "replace"), elapsed


def printable_ascii(text):
    return all(0x20 <= ord(ch) < 0x7F for ch in text)


def check_record(r, name, rec, want):
    """Assertions on one behaviour's record beyond its status."""
    err = rec.get("error") or ""
    if want != "ok":
        r.check(f"{name}: error text present", bool(err), json.dumps(rec)[:300])
    if name == "error":
        r.check(f"{name}: server text shown", "sorry, too many clients already" in err, err)
        r.check(f"{name}: error printable ASCII", printable_ascii(err), repr(err))
    elif name == "error-v3":
        r.check(f"{name}: server text shown", "sorry, too many clients already" in err, err)
        # Field codes stay glued to their values: the body was shown, not parsed.
        r.check(f"{name}: not parsed as v3", "C53300" in err or "SFATAL" in err, err)
        r.check(f"{name}: error printable ASCII", printable_ascii(err), repr(err))
    elif name == "unknown":
        r.check(f"{name}: libpq wording",
                "received invalid response to SSL negotiation: X" in err, err)
    elif name == "unknown-nul":
        r.check(f"{name}: byte named in hex",
                "received invalid response to SSL negotiation" in err and "0x00" in err, err)
    elif name in ("s-extra", "s-extra-silent"):
        r.check(f"{name}: CVE-2021-23222 wording",
                "unencrypted data after SSL response" in err, err)
    elif name == "oversize-chain":
        r.check(f"{name}: OpenSSL's reason", "excessive message size" in err.lower(), err)
    if name in CHAIN_LEN and rec.get("status") == "ok":
        chain = rec.get("chain") or []
        r.check(f"{name}: chain of {CHAIN_LEN[name]}", len(chain) == CHAIN_LEN[name],
                f"got {len(chain)}")
        tls = rec.get("tls") or {}
        r.check(f"{name}: tls version", str(tls.get("version", "")).startswith("TLS"),
                json.dumps(tls))
        r.check(f"{name}: verified against the store", "test" in (rec.get("verify") or {}),
                json.dumps(rec.get("verify"))[:200])
    if name == "weird-cert" and rec.get("status") == "ok":
        leaf = (rec.get("chain") or [{}])[0]
        subject = str(leaf.get("subject", ""))
        r.check(f"{name}: hostile subject survives escaping", "evil" in subject, subject)


def single_runs(r, fx):
    statuses = {}
    for name, want in EXPECT.items():
        timeout = deadline(name)
        target = f"127.0.0.1:{fx.ports[name]}"
        rc, recs, bad, err, elapsed = run_prober([target], timeout)
        r.check(f"{name}: output is JSON", not bad, "; ".join(bad)[:300])
        if not r.check(f"{name}: exactly one record", len(recs) == 1,
                       f"{len(recs)} records, rc {rc}, stderr {err.strip()[:300]}"):
            continue
        rec = recs[0]
        statuses[name] = rec.get("status")
        r.check(f"{name}: status {want}", rec.get("status") == want,
                f"got {rec.get('status')!r} error {rec.get('error')!r}")
        r.check(f"{name}: target echoed", rec.get("target") == target, rec.get("target"))
        if want in NOT_PROBED:
            r.check(f"{name}: exit code 2", rc == 2, f"rc {rc}")
        elif want == "ok":
            r.check(f"{name}: exit code 0", rc == 0, f"rc {rc}")
        # Load only makes a run later: a lower bound holds on any machine. The upper bounds
        # are many times what the run needs, and far below what the bug would take (the
        # trickled handshake needs 14 s with 16 CPU hogs on 2 cores, of PROBE_TIMEOUT).
        if want == "timeout":
            r.check(f"{name}: waited for the deadline", elapsed >= timeout - 0.2,
                    f"{elapsed:.2f}s")
            r.check(f"{name}: ends within 10 x the deadline", elapsed < 10 * timeout,
                    f"{elapsed:.2f}s")
        else:
            r.check(f"{name}: ends before the deadline", elapsed < timeout,
                    f"{elapsed:.2f}s of {timeout}")
        check_record(r, name, rec, want)
    return statuses


def refused_run(r):
    with refused_port() as port:
        rc, recs, bad, err, elapsed = run_prober([f"127.0.0.1:{port}"], PROBE_TIMEOUT)
    if r.check("refused: exactly one record", len(recs) == 1 and not bad,
               f"{len(recs)} records {bad} {err.strip()[:200]}"):
        r.check("refused: status refused", recs[0].get("status") == "refused",
                json.dumps(recs[0])[:300])
        r.check("refused: exit code 2", rc == 2, f"rc {rc}")
        r.check("refused: ends long before the deadline", elapsed < PROBE_TIMEOUT / 2,
                f"{elapsed:.2f}s of {PROBE_TIMEOUT}")


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def ipv6_runs(r, fx):
    """The same listeners on [::1]: bracketed targets and IPv6 addresses in records."""
    for name in IPV6_NAMES:
        target = f"[::1]:{fx.ports[name]}"
        rc, recs, bad, err, elapsed = run_prober([target], deadline(name))
        if not r.check(f"ipv6 {name}: exactly one record", len(recs) == 1 and not bad,
                       f"{len(recs)} records {bad} {err.strip()[:200]}"):
            continue
        r.check(f"ipv6 {name}: status {EXPECT[name]}", recs[0].get("status") == EXPECT[name],
                json.dumps(recs[0])[:300])
        r.check(f"ipv6 {name}: addr ::1", recs[0].get("addr") == "::1", recs[0].get("addr"))


def all_at_once(r, fx):
    names = list(EXPECT)
    wants = [EXPECT[n] for n in names] + ["refused"]
    labels = names + ["refused"]
    log_before = len(fx.stderr())
    with refused_port() as refused:
        targets = [f"127.0.0.1:{fx.ports[n]}" for n in names] + [f"127.0.0.1:{refused}"]
        rc, recs, bad, err, elapsed = run_prober(targets, ALL_TIMEOUT, concurrency=2)
    r.check("all: output is JSON", not bad, "; ".join(bad)[:300])
    if not r.check("all: one record per target", len(recs) == len(targets),
                   f"{len(recs)} of {len(targets)}, rc {rc}, stderr {err.strip()[:300]}"):
        return
    r.check("all: records in input order", [x.get("target") for x in recs] == targets,
            str([x.get("target") for x in recs]))
    for label, want, rec in zip(labels, wants, recs):
        r.check(f"all: {label} status {want}", rec.get("status") == want,
                f"got {rec.get('status')!r} error {rec.get('error')!r}")
    r.check("all: exit code 2", rc == 2, f"rc {rc}")
    # Only silent waits for the deadline, in one of the two slots: every other connection
    # went through the other slot and ended before the prober gave up on the silent one.
    wait_for(lambda: ("silent", "ended") in fixture_events(fx, log_before))
    events = fixture_events(fx, log_before)
    ends = [b for b, e in events if e == "ended"]
    r.check("all: every other connection ended before the silent one",
            "silent" in ends and sorted(ends[:ends.index("silent")]) ==
            sorted(n for n in names if n != "silent"), ends)


def fixture_events(fx, offset=0):
    """(behaviour, event) per connection log line of the fixture, from offset on."""
    return [(m.group(1), m.group(2)) for m in
            map(LOG_LINE.match, fx.stderr()[offset:].splitlines()) if m]


def settled(r, fx, connections, what):
    """Waits until the fixture has accepted that many connections and logged the end of
    each (it reads the prober's closes when it gets to them, not when the prober exits)."""
    def done():
        events = [e for _, e in fixture_events(fx)]
        return events.count("accepted") >= connections and \
            events.count("ended") == events.count("accepted")
    r.check(f"fixture: every connection of {what} ended", wait_for(done),
            f"{connections} expected: " + str(fixture_events(fx))[-600:])


def fixture_saw(r, fx):
    """What the prober did on the wire, as the fixture logged it."""
    log = fx.stderr()
    violations = [l for l in log.splitlines() if "VIOLATION" in l]
    r.check("wire: only an SSLRequest, then TLS or nothing", not violations,
            "\n    ".join(violations[:10]))
    for name in ("ok", "trickle", "huge-chain"):
        r.check(f"wire: {name}: close_notify sent",
                f"hostile_server[{name} #" in log and any(
                    l.startswith(f"hostile_server[{name} #") and "close_notify" in l
                    for l in log.splitlines()), "no close_notify logged")


def libpq_class(text):
    """pgcertprobe status implied by libpq's message for sslmode=require, no root file."""
    if "timeout expired" in text:
        return "timeout"
    if "Connection refused" in text:
        return "refused"
    if "does not support SSL" in text:
        return "no_ssl"
    # The fixture hangs up on the StartupMessage that follows a completed handshake.
    if "SSL connection has been closed unexpectedly" in text:
        return "ok"
    if "SSL error" in text or "SSL SYSCALL" in text:
        return "tls_failed"
    if any(s in text for s in ("error response during SSL exchange",
                               "invalid response to SSL negotiation",
                               "unencrypted data after SSL response",
                               "server closed the connection unexpectedly")):
        return "protocol_error"
    return "unknown: " + text.strip()[:200]


def libpq_agreement(r, fx, statuses, tmpdir):
    psql = shutil.which("psql")
    if not psql:
        r.check("libpq: psql available", False, "install postgresql-client")
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = tmpdir  # no ~/.postgresql/root.crt: require then never verifies
    env["LC_ALL"] = "C"
    for name, want in EXPECT.items():
        want = LIBPQ_DIFFERS.get(name, want)
        timeout = TIMEOUT if want == "timeout" else PROBE_TIMEOUT
        conn = (f"host=127.0.0.1 port={fx.ports[name]} sslmode=require "
                f"connect_timeout={timeout} user=probe dbname=probe")
        p = subprocess.run([psql, "-X", "-w", conn, "-c", "select 1"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout + 60)
        got = libpq_class(p.stdout.decode("utf-8", "replace"))
        r.check(f"libpq: {name} -> {want}", got == want, got)
        if name in LIBPQ_DIFFERS:
            print(f"note libpq: {name}: libpq {got}, pgcertprobe {statuses.get(name)} "
                  "(known difference)")
        elif name in statuses:
            r.check(f"libpq: {name} agrees with pgcertprobe", got == statuses[name],
                    f"libpq {got}, pgcertprobe {statuses[name]}")


def split_pem(path):
    """The PEM blocks of a file, in order."""
    with open(path) as f:
        text = f.read()
    end = "-----END CERTIFICATE-----"
    return [blk.strip() + "\n" + end + "\n" for blk in text.split(end) if "BEGIN" in blk]


def verify_agreement(r, fx, tmpdir):
    """verify-ca/verify-full verdicts on hostile certificates: pgcertprobe vs libpq."""
    psql = shutil.which("psql")
    if not psql:
        r.check("verify: psql available", False, "install postgresql-client")
        return
    certs = os.path.join(tmpdir, "certs")
    root = os.path.join(tmpdir, "huge-chain-root.pem")
    with open(root, "w") as f:
        f.write(split_pem(os.path.join(certs, "huge-chain.pem"))[-1])
    ok_pem = os.path.join(certs, "ok.pem")
    weird_pem = os.path.join(certs, "weird-cert.pem")
    # (behaviour, store file, sslmode, host, libpq's verdict as checked by hand)
    cases = [
        ("ok", ok_pem, "verify-full", "localhost", True),
        ("ok", ok_pem, "verify-full", "127.0.0.1", True),
        ("ok", ok_pem, "verify-full", "other.test", False),
        # A dNSName with an embedded NUL is an error for any host, IP hosts included.
        ("weird-cert", weird_pem, "verify-full", "localhost", False),
        ("weird-cert", weird_pem, "verify-full", "127.0.0.1", False),
        ("weird-cert", weird_pem, "verify-ca", "localhost", True),
        # 60 certificates: within OpenSSL's default depth of 100.
        ("huge-chain", root, "verify-full", "localhost", True),
        ("huge-chain", ok_pem, "verify-ca", "localhost", False),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = tmpdir
    env["LC_ALL"] = "C"
    for name, store, mode, host, want in cases:
        label = f"verify: {name} {mode} host={host} store={os.path.basename(store)}"
        conn = f"host={host} hostaddr=127.0.0.1 port={fx.ports[name]}"
        p = subprocess.run([PROBER, "--format", "json", "--timeout", str(PROBE_TIMEOUT),
                            "--sslmode", mode, "--store", f"t={store}", conn],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=PROBE_TIMEOUT + 60)
        try:
            rec = json.loads(p.stdout.decode("utf-8").strip().split("\n")[0])
            got = bool(rec["verify"]["t"]["ok"])
        except (ValueError, KeyError, IndexError, TypeError) as e:
            r.check(f"{label}: prober verdict", False, f"{e}: {p.stdout[:300]!r}")
            continue
        lp = subprocess.run([psql, "-X", "-w", f"{conn} sslmode={mode} sslrootcert={store} "
                             f"connect_timeout={PROBE_TIMEOUT} user=probe dbname=probe", "-c",
                             "select 1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=PROBE_TIMEOUT + 60)
        text = lp.stdout.decode("utf-8", "replace")
        # Past verification, libpq sends its StartupMessage and the fixture hangs up.
        libpq_ok = "SSL connection has been closed unexpectedly" in text
        r.check(f"{label}: libpq {'passes' if want else 'fails'}", libpq_ok == want,
                text.strip()[:200])
        r.check(f"{label}: pgcertprobe agrees", got == libpq_ok,
                f"pgcertprobe {got} ({rec['verify']['t'].get('error')}), libpq: "
                f"{text.strip()[:200]}")


def wait_for_prober(limit):
    """The prober may still be under construction in a shared tree: wait a little."""
    deadline = time.monotonic() + limit
    while True:
        try:
            p = subprocess.run([PROBER, "--version"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=10)
            if p.returncode == 0:
                return True
        except (OSError, subprocess.TimeoutExpired):
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)


def main():
    r = Tally()
    fixtures = []
    tmpdir = tempfile.mkdtemp(prefix="pcp-hostile-")
    try:
        if not r.check("prober runs", wait_for_prober(0), PROBER) or \
                not r.check("fixture built", os.access(FIXTURE, os.X_OK), FIXTURE):
            return 1
        ipv6 = have_ipv6_loopback()
        fx = HostileServer(["--ipv6"] if ipv6 else [], os.path.join(tmpdir, "prober.stderr"))
        fixtures.append(fx)
        r.check("fixture: every behaviour listening", set(EXPECT) <= set(fx.ports),
                str(sorted(set(EXPECT) - set(fx.ports))))
        statuses = single_runs(r, fx)
        refused_run(r)
        if ipv6:
            ipv6_runs(r, fx)
        else:
            print("skip ipv6: no ::1 on this machine")
        # One connection per single run and ipv6 run, then one per target of the run all
        # at once; what is counted in that run must not be what the earlier ones left.
        connections = len(EXPECT) + (len(IPV6_NAMES) if ipv6 else 0)
        settled(r, fx, connections, "the single runs")
        all_at_once(r, fx)
        settled(r, fx, connections + len(EXPECT), "every run")
        fixture_saw(r, fx)
        # A second instance, so libpq's StartupMessages do not count against the prober.
        os.mkdir(os.path.join(tmpdir, "certs"))
        fx2 = HostileServer(["--cert-dir", os.path.join(tmpdir, "certs")],
                            os.path.join(tmpdir, "libpq.stderr"))
        fixtures.append(fx2)
        libpq_agreement(r, fx2, statuses, tmpdir)
        verify_agreement(r, fx2, tmpdir)
    except Exception as e:  # a crash is a failure, never a pass
        r.check("test harness", False, f"{type(e).__name__}: {e}")
    finally:
        for fx in fixtures:
            fx.stop()
        if r.failed:
            for fx in fixtures:
                print(f"--- {os.path.basename(fx.log_path)} (last lines)")
                print("\n".join(fx.stderr().splitlines()[-40:]))
        shutil.rmtree(tmpdir, ignore_errors=True)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
