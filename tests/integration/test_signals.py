#!/usr/bin/env python3
"""SIGINT and SIGTERM: pgcertprobe starts no new probe, ends the ones in flight at once,
still writes exactly one record per target it has read (cancelled for the unfinished ones,
in input order), stops reading a targets file at once (saying where), and exits 130 / 143.
Uses hostile_server's silent listener so probes hang until interrupted; the signal is sent
once the first record is out and the silent probes are connected, never after a fixed
sleep. Stdlib only; prints "N passed, M failed"."""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

from harness import PROBER, SOURCE, WAIT_S, HostileServer, Tally, wait_for

STORE = os.path.join(SOURCE, "config", "combined.pem")
# The probes' deadline: far beyond the bound on how long the run may take after the signal,
# so that a run that waited for its probes instead of ending them fails.
DEADLINE = 300
ENDS_WITHIN = 30


def first_line(proc, limit):
    """What proc wrote to stdout until its first newline, or until limit seconds passed.
    Raw reads: communicate() later reads the descriptor, not a file object's buffer."""
    deadline = time.monotonic() + limit
    got = b""
    while b"\n" not in got:
        ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
        if not chunk:
            break
        got += chunk
    return got


def interrupted_run(fixture, sig, n_silent, concurrency, tmpdir=None):
    # One fast target first (finishes), then silent ones (hang until the signal), some of
    # which never start when concurrency is small. With tmpdir, the silent ones come from a
    # targets file that is still being streamed when the signal arrives.
    ok, silent = fixture.ports["ok"], fixture.ports["silent"]
    targets = [f"127.0.0.1:{ok}"] + [f"127.0.0.1:{silent}"] * n_silent
    args = targets
    if tmpdir:
        path = os.path.join(tmpdir, "targets.txt")
        with open(path, "w") as f:
            f.write("\n".join(targets[1:]) + "\n")
        args = [targets[0], "--targets", path]
    in_flight = min(n_silent, concurrency - 1)
    accepted = fixture.count("silent", "accepted")
    proc = subprocess.Popen([PROBER, "--format", "json", "--timeout", str(DEADLINE),
                             "--concurrency", str(concurrency), "--store", f"s={STORE}",
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Records leave in input order: the first one out is the finished probe. Then the
    # silent probes that share the window with it must be connected.
    first = first_line(proc, WAIT_S)
    connected = wait_for(lambda: fixture.count("silent", "accepted") - accepted >= in_flight)
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=2 * ENDS_WITHIN)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    took = time.monotonic() - sent
    records = [json.loads(line) for line in (first + out).decode().splitlines()]
    return proc.returncode, records, took, targets, err.decode(), bool(first and connected)


t = Tally()


def main():
    fixture = HostileServer(["--mode", "silent,ok"])
    try:
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            for n, conc, streamed in ((5, 16, False), (10, 3, False), (2000, 3, True)):
                name = f"{signal.Signals(sig).name} n={n} concurrency={conc}" + \
                    (" streamed" if streamed else "")
                with tempfile.TemporaryDirectory() as tmp:
                    rc, records, took, targets, err, ready = interrupted_run(
                        fixture, sig, n, conc, tmp if streamed else None)
                t.check(f"{name}: signalled with the first record out, silent probes in flight",
                        ready, fixture.stderr()[-600:])
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
                            f"{len(records)} records, {read} targets read" if read else
                            f"{len(records)} records; stderr names no line: {err!r}")
                    targets = targets[:len(records)]
                t.check(f"{name}: one record per target", len(records) == len(targets),
                        f"{len(records)} records for {len(targets)} targets")
                t.check(f"{name}: input order", [r["target"] for r in records] == targets)
                t.check(f"{name}: first finished", records and records[0]["status"] == "ok",
                        records[:1])
                statuses = {r["status"] for r in records[1:]}
                t.check(f"{name}: rest cancelled", statuses == {"cancelled"}, statuses)
                t.check(f"{name}: errors say why", all(r["error"] for r in records[1:]))
                # At once, not at the probes' deadline: the bound is a tenth of it, and many
                # times what ending the run takes on a loaded machine.
                t.check(f"{name}: ended long before the probes' deadline", took < ENDS_WITHIN,
                        f"{took:.2f}s after the signal")
                t.check(f"{name}: no sanitizer report", "Sanitizer" not in err and
                        "runtime error" not in err, err)
    finally:
        fixture.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
