"""Shared by the integration tests: where the build and sources are, and the pass/fail
tally that ends every test with the line "N passed, M failed" (read by CI)."""

import http.client
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time

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


def start_hostile(*modes, args=()):
    """tests/fixtures/hostile_server with the given behaviours (and extra args), in its own
    process group, ended when our stdin pipe to it closes. Returns (process, {mode: port})."""
    proc = subprocess.Popen([os.path.join(FIXTURES_BIN, "hostile_server"), "--exit-on-stdin-eof",
                             "--mode", ",".join(modes), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    words = proc.stdout.readline().decode().split()
    if not words or words[0] != "READY":
        stop_process_group(proc)
        raise RuntimeError(f"hostile_server did not get ready: {words!r}")
    return proc, {k: int(v) for k, v in (w.split("=") for w in words[1:])}


class Exporter:
    """pgcertprobe --listen (127.0.0.1:0 unless listen is given) with args, in its own process
    group, stderr kept. .host and .port say where it listens (from its start-up line)."""

    def __init__(self, *args, listen="127.0.0.1:0", env=None, patience=60):
        self.proc = subprocess.Popen([PROBER, "--listen", listen, *args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, env=env)
        self.stderr = b""
        deadline = time.monotonic() + patience
        while not re.search(rb"listening on http://\S+/.*\n", self.stderr):
            left = deadline - time.monotonic()
            ready = select.select([self.proc.stderr], [], [], max(left, 0))[0] if left > 0 else []
            chunk = os.read(self.proc.stderr.fileno(), 4096) if ready else b""
            if not chunk:
                self.stop()
                raise RuntimeError("exporter did not start: %r" % self.stderr.decode())
            self.stderr += chunk
        where = self.stderr.split(b"listening on http://", 1)[1].split(b"/", 1)[0].decode()
        self.host, port = where.rsplit(":", 1)
        self.host = self.host.strip("[]")
        self.port = int(port)

    def get(self, path, headers=None, timeout=60, method="GET"):
        """(status, headers as a dict with lower-case names, body bytes)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM, patience=30):
        """Sends sig (if still running) and waits; returns (exit code, stderr text). SIGKILL
        after patience seconds (the exit code is then -9)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
        try:
            rest = self.proc.communicate(timeout=patience)[1]
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            rest = self.proc.communicate()[1]
        self.stderr += rest or b""
        return self.proc.returncode, self.stderr.decode(errors="replace")


def command_args(cmd):
    """The options of a documented pgcertprobe command line (after the program name)."""
    words = shlex.split(cmd)
    i = next(i for i, w in enumerate(words) if os.path.basename(w) == "pgcertprobe")
    args = []
    for w in words[i + 1:]:
        if w in ("|", "2>&1") or w.startswith(">"):
            break
        args.append(w)
    return args
