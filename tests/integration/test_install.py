#!/usr/bin/env python3
"""`cmake --install` puts the binary, its configuration and the trust stores under a
prefix, and the installed binary finds them there (not in the source tree), wherever it is
run from. Stdlib only; prints "N passed, M failed"."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("PCP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("PCP_BUILD_DIR", os.path.join(SOURCE, "build"))

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def main():
    prefix = tempfile.mkdtemp(prefix="pcp-install-")
    try:
        subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True,
                       stdout=subprocess.DEVNULL)
        binary = os.path.join(prefix, "bin", "pgcertprobe")
        share = os.path.join(prefix, "share", "pgcertprobe")
        check("binary installed", os.access(binary, os.X_OK))
        for f in ("pgcertprobe.conf", "baltimore-cybertrust-root.pem",
                  "digicert-global-root-g2.pem", "combined.pem"):
            check(f"{f} installed", os.path.isfile(os.path.join(share, f)))
        env = {k: v for k, v in os.environ.items() if k != "PGCERTPROBE_CONFIG"}
        version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                 env=env, cwd="/")
        want = os.path.realpath(os.path.join(share, "pgcertprobe.conf"))
        line = [l for l in version.stdout.splitlines() if l.startswith("configuration: ")]
        got = os.path.realpath(line[0].split(": ", 1)[1]) if line else None
        check("installed binary reads the installed configuration", got == want,
              f"{got} != {want}")
        # A run with only the installed defaults: three stores, one record.
        run = subprocess.run([binary, "--format", "json", "--timeout", "2", "127.0.0.1:1"],
                             capture_output=True, text=True, env=env, cwd="/")
        records = [json.loads(l) for l in run.stdout.splitlines()]
        check("run with installed stores exits 2 (refused)", run.returncode == 2,
              f"exit {run.returncode}: {run.stderr}")
        check("one refused record", len(records) == 1 and records[0]["status"] == "refused",
              records)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
