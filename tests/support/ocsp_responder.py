#!/usr/bin/env python3
"""ocsp_responder.py: a scriptable, fault-injecting OCSP responder on loopback for tests.

Each request is answered by running `openssl ocsp` (index file, CA, signer) on the request
bytes, so responses are real RFC 6960 responses signed by a real key. HTTP POST
(application/ocsp-request body) and RFC 5019 GET (/<url-encoded base64 of the DER>) both work.

Start:
    ocsp_responder.py --dir PKI --index index.txt --ca ca.pem --rsigner resp.pem --rkey resp.key
                      [--port 0] [--port-file FILE] [--ndays 1] [--bind 127.0.0.1]
Relative file names are taken inside --dir. The chosen port is printed as "PORT <n>" on stdout
(and written to --port-file when given), then the server runs until SIGTERM/SIGINT.

Fault modes. A path prefix /fault/<mode>/ selects a mode for that request only, e.g.
`ocsp url http://127.0.0.1:PORT/fault/wrong-nonce/`; otherwise the current default mode applies,
which the control endpoint sets. Modes:
    normal        the answer `openssl ocsp` gives (echoes the request's nonce)
    wrong-nonce   signed over a copy of the request whose nonce has its last byte flipped
    no-nonce      signed over a rebuilt request without the nonce extension
    stale         signed with the clock two days back and -ndays 1: nextUpdate one day ago
                  (needs faketime, Debian package `faketime`)
    future        signed with the clock one day ahead (needs faketime)
    garbage       200 bytes that are not DER, as application/ocsp-response
    huge          a body of `huge_size` bytes (default 1 MiB) of 0x30
    slow          waits `delay` seconds (default 5), then answers normally
    http500       HTTP 500 with a short text body
    trylater      a DER OCSPResponse with responseStatus tryLater (3)
    unauthorized  a DER OCSPResponse with responseStatus unauthorized (6)

Control endpoint (GET or POST, query string):
    /_control?mode=MODE[&delay=S][&huge_size=N][&rsigner=F&rkey=F][&ndays=N]
                    sets the default mode and its parameters; answers the new state as JSON
    /_stats         JSON: {"requests": n, "post": n, "get": n, "by_mode": {...},
                           "last_request_has_nonce": bool|null, "mode": ...}
    /_last_request  the DER of the last OCSP request received (404 before the first)
    /_reset         zeroes the counters and forgets the last request
Control requests are not counted. Everything is deterministic except the waiting in `slow`.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("normal", "wrong-nonce", "no-nonce", "stale", "future", "garbage", "huge", "slow",
         "http500", "trylater", "unauthorized")
MAX_REQUEST = 64 * 1024
TRY_LATER = bytes([0x30, 0x03, 0x0A, 0x01, 0x03])
UNAUTHORIZED = bytes([0x30, 0x03, 0x0A, 0x01, 0x06])


class State:
    """Configuration and counters shared by the handler threads."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.dir = os.path.abspath(args.dir)
        self.index = self.path(args.index)
        self.ca = self.path(args.ca)
        self.rsigner = self.path(args.rsigner)
        self.rkey = self.path(args.rkey)
        self.ndays = args.ndays
        self.mode = "normal"
        self.delay = 5.0
        self.huge_size = 1 << 20
        self.reset()

    def path(self, name):
        return name if os.path.isabs(name) else os.path.join(self.dir, name)

    def reset(self):
        self.requests = 0
        self.post = 0
        self.get = 0
        self.by_mode = {}
        self.last_request = None
        self.last_has_nonce = None

    def snapshot(self):
        return {"requests": self.requests, "post": self.post, "get": self.get,
                "by_mode": dict(self.by_mode), "last_request_has_nonce": self.last_has_nonce,
                "mode": self.mode, "delay": self.delay, "huge_size": self.huge_size,
                "ndays": self.ndays, "rsigner": self.rsigner}


def run(cmd, faketime=None):
    if faketime is not None:
        if shutil.which("faketime") is None:
            raise RuntimeError("mode needs faketime (Debian package faketime)")
        cmd = ["faketime", "-f", faketime] + cmd
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def request_text(req_path):
    out = subprocess.run(["openssl", "ocsp", "-reqin", req_path, "-req_text"], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out.stdout.decode("utf-8", "replace")


def nonce_bytes(text):
    """The nonce extension value (OCTET STRING TLV) as openssl prints it, or None."""
    m = re.search(r"OCSP Nonce:\s*\n\s*([0-9A-Fa-f]+)", text)
    return bytes.fromhex(m.group(1)) if m else None


def without_nonce(text, state, work):
    """Rebuilds the request for the same CertID (first one) without a nonce."""
    alg = re.search(r"Hash Algorithm:\s*(\S+)", text)
    serial = re.search(r"Serial Number:\s*([0-9A-Fa-f]+)", text)
    if not alg or not serial:
        raise RuntimeError("cannot read the request's CertID")
    out = os.path.join(work, "req-nononce.der")
    run(["openssl", "ocsp", "-issuer", state.ca, "-" + alg.group(1).lower(), "-serial",
         "0x" + serial.group(1), "-no_nonce", "-reqout", out])
    return out


def sign(state, req_der, mode):
    """Runs openssl ocsp for mode; returns the DER response."""
    with state.lock:
        rsigner, rkey, ndays = state.rsigner, state.rkey, state.ndays
    work = tempfile.mkdtemp(prefix="ocsp-resp-")
    try:
        req = os.path.join(work, "req.der")
        with open(req, "wb") as f:
            f.write(req_der)
        faketime = None
        if mode in ("wrong-nonce", "no-nonce"):
            text = request_text(req)
            if mode == "wrong-nonce":
                nonce = nonce_bytes(text)
                pos = req_der.rfind(nonce) if nonce else -1
                if pos < 0:
                    raise RuntimeError("request has no nonce to alter")
                altered = bytearray(req_der)
                altered[pos + len(nonce) - 1] ^= 0xFF
                with open(req, "wb") as f:
                    f.write(bytes(altered))
            else:
                req = without_nonce(text, state, work)
        elif mode == "stale":
            faketime = "-2d"
        elif mode == "future":
            faketime = "+1d"
        resp = os.path.join(work, "resp.der")
        run(["openssl", "ocsp", "-index", state.index, "-CA", state.ca, "-rsigner", rsigner,
             "-rkey", rkey, "-reqin", req, "-respout", resp, "-ndays", str(ndays)], faketime)
        with open(resp, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Handler(BaseHTTPRequestHandler):
    server_version = "certval-test-ocsp/1"
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):  # quiet: tests read /_stats instead
        pass

    def reply(self, code, body, ctype="application/ocsp-response"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self):
        self.handle_any(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_REQUEST:
            self.reply(413, b"request too large\n", "text/plain")
            return
        self.handle_any(self.rfile.read(length))

    def control(self, path, query):
        st = self.server.state
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}
        with st.lock:
            if path == "/_control":
                mode = q.get("mode", st.mode)
                if mode not in MODES:
                    self.reply(400, ("unknown mode %s\n" % mode).encode(), "text/plain")
                    return
                st.mode = mode
                st.delay = float(q.get("delay", st.delay))
                st.huge_size = int(q.get("huge_size", st.huge_size))
                st.ndays = int(q.get("ndays", st.ndays))
                if "rsigner" in q:
                    st.rsigner = st.path(q["rsigner"])
                if "rkey" in q:
                    st.rkey = st.path(q["rkey"])
            elif path == "/_reset":
                st.reset()
            elif path == "/_last_request":
                if st.last_request is None:
                    self.reply(404, b"no request yet\n", "text/plain")
                else:
                    self.reply(200, st.last_request, "application/ocsp-request")
                return
            body = json.dumps(st.snapshot(), sort_keys=True).encode() + b"\n"
        self.reply(200, body, "application/json")

    def handle_any(self, body):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path in ("/_control", "/_stats", "/_reset", "/_last_request"):
            self.control(url.path, url.query)
            return
        path = url.path
        with st.lock:
            mode = st.mode
            delay, huge = st.delay, st.huge_size
        m = re.match(r"^/fault/([a-z0-9-]+)(/.*)?$", path)
        if m:
            mode, path = m.group(1), m.group(2) or "/"
            if mode not in MODES:
                self.reply(400, b"unknown fault mode\n", "text/plain")
                return
        if body is None:
            try:
                b64 = urllib.parse.unquote(path.rsplit("/", 1)[-1])
                body = base64.b64decode(b64, validate=True)
            except ValueError:
                self.reply(400, b"bad GET request encoding\n", "text/plain")
                return
        with st.lock:
            st.requests += 1
            if self.command == "POST":
                st.post += 1
            else:
                st.get += 1
            st.by_mode[mode] = st.by_mode.get(mode, 0) + 1
            st.last_request = body
        try:
            has_nonce = None
            if mode not in ("garbage", "huge", "http500", "trylater", "unauthorized"):
                with tempfile.NamedTemporaryFile(suffix=".der") as f:
                    f.write(body)
                    f.flush()
                    has_nonce = nonce_bytes(request_text(f.name)) is not None
            with st.lock:
                st.last_has_nonce = has_nonce
            if mode == "slow":
                time.sleep(delay)
            if mode == "garbage":
                self.reply(200, b"\x5a" * 200)
            elif mode == "huge":
                self.reply(200, b"\x30" * huge)
            elif mode == "http500":
                self.reply(500, b"internal error (test fault)\n", "text/plain")
            elif mode == "trylater":
                self.reply(200, TRY_LATER)
            elif mode == "unauthorized":
                self.reply(200, UNAUTHORIZED)
            else:
                self.reply(200, sign(st, body, mode))
        except (subprocess.CalledProcessError, RuntimeError) as e:
            msg = getattr(e, "stderr", None) or str(e).encode()
            self.reply(500, b"responder failure: " + msg[:500] + b"\n", "text/plain")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=".")
    ap.add_argument("--index", default="index.txt")
    ap.add_argument("--ca", default="ca.pem")
    ap.add_argument("--rsigner", required=True)
    ap.add_argument("--rkey", required=True)
    ap.add_argument("--ndays", type=int, default=1)
    ap.add_argument("--bind", default="127.0.0.1", choices=("127.0.0.1", "::1", "localhost"))
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    args = ap.parse_args()

    server_class = ThreadingHTTPServer
    if ":" in args.bind:
        class Server6(ThreadingHTTPServer):
            address_family = socket.AF_INET6
        server_class = Server6
    server = server_class((args.bind, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("PORT %d" % port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
