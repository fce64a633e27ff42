#!/usr/bin/env python3
"""--explain, reproduced: the commands pgcertprobe prints under each failure give the same
verdict when a person runs them.

Starts a small fleet (old, new, bridge, mismatch, nointer; tests/fixtures/fleet.py on
127.0.5.x) and runs pgcertprobe --explain in text (and the same run in JSON) now and at two
instants. Then, in a shell with a timeout, it runs every printed command:
  - psql must exit non-zero (no connection) for every printed (✗) command, and exit 0 for
    the same command with the store of a ✓ cell put in its place;
  - openssl s_client must print "Verify return code: 0" exactly for ✓ cells.
At the two instants the verdicts are also compared with real libpq under faketime
(tests/libpq_verdict), per instant and store. The text table is checked against the JSON
verdicts, and every ✗ cell of a reachable row must have its reason line and two commands.
Needs PCP_BUILD_DIR; faketime, psql and openssl on PATH.
"""

import calendar
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, PROBE_TIMEOUT, PROBER, SOURCE, Tally  # noqa: E402,F401
import fleet as fleetmod  # noqa: E402

LIBPQ_VERDICT = os.path.join(BUILD, "tests", "libpq_verdict")
SERVERS = ["old", "new", "bridge", "mismatch", "nointer"]
STORES = ["old", "new", "combined"]
# The two instants of the second run: before the old root expired, and after.
INSTANTS = [("2021-02-14T12:00:00Z", "2021-02-14 12:00:00 UTC"),
            ("2025-06-01T00:00:00Z", "2025-06-01 00:00:00 UTC")]
CMD_TIMEOUT = PROBE_TIMEOUT + 60


def clean_env(home):
    """What a person reproducing by hand has: no PG* settings but the role to log in as,
    an empty HOME (no ~/.postgresql), UTC. ASan builds need faketime before the runtime."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=home, TZ="UTC", PGUSER="postgres", PGCONNECT_TIMEOUT=str(PROBE_TIMEOUT))
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "verify_asan_link_order=0"
    return env


def run_prober(env, stores, targets, ats, fmt):
    args = [PROBER, "--format", fmt, "--color", "never", "--timeout", str(PROBE_TIMEOUT),
            "--old-store", "old", "--new-store", "new"]
    if fmt == "text":
        args.append("--explain")
    for name in STORES:
        args += ["--store", "%s=%s" % (name, stores[name])]
    for at in ats:
        args += ["--at", at]
    p = subprocess.run(args + targets, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=180)
    return p, args


def parse_text(out, n_cols):
    """The table rows (address text, cells), and the reason lines (address, column label,
    words, [commands]) in order."""
    lines = out.split("\n")
    header = re.split(r"\s{2,}", lines[0].strip())
    rows, i = [], 1
    while i < len(lines) and lines[i].strip():
        cells = re.split(r"\s{2,}", lines[i].rstrip())
        rows.append((cells[0], cells[1:]))
        i += 1
    reasons = []
    reason_re = re.compile(r"^  (\S.*?) under (\S+): (.*)$")
    for line in lines[i:]:
        m = reason_re.match(line)
        if m:
            reasons.append({"addr": m.group(1), "label": m.group(2), "words": m.group(3),
                            "commands": []})
        elif line.startswith("    ") and reasons:
            reasons[-1]["commands"].append(line[4:])
    return header, rows, reasons


def sh(cmd, env):
    """Runs one printed command line in a shell; (exit status, combined output)."""
    try:
        p = subprocess.run(["sh", "-c", cmd], env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=CMD_TIMEOUT)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired:
        return None, "timed out"


def verify_code(output):
    m = re.search(r"Verify return code: (\d+)", output)
    return int(m.group(1)) if m else None


def swap_store(cmd, old_path, new_path):
    q_old, q_new = shlex.quote(old_path), shlex.quote(new_path)
    out = cmd.replace(" -CAfile %s " % q_old, " -CAfile %s " % q_new)
    return out.replace("sslrootcert=%s " % old_path, "sslrootcert=%s " % new_path)


def swap_instant(cmd, at, fake):
    """The command at another instant: -attime and faketime's argument."""
    cmd = re.sub(r"-attime \d+", "-attime %d" % at, cmd)
    return re.sub(r"^faketime '[^']*' ", ("faketime '%s' " % fake) if fake else "", cmd)


def check_target(t, env, stores, target, ats, fakes, tag):
    """One target (text --explain and JSON) at the given instants ([] = now). One target
    per run keeps every reason line under the cap of 20 and each row's address unique.
    Returns the JSON record, or None."""
    pt, args = run_prober(env, stores, [target], ats, "text")
    pj, _ = run_prober(env, stores, [target], ats, "json")
    t.check("%s: %s: text run exits 0..2" % (tag, target), pt.returncode in (0, 1, 2),
            "rc=%d stderr=%s args=%s" % (pt.returncode, pt.stderr[-500:], args))
    recs = [json.loads(l) for l in pj.stdout.splitlines() if l.strip()]
    if not t.check("%s: %s: one JSON record" % (tag, target), len(recs) == 1,
                   "%d records" % len(recs)):
        return None
    rec = recs[0]
    n_at = max(1, len(ats))
    header, rows, reasons = parse_text(pt.stdout, n_at * len(STORES))
    want_header = ["address"] + ["%s@%s" % (s, a.replace("T00:00:00Z", "")) if n_at > 1 else s
                                 for a in (ats or [None]) for s in STORES]
    t.check("%s: %s: header" % (tag, target), header == want_header,
            "%r != %r" % (header, want_header))
    if not t.check("%s: %s: one row" % (tag, target), len(rows) == 1, pt.stdout[-500:]):
        return rec
    addr, cells = rows[0]
    if rec["status"] != "ok":
        return rec

    def verdict(a, store):
        return (rec["verify_at"][rec["ats"][a]] if n_at > 1 else rec["verify"])[store]

    # The table says what the JSON says; each ✗ cell has its reason and two commands, in
    # column order.
    by_label = {r["label"]: r for r in reasons}
    t.check("%s: %s: reasons in column order" % (tag, target),
            [r["label"] for r in reasons] == [h for h in header[1:] if not
                                              verdict(*divmod_label(header, h)).get("ok")],
            repr([r["label"] for r in reasons]))
    for a in range(n_at):
        for i, store in enumerate(STORES):
            v = verdict(a, store)
            label = header[1 + a * len(STORES) + i]
            cell = cells[a * len(STORES) + i]
            t.check("%s: %s %s cell agrees with JSON" % (tag, addr, label),
                    cell.startswith("✓") == v["ok"], "cell %r, json %r" % (cell, v))
            r = by_label.get(label)
            if r is not None:
                t.check("%s: %s %s has openssl and psql lines" % (tag, addr, label),
                        len(r["commands"]) == 2
                        and r["commands"][0].startswith("openssl s_client ")
                        and re.match(r"^(faketime '[^']+' )?psql '", r["commands"][1]),
                        repr(r["commands"]))

    # Reproduce every cell: the printed commands for ✗; for ✓ the same commands with the
    # other store (and instant) in place.
    template = next((r for r in reasons if len(r["commands"]) == 2), None)
    if not t.check("%s: %s: some cell fails, so its commands can be reused" % (tag, target),
                   template is not None, pt.stdout[-300:]):
        return rec
    t_store = template["label"].split("@")[0]
    for a in range(n_at):
        for i, store in enumerate(STORES):
            v = verdict(a, store)
            label = header[1 + a * len(STORES) + i]
            printed = by_label.get(label)
            if printed is not None and len(printed["commands"]) == 2:
                ossl, psql = printed["commands"]
            else:
                ossl, psql = (swap_store(c, stores[t_store], stores[store])
                              for c in template["commands"])
                if n_at > 1:
                    at = calendar.timegm(time.strptime(ats[a], "%Y-%m-%dT%H:%M:%SZ"))
                    ossl, psql = (swap_instant(c, at, fakes[a]) for c in (ossl, psql))
            rc, out = sh(psql, env)
            t.check("%s: psql %s %s %s" % (tag, addr, label,
                                           "connects" if v["ok"] else "fails"),
                    rc is not None and (rc == 0) == v["ok"],
                    "rc=%s cmd=%s out=%s" % (rc, psql, out[-300:]))
            rc, out = sh(ossl, env)
            code = verify_code(out)
            t.check("%s: openssl %s %s verify code %s" % (tag, addr, label,
                                                          "0" if v["ok"] else "not 0"),
                    (code == 0) == v["ok"], "code=%s cmd=%s out=%s" % (code, ossl, out[-400:]))
    return rec


def divmod_label(header, label):
    """(instant index, store) of a column title."""
    k = header.index(label) - 1
    return k // len(STORES), STORES[k % len(STORES)]


def check_libpq(t, env, stores, targets, recs, instants, fakes):
    """Real libpq under faketime agrees with every verdict at every instant."""
    for a, fake in enumerate(fakes):
        for store in STORES:
            conninfos = ["%s sslmode=%s sslrootcert=%s dbname=postgres user=postgres "
                         "connect_timeout=%d" % (tg, r["sslmode"], stores[store], PROBE_TIMEOUT)
                         for tg, r in zip(targets, recs)]
            p = subprocess.run(["faketime", fake, LIBPQ_VERDICT] + conninfos, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=120)
            lines = p.stdout.splitlines()
            t.check("libpq_verdict ran (%s, %s)" % (store, fake),
                    p.returncode == 0 and len(lines) == len(targets), p.stderr[-300:])
            for tg, r, line in zip(targets, recs, lines):
                v = r["verify_at"][instants[a]][store] if r["status"] == "ok" else {"ok": False}
                t.check("libpq agrees: %s %s @%s" % (tg, store, instants[a]),
                        (line == "ok") == v["ok"], "libpq %r, pgcertprobe %r" % (line, v))


def main():
    t = Tally()
    for exe in (PROBER, LIBPQ_VERDICT):
        if not os.access(exe, os.X_OK):
            print("missing executable: %s" % exe)
            return 1
    servers = [s for s in fleetmod.SERVERS if s.name in SERVERS]
    home = tempfile.mkdtemp(prefix="pcp-explain-home-")
    env = clean_env(home)
    try:
        with fleetmod.Fleet(servers=servers, base_octets="127.0.5") as f:
            stores = f.pki.stores
            targets = [p.conninfo for p in f.probes()]
            new = f.server("new")
            mm = f.server("mismatch")
            # An IP literal host (no SNI, -verify_ip) and a verify-ca target.
            targets.append("%s:%d" % (new.addr, new.port))
            targets.append("host=mismatch.example.test hostaddr=%s port=%d sslmode=verify-ca"
                           % (mm.addr, mm.port))

            for target in targets:
                check_target(t, env, stores, target, [], [None], "now")
            fakes = [fake for _, fake in INSTANTS]
            ats = [at for at, _ in INSTANTS]
            recs = [check_target(t, env, stores, target, ats, fakes, "two instants")
                    for target in targets]
            if all(recs):
                check_libpq(t, env, stores, targets, recs, recs[0]["ats"], fakes)
    finally:
        os.rmdir(home) if os.path.isdir(home) and not os.listdir(home) else None
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
