"""Shared by the integration tests: where the build and sources are, and the pass/fail
tally that ends every test with the line "N passed, M failed" (read by CI)."""

import os
import signal
import subprocess
import sys

SOURCE = os.environ.get("PCP_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("PCP_BUILD_DIR", os.path.join(SOURCE, "build"))
PROBER = os.path.join(BUILD, "pgcertprobe")
FIXTURES_BIN = os.path.join(BUILD, "tests")
sys.path.insert(0, os.path.join(SOURCE, "tests", "fixtures"))


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}")
        sys.stdout.flush()
        return cond

    def finish(self):
        """Prints the closing line; returns the exit status."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def stop_process_group(proc):
    """Stops a fixture started with start_new_session=True: SIGTERM to its process group,
    SIGKILL if it is still there after 5 s; then closes its stdin and stdout pipes."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    for f in (proc.stdin, proc.stdout):
        try:
            f.close()
        except OSError:
            pass


def start_hostile(*modes):
    """tests/fixtures/hostile_server with the given behaviours, in its own process group,
    ended when our stdin pipe to it closes. Returns (process, {mode: port})."""
    proc = subprocess.Popen([os.path.join(FIXTURES_BIN, "hostile_server"), "--exit-on-stdin-eof",
                             "--mode", ",".join(modes)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    words = proc.stdout.readline().decode().split()
    if not words or words[0] != "READY":
        stop_process_group(proc)
        raise RuntimeError(f"hostile_server did not get ready: {words!r}")
    return proc, {k: int(v) for k, v in (w.split("=") for w in words[1:])}
