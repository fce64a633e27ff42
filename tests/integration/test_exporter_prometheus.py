#!/usr/bin/env python3
"""A real Prometheus (Debian's prometheus) scraping the exporter the way it scrapes
blackbox_exporter, against real PostgreSQL servers. The exporter runs as the shipped systemd
unit's ExecStart says; Prometheus runs the shipped probes/prometheus/pgcertprobe-exporter.yml
(its targets, exporter address, intervals and rule path pointed at this test) with the
shipped alert rules. Checked through Prometheus's HTTP API: every server's series per
store carry the values a one-shot --format json run gives, the module job only its module's
stores, the exporter's own job is up, and the rules load and put exactly the failing
servers' alerts in pending. Also promtool check config/rules and systemd-analyze verify on
the shipped files. Stdlib only; prints "N passed, M failed"."""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from harness import PROBE_TIMEOUT, PROBER, SOURCE, Exporter, Tally, command_args
from promtext import epoch
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
PROBES = os.path.join(SOURCE, "probes")
SCRAPE = os.path.join(PROBES, "prometheus", "pgcertprobe-exporter.yml")
RULES = os.path.join(PROBES, "prometheus", "pgcertprobe-exporter-alerts.yml")
UNIT = os.path.join(PROBES, "systemd", "pgcertprobe-exporter.service")
PATIENCE = 180  # seconds for the series to appear (two scrapes and a rule evaluation)

t = Tally()


def free_port():
    for _ in range(200):
        port = random.SystemRandom().randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def shipped_checks(tmp):
    for args, what in (([PROMTOOL, "check", "config", SCRAPE], "scrape configuration"),
                       ([PROMTOOL, "check", "rules", RULES], "alert rules")):
        p = subprocess.run(args, capture_output=True, text=True)
        t.check("promtool check: the shipped %s" % what, p.returncode == 0,
                p.stdout + p.stderr)
    unit = open(UNIT).read()
    d = os.path.join(tmp, "units")
    os.makedirs(d)
    path = os.path.join(d, os.path.basename(UNIT))
    with open(path, "w") as f:
        f.write(unit.replace("/usr/local/bin/pgcertprobe", PROBER))
    p = subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True)
    msg = (p.stdout + p.stderr).strip()
    if p.returncode != 0 and "pgcertprobe-exporter" not in msg:
        print("skip systemd-analyze verify: not usable here: " + msg[:200])
    else:
        t.check("systemd-analyze verify: the exporter unit is clean",
                p.returncode == 0 and msg == "", msg)
    execs = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    t.check("exporter unit: one ExecStart with --listen", len(execs) == 1 and
            "--listen" in command_args(execs[0]), execs)
    return command_args(execs[0])


def prometheus_config(tmp, targets, cutover_target, exporter):
    """The shipped scrape configuration with this test's targets, exporter and speed."""
    text = open(SCRAPE).read()
    subs = [
        ('          - db1.example.com:5432\n          - "host=db2.example.com port=6432"\n',
         "".join("          - %s\n" % json.dumps(x) for x in targets)),
        ("          - db1.example.com:5432\n", "          - %s\n" % json.dumps(cutover_target)),
        ("127.0.0.1:9862", exporter),
        ("  - pgcertprobe-exporter-alerts.yml\n", "  - %s\n" % RULES),
    ]
    for old, new in subs:
        t.check("the shipped scrape configuration holds %r" % old.strip()[:40], old in text)
        text = text.replace(old, new)
    # Scrapes every 5 s with a 5 s timeout (the probe's deadline, less a margin): a loaded
    # machine does not turn a reachable server into a timed-out probe, as 1 s could.
    text = re.sub(r"evaluation_interval: \S+", "evaluation_interval: 1s", text)
    text = re.sub(r"(scrape_interval|scrape_timeout): \S+", r"\1: 5s", text)
    path = os.path.join(tmp, "prometheus.yml")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([PROMTOOL, "check", "config", path], capture_output=True, text=True)
    t.check("promtool check config: the test's configuration", p.returncode == 0,
            p.stdout + p.stderr)
    return path


class Prometheus:
    def __init__(self, tmp, config):
        self.port = free_port()
        self.log = open(os.path.join(tmp, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True)

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path,
                                                     urllib.parse.urlencode(params))
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
        if body.get("status") != "success":
            raise RuntimeError(body)
        return body["data"]

    def query(self, q):
        """{frozenset(labels.items()): value} of an instant query."""
        return {frozenset(r["metric"].items()): float(r["value"][1])
                for r in self.api("query", query=q)["result"]}

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self.log.close()


def values(prom, name, **labels):
    """{instance: {other labels...: value}} of the series of name with these labels."""
    sel = ",".join('%s="%s"' % kv for kv in labels.items())
    out = {}
    for k, v in prom.query("%s{%s}" % (name, sel)).items():
        d = dict(k)
        out.setdefault(d["instance"], {})[frozenset(
            (a, b) for a, b in d.items() if a not in ("instance", "__name__"))] = v
    return out


def wait_for(prom, targets, n_stores_ok):
    """Polls until every target has probe_success and the reachable ones every verdict, and
    the exporter's own job has been scraped (each job's first scrape comes at its own
    offset within the interval)."""
    deadline = time.monotonic() + PATIENCE
    last = None
    while time.monotonic() < deadline:
        try:
            ok = values(prom, "pgcertprobe_probe_success", job="pgcertprobe")
            verified = prom.query('pgcertprobe_verified{job="pgcertprobe"}')
            cut = prom.query('pgcertprobe_verified{job="pgcertprobe_cutover"}')
            own = prom.query('pgcertprobe_exporter_build_info{job="pgcertprobe_exporter"}')
            alerts = prom.api("alerts")["alerts"]
            last = (len(ok), len(verified), len(cut), len(own), len(alerts))
            if set(ok) == set(targets) and len(verified) == n_stores_ok and cut and own and \
                    alerts:
                return True, last
        except (OSError, RuntimeError) as e:
            last = repr(e)
        time.sleep(1)
    return False, last


def main():
    servers = [s for s in fleetmod.SERVERS
               if s.name in ("old", "new", "bridge", "mismatch", "nossl")]
    with tempfile.TemporaryDirectory() as tmp:
        unit_args = shipped_checks(tmp)
        with fleetmod.Fleet(servers=servers, base_octets="127.0.15") as fleet:
            conf = os.path.join(tmp, "exporter.conf")
            with open(conf, "w") as f:
                f.write("[stores]\n" + "".join("%s = %s\n" % (n, fleet.pki.stores[n])
                                               for n in ("old", "new", "combined")) +
                        "[module cutover]\nsslmode = verify-ca\nstores = new, combined\n")
            # The unit's command, on a free port, with this test's configuration.
            i = unit_args.index("--listen")
            args = unit_args[:i] + unit_args[i + 2:]
            x = Exporter(*args, env=dict(os.environ, PGCERTPROBE_CONFIG=conf))
            targets = [p.conninfo for p in fleet.probes()]
            config = prometheus_config(tmp, targets, targets[0], "%s:%d" % (x.host, x.port))
            prom = Prometheus(tmp, config)
            try:
                check(prom, fleet, conf, targets, x)
            finally:
                prom.stop()
                rc, err = x.stop()
            t.check("the exporter exits 0 on SIGTERM", rc == 0, err)
    return t.finish()


def compare(prom, records):
    """up per target, pgcertprobe_probe_success per target, and what differs between
    Prometheus's values and the JSON run's records."""
    up = values(prom, "up")
    success = values(prom, "pgcertprobe_probe_success", job="pgcertprobe")
    status = values(prom, "pgcertprobe_probe_status", job="pgcertprobe")
    verified = values(prom, "pgcertprobe_verified", job="pgcertprobe")
    codes = values(prom, "pgcertprobe_verify_error_code", job="pgcertprobe")
    not_after = values(prom, "pgcertprobe_cert_not_after_seconds", job="pgcertprobe")
    expiring = values(prom, "pgcertprobe_expiring", job="pgcertprobe")
    bad = []
    for tg, r in records.items():
        if list(success.get(tg, {}).values()) != [float(r["status"] == "ok")]:
            bad.append((tg, "success"))
        if [dict(k)["status"] for k in status.get(tg, {})] != [r["status"]]:
            bad.append((tg, "status", status.get(tg)))
        got_certs = {dict(k)["position"]: v for k, v in not_after.get(tg, {}).items()}
        if got_certs != {str(i): epoch(c["not_after"]) for i, c in enumerate(r["chain"])}:
            bad.append((tg, "certificates", got_certs))
        for store, v in r["verify"].items() if r["status"] == "ok" else ():
            per = {dict(k)["store"]: val for k, val in verified.get(tg, {}).items()}
            code = {dict(k)["store"]: val for k, val in codes.get(tg, {}).items()}
            exp = {dict(k)["store"]: val for k, val in expiring.get(tg, {}).items()}
            if per.get(store) != float(v["ok"]) or code.get(store) != v["code"] or \
                    exp.get(store) != float(v.get("expiring", False)):
                bad.append((tg, store, per.get(store), code.get(store), v))
    return up, success, bad


def check(prom, fleet, conf, targets, x):
    records = {}
    for target in targets:
        p = subprocess.run([PROBER, "--config", conf, "--warn-days", "30", "--format", "json",
                            "--timeout", str(PROBE_TIMEOUT), target], capture_output=True,
                           text=True)
        records[target] = json.loads(p.stdout.splitlines()[0])
    reachable = [tg for tg, r in records.items() if r["status"] == "ok"]
    ready, last = wait_for(prom, targets, 3 * len(reachable))
    t.check("Prometheus holds every server's series within %d s" % PATIENCE, ready,
            (last, open(prom.log.name, errors="replace").read()[-2000:]))
    if not ready:
        return
    # Prometheus keeps the latest scrape: one slow scrape on a loaded machine (a probe past
    # its 4.5 s) shows for one interval only, so the comparison is retried until it holds.
    deadline = time.monotonic() + PATIENCE
    while True:
        up, success, bad = compare(prom, records)
        up_ok = all(up.get(tg) and list(up[tg].values()) == [1.0] * len(up[tg])
                    for tg in targets) and len(up) == len(targets) + 1
        if (up_ok and not bad) or time.monotonic() >= deadline:
            break
        time.sleep(1)
    t.check("up: every /probe target and the exporter's own job", up_ok, up)
    t.check("per server and store: Prometheus's values equal the JSON run's", not bad, bad[:5])
    t.check("the target label is the target, the instance label too",
            all(dict(k)["target"] == tg for tg, d in success.items() for k in d))
    cut = values(prom, "pgcertprobe_verified", job="pgcertprobe_cutover")
    t.check("the module job: its module's stores only",
            list(cut) == [targets[0]] and
            sorted(dict(k)["store"] for k in cut[targets[0]]) == ["combined", "new"], cut)
    own = prom.query('pgcertprobe_exporter_build_info{job="pgcertprobe_exporter"}')
    t.check("the exporter's own metrics are scraped", list(own.values()) == [1.0], own)

    groups = prom.api("rules")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    t.check("the shipped rules load, all healthy",
            len(rules) == 8 and all(r.get("health") == "ok" for r in rules),
            [(r["name"], r.get("health"), r.get("lastError")) for r in rules])
    want = {
        "PgCertProbeChainNotVerifying": {tg for tg, r in records.items() if r["status"] == "ok"
                                         and not r["verify"]["combined"]["ok"]},
        "PgCertProbeProbeFailing": {tg for tg, r in records.items() if r["status"] != "ok"},
    }
    t.check("the servers that fail: old (expired root), mismatch (name), nossl",
            {records[tg]["host"] for s in want.values() for tg in s} ==
            {"old.example.test", "mismatch.example.test", "nossl.example.test"}, want)
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        alerts = prom.api("alerts")["alerts"]
        got = {name: {a["labels"]["instance"] for a in alerts if a["labels"]["alertname"] ==
                      name and a["labels"].get("job") == "pgcertprobe"} for name in want}
        if got == want:
            break
        time.sleep(1)
    t.check("alerts pending for exactly the failing servers", got == want, (got, want))
    t.check("no exporter alert (it is up and never busy)",
            not [a for a in alerts if a["labels"]["alertname"].startswith(
                ("PgCertProbeExporter", "PgCertProbeScrapes"))], alerts)


if __name__ == "__main__":
    sys.exit(main())
