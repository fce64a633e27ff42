#!/usr/bin/env python3
"""Targets from a slow producer never block the loop: `producer | pgcertprobe -f -` writes
the first record while the producer is still running (a probe in flight is not held up by a
read waiting for the next line), a FIFO given by path is read as its writer writes, and
SIGINT/SIGTERM end the run at once without waiting for the producer's end, with a record
for every target read and a message naming where reading stopped.

Every wait here is for an event (a record, an exit), bounded only so that a broken build
fails instead of hanging. Stdlib only; prints "N passed, M failed"."""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile

from harness import PROBER, SOURCE, HostileServer, Tally, wait_for

STORE = os.path.join(SOURCE, "config", "combined.pem")
PATIENCE = 120  # seconds: only a hang takes this long

t = Tally()


def read_record(proc):
    """The next JSON record on proc's stdout, or None when none comes (hang or exit)."""
    ready, _, _ = select.select([proc.stdout], [], [], PATIENCE)
    if not ready:
        return None
    line = proc.stdout.readline()
    return json.loads(line) if line else None


def prober(targets_arg, stdin=None):
    return subprocess.Popen([PROBER, "--format", "json", "--timeout", "60", "--store",
                             f"s={STORE}", "--targets", targets_arg],
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def check_pipe(fixture, sig, code):
    name = f"pipe, {signal.Signals(sig).name}"
    ok, silent = fixture.ports["ok"], fixture.ports["silent"]
    accepted = fixture.count("silent", "accepted")
    proc = prober("-", stdin=subprocess.PIPE)
    try:
        # One target the server answers, one that hangs; the producer then stays open.
        proc.stdin.write(f"127.0.0.1:{ok}\n127.0.0.1:{silent}\n".encode())
        proc.stdin.flush()
        first = read_record(proc)
        t.check(f"{name}: first record while the producer is still open",
                first is not None and first["status"] == "ok", first)
        # The reader thread may hand over line 2 after the first record is out (seen on a
        # loaded machine): the signal waits until its probe is connected, so line 2 is read
        # and in flight, as the checks below say.
        t.check(f"{name}: the hanging target is in flight",
                wait_for(lambda: fixture.count("silent", "accepted") > accepted, PATIENCE),
                fixture.stderr()[-600:])
        t.check(f"{name}: still running", proc.poll() is None, proc.returncode)
        proc.send_signal(sig)
        # Not communicate(): it would close the producer's end, and the run must end
        # without that. The little output left fits the pipes.
        try:
            proc.wait(timeout=PATIENCE)
            out, err = proc.stdout.read(), proc.stderr.read()
        except subprocess.TimeoutExpired:
            out, err = b"", b"hang"
        rest = [json.loads(line) for line in out.decode().splitlines()]
        t.check(f"{name}: exit {code} without the producer's end", proc.returncode == code,
                (proc.returncode, err))
        t.check(f"{name}: the target read and in flight is cancelled",
                [r["status"] for r in rest] == ["cancelled"], rest)
        t.check(f"{name}: names where reading stopped",
                b"targets after standard input line 2 were not read" in err, err)
        t.check(f"{name}: no sanitizer report", b"Sanitizer" not in err and
                b"runtime error" not in err, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()


def check_fifo(ok):
    with tempfile.TemporaryDirectory() as tmp:
        fifo = os.path.join(tmp, "targets")
        os.mkfifo(fifo)
        proc = prober(fifo)
        # pgcertprobe starts without waiting for a writer; the lines come later.
        writer = open(fifo, "w")
        try:
            writer.write(f"127.0.0.1:{ok}\n")
            writer.flush()
            first = read_record(proc)
            t.check("fifo: record while the writer is still open",
                    first is not None and first["status"] == "ok", first)
            writer.write(f"# a comment\n127.0.0.1:{ok}\n")
            writer.close()
            out, err = proc.communicate(timeout=PATIENCE)
            rest = [json.loads(line) for line in out.decode().splitlines()]
            t.check("fifo: the rest after the writer ends", len(rest) == 1 and
                    rest[0]["status"] == "ok", rest)
            t.check("fifo: exit 0", proc.returncode == 0, (proc.returncode, err))
        finally:
            if not writer.closed:
                writer.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def main():
    fixture = HostileServer(["--mode", "ok,silent"])
    try:
        check_pipe(fixture, signal.SIGINT, 130)
        check_pipe(fixture, signal.SIGTERM, 143)
        check_fifo(fixture.ports["ok"])
    finally:
        fixture.stop()
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
