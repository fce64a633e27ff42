#!/usr/bin/env python3
"""Java truststores as their users hold them: made with the real keytool, read by
pgcertprobe, checked against the real JDK and the real fleet.

Stores are made exactly as the seed's recipe does (`keytool -importcert -alias ... -file
root.pem -keystore truststore -storepass password -noprompt`, keytool's default type,
PKCS#12), the same with `-storetype JKS`, and with the RC2-40 encryption of keytool before
Java 8u301/11.0.12 (`-J-Dkeystore.pkcs12.legacy`): three roots, an intermediate, a
self-signed key pair (`-genkeypair`) and a key whose certificate a CA signed (its chain:
leaf, the Baltimore-style intermediate, the old root). Asserted:
  - the certificates pgcertprobe's loader holds (tests/store_anchors) are exactly the
    entries `keytool -list -rfc` shows (each trusted certificate, each key's own
    certificate) and exactly what the JDK's default TrustManager trusts
    (tests/fixtures/TrustAnchors.java): not the rest of a key's chain;
  - every verdict against the fleet is the same with the Java store as with a PEM bundle of
    those certificates (verify-ca and verify-full, every probe);
  - passwords from --store-password, --store-password-file and --store-password-env work,
    a non-ASCII JKS password hashes as Java's, and no password shows up in any output or,
    once parsed, in /proc/PID/cmdline;
  - JKS without a password loads unchecked (as Java); PKCS#12 without one is exit 78 (Java
    trusts nothing from it: shown too); a wrong password, a truncated and a random file,
    JCEKS: exit 78 naming the store; a password for no store: exit 64.
"""

import concurrent.futures
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from harness import FIXTURES_BIN, PROBE_TIMEOUT, PROBER, SOURCE, Tally
import fleet as fleetmod

EX_USAGE, EX_CONFIG = 64, 78
SEED_PW = "password"              # the seed recipe's
JKS_PW = "jks-Secret-4711"        # distinctive: searched for in every output
LEGACY_PW = "legacy-Pw-0815"
UNICODE_PW = "p\u00e4ssw\u00f6rd\u20ac\U0001f511"  # JKS only: Java's PKCS#12 PBE wants ASCII
STORE_ANCHORS = os.path.join(FIXTURES_BIN, "store_anchors")
TRUST_ANCHORS = os.path.join(SOURCE, "tests", "fixtures", "TrustAnchors.java")
PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
# keytool and java read arguments in the locale's charset.
JAVA_ENV = dict(os.environ, LC_ALL="C.UTF-8")
# Start-up only (one compiler tier, one GC thread): each JVM here lives a second, and on a
# loaded 2-core machine this halves the time. What keytool writes does not change.
JVM_FAST = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
KEYTOOL = ["keytool"] + ["-J" + o for o in JVM_FAST]

t = Tally()


def run(args, env=None, timeout=120, input_bytes=b""):
    p = subprocess.run(args, input=input_bytes, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def keytool(*args):
    rc, out, err = run(KEYTOOL + list(args), env=JAVA_ENV)
    if rc != 0:
        raise RuntimeError("keytool %s: %s%s" % (" ".join(args), out, err))


def sha256_of_pem(pem):
    rc, out, _ = run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                     input_bytes=pem.encode())
    assert rc == 0, pem
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def make_store(path, pki, password, extra, with_keys=True):
    """The seed recipe for every root and the intermediate, then the key entries."""
    for alias in ("oldroot", "newroot", "unkroot", "newint"):
        keytool("-importcert", "-alias", alias, "-file", pki.certs[alias], "-keystore", path,
                "-storepass", password, "-noprompt", *extra)
    if not with_keys:
        return
    for alias in ("selfkey", "svc"):
        keytool("-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=%s.example.test" % alias, "-validity", "3650", "-keystore",
                path, "-storepass", password, *extra)
    d = os.path.dirname(path)
    csr, leaf, reply = (os.path.join(d, n) for n in ("svc.csr", "svc.pem", "reply.pem"))
    keytool("-certreq", "-alias", "svc", "-file", csr, "-keystore", path, "-storepass",
            password, *extra)
    rc, out, err = run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.certs["oldint"],
                        "-CAkey", pki.keys["oldint"], "-set_serial", "4711", "-days", "365",
                        "-out", leaf])
    if rc != 0:
        raise RuntimeError("openssl x509 -req: " + err)
    with open(reply, "w") as f:
        for p in (leaf, pki.certs["oldint"]):
            with open(p) as g:
                f.write(g.read())
    keytool("-importcert", "-alias", "svc", "-file", reply, "-keystore", path, "-storepass",
            password, "-noprompt", *extra)


def keytool_entries(path, password):
    """({alias: [sha256 of each certificate keytool -list -rfc shows for it]}, [PEM of each
    entry's own certificate])."""
    rc, out, err = run(KEYTOOL + ["-list", "-rfc", "-keystore", path, "-storepass", password],
                       env=JAVA_ENV)
    assert rc == 0, out + err
    entries, own = {}, []
    for block in out.split("Alias name: ")[1:]:
        alias = block.split("\n", 1)[0].strip()
        pems = PEM_RE.findall(block)
        entries[alias] = [sha256_of_pem(p) for p in pems]
        own += pems[:1]
    return entries, own


def java_anchors(classes, queries):
    """The JDK's default TrustManager for each (path, password or None), in one JVM:
    {path: (ok, set of sha256, text)}. Java caches a truststore by path, not password: give
    each query its own path."""
    lines = "".join("%s\n" % p if pw is None else "%s\t%s\n" % (p, pw) for p, pw in queries)
    rc, out, err = run(["java"] + JVM_FAST + ["-cp", classes, "TrustAnchors"], env=JAVA_ENV,
                       input_bytes=lines.encode())
    assert rc == 0, out + err
    res, cur = {}, None
    for line in out.splitlines():
        if line.startswith("store "):
            cur = line[6:]
            res[cur] = [True, set(), ""]
        elif re.fullmatch(r"[0-9a-f]{64}", line):
            res[cur][1].add(line)
        else:
            res[cur][0] = False
            res[cur][2] += line + "\n"
    return {k: tuple(v) for k, v in res.items()}


def loader(path, password):
    """(rc, kind, integrity, set of sha256, stderr) of pgcertprobe's store loader."""
    env = dict(os.environ)
    env.pop("PCP_STORE_PASSWORD", None)
    if password is not None:
        env["PCP_STORE_PASSWORD"] = password
    rc, out, err = run([STORE_ANCHORS, path], env=env)
    lines = out.split("\n")
    kind = integrity = None
    if rc == 0 and lines[0].startswith("kind "):
        _, kind, _, integrity = lines[0].split()
    return rc, kind, integrity, {x for x in lines[1:] if x}, err


def pcp(args, env=None):
    e = dict(env or os.environ)
    e["PGCERTPROBE_CONFIG"] = EMPTY_CONF
    e["NO_COLOR"] = "1"
    return run([PROBER] + args, env=e)


def no_secret(name, *texts):
    # The seed's "password" is also an ordinary word of messages: the others are unique.
    for s in (JKS_PW, LEGACY_PW, UNICODE_PW, "wrong-Pw-99"):
        hit = [x for x in texts if s in x]
        t.check("%s: no password in the output (%s)" % (name, s[:3] + "..."), not hit,
                repr(hit)[:300])


def check_loaded(name, path, password, java, kind, integrity):
    """pgcertprobe's loader == keytool's entries == the JDK's TrustManager. Returns the
    anchors, every certificate keytool shows, and the PEM of each entry's own one."""
    rc, k, integ, got, err = loader(path, password)
    t.check("%s: loads" % name, rc == 0, err)
    t.check("%s: kind %s, integrity %s" % (name, kind, integrity),
            (k, integ) == (kind, integrity), "%s %s" % (k, integ))
    entries, pems = keytool_entries(path, password)
    own = {certs[0] for certs in entries.values() if certs}
    shown = {c for certs in entries.values() for c in certs}
    t.check("%s: holds exactly each entry's certificate keytool -list -rfc shows (%d)"
            % (name, len(own)), got == own, "pgcertprobe %s keytool %s" % (sorted(got), sorted(own)))
    ok, jset, jtext = java[path]
    t.check("%s: the JDK's TrustManager trusts the same %d certificates" % (name, len(jset)),
            ok and jset == got, "java %s\n%s" % (sorted(jset), jtext))
    return got, shown, pems


def main():
    global EMPTY_CONF
    for tool in ("keytool", "java", "javac", "openssl"):
        if not shutil.which(tool):
            t.check("%s is installed (make deps: openjdk-17-jdk-headless)" % tool, False)
            return t.finish()
    tmp = tempfile.mkdtemp(prefix="pcp-java-")
    EMPTY_CONF = os.path.join(tmp, "empty.conf")
    open(EMPTY_CONF, "w").close()
    classes = os.path.join(tmp, "classes")
    rc, out, err = run(["javac"] + ["-J" + o for o in JVM_FAST] + ["-d", classes, TRUST_ANCHORS],
                       env=JAVA_ENV)
    if not t.check("TrustAnchors.java compiles", rc == 0, out + err):
        return t.finish()
    try:
        with fleetmod.Fleet() as fleet:
            body(fleet, tmp, classes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return t.finish()


def body(fleet, tmp, classes):
    pki = fleet.pki
    p12 = os.path.join(tmp, "p12", "truststore")      # the seed's file name
    jks = os.path.join(tmp, "jks", "truststore.jks")
    legacy = os.path.join(tmp, "legacy", "old-truststore.p12")
    uni = os.path.join(tmp, "uni", "unicode.jks")
    jceks = os.path.join(tmp, "jceks", "truststore.jceks")
    for p in (p12, jks, legacy, uni, jceks):
        os.makedirs(os.path.dirname(p))
    t0 = time.monotonic()
    # One JVM per keytool call: the stores are made side by side.
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        jobs = [
            pool.submit(make_store, p12, pki, SEED_PW, []),
            pool.submit(make_store, jks, pki, JKS_PW, ["-storetype", "JKS"]),
            pool.submit(make_store, legacy, pki, LEGACY_PW, ["-J-Dkeystore.pkcs12.legacy"],
                        with_keys=False),
            pool.submit(keytool, "-importcert", "-alias", "newroot", "-file",
                        pki.certs["newroot"], "-keystore", uni, "-storetype", "JKS",
                        "-storepass", UNICODE_PW, "-noprompt"),
            pool.submit(keytool, "-importcert", "-alias", "newroot", "-file",
                        pki.certs["newroot"], "-keystore", jceks, "-storetype", "JCEKS",
                        "-storepass", SEED_PW, "-noprompt"),
        ]
        for j in jobs:
            j.result()
    print("stores made with keytool in %.1fs" % (time.monotonic() - t0))
    rc, out, err = run(["openssl", "pkcs12", "-info", "-noout", "-in", legacy, "-passin",
                        "pass:" + LEGACY_PW, "-legacy"])
    t.check("the legacy store uses RC2-40, as keytool before 8u301", "RC2" in out + err,
            out + err)

    # Java caches a truststore by path: the password-less looks get paths of their own.
    p12_nopw, jks_nopw = p12 + "-nopw", jks + "-nopw"
    shutil.copy(p12, p12_nopw)
    shutil.copy(jks, jks_nopw)
    java = java_anchors(classes, [(p12, SEED_PW), (jks, JKS_PW), (legacy, LEGACY_PW),
                                  (uni, UNICODE_PW), (jks_nopw, None), (p12_nopw, None),
                                  (jceks, SEED_PW)])

    sha = {n: sha256_of_pem(open(pki.certs[n]).read()) for n in pki.certs}
    got, shown, pems = check_loaded("PKCS#12 (seed recipe)", p12, SEED_PW, java, "pkcs12", "1")
    want = {sha["oldroot"], sha["newroot"], sha["unkroot"], sha["newint"]}
    t.check("PKCS#12: the roots and the intermediate are anchors", want <= got)
    t.check("PKCS#12: a key's chain beyond its own certificate is no anchor (oldint)",
            sha["oldint"] in shown and sha["oldint"] not in got)
    t.check("PKCS#12: six entries give six anchors", len(got) == 6, sorted(got))
    jgot, _, _ = check_loaded("JKS", jks, JKS_PW, java, "jks", "1")
    t.check("JKS and PKCS#12 hold the same roots and intermediate", want <= jgot)
    lgot, _, _ = check_loaded("PKCS#12 RC2-40 (legacy)", legacy, LEGACY_PW, java, "pkcs12", "1")
    t.check("legacy: exactly the four certificates", lgot == want, sorted(lgot))
    check_loaded("JKS, non-ASCII password", uni, UNICODE_PW, java, "jks", "1")

    # Without a password: Java reads JKS unchecked, and nothing from an encrypted PKCS#12.
    rc, kind, integ, nopw, err = loader(jks_nopw, None)
    ok, jset, _ = java[jks_nopw]
    t.check("JKS without a password: loads unchecked, as Java does",
            rc == 0 and integ == "0" and nopw == jgot and ok and jset == jgot, err)
    rc, _, _, _, err = loader(p12_nopw, None)
    ok, jset, jtext = java[p12_nopw]
    t.check("PKCS#12 without a password: Java trusts nothing from it", ok and not jset, jtext)
    t.check("PKCS#12 without a password: exit 78 asking for it",
            rc == EX_CONFIG and "without a password Java reads none" in err, err)
    ok, _, jtext = java[jceks]
    t.check("JCEKS: Java's default truststore type cannot read it", not ok, jtext)

    verdicts(fleet, tmp, p12, jks, pems)
    errors(tmp, p12, jks, jceks)
    cmdline_hidden(jks)


def verdicts(fleet, tmp, p12, jks, pems):
    """Every probe, both modes: the Java stores' verdicts equal the PEM bundle's."""
    bundle = os.path.join(tmp, "anchors.pem")
    with open(bundle, "w") as f:
        f.write("\n".join(pems) + "\n")
    pwfile = os.path.join(tmp, "jks.pw")
    with open(pwfile, "w") as f:
        f.write(JKS_PW + "\n")
    os.chmod(pwfile, 0o600)
    env = dict(os.environ, PCP_TEST_P12_PW=SEED_PW)
    probes = fleet.probes()
    for mode in ("verify-ca", "verify-full"):
        rc, out, err = pcp(["--format", "json", "--timeout", str(PROBE_TIMEOUT), "--sslmode", mode,
                            "--store", "p12=" + p12, "--store-password-env", "p12=PCP_TEST_P12_PW",
                            "--store", "jks=" + jks, "--store-password-file", "jks=" + pwfile,
                            "--store", "pem=" + bundle] + [p.conninfo for p in probes], env=env)
        records = [json.loads(line) for line in out.splitlines() if line.strip()]
        t.check("%s: one record per probe" % mode, len(records) == len(probes),
                "rc=%d %d records: %s" % (rc, len(records), err[-500:]))
        no_secret("%s run" % mode, out, err)
        differ, seen_ok, seen_fail = [], 0, 0
        for r in records:
            v = r.get("verify") or {}
            if "pem" not in v:
                continue
            pem = tuple(v["pem"].get(k) for k in ("ok", "code", "depth", "path"))
            seen_ok += pem[0]
            seen_fail += not pem[0]
            for s in ("p12", "jks"):
                got = tuple(v[s].get(k) for k in ("ok", "code", "depth", "path"))
                if got != pem:
                    differ.append("%s@%s %s: %s, pem %s" % (r["addr"], r["host"], s, got, pem))
        t.check("%s: every Java-store verdict equals the PEM bundle's" % mode, not differ,
                "\n".join(differ))
        t.check("%s: the comparison is not vacuous (%d pass, %d fail under pem)"
                % (mode, seen_ok, seen_fail), seen_ok >= 3 and seen_fail >= 3)


def errors(tmp, p12, jks, jceks):
    probe = ["--chain", os.path.join(tmp, "anchors.pem")]
    trunc = os.path.join(tmp, "truncated")
    with open(p12, "rb") as f, open(trunc, "wb") as g:
        g.write(f.read()[:700])
    rnd = os.path.join(tmp, "random.bin")
    with open(rnd, "wb") as g:
        g.write(os.urandom(4096))
    cases = [
        ("wrong password (PKCS#12)", ["--store", "ts=" + p12, "--store-password",
                                      "ts=wrong-Pw-99"], EX_CONFIG, ["store ts", p12, "wrong password"]),
        ("wrong password (JKS)", ["--store", "ts=" + jks, "--store-password", "ts=wrong-Pw-99"],
         EX_CONFIG, ["store ts", jks, "wrong password"]),
        ("truncated PKCS#12", ["--store", "cut=" + trunc, "--store-password", "cut=" + SEED_PW],
         EX_CONFIG, ["store cut", trunc]),
        ("random bytes", ["--store", "rnd=" + rnd], EX_CONFIG, ["store rnd", rnd]),
        ("random bytes with a password", ["--store", "rnd=" + rnd, "--store-password",
                                          "rnd=" + JKS_PW], EX_CONFIG, ["store rnd", rnd]),
        ("JCEKS", ["--store", "jc=" + jceks, "--store-password", "jc=" + SEED_PW], EX_CONFIG,
         ["store jc", "JCEKS"]),
        ("password for no store", ["--store", "ts=" + jks, "--store-password",
                                   "other=" + JKS_PW], EX_USAGE, ["--store-password other"]),
        ("password variable unset", ["--store", "ts=" + jks, "--store-password-env",
                                     "ts=PCP_NO_SUCH_VAR"], EX_CONFIG, ["store ts", "PCP_NO_SUCH_VAR"]),
    ]
    for name, args, code, words in cases:
        rc, out, err = pcp(args + probe)
        t.check("%s: exit %d" % (name, code), rc == code, "rc=%d %s" % (rc, err))
        missing = [w for w in words if w not in err]
        t.check("%s: message names %s" % (name, words), not missing, err)
        no_secret(name, out, err)


def cmdline_hidden(jks):
    """While the run waits on a silent server, its command line no longer shows the
    password given with --store-password."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(60)
    port = lsock.getsockname()[1]
    env = dict(os.environ, PGCERTPROBE_CONFIG=EMPTY_CONF)
    proc = subprocess.Popen([PROBER, "--timeout", "30", "--store", "ts=" + jks,
                             "--store-password", "ts=" + JKS_PW, "127.0.0.1:%d" % port],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        conn, _ = lsock.accept()  # stores loaded, argv rewritten: the loop runs
        with open("/proc/%d/cmdline" % proc.pid, "rb") as f:
            cmdline = f.read()
        t.check("/proc/PID/cmdline: --store-password is there", b"--store-password" in cmdline,
                repr(cmdline))
        t.check("/proc/PID/cmdline: its value is not", JKS_PW.encode() not in cmdline,
                repr(cmdline))
        conn.close()
        out, err = proc.communicate(timeout=60)
        no_secret("cmdline run", out.decode(errors="replace"), err.decode(errors="replace"))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        lsock.close()


EMPTY_CONF = None

if __name__ == "__main__":
    sys.exit(main())
