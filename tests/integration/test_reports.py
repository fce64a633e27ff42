#!/usr/bin/env python3
"""The machine-readable reports, read by their real consumers, against real servers:
--format prometheus validated by `promtool check metrics` and served by node_exporter's
textfile collector, its values equal to the JSON run's; --output replaced atomically and left
alone by failed or interrupted runs; the alerting rules under `promtool check rules` and
`promtool test rules` (fed with this run's own samples); --format csv read back with Python's
csv module; the systemd units and the cron line run as written against the test fleet.
Stdlib only; prints "N passed, M failed"."""

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone

from harness import PROBE_TIMEOUT, PROBER, SOURCE, WAIT_S, Tally, command_args, wait_for
from promtext import grouping_problems, one, parse_prom, record_mismatches, select
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"
PROBES = os.path.join(SOURCE, "probes")
SERVICE = os.path.join(PROBES, "systemd", "pgcertprobe.service")
TIMER = os.path.join(PROBES, "systemd", "pgcertprobe.timer")
CRON = os.path.join(PROBES, "cron", "pgcertprobe.cron")
RULES = os.path.join(PROBES, "prometheus", "pgcertprobe-alerts.yml")
TEXTFILE = "/var/lib/prometheus/node-exporter/pgcertprobe.prom"
PAST = "2021-02-14T12:00:00Z"  # before the old root expired
CSV_HEADER = ["target", "host", "addr", "port", "status", "error", "store", "at", "ok", "code",
              "depth", "reason", "class", "anchor", "path_not_after", "expiring", "leaf_sha256",
              "leaf_not_after", "negotiation", "direct_tls"]

t = Tally()


def skip(name, why):
    print(f"skip {name}: {why}")
    sys.stdout.flush()


def run(args, **kw):
    return subprocess.run([PROBER, "--timeout", str(PROBE_TIMEOUT), *args], capture_output=True,
                          **kw)


def rfc3339(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def promtool_metrics(path):
    with open(path, "rb") as f:
        p = subprocess.run([PROMTOOL, "check", "metrics"], stdin=f, capture_output=True,
                           text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def leftovers(directory, name):
    return [n for n in os.listdir(directory) if n.startswith(name + ".tmp.")]


# -- the parts ------------------------------------------------------------------------

def check_prometheus(fleet, stores, tmp, now):
    by_name = {p.server.name: p for p in fleet.probes()}
    targets = [p.conninfo for p in fleet.probes()]
    out = os.path.join(tmp, "fleet.prom")

    proc = run([*stores, "--format", "json", "--at", now, *targets], text=True)
    records = {r["target"]: r for r in map(json.loads, proc.stdout.splitlines())}
    t.check("json run: one record per address", len(records) == 4, proc.stdout[-500:])

    proc = run([*stores, "--format", "prometheus", "--output", out, "--at", now, *targets],
               text=True)
    t.check("prometheus: exit 2 (nossl not probed)", proc.returncode == 2,
            f"exit {proc.returncode}: {proc.stderr}")
    t.check("prometheus: nothing on stdout with --output", proc.stdout == "", proc.stdout[:200])
    t.check("prometheus: the file exists, no temporary file left",
            os.path.exists(out) and not leftovers(tmp, "fleet.prom"), os.listdir(tmp))
    mask = os.umask(0)
    os.umask(mask)
    mode = os.stat(out).st_mode & 0o777
    t.check("prometheus: file mode follows the umask (readable by the collector)",
            mode == 0o666 & ~mask, oct(mode))
    rc, msg = promtool_metrics(out)
    t.check("promtool check metrics: exit 0, no complaints", rc == 0 and msg == "",
            f"exit {rc}: {msg}")
    text = open(out, encoding="utf-8").read()
    s = parse_prom(text)
    t.check("prometheus: families grouped, series unique", not grouping_problems(text),
            grouping_problems(text)[:5])
    for fam in ("probe_success", "probe_duration_seconds", "tls_reached", "probe_status",
                "verified", "verify_error_code", "path_not_after_seconds",
                "cert_not_after_seconds", "class", "run_addresses",
                "run_verified_addresses", "run_unreachable_addresses",
                "run_timestamp_seconds", "run_duration_seconds"):
        name = "pgcertprobe_" + fam
        t.check(f"prometheus: {name} has HELP, TYPE and samples",
                f"# HELP {name} " in text and f"# TYPE {name} gauge" in text and
                select(s, name), name)

    def lbl(server):
        p = by_name[server]
        return dict(target=p.conninfo, addr=p.server.addr, port=str(p.server.port))

    t.check("verified{store=new} of the new server is 1",
            one(s, "pgcertprobe_verified", store="new", **lbl("new")) == 1)
    t.check("verified{store=old} of the old server is 0 (emitted although it fails)",
            one(s, "pgcertprobe_verified", store="old", **lbl("old")) == 0)
    t.check("verified{store=combined} of the old server is 0",
            one(s, "pgcertprobe_verified", store="combined", **lbl("old")) == 0)
    t.check("the old server's error code: certificate has expired (10)",
            one(s, "pgcertprobe_verify_error_code", store="combined", **lbl("old")) == 10)
    t.check("the old server has no path_not_after under a store it fails",
            not select(s, "pgcertprobe_path_not_after_seconds", store="old", **lbl("old")))
    t.check("nossl: tls_reached 0, probe_success 0",
            one(s, "pgcertprobe_tls_reached", **lbl("nossl")) == 0 and
            one(s, "pgcertprobe_probe_success", **lbl("nossl")) == 0)
    t.check("nossl: probe_status{status=no_ssl}",
            one(s, "pgcertprobe_probe_status", status="no_ssl", **lbl("nossl")) == 1)
    t.check("nossl: no verified, error code or certificate samples",
            not select(s, "pgcertprobe_verified", **lbl("nossl")) and
            not select(s, "pgcertprobe_verify_error_code", **lbl("nossl")) and
            not select(s, "pgcertprobe_cert_not_after_seconds", **lbl("nossl")))
    t.check("the servers that reached TLS: tls_reached 1, one verified sample per store",
            all(one(s, "pgcertprobe_tls_reached", **lbl(n)) == 1 and
                len(select(s, "pgcertprobe_verified", **lbl(n))) == 3
                for n in ("old", "new", "bridge")))
    t.check("no fingerprints or serials in labels",
            not re.search(r"[0-9a-f]{64}|serial", text))

    # Every value equals the JSON run's.
    mismatches = []
    for name, p in by_name.items():
        mismatches += [(name, *m) for m in record_mismatches(s, records[p.conninfo], lbl(name))]
    t.check("prometheus values equal the JSON run's", not mismatches, mismatches)
    verified = {st: sum(1 for r in records.values() if r["status"] == "ok" and
                        r["verify"][st]["ok"]) for st in ("old", "new", "combined")}
    t.check("run totals: addresses, unreachable, verified per store",
            one(s, "pgcertprobe_run_addresses") == 4 and
            one(s, "pgcertprobe_run_unreachable_addresses") == 1 and
            all(one(s, "pgcertprobe_run_verified_addresses", store=st) == n
                for st, n in verified.items()) and verified["new"] == 2,
            (verified, select(s, "pgcertprobe_run_verified_addresses")))
    ts = one(s, "pgcertprobe_run_timestamp_seconds")
    t.check("run timestamp is now", isinstance(ts, float) and abs(ts - time.time()) < 120, ts)

    # Two instants: every verdict per instant, under an at label.
    out2 = os.path.join(tmp, "instants.prom")
    proc = run([*stores, "--format", "prometheus", "--output", out2, "--at", PAST, "--at", now,
                *targets], text=True)
    rc, msg = promtool_metrics(out2)
    t.check("two instants: promtool check metrics passes", proc.returncode == 2 and rc == 0 and
            msg == "", f"exit {proc.returncode} {proc.stderr}; promtool {rc}: {msg}")
    text2 = open(out2, encoding="utf-8").read()
    s2 = parse_prom(text2)
    t.check("two instants: families grouped, series unique", not grouping_problems(text2),
            grouping_problems(text2)[:5])
    t.check("two instants: the old server verifies under old before the expiry, not now",
            one(s2, "pgcertprobe_verified", store="old", at=PAST, **lbl("old")) == 1 and
            one(s2, "pgcertprobe_verified", store="old", at=now, **lbl("old")) == 0)
    t.check("two instants: 3 stores x 2 instants x 3 chains verified samples",
            len(select(s2, "pgcertprobe_verified")) == 18)
    t.check("two instants: run totals per store per instant",
            one(s2, "pgcertprobe_run_verified_addresses", store="old", at=PAST) == 2 and
            one(s2, "pgcertprobe_run_verified_addresses", store="old", at=now) == 0,
            select(s2, "pgcertprobe_run_verified_addresses"))
    t.check("two instants: per-address samples carry no at label",
            all("at" not in dict(k[1]) for k in select(s2, "pgcertprobe_probe_success")))
    return out, s, lbl


def check_output_file(fleet, stores, tmp):
    target = fleet.probes()[0].conninfo
    out = os.path.join(tmp, "atomic.prom")

    # A run that completes replaces the file.
    with open(out, "w") as f:
        f.write("previous\n")
    proc = run([*stores, "--format", "prometheus", "--output", out, target], text=True)
    t.check("--output: a completed run replaces the file",
            proc.returncode in (0, 1) and open(out).read().startswith("# HELP"),
            f"exit {proc.returncode}: {proc.stderr}")

    # A directory that does not exist: usage error, nothing created.
    bad = os.path.join(tmp, "no-such-dir", "x.prom")
    proc = run([*stores, "--format", "prometheus", "--output", bad, target], text=True)
    t.check("--output in a missing directory: exit 64 naming the file",
            proc.returncode == 64 and bad in proc.stderr, f"exit {proc.returncode}: "
            f"{proc.stderr}")

    # An interrupted run leaves the previous file and no temporary file. The signal comes
    # once the temporary file exists and the probe is connected (accepted here, never
    # answered), whatever the machine's speed.
    with open(out, "w") as f:
        f.write("previous\n")
    silent = socket.socket()
    silent.bind(("127.0.4.200", 0))
    silent.listen(8)
    silent.settimeout(WAIT_S)
    port = silent.getsockname()[1]
    conn = None
    try:
        p = subprocess.Popen([PROBER, *stores, "--format", "prometheus", "--output", out,
                              "--timeout", "600", "127.0.4.200:%d" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        saw_tmp = bool(wait_for(lambda: leftovers(tmp, "atomic.prom")))
        try:
            conn, _ = silent.accept()
        except OSError:
            pass
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
    finally:
        if conn:
            conn.close()
        silent.close()
    t.check("interrupted: the probe was in flight when signalled", conn is not None)
    t.check("interrupted: the temporary file existed during the run", saw_tmp)
    t.check("interrupted: exit 143, previous file kept, temporary file removed",
            rc == 143 and open(out).read() == "previous\n" and
            not leftovers(tmp, "atomic.prom"), (rc, open(out).read()[:80], os.listdir(tmp)))

    # "-" is standard output.
    proc = run([*stores, "--format", "prometheus", "--output", "-", target], text=True)
    t.check("--output -: standard output", proc.stdout.startswith("# HELP"), proc.stderr)


def scrape_node_exporter(textdir):
    """node_exporter with only the textfile collector on a free port of 127.0.4.1, scraped
    once: (body, stderr). The port is free when picked but may be taken before
    node_exporter binds it: then it exits, and another port is tried."""
    body, err = "", b""
    for _ in range(3):
        s = socket.socket()
        s.bind(("127.0.4.1", 0))
        port = s.getsockname()[1]
        s.close()
        p = subprocess.Popen([NODE_EXPORTER, "--collector.disable-defaults",
                              "--collector.textfile", "--collector.textfile.directory=" + textdir,
                              "--web.listen-address=127.0.4.1:%d" % port],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def scrape():
            try:
                with urllib.request.urlopen("http://127.0.4.1:%d/metrics" % port,
                                            timeout=WAIT_S) as r:
                    return r.read().decode()
            except OSError:
                return p.poll() is not None and "exited"
        try:
            body = wait_for(scrape) or ""
        finally:
            p.terminate()
            try:
                _, err = p.communicate(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
        if body != "exited":
            return body, err
    return "", err


def check_node_exporter(tmp, prom_file, samples):
    # make test installs prometheus-node-exporter: its absence is a failure, not a skip.
    if not t.check("node_exporter installed", os.access(NODE_EXPORTER, os.X_OK), NODE_EXPORTER):
        return
    textdir = os.path.join(tmp, "textfile")
    os.makedirs(textdir)
    shutil.copy(prom_file, os.path.join(textdir, "pgcertprobe.prom"))
    body, err = scrape_node_exporter(textdir)
    served = parse_prom("\n".join(l for l in body.splitlines() if l.startswith("pgcertprobe_")))
    t.check("node_exporter: textfile read without error",
            re.search(r"^node_textfile_scrape_error 0$", body, re.M),
            body[-800:] or err.decode(errors="replace")[-800:])
    t.check("node_exporter: serves every pgcertprobe sample",
            set(served) == set(samples), (len(served), len(samples)))


def check_rules(tmp, samples, lbl):
    p = subprocess.run([PROMTOOL, "check", "rules", RULES], capture_output=True, text=True)
    t.check("promtool check rules: success", p.returncode == 0 and "SUCCESS" in p.stdout,
            p.stdout + p.stderr)

    # The rules fire as meant: on this run's own samples (a server that stops verifying, an
    # unreachable one) and on synthetic series for the time-based ones.
    def series(name, labels):
        inner = ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"'))
                         for k, v in sorted(labels.items()))
        return "%s{%s}" % (name, inner)

    input_series = []
    for (name, labels), value in samples.items():
        if name in ("pgcertprobe_verified", "pgcertprobe_tls_reached",
                    "pgcertprobe_probe_success"):
            input_series.append({"series": series(name, dict(labels)),
                                 "values": "%g+0x180" % value})
    syn = dict(target="db", addr="10.0.0.1", port="5432", instance="probe1", job="node")
    input_series += [
        # Verifies for another 10 days when evaluated at 2h.
        {"series": series("pgcertprobe_path_not_after_seconds", dict(syn, store="combined")),
         "values": "%d+0x180" % (7200 + 10 * 86400)},
        # The leaf was rotated at 45m.
        {"series": series("pgcertprobe_cert_not_after_seconds", dict(syn, position="0")),
         "values": "100+0x44 200+0x135"},
        # The last run finished at time 0.
        {"series": series("pgcertprobe_run_timestamp_seconds", dict(instance="probe1",
                                                                    job="node")),
         "values": "0+0x180"},
    ]
    old, nossl = lbl("old"), lbl("nossl")
    where = "%s (%s:%s)"
    tests = {"rule_files": [RULES], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",  # within the 5m lookback: series never go stale
        "input_series": input_series,
        "alert_rule_test": [
            {"eval_time": "1h", "alertname": "PgCertProbeChainNotVerifying", "exp_alerts": [{
                "exp_labels": dict(old, store="combined", severity="critical"),
                "exp_annotations": {
                    "summary": (where + " no longer verifies under combined") % (
                        old["target"], old["addr"], old["port"]),
                    "description": "libpq clients with sslrootcert=combined and verify-full "
                                   "cannot connect. Run pgcertprobe --explain %s for the "
                                   "reason and the commands to reproduce it." % old["target"]},
            }]},
            {"eval_time": "1h", "alertname": "PgCertProbeProbeFailing", "exp_alerts": [{
                "exp_labels": dict(nossl, severity="warning"),
                "exp_annotations": {
                    "summary": ("pgcertprobe cannot probe " + where) % (
                        nossl["target"], nossl["addr"], nossl["port"]),
                    "description": "See pgcertprobe_probe_status for how the probe ended."},
            }]},
            {"eval_time": "2h", "alertname": "PgCertProbeChainExpiresSoon", "exp_alerts": [{
                "exp_labels": dict(syn, store="combined", severity="warning"),
                "exp_annotations": {
                    "summary": "db (10.0.0.1:5432) stops verifying under combined in "
                               "10d 0h 0m 0s",
                    "description": "The earliest notAfter along the verified path is within "
                                   "30 days. Renew the certificate or serve a chain to a root "
                                   "that stays valid."},
            }]},
            {"eval_time": "2h", "alertname": "PgCertProbeChainExpiresVerySoon",
             "exp_alerts": []},
            {"eval_time": "1h", "alertname": "PgCertProbeServedChainChanged", "exp_alerts": [{
                "exp_labels": dict(syn, position="0", severity="info"),
                "exp_annotations": {
                    "summary": "db (10.0.0.1:5432) serves a different certificate at "
                               "position 0",
                    "description": "The notAfter of the certificate at position 0 (0 is the "
                                   "leaf) changed within the last hour."},
            }]},
            {"eval_time": "2h", "alertname": "PgCertProbeServedChainChanged",
             "exp_alerts": []},
            {"eval_time": "30m", "alertname": "PgCertProbeTextfileStale", "exp_alerts": []},
            {"eval_time": "2h", "alertname": "PgCertProbeTextfileStale", "exp_alerts": [{
                "exp_labels": dict(instance="probe1", job="node", severity="warning"),
                "exp_annotations": {
                    "summary": "pgcertprobe has not completed a run on probe1 for 2h 0m 0s",
                    "description": "Check systemctl status pgcertprobe.service (or the cron "
                                   "log) on probe1."},
            }]},
        ],
    }]}
    path = os.path.join(tmp, "alerts-test.yml")
    with open(path, "w") as f:
        json.dump(tests, f, indent=1)  # JSON is YAML
    p = subprocess.run([PROMTOOL, "test", "rules", path], capture_output=True, text=True)
    t.check("promtool test rules: every alert fires as meant", p.returncode == 0,
            (p.stdout + p.stderr)[-3000:])


def check_csv(fleet, stores, tmp, now):
    probes = fleet.probes()
    new = fleet.server("new")
    # A target whose text holds a comma and double quotes: quoted, quotes doubled.
    odd = "host=new.example.test hostaddr=%s port=%d application_name='a,\"b\"'" % (
        new.addr, new.port)
    targets = [p.conninfo for p in probes] + [odd]
    n_addr = len(targets)

    proc = run([*stores, "--format", "csv", "--at", now, *targets])
    raw = proc.stdout
    t.check("csv: exit 2 (nossl)", proc.returncode == 2, proc.stderr)
    t.check("csv: every row ends with CRLF, no bare LF",
            raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n"), raw[-200:])
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    t.check("csv: header", rows and rows[0] == CSV_HEADER, rows[:1])
    body = [dict(zip(CSV_HEADER, r)) for r in rows[1:]]
    t.check("csv: addresses x stores rows, all full width",
            len(body) == n_addr * 3 and all(len(r) == len(CSV_HEADER) for r in rows),
            len(body))
    t.check("csv: the target with comma and quotes reads back intact",
            sum(1 for r in body if r["target"] == odd) == 3 and
            ('"' + odd.replace('"', '""') + '"').encode() in raw, odd)
    anchors = {r["anchor"] for r in body if "," in r["anchor"]}
    t.check("csv: anchors (subjects with commas) are quoted",
            anchors and all(('"%s"' % a).encode() in raw for a in anchors), anchors)

    proc = run([*stores, "--format", "json", "--at", now, *targets], text=True)
    records = [json.loads(l) for l in proc.stdout.splitlines()]
    mismatches = []
    for i, r in enumerate(records):
        for j, store in enumerate(("old", "new", "combined")):
            row = body[i * 3 + j]
            v = r["verify"].get(store) if r["status"] == "ok" else None
            chain = r["chain"]
            want = {
                "target": r["target"], "host": r["host"] or "", "addr": r["addr"] or "",
                "port": str(r["port"]), "status": r["status"], "error": r["error"] or "",
                "store": store, "at": now,
                "ok": "" if v is None else ("true" if v["ok"] else "false"),
                "code": "" if v is None else str(v["code"]),
                "depth": "" if v is None else str(v["depth"]),
                "reason": "" if v is None else (v["reason"] or ""),
                "path_not_after": "" if v is None else (v["path_not_after"] or ""),
                "leaf_sha256": chain[0]["sha256"] if chain else "",
                "leaf_not_after": chain[0]["not_after"] if chain else "",
                "expiring": "",
                "negotiation": r["negotiation"],
                "direct_tls": r["direct_tls"] or "",
            }
            if "class" in r:
                want["class"] = r["class"] or ""
            for k, w in want.items():
                if row[k] != w:
                    mismatches.append((i, store, k, row[k], w))
    t.check("csv: values equal the JSON run's", len(records) == n_addr and not mismatches,
            mismatches[:10])
    t.check("csv: nossl rows have empty verdicts and the status",
            all(r["ok"] == "" and r["code"] == "" and r["status"] == "no_ssl" and r["error"]
                for r in body if r["addr"] == fleet.server("nossl").addr))

    proc = run([*stores, "--format", "csv", "--at", PAST, "--at", now, "--warn-days", "36500",
                *targets])
    rows = list(csv.reader(io.StringIO(proc.stdout.decode(), newline=""), strict=True))
    body = [dict(zip(CSV_HEADER, r)) for r in rows[1:]]
    t.check("csv, two instants: addresses x stores x instants rows",
            len(body) == n_addr * 3 * 2, len(body))
    old = fleet.server("old").addr
    got = [(r["at"], r["store"], r["ok"]) for r in body if r["addr"] == old]
    t.check("csv, two instants: the old server per instant and store",
            got == [(PAST, "old", "true"), (PAST, "new", "false"), (PAST, "combined", "true"),
                    (now, "old", "false"), (now, "new", "false"), (now, "combined", "false")],
            got)
    t.check("csv, --warn-days: expiring true on every verified row, false on the others",
            all(r["expiring"] == ("true" if r["ok"] == "true" else "false")
                for r in body if r["ok"]), [r["expiring"] for r in body][:12])


def check_scheduled(fleet, tmp):
    unit = open(SERVICE).read()
    timer = open(TIMER).read()
    cron = [l for l in open(CRON).read().splitlines() if re.match(r"^[*0-9]", l)]
    execs = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    t.check("service: one ExecStart", len(execs) == 1, execs)
    svc_args = command_args(execs[0]) if execs else []
    documented = ["--format", "prometheus", "--output", TEXTFILE]
    t.check("service: --format prometheus --output the node_exporter textfile",
            " ".join(documented) in " ".join(svc_args), svc_args)
    t.check("service: exit codes 1 and 2 are results",
            re.search(r"^SuccessExitStatus=1 2$", unit, re.M))
    t.check("service: oneshot", re.search(r"^Type=oneshot$", unit, re.M))
    t.check("timer: every 15 minutes", re.search(r"^OnCalendar=\*:0/15$", timer, re.M))
    t.check("cron: one line every 15 minutes, run as a user",
            len(cron) == 1 and cron[0].split()[:6] == ["*/15", "*", "*", "*", "*", "root"],
            cron)
    cron_args = command_args(cron[0]) if cron else []
    t.check("cron: the same command as the service", cron_args == svc_args,
            (cron_args, svc_args))
    for name in ("systemd", "cron"):
        readme = open(os.path.join(PROBES, name, "README.md")).read()
        t.check(f"{name}/README.md documents the command",
                " ".join(documented) in readme.replace("\\\n", "")
                .replace("    ", " ").replace("  ", " "))
    readme = open(os.path.join(PROBES, "prometheus", "README.md")).read()
    t.check("prometheus/README.md documents the rules check run here",
            "promtool check rules " + os.path.relpath(RULES, SOURCE) in readme)

    # The documented command, run against the fleet: its paths moved into tmp, the stores
    # of the installed configuration replaced by the test PKI's (same names).
    conf = os.path.join(tmp, "sched.conf")
    with open(conf, "w") as f:
        f.write("[stores]\nbaltimore = %s/old.pem\ndigicert-g2 = %s/new.pem\n"
                "combined = %s/combined.pem\n" % ((fleet.pki.dir,) * 3))
    targets_file = os.path.join(tmp, "targets")
    with open(targets_file, "w") as f:
        f.write("# the test fleet\n" + "\n".join(p.conninfo for p in fleet.probes()) + "\n")
    for label, args in (("service", svc_args), ("cron", cron_args)):
        out = os.path.join(tmp, label + ".prom")
        args = [out if a == TEXTFILE else targets_file if a == "/etc/pgcertprobe/targets"
                else a for a in args]
        env = dict(os.environ, PGCERTPROBE_CONFIG=conf)
        p = subprocess.run([PROBER, *args], capture_output=True, text=True, env=env)
        rc, msg = promtool_metrics(out) if os.path.exists(out) else (None, "no file")
        s = parse_prom(open(out).read()) if rc == 0 else {}
        t.check(f"{label} command on the fleet: exit 2 (a success status), promtool passes",
                p.returncode == 2 and rc == 0 and msg == "",
                f"exit {p.returncode}: {p.stderr}; promtool {rc}: {msg}")
        t.check(f"{label} command: --warn-days gives expiring samples, combined verdicts",
                select(s, "pgcertprobe_expiring") and
                len(select(s, "pgcertprobe_verified", store="combined")) == 3, len(s))

    # systemd's own check, on copies pointing at the built binary.
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        skip("systemd-analyze verify", "systemd-analyze not installed")
        return
    d = os.path.join(tmp, "units")
    os.makedirs(d)
    with open(os.path.join(d, "pgcertprobe.service"), "w") as f:
        f.write(unit.replace("/usr/local/bin/pgcertprobe", PROBER))
    shutil.copy(TIMER, d)
    p = subprocess.run([analyze, "verify", os.path.join(d, "pgcertprobe.service"),
                        os.path.join(d, "pgcertprobe.timer")], capture_output=True, text=True)
    msg = (p.stdout + p.stderr).strip()
    if p.returncode != 0 and not re.search(r"pgcertprobe\.(service|timer)", msg):
        skip("systemd-analyze verify", "not usable here: " + msg[:200])
    else:
        t.check("systemd-analyze verify: service and timer clean",
                p.returncode == 0 and msg == "", msg)


def main():
    servers = [s for s in fleetmod.SERVERS if s.name in ("old", "new", "bridge", "nossl")]
    # 127.0.4.x: out of the way of other fleet tests running at the same time.
    with fleetmod.Fleet(servers=servers, base_octets="127.0.4") as fleet, \
            tempfile.TemporaryDirectory() as tmp:
        stores = ["--store", "old=%s/old.pem" % fleet.pki.dir,
                  "--store", "new=%s/new.pem" % fleet.pki.dir,
                  "--store", "combined=%s/combined.pem" % fleet.pki.dir,
                  "--old-store", "old", "--new-store", "new"]
        now = rfc3339(int(time.time()))
        prom_file, samples, lbl = check_prometheus(fleet, stores, tmp, now)
        check_output_file(fleet, stores, tmp)
        check_node_exporter(tmp, prom_file, samples)
        check_rules(tmp, samples, lbl)
        check_csv(fleet, stores, tmp, now)
        check_scheduled(fleet, tmp)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
