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

from harness import BUILD, PROBE_TIMEOUT, Tally

t = Tally()


def main():
    prefix = tempfile.mkdtemp(prefix="pcp-install-")
    try:
        subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True,
                       stdout=subprocess.DEVNULL)
        binary = os.path.join(prefix, "bin", "pgcertprobe")
        share = os.path.join(prefix, "share", "pgcertprobe")
        t.check("binary installed", os.access(binary, os.X_OK))
        for f in ("pgcertprobe.conf", "baltimore-cybertrust-root.pem",
                  "digicert-global-root-g2.pem", "combined.pem"):
            t.check(f"{f} installed", os.path.isfile(os.path.join(share, f)))
        env = {k: v for k, v in os.environ.items() if k != "PGCERTPROBE_CONFIG"}
        version = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                 env=env, cwd="/")
        want = os.path.realpath(os.path.join(share, "pgcertprobe.conf"))
        line = [l for l in version.stdout.splitlines() if l.startswith("configuration: ")]
        got = os.path.realpath(line[0].split(": ", 1)[1]) if line else None
        t.check("installed binary reads the installed configuration", got == want,
              f"{got} != {want}")
        # A run with only the installed defaults: three stores, one record.
        run = subprocess.run([binary, "--format", "json", "--timeout", str(PROBE_TIMEOUT),
                              "127.0.0.1:1"],
                             capture_output=True, text=True, env=env, cwd="/")
        records = [json.loads(l) for l in run.stdout.splitlines()]
        t.check("run with installed stores exits 2 (refused)", run.returncode == 2,
              f"exit {run.returncode}: {run.stderr}")
        t.check("one refused record", len(records) == 1 and records[0]["status"] == "refused",
              records)
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
