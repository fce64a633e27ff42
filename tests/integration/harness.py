"""Shared by the integration tests: where the build and sources are, the pass/fail tally
that ends every test with the line "N passed, M failed" (read by CI), and what keeps them
from depending on the machine's speed: generous deadlines, waits for events instead of
sleeps, ports nobody else can take, and hostile_server with a log tests can wait on.

No test asserts a tight wall-clock bound: a sanitizer build on a loaded 2-core machine must
pass. Assert order, counts and outcomes; where a deadline is the behaviour under test,
assert a lower bound (load only makes things later) and an upper bound many times the
deadline. Speed belongs in `make bench`."""

import contextlib
import http.client
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

SOURCE = os.environ.get("PCP_SOURCE_DIR",
                        os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("PCP_BUILD_DIR", os.path.join(SOURCE, "build"))
PROBER = os.path.join(BUILD, "pgcertprobe")
FIXTURES_BIN = os.path.join(BUILD, "tests")
sys.path.insert(0, os.path.join(SOURCE, "tests", "fixtures"))

# --timeout for probes that must succeed, and libpq's connect_timeout for connections that
# must: only a broken server makes a run wait this long, so it costs nothing when all is
# well, and a loaded machine never turns a success into a timeout.
PROBE_TIMEOUT = 60
# How long a test waits for an event that should come at once (a log line, a file, a
# connection) before calling it missing.
WAIT_S = 60


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

    def get(self, path, headers=None, timeout=2 * PROBE_TIMEOUT + 30, method="GET"):
        """(status, headers as a dict with lower-case names, body bytes). The default
        timeout outlasts any answer the exporter owes: a probe and a name lookup of
        PROBE_TIMEOUT each, on a loaded machine."""
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


def wait_for(cond, limit=WAIT_S, step=0.05):
    """Polls cond() until it returns something true or limit seconds pass; returns its last
    value. The way to wait for an event: never a fixed sleep."""
    deadline = time.monotonic() + limit
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


@contextlib.contextmanager
def refused_port(addr="127.0.0.1"):
    """A port on addr that refuses connections while the block runs: bound but never
    listening, so no other process can take it meanwhile (as it could a port bound, closed
    and then used)."""
    with socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET) as s:
        s.bind((addr, 0))
        yield s.getsockname()[1]


LOG_LINE = re.compile(r"hostile_server\[(\S+) #\d+\]: (.*)$")


class HostileServer:
    """tests/fixtures/hostile_server in its own process group. Its stdin stays open (it exits
    at EOF if the test dies without stopping it); its stderr goes to log_path (a temporary
    file by default) so that tests can read what it saw and wait for it."""

    def __init__(self, args=(), log_path=None):
        self._own_log = log_path is None
        if self._own_log:
            fd, log_path = tempfile.mkstemp(prefix="pcp-hostile-", suffix=".stderr")
            os.close(fd)
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [os.path.join(FIXTURES_BIN, "hostile_server"), "--exit-on-stdin-eof", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            start_new_session=True)
        try:
            self.ports = self._read_ready(WAIT_S)
        except BaseException:
            self.stop()
            raise

    def _read_ready(self, limit):
        deadline = time.monotonic() + limit
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"hostile_server did not get ready: {self.stderr()}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"hostile_server exited: {self.stderr()}")
                buf += chunk
        words = buf.split(b"\n", 1)[0].decode().split()
        if not words or words[0] != "READY":
            raise RuntimeError(f"unexpected first line {buf!r}")
        return {k: int(v) for k, v in (w.split("=", 1) for w in words[1:])}

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def count(self, behaviour, event):
        """How many connections to behaviour's listener have logged event so far
        ("accepted", "ended", "client sent close_notify", ...)."""
        return sum(1 for m in map(LOG_LINE.match, self.stderr().splitlines())
                   if m and m.group(1) == behaviour and m.group(2) == event)

    def stop(self):
        stop_process_group(self.proc)
        self.log.close()
        if self._own_log:
            os.unlink(self.log_path)
