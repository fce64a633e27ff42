#!/usr/bin/env python3
"""--baseline across a real rotation: three PostgreSQL servers (old, new, bridge) are probed
into a baseline; then the test issues the old server a new leaf under the new CA and
reloads it (pg_ctl reload: PostgreSQL rereads its SSL files on SIGHUP) and stops the bridge
server. The next run must report exactly the leaf rotation, the changed intermediate and
anchor, the store verdicts that flipped, the server that became unreachable, and nothing for
the untouched one; --fail-on-change gates on it; an unchanged rerun reports nothing.
Stdlib only; prints "N passed, M failed"."""

import json
import os
import subprocess
import sys
import tempfile
import time

from harness import PROBE_TIMEOUT, PROBER, WAIT_S, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

t = Tally()


def run(args, fmt="json"):
    proc = subprocess.run([PROBER, "--format", fmt, "--timeout", str(PROBE_TIMEOUT), *args],
                          capture_output=True, text=True, timeout=120)
    records = []
    if fmt == "json":
        for line in proc.stdout.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"unparsable": line})
    return proc.returncode, records, proc.stdout, proc.stderr


def fingerprint(pem_path):
    """SHA-256 of a certificate's DER as pgcertprobe prints it, computed by openssl."""
    out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-fingerprint",
                          "-sha256"], capture_output=True, text=True, check=True).stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue_leaf(pki, host, issuer, directory):
    """A fresh leaf for host under the CA `issuer` of the fleet's PKI: (chain, key) paths."""
    with open(os.path.join(directory, "leaf.ext"), "w") as f:
        f.write("basicConstraints = critical, CA:FALSE\n"
                "keyUsage = critical, digitalSignature\n"
                "extendedKeyUsage = serverAuth\n"
                "subjectAltName = DNS:%s\n" % host)
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", "rotated.key", "-subj", "/CN=" + host, "-out", "leaf.csr",
            cwd=directory)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", pki.certs[issuer], "-CAkey",
            pki.keys[issuer], "-set_serial", "0x%x" % int.from_bytes(os.urandom(8), "big"),
            "-days", "30", "-sha256", "-extfile", "leaf.ext", "-out", "rotated.pem",
            cwd=directory)
    chain = os.path.join(directory, "rotated.chain.pem")
    with open(chain, "w") as out:
        for part in (os.path.join(directory, "rotated.pem"), pki.certs[issuer]):
            with open(part) as f:
                out.write(f.read())
    return chain, os.path.join(directory, "rotated.key"), os.path.join(directory, "rotated.pem")


def pg_ctl(fleet, server, *args):
    datadir = os.path.join(fleet.tmp, "data", server.name)
    p = subprocess.run(fleetmod._as_pg([os.path.join(fleetmod.PG_BIN, "pg_ctl"), "-D", datadir,
                                        *args]),
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=90)
    return p.returncode == 0, p.stdout + p.stderr


def rotate(fleet, server, chain, key):
    """Points the server's ssl_cert_file/ssl_key_file at chain/key (copied into its data
    directory, owned by the postgres user, key 0600) and reloads it."""
    datadir = os.path.join(fleet.tmp, "data", server.name)
    conf = []
    for src, name in ((chain, "rotated.chain.pem"), (key, "rotated.key")):
        dst = os.path.join(datadir, name)
        with open(src) as f, open(dst, "w") as out:
            out.write(f.read())
        os.chmod(dst, 0o600)
        conf.append(dst)
    fleetmod._chown_tree(datadir)
    with open(os.path.join(datadir, "postgresql.conf"), "a") as f:
        f.write("\n# rotated by test_baseline\nssl_cert_file = '%s'\nssl_key_file = '%s'\n"
                % tuple(conf))
    return pg_ctl(fleet, server, "reload")


def served_leaf(target):
    rc, records, _, _ = run([target])
    if records and records[0].get("chain"):
        return records[0]["chain"][0].get("sha256")
    return None


def changes_section(text):
    """The lines of the text output's changes section: its heading (the line that starts
    with "changes") and the indented lines under it. Kinds may be worded with spaces or
    underscores: compare with spaces."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lower().startswith("changes"):
            out = [line]
            for more in lines[i + 1:]:
                if not more.startswith("  "):
                    break
                out.append(more.replace("_", " "))
            return out
    return []


def kinds(record):
    return sorted(c.get("kind") for c in record.get("changes") or [])


def change(record, kind, store=None):
    for c in record.get("changes") or []:
        if c.get("kind") == kind and (store is None or c.get("store") == store):
            return c
    return {}


def main():
    servers = [s for s in fleetmod.SERVERS if s.name in ("new", "bridge", "old")]
    with tempfile.TemporaryDirectory() as tmp, \
            fleetmod.Fleet(servers=servers, base_octets="127.0.6") as fleet:
        pki = fleet.pki
        stores = ["--store", "old=" + pki.stores["old"], "--store", "new=" + pki.stores["new"],
                  "--store", "combined=" + pki.stores["combined"]]
        probes = {p.server.name: p.conninfo for p in fleet.probes()}
        targets = [probes["old"], probes["new"], probes["bridge"]]

        # 1. The baseline.
        base1 = os.path.join(tmp, "base1.jsonl")
        rc, recs, out, err = run(stores + targets)
        t.check("baseline run: exit 0", rc == 0, f"exit {rc}: {err}")
        t.check("baseline run: three ok records", [r.get("status") for r in recs] == ["ok"] * 3,
                recs)
        t.check("baseline run: no changes key without --baseline",
                all("changes" not in r for r in recs), recs)
        with open(base1, "w") as f:
            f.write(out)
        by = {r.get("target"): r for r in recs}
        old_before = by.get(probes["old"], {})
        t.check("baseline: old leaf is the fixture's",
                (old_before.get("chain") or [{}])[0].get("sha256") == fingerprint(pki.certs["old"]),
                old_before.get("chain"))

        # 2. Nothing changed yet: empty lists, and --fail-on-change passes.
        rc, recs, out, err = run(stores + ["--baseline", base1, "--fail-on-change"] + targets)
        t.check("unchanged: exit 0 with --fail-on-change", rc == 0, f"exit {rc}: {err}")
        t.check("unchanged: every record has an empty changes list",
                len(recs) == 3 and all(r.get("changes") == [] for r in recs), recs)

        # 3. Rotate old onto the new CA; stop bridge.
        chain, key, leaf = issue_leaf(pki, "old.example.test", "newint", tmp)
        ok, log = rotate(fleet, fleet.server("old"), chain, key)
        t.check("rotation: pg_ctl reload", ok, log)
        new_leaf = fingerprint(leaf)
        deadline = time.monotonic() + WAIT_S
        while served_leaf(probes["old"]) != new_leaf and time.monotonic() < deadline:
            time.sleep(0.2)
        t.check("rotation: the server serves the new leaf", served_leaf(probes["old"]) == new_leaf,
                open(os.path.join(fleet.tmp, "log", "old.log")).read()[-2000:])
        ok, log = pg_ctl(fleet, fleet.server("bridge"), "-m", "fast", "-w", "stop")
        t.check("bridge stopped", ok, log)

        # 4. Against the baseline: exactly what happened.
        rc, recs, out, err = run(stores + ["--baseline", base1, "--fail-on-change"] + targets)
        t.check("after rotation: --fail-on-change exits 1", rc == 1, f"exit {rc}: {err}")
        by = {r.get("target"): r for r in recs}
        old, new, bridge = (by.get(probes[n], {}) for n in ("old", "new", "bridge"))
        t.check("old: changes", kinds(old) == ["anchor_changed", "intermediate_changed",
                                               "leaf_rotated", "verdict_flipped",
                                               "verdict_flipped"], old.get("changes"))
        c = change(old, "leaf_rotated")
        t.check("old: leaf_rotated from the old leaf to the new one",
                c.get("from") == fingerprint(pki.certs["old"]) and c.get("to") == new_leaf, c)
        c = change(old, "intermediate_changed")
        t.check("old: intermediate_changed from oldint to newint",
                c.get("from") == fingerprint(pki.certs["oldint"]) and
                c.get("to") == fingerprint(pki.certs["newint"]), c)
        c = change(old, "anchor_changed")
        t.check("old: anchor_changed from the old root to the new root",
                "Baltimore-style Root" in (c.get("from") or "") and
                "G2-style Root" in (c.get("to") or ""), c)
        for store in ("new", "combined"):
            c = change(old, "verdict_flipped", store)
            t.check(f"old: verdict under {store} flipped fail -> ok",
                    c.get("from") == "fail" and c.get("to") == "ok", old.get("changes"))
        t.check("old: no flip under the old store (failed before and after)",
                not change(old, "verdict_flipped", "old"), old.get("changes"))
        t.check("old: verified under new now", old.get("verify", {}).get("new", {}).get("ok"),
                old.get("verify"))
        t.check("bridge: newly_unreachable ok -> refused",
                bridge.get("changes") == [{"kind": "newly_unreachable", "store": None,
                                           "from": "ok", "to": "refused"}],
                bridge.get("changes"))
        t.check("new: no changes", new.get("changes") == [], new.get("changes"))

        # Without the gate the exit code is the usual one (bridge did not reach TLS).
        rc, _, _, err = run(stores + ["--baseline", base1] + targets)
        t.check("after rotation: without --fail-on-change exit 2", rc == 2, f"exit {rc}: {err}")

        # The text output's changes section names what changed, and nothing else.
        rc, _, text, err = run(stores + ["--baseline", base1] + targets, fmt="text")
        section = changes_section(text)
        t.check("text: a changes section", section, text)
        t.check("text: old's rotated leaf",
                any("old.example.test" in l and "leaf rotated" in l for l in section), section)
        for store in ("new", "combined"):
            t.check(f"text: old's verdict flipped under {store}",
                    any("old.example.test" in l and "flipped" in l and f" {store}" in l
                        for l in section), section)
        t.check("text: the unreachable bridge",
                any("bridge.example.test" in l and "unreachable" in l for l in section), section)
        t.check("text: nothing about the untouched server",
                not any("new.example.test" in l for l in section), section)

        # 5. This run's output is the next baseline (with its own "changes" keys); bring
        # bridge back: reachable again, old unchanged since.
        base2 = os.path.join(tmp, "base2.jsonl")
        rc, _, out, err = run(stores + ["--baseline", base1] + targets)
        with open(base2, "w") as f:
            f.write(out)
        ok, log = pg_ctl(fleet, fleet.server("bridge"), "-l",
                         os.path.join(fleet.tmp, "log", "bridge.log"), "-w", "-t", "60", "start")
        t.check("bridge restarted", ok, log)
        base3 = os.path.join(tmp, "base3.jsonl")
        rc, recs, out, err = run(stores + ["--baseline", base2] + targets)
        with open(base3, "w") as f:
            f.write(out)
        by = {r.get("target"): r for r in recs}
        t.check("restarted: bridge reachable_again refused -> ok",
                by.get(probes["bridge"], {}).get("changes") ==
                [{"kind": "reachable_again", "store": None, "from": "refused", "to": "ok"}],
                by.get(probes["bridge"]))
        t.check("restarted: old and new unchanged since the last run",
                by.get(probes["old"], {}).get("changes") == [] and
                by.get(probes["new"], {}).get("changes") == [], recs)

        # 6. Run twice without changes: the gate passes.
        rc, recs, out, err = run(stores + ["--baseline", base3, "--fail-on-change"] + targets)
        t.check("identical baseline: exit 0 with --fail-on-change", rc == 0, f"exit {rc}: {err}")
        t.check("identical baseline: no changes anywhere",
                len(recs) == 3 and all(r.get("changes") == [] for r in recs), recs)

        # 7. A target of the baseline left out of the run is reported, and is a change.
        rc, recs, out, err = run(stores + ["--baseline", base3, "--fail-on-change"] +
                                 targets[:2])
        t.check("target left out: --fail-on-change exits 1", rc == 1, f"exit {rc}: {err}")
        t.check("target left out: named on stderr", probes["bridge"] in err, err)

        # 8. A baseline that cannot be read is an input error.
        rc, _, _, err = run(stores + ["--baseline", os.path.join(tmp, "missing.jsonl")] +
                            targets)
        t.check("unreadable baseline: exit 66", rc == 66, f"exit {rc}: {err}")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
