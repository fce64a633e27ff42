#!/usr/bin/env python3
"""Bad command lines and files against the real binary: each must give the documented exit
code, a stderr message naming the offending option, value, file or target, and no crash
(also under the ASan+UBSan build). Targets fail fast without network (127.0.0.1:1 is
refused); stores are the shipped roots in the source tree's config/."""

import json
import os
import random
import subprocess
import sys
import tempfile

from harness import PROBER, SOURCE, Tally

COMBINED = os.path.join(SOURCE, "config", "combined.pem")
STORE = "combined=" + COMBINED
REFUSED = "127.0.0.1:1"

EX_USAGE, EX_NOINPUT, EX_CONFIG = 64, 66, 78
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error", "Segmentation fault", "core dumped")

t = Tally()


class Run:
    def __init__(self, args, rc, out, err):
        self.args, self.rc, self.out, self.err = args, rc, out, err

    def show(self):
        return (f"args={self.args!r} rc={self.rc} stderr={self.err[-1500:]!r} "
                f"stdout={self.out[:500]!r}")


def run(args, env_extra=None, stdin_bytes=None, timeout=60):
    env = dict(os.environ)
    env["PGCERTPROBE_CONFIG"] = EMPTY_CONF  # hermetic: never the installed configuration
    env["NO_COLOR"] = "1"
    env.pop("PGCERTPROBE_TRACE", None)
    if env_extra:
        env.update(env_extra)
    try:
        p = subprocess.run([PROBER] + args, input=stdin_bytes if stdin_bytes is not None else b"",
                           capture_output=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return Run(args, -999, e.stdout or b"", (e.stderr or b"").decode("utf-8", "replace")
                   + f"\n[test: timed out after {timeout}s]")
    return Run(args, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))


def no_crash(name, r):
    marks = [m for m in SANITIZER_MARKS if m in r.err]
    t.check(f"{name}: no crash", 0 <= r.rc < 128 and not marks,
            f"marks={marks} " + r.show())


def expect(name, args, code, words, **kw):
    """Runs args; expects exit code and stderr holding every word; returns the run."""
    r = run(args, **kw)
    no_crash(name, r)
    t.check(f"{name}: exit {code}", r.rc == code, r.show())
    missing = [w for w in words if w not in r.err]
    t.check(f"{name}: message names {words}", not missing, f"missing {missing}: " + r.show())
    return r


def records(name, r):
    """Parses --format json output: one object per line; the stdout must be UTF-8."""
    out, problem = [], None
    try:
        text = r.out.decode("utf-8")
    except UnicodeDecodeError as e:
        text, problem = "", f"not UTF-8: {e}: {r.out[:300]!r}"
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            problem = f"line {i + 1}: {e}: {line[:300]!r}"
            break
    t.check(f"{name}: JSON output is UTF-8 and parses", problem is None, problem)
    return out


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def expected_file_lines(data):
    """The lines a targets file yields, as the README defines them: '#' comments and blank
    lines skipped, CR/LF and surrounding blanks trimmed; a line holding NUL is always a
    record. Returns (line number, raw bytes, trimmed bytes) per expected record."""
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    out = []
    for n, raw in enumerate(pieces, 1):
        if b"\0" in raw:
            out.append((n, raw, raw))
            continue
        trimmed = raw.rstrip(b"\r\n \t").lstrip(b" \t")
        if trimmed and not trimmed.startswith(b"#"):
            out.append((n, raw, trimmed))
    return out


def has_control(b):
    return any((c < 0x20 and c != 0x09) or c == 0x7F for c in b)


# ---------------------------------------------------------------------------------------

def test_store_files(tmp):
    expect("missing store file", ["--store", "x=/nonexistent/dir/root.pem", REFUSED], EX_CONFIG,
           ["x", "/nonexistent/dir/root.pem"])
    nocert = write(os.path.join(tmp, "nocert.pem"), "just some text, no certificate\n")
    expect("store file with no certificate", ["--store", "nocert=" + nocert, REFUSED], EX_CONFIG,
           ["nocert", nocert])
    empty = write(os.path.join(tmp, "empty.pem"), b"")
    expect("empty store file", ["--store", "empty=" + empty, REFUSED], EX_CONFIG, [empty])
    emptydir = os.path.join(tmp, "emptydir")
    os.mkdir(emptydir)
    expect("store directory with no certificate", ["--store", "d=" + emptydir, REFUSED],
           EX_CONFIG, [emptydir])
    broken = write(os.path.join(tmp, "broken.pem"),
                   "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n")
    expect("broken PEM", ["--store", "broken=" + broken, REFUSED], EX_CONFIG, ["broken", broken])
    with open(COMBINED) as f:
        pem = f.read()
    end = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")
    trunc = write(os.path.join(tmp, "valid-then-truncated.pem"), pem[:end] + pem[:end // 2])
    expect("valid certificate then truncated PEM", ["--store", "t=" + trunc, REFUSED], EX_CONFIG,
           [trunc])
    garbage = write(os.path.join(tmp, "garbage.pem"), random.Random(7).randbytes(2048))
    expect("binary store file", ["--store", "g=" + garbage, REFUSED], EX_CONFIG, [garbage])
    # a good store and a bad one: the bad one still stops the run before any probe
    r = expect("good store then missing store",
               ["--format", "json", "--store", STORE, "--store", "gone=/nonexistent.pem", REFUSED],
               EX_CONFIG, ["gone", "/nonexistent.pem"])
    t.check("good store then missing store: no records", r.out.strip() == b"", r.show())


def test_usage_errors(tmp):
    expect("--store without NAME=", ["--store", COMBINED, REFUSED], EX_USAGE, [COMBINED])
    expect("--store with empty name", ["--store", "=" + COMBINED, REFUSED], EX_USAGE, ["=" + COMBINED])
    expect("--store with a bad name", ["--store", "my store=" + COMBINED, REFUSED], EX_USAGE,
           ["my store"])
    expect("duplicate store names",
           ["--store", "dup=" + COMBINED, "--store", "dup=" + COMBINED, REFUSED], EX_USAGE,
           ["duplicate", "dup"])
    expect("bad --at", ["--store", STORE, "--at", "2021-02-30", REFUSED], EX_USAGE, ["2021-02-30"])
    expect("garbage --at", ["--store", STORE, "--at", "yesterday", REFUSED], EX_USAGE,
           ["yesterday"])
    expect("--concurrency 0", ["--store", STORE, "--concurrency", "0", REFUSED], EX_USAGE,
           ["concurrency", "0"])
    expect("--concurrency -3", ["--store", STORE, "-j", "-3", REFUSED], EX_USAGE, ["-3"])
    expect("--concurrency huge", ["--store", STORE, "-j", "99999999999999999999", REFUSED],
           EX_USAGE, ["99999999999999999999"])
    expect("--timeout bad", ["--store", STORE, "--timeout", "soon", REFUSED], EX_USAGE, ["soon"])
    expect("unknown --format", ["--store", STORE, "--format", "xml", REFUSED], EX_USAGE, ["xml"])
    expect("bad --sslmode", ["--store", STORE, "--sslmode", "require", REFUSED], EX_USAGE,
           ["require"])
    expect("unknown long option", ["--store", STORE, "--frobnicate", REFUSED], EX_USAGE,
           ["--frobnicate"])
    expect("unknown short option", ["--store", STORE, "-Z", REFUSED], EX_USAGE, ["-Z"])
    expect("option missing its value", ["--store", STORE, REFUSED, "--timeout"], EX_USAGE,
           ["--timeout"])
    expect("unknown --negotiation", ["--store", STORE, "--negotiation", "tls", REFUSED], EX_USAGE,
           ["tls", "postgres", "direct"])
    expect("unknown --libpq-version", ["--store", STORE, "--libpq-version", "14", REFUSED],
           EX_USAGE, ["14", "15, 16, 17 or 18"])
    expect("--libpq-version not a number", ["--store", STORE, "--libpq-version", "17.2", REFUSED],
           EX_USAGE, ["17.2"])

    expect("unknown --driver", ["--store", STORE, "--driver", "jdbc", REFUSED], EX_USAGE,
           ["jdbc", "libpq", "pgjdbc", "node-postgres", "pgx"])
    expect("unknown --client-driver", ["--store", STORE, "--client-driver", "npgsql", REFUSED],
           EX_USAGE, ["npgsql", "node-postgres", "pgx"])
    expect("--client-driver pgjdbc", ["--store", STORE, "--client-driver", "pgjdbc", REFUSED],
           EX_USAGE, ["JDBC URLs"])
    expect("no targets", ["--store", STORE], EX_USAGE, ["no targets"])
    expect("no targets at all", [], EX_USAGE, ["no targets"])
    expect("--require unknown store", ["--store", STORE, "--require", "nosuch", REFUSED], EX_USAGE,
           ["nosuch"])
    missing_dir = os.path.join(tmp, "no", "such", "dir")
    r = expect("--save-chains to a nonexistent dir",
               ["--store", STORE, "--save-chains", missing_dir, REFUSED], EX_USAGE, [missing_dir])
    t.check("--save-chains to a nonexistent dir: not created", not os.path.exists(missing_dir),
            r.show())
    afile = write(os.path.join(tmp, "a-file"), "x")
    expect("--save-chains to a file", ["--store", STORE, "--save-chains", afile, REFUSED], EX_USAGE,
           [afile])
    # usage errors point at --help
    r = run(["--frobnicate"])
    t.check("usage error mentions --help", "--help" in r.err, r.show())


def test_help_version():
    r = run(["--help"], env_extra={"PGCERTPROBE_CONFIG": "/nonexistent/pgcertprobe.conf"})
    no_crash("--help", r)
    t.check("--help: exit 0, usage on stdout", r.rc == 0 and b"--store" in r.out, r.show())
    r = run(["--version"])
    no_crash("--version", r)
    t.check("--version: exit 0", r.rc == 0 and r.out.startswith(b"pgcertprobe "), r.show())


def test_input_files(tmp):
    missing = os.path.join(tmp, "no-such-targets.txt")
    expect("unreadable --targets file (missing)", ["--store", STORE, "--targets", missing],
           EX_NOINPUT, [missing])
    expect("unreadable --targets file (directory)", ["--store", STORE, "--targets", tmp],
           EX_NOINPUT, [tmp])
    if os.geteuid() != 0:
        secret = write(os.path.join(tmp, "secret.txt"), REFUSED + "\n")
        os.chmod(secret, 0)
        expect("unreadable --targets file (mode 000)", ["--store", STORE, "--targets", secret],
               EX_NOINPUT, [secret])
    # a good file and a missing one: no half-run
    good = write(os.path.join(tmp, "good.txt"), REFUSED + "\n")
    r = expect("good targets file then missing one",
               ["--format", "json", "--store", STORE, "-f", good, "-f", missing], EX_NOINPUT, [missing])
    t.check("good targets file then missing one: no records", r.out.strip() == b"", r.show())

    conf_missing = os.path.join(tmp, "no-such.conf")
    expect("nonexistent --config", ["--config", conf_missing, "--store", STORE, REFUSED], EX_NOINPUT,
           [conf_missing])
    expect("nonexistent PGCERTPROBE_CONFIG", ["--store", STORE, REFUSED], EX_NOINPUT, [conf_missing],
           env_extra={"PGCERTPROBE_CONFIG": conf_missing})
    # a directory opens with fopen() but is not a configuration file (not an empty one)
    expect("--config naming a directory", ["--config", tmp, "--store", STORE, REFUSED], EX_NOINPUT,
           [tmp])
    syntax = write(os.path.join(tmp, "syntax.conf"), "[defaults]\ntimeout = 3\nthis is not ini\n")
    expect("config with syntax error", ["--config", syntax, "--store", STORE, REFUSED], EX_CONFIG,
           [syntax + ":3"])
    unknown = write(os.path.join(tmp, "unknown.conf"), "[defaults]\nfrobnicate = 1\n")
    expect("config with unknown key", ["--config", unknown, "--store", STORE, REFUSED], EX_CONFIG,
           [unknown + ":2", "frobnicate"])
    badval = write(os.path.join(tmp, "badval.conf"), "[defaults]\nconcurrency = 0\n")
    expect("config with bad value", ["--config", badval, "--store", STORE, REFUSED], EX_CONFIG,
           [badval + ":2", "0"])
    badneg = write(os.path.join(tmp, "badneg.conf"), "[defaults]\nnegotiation = ssl\n")
    expect("config with a bad negotiation", ["--config", badneg, "--store", STORE, REFUSED],
           EX_CONFIG, [badneg + ":2", "ssl", "postgres or direct"])
    nostores = write(os.path.join(tmp, "nostores.conf"), "[defaults]\ntimeout = 3\n")
    expect("no stores anywhere", ["--config", nostores, REFUSED], EX_CONFIG, ["store"])
    badstore = write(os.path.join(tmp, "badstore.conf"), "[stores]\nmine = missing.pem\n")
    expect("config naming a missing store file", ["--config", badstore, REFUSED], EX_CONFIG,
           ["mine", os.path.join(tmp, "missing.pem")])
    binconf = write(os.path.join(tmp, "binary.conf"), random.Random(11).randbytes(4096))
    expect("binary config file", ["--config", binconf, "--store", STORE, REFUSED], EX_CONFIG,
           [binconf])


def json_run(name, args, want_code, n_records, **kw):
    r = run(["--format", "json", "--store", STORE] + args, **kw)
    no_crash(name, r)
    t.check(f"{name}: exit {want_code}", r.rc == want_code, r.show())
    recs = records(name, r)
    t.check(f"{name}: {n_records} records", len(recs) == n_records,
            f"got {len(recs)}: " + r.show())
    return r, recs


def test_bad_targets():
    bad = "host=127.0.0.1 port=1 foo=bar"
    r, recs = json_run("unknown conninfo keyword", [REFUSED, bad, "[::1]:1"], 2, 3)
    if len(recs) == 3:
        t.check("unknown conninfo keyword: order kept",
                [x.get("target") for x in recs] == [REFUSED, bad, "[::1]:1"], recs)
        t.check("unknown conninfo keyword: invalid_target with libpq's words",
                recs[1].get("status") == "invalid_target"
                and 'invalid connection option "foo"' in (recs[1].get("error") or ""), recs[1])
        t.check("unknown conninfo keyword: other targets still probed",
                recs[0].get("status") == "refused" and recs[2].get("status") == "refused",
                [recs[0].get("status"), recs[2].get("status")])
    t.check("unknown conninfo keyword: stderr names the target", bad in r.err, r.show())

    r, recs = json_run("port out of range", ["127.0.0.1:99999", REFUSED], 2, 2)
    if len(recs) == 2:
        t.check("port out of range: invalid_target naming the port",
                recs[0].get("status") == "invalid_target"
                and "99999" in (recs[0].get("error") or ""), recs[0])
        t.check("port out of range: other target probed", recs[1].get("status") == "refused",
                recs[1])
        t.check("port out of range: no probe ran, so no timing (null), the probed one has it",
                recs[0].get("timing") == {"connect_ms": None, "total_ms": None} and
                isinstance((recs[1].get("timing") or {}).get("total_ms"), float),
                [recs[0].get("timing"), recs[1].get("timing")])

    cases = [("port 0", "db.example.com:0", "0"),
             ("conninfo port out of range", "host=127.0.0.1 port=70000", "70000"),
             ("URI port out of range", "postgresql://127.0.0.1:65536/db", "65536"),
             ("sslmode verify-all", "host=127.0.0.1 port=1 sslmode=verify-all", "verify-all"),
             ("sslnegotiation under libpq 15", "host=127.0.0.1 port=1 sslnegotiation=direct",
              'invalid connection option "sslnegotiation"'),
             ("hostaddr not numeric", "host=a hostaddr=db.example.com port=1", "db.example.com"),
             ("Unix socket", "host=/var/run/postgresql", "/var/run/postgresql"),
             ("host and port lists of different lengths", "host=127.0.0.1,127.0.0.2 port=1,2,3",
              "could not match 3 port numbers to 2 hosts"),
             ("empty target", "", "empty"),
             ("JDBC URL without a / after the host", "jdbc:postgresql://127.0.0.1:1",
              "must contain a /"),
             ("JDBC URL with too many /", "jdbc:postgresql://127.0.0.1:1/db/x", "too many /"),
             ("JDBC URL with a bad port", "jdbc:postgresql://127.0.0.1:99999/db", "99999"),
             ("JDBC URL of another database", "jdbc:mysql://127.0.0.1:1/db", "jdbc:postgresql:"),
             ("JDBC URL with a bad sslmode", "jdbc:postgresql://127.0.0.1:1/db?sslmode=verify-all",
              "verify-all"),
             ("JDBC URL with a bad escape", "jdbc:postgresql://127.0.0.1:1/db?sslrootcert=%zz",
              "escape"),
             ("unterminated quote", "host='127.0.0.1", "quoted")]
    for name, target, word in cases:
        r, recs = json_run(name, [target], 2, 1)
        if recs:
            t.check(f"{name}: invalid_target naming {word!r}",
                    recs[0].get("status") == "invalid_target"
                    and word in (recs[0].get("error") or "")
                    and recs[0].get("target") == target, recs[0])

    # libpq 17's words for sslnegotiation values
    for target, word in (("host=127.0.0.1 port=1 sslnegotiation=bogus",
                          'invalid sslnegotiation value: "bogus"'),
                         ("host=127.0.0.1 port=1 sslnegotiation=direct",
                          'weak sslmode "prefer" may not be used with sslnegotiation=direct')):
        r, recs = json_run("libpq 17: " + target, ["--libpq-version", "17", target], 2, 1)
        if recs:
            t.check(f"libpq 17: {target}: invalid_target, {word!r}",
                    recs[0].get("status") == "invalid_target" and
                    word in (recs[0].get("error") or ""), recs[0])

    # a JDBC URL's hosts are targets; a bad one beside them does not stop the run
    r, recs = json_run("JDBC URLs", ["jdbc:postgresql://127.0.0.1:1,127.0.0.2:1/db?ssl=true&"
                                     "password=hunter2", "jdbc:postgresql://x:1", REFUSED], 2, 4)
    if len(recs) == 4:
        t.check("JDBC URLs: one record per host, the bad URL invalid, the rest probed",
                [x.get("status") for x in recs] == ["refused", "refused", "invalid_target",
                                                    "refused"], recs)
        t.check("JDBC URLs: ssl=true is verify-full, the client is pgJDBC's",
                recs[0].get("sslmode") == "verify-full"
                and (recs[0].get("client") or {}).get("driver") == "pgjdbc", recs[0])
        t.check("JDBC URLs: the password is masked", "hunter2" not in r.out.decode()
                and "hunter2" not in r.err, r.show())

    # a host list is one target per host, each its own record
    r, recs = json_run("multi-host list", ["host=127.0.0.1,127.0.0.2 port=1"], 2, 2)
    t.check("multi-host list: one record per host",
            [x.get("addr") for x in recs] == ["127.0.0.1", "127.0.0.2"], recs)

    # every record has the fixed keys
    r, recs = json_run("mixed targets", [REFUSED, "db:0", "[::1]:1", "postgresql://[::1]:1/x"], 2, 4)
    for i, x in enumerate(recs):
        missing = [k for k in ("target", "host", "addr", "port", "status", "error", "tls", "chain",
                               "verify") if k not in x]
        t.check(f"mixed targets: record {i} has the fixed keys", not missing, f"missing {missing}")
        t.check(f"mixed targets: record {i} has an error text", bool(x.get("error")), x)


def garbage_file_bytes():
    """4 KB of fixed pseudo-random bytes with a few crafted lines around them."""
    rnd = random.Random(20210215)
    body = rnd.randbytes(4096)
    crafted = (b"# a comment\n"
               b"\x1b]0;owned\x07\x1b[2J" + b"evil.example.com\n"   # terminal escapes
               b"\xff\xfe\xfd\xc3\x28\n"                            # high bytes only
               b"  \t\n"
               b"ho\0st\n")
    return crafted + body + b"\n" + REFUSED.encode() + b"\n"


def test_garbage_targets_file(tmp):
    data = garbage_file_bytes()
    lines = expected_file_lines(data)
    # sanity of the fixture itself: it holds NUL lines, control lines and a valid last line
    t.check("garbage fixture has NUL and control lines",
            any(b"\0" in raw for _, raw, _ in lines)
            and any(has_control(trimmed) for _, _, trimmed in lines)
            and lines[-1][2] == REFUSED.encode(), len(lines))
    path = write(os.path.join(tmp, "garbage.txt"), data)
    for how, args, stdin in (("file", ["--targets", path], None),
                             ("stdin", ["--targets", "-"], data)):
        name = f"garbage targets {how}"
        r = run(["--format", "json", "--store", STORE, "--timeout", "5"] + args, stdin_bytes=stdin,
                timeout=120)
        no_crash(name, r)
        t.check(f"{name}: exit 2", r.rc == 2, r.show())
        recs = records(name, r)
        t.check(f"{name}: one record per non-comment line ({len(lines)})", len(recs) == len(lines),
                f"got {len(recs)}")
        if len(recs) != len(lines):
            continue
        bad_status = []
        bad_where = []
        for (n, raw, trimmed), rec in zip(lines, recs):
            st = rec.get("status")
            if b"\0" in raw or has_control(trimmed):
                if st != "invalid_target":
                    bad_status.append((n, st, rec.get("target")))
                elif f"line {n}" not in (rec.get("error") or ""):
                    bad_where.append((n, rec.get("error")))
            elif st not in ("invalid_target", "dns_failed", "refused"):
                bad_status.append((n, st, rec.get("target")))
        t.check(f"{name}: binary lines are invalid_target", not bad_status, bad_status[:5])
        t.check(f"{name}: invalid lines name their line number", not bad_where, bad_where[:5])
        t.check(f"{name}: the valid last line is still probed",
                recs[-1].get("target") == REFUSED and recs[-1].get("status") == "refused", recs[-1])
        # diagnostics must not replay the file's raw control bytes (terminal escapes) on stderr
        ctl = sorted({hex(ord(c)) for c in r.err if (ord(c) < 0x20 and c not in "\n\t") or
                      ord(c) == 0x7F})
        t.check(f"{name}: stderr free of raw control bytes", not ctl, f"control bytes {ctl}")


def test_long_lines(tmp):
    data = (b"x" * (1024 * 1024) + b"\n" + REFUSED.encode() + b"\n" + b"y" * 5000 + b"\n"
            + b"[::1]:1\n")
    path = write(os.path.join(tmp, "long.txt"), data)
    r, recs = json_run("over-long lines", ["--targets", path], 2, 4, timeout=120)
    if len(recs) == 4:
        st = [x.get("status") for x in recs]
        t.check("over-long lines: statuses", st == ["invalid_target", "refused", "invalid_target",
                                                 "refused"], st)
        t.check("over-long lines: reason given", "too long" in (recs[0].get("error") or ""),
                recs[0])
        t.check("over-long lines: record stays small", len(json.dumps(recs[0])) < 16384,
                len(json.dumps(recs[0])))
    # a 1 MB file without any newline
    path = write(os.path.join(tmp, "nonl.txt"), b"z" * (1024 * 1024))
    json_run("1 MB line without newline", ["--targets", path, REFUSED], 2, 2, timeout=120)


def test_text_output_and_counts(tmp):
    # the text writer survives the same hostile inputs
    path = write(os.path.join(tmp, "mixed.txt"),
                 b"# c\n" + REFUSED.encode() + b"\nhost=x foo=bar\n\x01\x02\n\xff\xfe\ndb:0\n")
    r = run(["--store", STORE, "--targets", path, "--color", "never"])
    no_crash("text output with bad targets", r)
    t.check("text output with bad targets: exit 2", r.rc == 2, r.show())


def test_devices_and_pipes(tmp):
    """Files that are devices or FIFOs: never a hang, never a device replaced."""
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    expect("store from /dev/zero", ["--store", "z=/dev/zero", REFUSED], EX_CONFIG,
           ["z", "/dev/zero", "not a regular file"])
    expect("store from a FIFO", ["--store", "f=" + fifo, REFUSED], EX_CONFIG,
           [fifo, "not a regular file"])
    expect("targets from /dev/zero", ["--store", STORE, "--targets", "/dev/zero"], EX_NOINPUT,
           ["/dev/zero line 1", "not a targets file"])
    for dev in ("/dev/zero", "/dev/urandom"):
        expect(f"baseline from {dev}", ["--store", STORE, "--baseline", dev, REFUSED],
               EX_NOINPUT, [dev, "not a regular file"])
        expect(f"future chain from {dev}", ["--store", STORE, "--future-chain", dev, REFUSED],
               EX_NOINPUT, [dev])
        r = expect(f"offline chain from {dev}", ["--store", STORE, "--format", "json",
                                               "--chain", dev], 2, [dev, "invalid target"])
        t.check(f"offline chain from {dev}: one invalid_target record",
                [json.loads(l)["status"] for l in r.out.splitlines()] == ["invalid_target"],
                r.show())
    full = os.stat("/dev/full")
    expect("--output /dev/full", ["--store", STORE, "--output", "/dev/full", REFUSED], 71,
           ["/dev/full", "No space left"])
    after = os.stat("/dev/full")
    t.check("--output /dev/full: the device is still a device",
            (after.st_mode, after.st_rdev) == (full.st_mode, full.st_rdev))
    with open("/dev/full", "wb") as devfull:
        p = subprocess.run([PROBER, "--store", STORE, REFUSED], stdout=devfull,
                           stderr=subprocess.PIPE, env=dict(os.environ, PGCERTPROBE_CONFIG=EMPTY_CONF))
    t.check("standard output on /dev/full: exit 71 naming the report",
            p.returncode == 71 and b"cannot write" in p.stderr, (p.returncode, p.stderr))
    expect("--output naming a directory", ["--store", STORE, "--output", tmp, REFUSED],
           EX_USAGE, [tmp, "directory"])


def test_instants(tmp):
    expect("--at beyond year 9999", ["--store", STORE, "--at", "@99999999999999", REFUSED],
           EX_USAGE, ["@99999999999999", "out of range"])
    expect("--require with no store", ["--store", STORE, "--require", "@2021-01-01", REFUSED],
           EX_USAGE, ["@2021-01-01", "no store"])
    expect("--forbid-class without class stores", ["--store", STORE, "--forbid-class",
                                                   "neither", REFUSED], EX_USAGE,
           ["--forbid-class", "baltimore", "--old-store"])
    r = expect("--at now with a date", ["--store", STORE, "--at", "now", "--at", "2021-02-15",
                                        "--format", "json", REFUSED], 2, [])
    rec = json.loads(r.out.splitlines()[0])
    t.check("--at now: the record's instants are now and the date",
            rec["at_now"] is True and len(rec["ats"]) == 2 and rec["ats"][1] ==
            "2021-02-15T00:00:00Z" and rec["at"] != "2021-02-15T00:00:00Z", rec)
    # A baseline verified at a given instant, compared with a run as of now, is compared
    # with a warning; two runs as of now are not.
    chain = COMBINED
    base = os.path.join(tmp, "base.jsonl")
    r = run(["--store", STORE, "--format", "json", "--chain", chain, "--at", "2021-02-15"])
    write(base, r.out)
    r = expect("baseline at another instant", ["--store", STORE, "--chain", chain,
                                               "--baseline", base], 0,
               ["--baseline", "2021-02-15T00:00:00Z", "as of", "instant"])
    r = run(["--store", STORE, "--format", "json", "--chain", chain])
    write(base, r.out)
    r = run(["--store", STORE, "--chain", chain, "--baseline", base])
    t.check("baseline as of now against a run as of now: no warning",
            "instant" not in r.err and r.rc == 0, r.show())


def main():
    global EMPTY_CONF
    if not os.access(PROBER, os.X_OK):
        t.check("binary found", False, f"{PROBER} not found (set PCP_BUILD_DIR)")
        return t.finish()
    with tempfile.TemporaryDirectory(prefix="pcp-cli-errors-") as tmp:
        EMPTY_CONF = write(os.path.join(tmp, "empty.conf"), "")
        test_store_files(tmp)
        test_usage_errors(tmp)
        test_help_version()
        test_input_files(tmp)
        test_bad_targets()
        test_garbage_targets_file(tmp)
        test_long_lines(tmp)
        test_text_output_and_counts(tmp)
        test_devices_and_pipes(tmp)
        test_instants(tmp)
    return t.finish()


EMPTY_CONF = "/dev/null"

if __name__ == "__main__":
    sys.exit(main())
