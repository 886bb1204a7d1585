#!/usr/bin/env python3
"""httpd_fault.py: a scriptable HTTP server on loopback for fetcher and CDP tests.

Prints "PORT" as its first stdout line, then serves until killed (or stdin closes with
--stdin-exit). Paths (query strings are ignored when counting):

  /file/NAME              the file NAME from --root (404 if missing), with an ETag; a
                          matching If-None-Match gets 304, counted as /file/NAME:304 too
  /bytes/N[/TAG]          N deterministic bytes
  /slowfile/MS/NAME       the file NAME from --root, after MS milliseconds
  /drip/MS/NAME           the file NAME, one byte every MS milliseconds (slowloris)
  /endless[/TAG]          200 with no length and a body that never ends
  /half/NAME              the first half of the file NAME (full Content-Length), then RST
  /stall[/TAG]            never answers (returns when the client hangs up)
  /stall/MS[/TAG]         answers "stalled MS" after MS milliseconds
  /reset[/TAG]            resets the connection (RST) without a reply
  /garbage[/TAG]          sends bytes that are not HTTP, then closes
  /huge/MB[/nolength]     streams MB MiB of zeros (with or without Content-Length)
  /loop/N                 redirects to /loop/N+1, forever
  /redirect/REST          redirects once to /REST
  /redirect_to?url=U      redirects once to the absolute URL U (e.g. file:///etc/passwd)
  /status/CODE[/TAG]      answers with status CODE
  /etag/TAG               body "etag-TAG" with ETag "TAG" and Last-Modified; 304 on a
                          matching If-None-Match or a later If-Modified-Since
  /cachehdr/KIND/N        body "cached" with caching headers: KIND max-age (Cache-Control:
                          public, max-age=N), aged (max-age=N and Age: 10), expires (Date
                          now, Expires now + N), no-store (no-store, max-age=N), none
  /peer                   the client's address
  /echo (POST)            "Content-Type: <type>\\n" followed by the request body
  /headers                "upstream says hello\\n" and the request's headers, one per line
  /_count?path=P          how many requests reached path P (not counting /_count itself)
  /_peer_of?path=P        the client address of the last request for path P
  /_reset                 zeroes every count
"""

import argparse
import email.utils
import hashlib
import os
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAST_MODIFIED = 1300000000  # 2011-03-13


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def hit(self, path):
        with self.lock:
            self.counts[path] = self.counts.get(path, 0) + 1

    def get(self, path):
        with self.lock:
            return self.counts.get(path, 0)

    def reset(self):
        with self.lock:
            self.counts.clear()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "httpd_fault/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("httpd_fault: " + (fmt % args) + "\n")

    # -- helpers --
    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def wait_for_hangup(self, seconds=None):
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            timeout = 0.2
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    return False
            r, _, _ = select.select([self.connection], [], [], timeout)
            if r:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return True
                except OSError:
                    return True
                time.sleep(timeout)

    # -- dispatch --
    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if url.path == "/_count":
            q = urllib.parse.parse_qs(url.query)
            path = q.get("path", [""])[0]
            self.reply(200, str(self.server.counts.get(path)).encode())
            return
        if url.path == "/_peer_of":
            q = urllib.parse.parse_qs(url.query)
            self.reply(200, self.server.peers.get(q.get("path", [""])[0], "").encode())
            return
        if url.path == "/_reset":
            self.server.counts.reset()
            self.reply(200, b"ok")
            return
        self.server.counts.hit(url.path)
        self.server.peers[url.path] = self.client_address[0]
        body = b""
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            body = self.rfile.read(length)
        self.query = urllib.parse.parse_qs(url.query)
        name = parts[0] if parts else ""
        handler = getattr(self, "h_" + name, None)
        if handler is None:
            self.reply(404, b"no such path\n")
            return
        try:
            handler(parts[1:], body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    # -- paths --
    def h_file(self, args, body):
        root = self.server.root
        if not root or not args or ".." in args:
            self.reply(404)
            return
        path = os.path.join(root, *args)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            self.reply(404)
            return
        # A strong ETag of the content; a matching If-None-Match gets 304 (counted under
        # "PATH:304" as well, so that tests can tell conditional GETs apart).
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:32]
        if self.headers.get("If-None-Match") == etag:
            self.server.counts.hit(urllib.parse.urlsplit(self.path).path + ":304")
            self.reply(304, b"", {"ETag": etag})
            return
        self.reply(200, data, {"Content-Type": "application/pkix-crl", "ETag": etag})

    def read_root_file(self, args):
        root = self.server.root
        if not root or not args or ".." in args:
            return None
        try:
            with open(os.path.join(root, *args), "rb") as f:
                return f.read()
        except OSError:
            return None

    def h_slowfile(self, args, body):
        time.sleep(int(args[0]) / 1000.0)
        data = self.read_root_file(args[1:])
        self.reply(404 if data is None else 200, data or b"")

    def h_drip(self, args, body):
        data = self.read_root_file(args[1:]) or b"\0" * 4096
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()
            time.sleep(int(args[0]) / 1000.0)

    def h_endless(self, args, body):
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = b"\x30\x82" + b"\xff" * 65534
        while True:
            self.wfile.write(chunk)

    def h_half(self, args, body):
        data = self.read_root_file(args) or b"\0" * 4096
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.h_reset(args, body)

    def h_bytes(self, args, body):
        n = int(args[0])
        data = bytes((i * 7 + 3) & 0xFF for i in range(n))
        self.reply(200, data)

    def h_stall(self, args, body):
        if args and args[0].isdigit():
            time.sleep(int(args[0]) / 1000.0)
            self.reply(200, ("stalled %s" % args[0]).encode())
            return
        self.wait_for_hangup()
        self.close_connection = True

    def h_reset(self, args, body):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def h_garbage(self, args, body):
        self.wfile.write(b"\x00\x01garbage that is not HTTP\xff\xfe\r\n\r\n" * 4)
        self.wfile.flush()
        self.close_connection = True

    def h_huge(self, args, body):
        mib = int(args[0]) if args else 200
        total = mib * 1024 * 1024
        self.send_response(200)
        if "nolength" in args:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(total))
        self.end_headers()
        chunk = b"\0" * 65536
        sent = 0
        while sent < total:
            self.wfile.write(chunk)
            sent += len(chunk)

    def h_loop(self, args, body):
        n = int(args[0]) if args else 0
        self.reply(302, b"", {"Location": "/loop/%d" % (n + 1)})

    def h_redirect(self, args, body):
        self.reply(302, b"", {"Location": "/" + "/".join(args)})

    def h_redirect_to(self, args, body):
        self.reply(302, b"", {"Location": self.query.get("url", ["/"])[0]})

    def h_status(self, args, body):
        code = int(args[0]) if args else 500
        self.reply(code, ("status %d\n" % code).encode())

    def h_etag(self, args, body):
        tag = '"%s"' % (args[0] if args else "v1")
        lm = email.utils.formatdate(LAST_MODIFIED, usegmt=True)
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None and inm == tag:
            self.reply(304, b"", {"ETag": tag, "Last-Modified": lm})
            return
        if inm is None and ims is not None:
            t = email.utils.parsedate_to_datetime(ims).timestamp()
            if t >= LAST_MODIFIED:
                self.reply(304, b"", {"ETag": tag, "Last-Modified": lm})
                return
        self.reply(200, ("etag-" + (args[0] if args else "v1")).encode(),
                   {"ETag": tag, "Last-Modified": lm})

    def h_cachehdr(self, args, body):
        kind, n = args[0], int(args[1]) if len(args) > 1 else 0
        now = time.time()
        headers = {"max-age": {"Cache-Control": "public, max-age=%d" % n},
                   "aged": {"Cache-Control": "max-age=%d" % n, "Age": "10"},
                   "expires": {"Date": email.utils.formatdate(now, usegmt=True),
                               "Expires": email.utils.formatdate(now + n, usegmt=True)},
                   "no-store": {"Cache-Control": "no-store, max-age=%d" % n},
                   "none": {}}.get(kind)
        if headers is None:
            self.reply(404)
            return
        self.reply(200, b"cached", headers)

    def h_peer(self, args, body):
        self.reply(200, self.client_address[0].encode())

    def h_headers(self, args, body):
        """The request's headers, one "Name: value" line each (an upstream behind a proxy)."""
        text = "".join("%s: %s\n" % (k, v) for k, v in self.headers.items())
        self.reply(200, ("upstream says hello\n" + text).encode(), {"Content-Type": "text/plain"})

    def h_echo(self, args, body):
        ctype = self.headers.get("Content-Type", "")
        self.reply(200, ("Content-Type: %s\n" % ctype).encode() + body,
                   {"Content-Type": "application/octet-stream"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", help="directory served under /file/")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--stdin-exit", action="store_true", help="exit when stdin closes")
    args = ap.parse_args()

    srv = Server((args.bind, args.port), Handler)
    srv.root = args.root
    srv.verbose = args.verbose
    srv.counts = Counts()
    srv.peers = {}
    print(srv.server_address[1], flush=True)
    if args.stdin_exit:
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        sys.stdin.read()
        srv.shutdown()
    else:
        srv.serve_forever()


if __name__ == "__main__":
    main()
