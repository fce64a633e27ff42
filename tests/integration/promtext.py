"""The Prometheus text exposition format read back by the integration tests: samples by name
and labels, the grouping rules promtool does not check, lookups by label, and the comparison
of one address's samples with its --format json record."""

import re
from datetime import datetime, timezone

LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse_prom(text):
    """{(name, frozenset(labels.items())): value}; raises on a line it cannot read."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        if not m:
            raise ValueError("unreadable sample line: %r" % line)
        labels = {k: unescape(v) for k, v in LABEL.findall(m.group(2) or "")}
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return samples


def grouping_problems(text):
    """What promtool does not check: each family once (HELP, TYPE, then all its samples
    together) and no series twice; node_exporter rejects files that break either."""
    problems, families, series, current = [], [], set(), None
    for line in text.splitlines():
        m = re.match(r"# (HELP|TYPE) (\S+)", line)
        if m:
            if m.group(1) == "HELP":
                if m.group(2) in families:
                    problems.append("family twice: " + m.group(2))
                families.append(m.group(2))
            current = m.group(2)
        elif line and not line.startswith("#"):
            key = line.rsplit(" ", 1)[0]
            if not (key == current or key.startswith(current + "{")):
                problems.append("sample outside its family: " + line)
            if key in series:
                problems.append("series twice: " + key)
            series.add(key)
    return problems


def select(samples, name, **labels):
    """The samples of name whose labels include these."""
    want = set(labels.items())
    return {k: v for k, v in samples.items() if k[0] == name and want <= set(k[1])}


def one(samples, name, **labels):
    found = select(samples, name, **labels)
    return list(found.values())[0] if len(found) == 1 else ("%d samples" % len(found))


def epoch(rfc3339):
    return int(datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=timezone.utc).timestamp())


def record_mismatches(samples, r, labels, **extra):
    """Where the samples of one address (its target, addr and port labels) differ from its
    JSON record r: success, status, class, served certificates, and per store the verdict,
    error code and path_not_after (extra: labels of the verdict samples, e.g. at=...)."""
    out = []
    if one(samples, "pgcertprobe_probe_success", **labels) != (r["status"] == "ok"):
        out.append(("success",))
    if one(samples, "pgcertprobe_probe_status", status=r["status"], **labels) != 1:
        out.append(("status", r["status"]))
    if r.get("class") and one(samples, "pgcertprobe_class", **{"class": r["class"]},
                              **labels) != 1:
        out.append(("class", r["class"]))
    if not r.get("class") and select(samples, "pgcertprobe_class", **labels):
        out.append(("class without one in JSON",))
    for i, cert in enumerate(r["chain"]):
        if one(samples, "pgcertprobe_cert_not_after_seconds", position=str(i), **labels) != \
                epoch(cert["not_after"]):
            out.append(("cert", i))
    if len(select(samples, "pgcertprobe_cert_not_after_seconds", **labels)) != len(r["chain"]):
        out.append(("chain length",))
    for store, v in r["verify"].items():
        if r["status"] != "ok":
            continue
        if one(samples, "pgcertprobe_verified", store=store, **extra, **labels) != v["ok"] or \
                one(samples, "pgcertprobe_verify_error_code", store=store, **extra,
                    **labels) != v["code"]:
            out.append((store, v["ok"], v["code"]))
        pna = select(samples, "pgcertprobe_path_not_after_seconds", store=store, **extra,
                     **labels)
        want = [epoch(v["path_not_after"])] if v["ok"] and v["path_not_after"] else []
        if list(pna.values()) != want:
            out.append((store, "path_not_after", pna, want))
    return out
