#!/usr/bin/env python3
"""test_responder.py: smoke test of tests/support/ocsp_responder.py with openssl as the client."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

SRC = os.environ.get("CERTVAL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
failed = 0


def check(cond, what):
    global failed
    if not cond:
        failed += 1
        print("FAIL:", what, file=sys.stderr)


def client(port, path, d, extra=()):
    """openssl ocsp as the client (POST); returns (exit status, output text)."""
    p = subprocess.run(["openssl", "ocsp", "-url", "http://127.0.0.1:%d/%s" % (port, path),
                        "-issuer", "ca.pem", "-cert", "leaf.pem", "-CAfile", "ca.pem",
                        *extra], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
        return r.read()


def main():
    d = tempfile.mkdtemp(prefix="cv-ocsp-responder-")
    proc = None
    try:
        subprocess.run(["sh", os.path.join(SRC, "tests/ocsp/mkpki.sh"), d], check=True)
        proc = subprocess.Popen([sys.executable, os.path.join(SRC, "tests/support/ocsp_responder.py"),
                                 "--dir", d, "--rsigner", "resp_nc.pem", "--rkey", "resp_nc.key"],
                                stdout=subprocess.PIPE)
        line = proc.stdout.readline().decode()
        check(line.startswith("PORT "), "responder prints its port")
        port = int(line.split()[1])

        rc, out = client(port, "", d)
        check(rc == 0 and "leaf.pem: good" in out and "WARNING" not in out, "normal: " + out)
        rc, out = client(port, "fault/wrong-nonce/", d)
        check("Nonce Verify error" in out, "wrong-nonce: " + out)
        rc, out = client(port, "fault/no-nonce/", d)
        check("no nonce in response" in out and "good" in out, "no-nonce: " + out)
        if shutil.which("faketime"):
            rc, out = client(port, "fault/stale/", d)
            check("status expired" in out, "stale: " + out)
        rc, out = client(port, "fault/trylater/", d)
        check("trylater" in out.lower(), "trylater: " + out)
        rc, out = client(port, "fault/http500/", d)
        check(rc != 0 and "500" in out, "http500: " + out)

        # GET form with the request of the last POST
        req = get(port, "/_last_request")
        b64 = urllib.parse.quote(base64.b64encode(req).decode(), safe="")
        body = get(port, "/" + b64)
        check(len(body) > 100 and body[0] == 0x30, "GET answers a response")

        get(port, "/_control?mode=garbage")
        rc, out = client(port, "", d)
        check(rc != 0, "garbage by control: " + out)
        stats = json.loads(get(port, "/_stats"))
        expected = 8 if shutil.which("faketime") else 7
        check(stats["requests"] == expected and stats["get"] == 1 and stats["mode"] == "garbage",
              "stats: %r" % stats)
        check(stats["by_mode"].get("wrong-nonce") == 1, "by_mode counts")
        get(port, "/_reset")
        check(json.loads(get(port, "/_stats"))["requests"] == 0, "reset")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)
    print("%s" % ("ok" if failed == 0 else "%d failed" % failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
