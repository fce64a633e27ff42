#!/usr/bin/env python3
"""SIGINT and SIGTERM: pgcertprobe starts no new probe, ends the ones in flight within a
second, still writes exactly one record per target it has read (cancelled for the
unfinished ones, in input order), stops reading a targets file at once (saying where), and
exits 130 / 143. Uses hostile_server's silent listener so probes hang
until interrupted. Stdlib only; prints "N passed, M failed"."""

import json
import os
import signal
import subprocess
import sys
import tempfile

import time

from harness import PROBER, SOURCE, Tally, start_hostile, stop_process_group

STORE = os.path.join(SOURCE, "config", "combined.pem")


def interrupted_run(sig, silent, ok, n_silent, concurrency, tmpdir=None):
    # One fast target first (finishes), then silent ones (hang until the signal), some of
    # which never start when concurrency is small. With tmpdir, the silent ones come from a
    # targets file that is still being streamed when the signal arrives.
    targets = [f"127.0.0.1:{ok}"] + [f"127.0.0.1:{silent}"] * n_silent
    args = targets
    if tmpdir:
        path = os.path.join(tmpdir, "targets.txt")
        with open(path, "w") as f:
            f.write("\n".join(targets[1:]) + "\n")
        args = [targets[0], "--targets", path]
    proc = subprocess.Popen([PROBER, "--format", "json", "--timeout", "60",
                             "--concurrency", str(concurrency), "--store", f"s={STORE}",
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    records = [json.loads(line) for line in out.decode().splitlines()]
    return proc.returncode, records, took, targets, err.decode()

t = Tally()


def main():
    fixture, ports = start_hostile("silent", "ok")
    silent, ok = ports["silent"], ports["ok"]
    try:
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            for n, conc, streamed in ((5, 16, False), (10, 3, False), (2000, 3, True)):
                name = f"{signal.Signals(sig).name} n={n} concurrency={conc}" + \
                    (" streamed" if streamed else "")
                with tempfile.TemporaryDirectory() as tmp:
                    rc, records, took, targets, err = interrupted_run(
                        sig, silent, ok, n, conc, tmp if streamed else None)
                t.check(f"{name}: exit {code}", rc == code, f"exit {rc}, stderr {err!r}")
                if streamed:
                    # The file is read no further: a record for every line read, and the
                    # message names the last one.
                    read = 1 + int(err.split(" line ")[1].split()[0]) if " line " in err else 0
                    t.check(f"{name}: says where reading stopped",
                            "were not read" in err and read > 1, err)
                    t.check(f"{name}: stopped reading", len(records) < len(targets),
                            f"{len(records)} records for {len(targets)} targets")
                    t.check(f"{name}: one record per target read", len(records) == read,
                            f"{len(records)} records, {read} targets read")
                    targets = targets[:len(records)]
                t.check(f"{name}: one record per target", len(records) == len(targets),
                      f"{len(records)} records for {len(targets)} targets")
                t.check(f"{name}: input order", [r["target"] for r in records] == targets)
                t.check(f"{name}: first finished", records and records[0]["status"] == "ok",
                      records[:1])
                statuses = {r["status"] for r in records[1:]}
                t.check(f"{name}: rest cancelled", statuses == {"cancelled"}, statuses)
                t.check(f"{name}: errors say why", all(r["error"] for r in records[1:]))
                t.check(f"{name}: ended within a second", took < 1.0 + 1.0, f"{took:.2f}s")
                t.check(f"{name}: no sanitizer report", "Sanitizer" not in err and
                      "runtime error" not in err, err)
    finally:
        stop_process_group(fixture)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
