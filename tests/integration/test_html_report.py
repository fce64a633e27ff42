#!/usr/bin/env python3
"""--format html read by a real browser: pgcertprobe probes a small real fleet (with a
server whose certificate names itself `<script>alert(1)</script>`, and a target whose host
is markup) twice, once as JSON and once as an HTML page; headless Chromium renders the page
and dumps its DOM, in which every address, store, instant and verdict of the JSON run must
be, the markup must be text, and no script or injected element may exist. Screenshots
(desktop and phone width) and a PDF print go to BUILD/html-report/ for people to look at.
Also: --format html without --output writes the page to standard output.
Stdlib only; prints "N passed, M failed"."""

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import json

from harness import BUILD, PROBE_TIMEOUT, PROBER, Tally
import fleet as fleetmod  # noqa: E402  (harness puts tests/fixtures on the path)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
OUT_DIR = os.path.join(BUILD, "html-report")
PAST = "2021-02-14T12:00:00Z"  # before the old root expired
SERVERS = ["old", "new", "bridge", "expired", "mismatch", "nointer", "nossl"]
STORES = ["old", "new", "combined"]
MARKUP_HOST = "<img/src=x/onerror=alert(2)>"
FAIL, OK = "\u2717", "\u2713"

t = Tally()


def chromium(url, *extra):
    """Runs headless Chromium on url with a throwaway profile and nothing that reaches for
    the network; returns the CompletedProcess (stdout: what --dump-dom printed)."""
    profile = tempfile.mkdtemp(prefix="pcp-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             "--force-device-scale-factor=1", "--user-data-dir=" + profile, *extra, url],
            capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def text_of(fragment):
    """The text of an HTML fragment: tags dropped, entities decoded, blanks squeezed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", "", fragment))).strip()


def dom_rows(dom):
    """{(host or target text, "addr:port" or ""): [cell texts]} from the rendered table:
    the address's summary line, and each cell without its expandable details."""
    rows = {}
    tbody = dom.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    for tr in re.findall(r"<tr>(.*?)</tr>", tbody, re.S):
        th = re.search(r"<summary>(.*?)</summary>", tr, re.S).group(1)
        ap = re.search(r'<span class="mono ap">(.*?)</span>', th, re.S)
        host = re.search(r'<span class="host">(.*?)</span>', th, re.S)
        if ap:
            key = (text_of(host.group(1)) if host else "", text_of(ap.group(1)))
        else:
            key = (text_of(re.sub(r'<span class="div".*?</span>', "", th)), "")
        cells = []
        for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S):
            td = re.sub(r'<div class="long">.*?</div>', "", td, flags=re.S)
            cells.append(text_of(td))
        rows[key] = cells
    return rows


def expected_cells(rec, instants):
    """The cell texts the page must show for a JSON record, store by store per instant."""
    cells = []
    for at in instants:
        for store in STORES:
            if rec["status"] != "ok":
                cells.append(None)  # the short status: checked apart
                continue
            v = rec["verify_at"][at][store]
            if v["ok"]:
                cells.append(OK + (" expires " + v["path_not_after"][:10]
                                   if v.get("expiring") else ""))
            else:
                cells.append(FAIL + " " + (v["reason"] or v["error"]))
    return cells


def main():
    if not os.access(CHROMIUM, os.X_OK):
        t.check("chromium is installed (make deps installs it)", False, CHROMIUM)
        return t.finish()
    os.makedirs(OUT_DIR, exist_ok=True)
    servers = [s for s in fleetmod.SERVERS if s.name in SERVERS] + [fleetmod.HOSTILE]
    with fleetmod.Fleet(servers=servers, log=print) as fleet:
        stores = []
        for name in STORES:
            stores += ["--store", "%s=%s" % (name, fleet.pki.stores[name])]
        # hostile.example.test is not the hostile leaf's name (its CN is the markup), so
        # verify-full fails and the reason quotes the CN.
        targets = [p.conninfo for p in fleet.probes()]
        targets.append("host=%s hostaddr=127.0.0.1 port=1" % MARKUP_HOST)
        now = int(time.time())
        instants = [PAST, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))]
        common = ["--timeout", str(PROBE_TIMEOUT), "--warn-days", "30", "--at", PAST, "--at", "@%d" % now,
                  *stores, *targets]

        js = subprocess.run([PROBER, "--format", "json", *common], capture_output=True)
        page = os.path.join(OUT_DIR, "fleet.html")
        started = time.monotonic()
        hp = subprocess.run([PROBER, "--format", "html", "--output", page, *common],
                            capture_output=True)
        print("html run: %.1fs" % (time.monotonic() - started))
        t.check("json and html runs exit 2 (unreachable targets)",
                js.returncode == 2 and hp.returncode == 2,
                "json %d, html %d: %s" % (js.returncode, hp.returncode, hp.stderr[-500:]))
        records = [json.loads(line) for line in js.stdout.decode().splitlines()]
        t.check("one record per target", len(records) == len(targets), len(records))

        # --format html without --output: the page on standard output.
        one = subprocess.run([PROBER, "--format", "html", "--timeout", str(PROBE_TIMEOUT),
                              *stores, targets[0]], capture_output=True)
        t.check("--format html without --output writes the page to stdout",
                one.returncode in (0, 1) and one.stdout.startswith(b"<!DOCTYPE html>\n")
                and one.stdout.endswith(b"</html>\n"), one.stdout[:80] + one.stderr[-300:])

    raw = open(page, "rb").read()
    t.check("the page is valid UTF-8", raw.decode("utf-8", "strict") is not None)
    t.check("the page source has no script element and no external URL",
            b"<script" not in raw.lower() and raw.count(b"://")
            == raw.count(b'xmlns="http://www.w3.org/2000/svg"'))

    url = "file://" + page
    p = chromium(url, "--dump-dom")
    dom = p.stdout.decode("utf-8", "replace")
    if not t.check("chromium renders the page", p.returncode == 0 and "<tbody>" in dom,
                   p.stderr[-800:]):
        return t.finish()
    with open(os.path.join(OUT_DIR, "fleet.dom.html"), "w") as f:
        f.write(dom)

    # Markup stays text: no element the payloads would create, their text is there.
    t.check("no <script> element in the rendered DOM", "<script" not in dom.lower())
    t.check("no injected <img> element in the rendered DOM", "<img" not in dom.lower())
    text = text_of(dom)
    hostile = [r for r in records if r["addr"] == "127.0.0.27"][0]
    leaf_subject = hostile["chain"][0]["subject"]
    t.check("the hostile subject as JSON has it is in the DOM's text",
            "script" in leaf_subject and leaf_subject in text, leaf_subject)
    t.check("the mismatch reason quotes <script>alert(1)</script> as text",
            "names '<script>alert(1)</script>', not 'hostile.example.test'" in text)
    t.check("the markup host is in the DOM's text", MARKUP_HOST in text)

    # Every address, store, instant and verdict of the JSON run.
    head = dom.split("<thead>", 1)[1].split("</thead>", 1)[0]
    heads = [text_of(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    t.check("every store heads a column per instant",
            heads.count("old") == 2 and heads.count("new") == 2
            and heads.count("combined") == 2, heads)
    t.check("both instants head their columns",
            "as of 2021-02-14T12:00:00Z" in heads and "as of " + instants[1] in heads, heads)
    rows = dom_rows(dom)
    t.check("one table row per record", len(rows) == len(records), len(rows))
    for rec in records:
        ap = ("[%s]:%d" if ":" in rec["addr"] else "%s:%d") % (rec["addr"], rec["port"]) \
            if rec["addr"] else ""
        key = (rec["host"] or "", ap) if ap else (rec["target"], "")
        cells = rows.get(key)
        label = "%s %s" % key
        if not t.check("row for %s" % label, cells is not None, sorted(rows)):
            continue
        want = expected_cells(rec, instants)
        if rec["status"] != "ok":
            t.check("%s: every cell says it was not probed" % label,
                    all(c.startswith(FAIL + " ") and c != FAIL + " " for c in cells)
                    and len(cells) == len(want), cells)
            continue
        t.check("%s: verdicts as in JSON" % label, cells == want,
                "page %s, json %s" % (cells, want))

    # Pictures for people: desktop, phone width, and a print.
    for name, size in (("fleet.png", "1280,2000"), ("fleet-phone.png", "390,2400")):
        png = os.path.join(OUT_DIR, name)
        if os.path.exists(png):
            os.unlink(png)
        p = chromium(url, "--screenshot=" + png, "--window-size=" + size)
        ok = os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        t.check("screenshot %s" % png, ok and os.path.getsize(png) > 20000, p.stderr[-500:])
    pdf = os.path.join(OUT_DIR, "fleet.pdf")
    p = chromium(url, "--print-to-pdf=" + pdf, "--no-pdf-header-footer")
    data = open(pdf, "rb").read() if os.path.exists(pdf) else b""
    t.check("printed to %s" % pdf, data.startswith(b"%PDF")
            and len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 1, p.stderr[-500:])
    print("look at: %s/{fleet.html,fleet.png,fleet-phone.png,fleet.pdf}" % OUT_DIR)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
