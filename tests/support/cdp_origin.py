#!/usr/bin/env python3
"""cdp_origin.py: an origin CDP for the refresh and fleet tests (issue 16), on loopback, that
says how long its answers stay fresh and counts what it serves.

Prints "PORT" as its first stdout line, then serves until killed.

  GET /crl/NAME      the file NAME under --root, with ETag (of the content), Last-Modified
                     (the file's mtime) and Cache-Control: max-age (below); If-None-Match
                     with the current ETag gets 304. When NAME.schedule exists (JSON:
                     {"t0": UNIX, "cycle": SECONDS, "versions": [FILE, ...]}) the file served
                     is versions[k], k = (now - t0) // cycle, the last one after the list
                     ends, and max-age is the time left until the next version. Otherwise
                     max-age is the integer in NAME.max-age when that file exists, else
                     --max-age (none when negative).
                     The schedule's optional "down": [k, ...] lists the cycles in which the
                     origin is down. When NAME.down exists, or in such a cycle, the answer
                     is 503.
  GET /_counts       JSON {"NAME": n, "NAME:200": n, "NAME:304": n, "NAME:503": n,
                     "NAME@ETAG": n (200 answers per content)}
  GET /_reset        zeroes the counts
"""

import argparse
import email.utils
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def hit(self, *keys):
        with self.lock:
            for k in keys:
                self.counts[k] = self.counts.get(k, 0) + 1

    def snapshot(self):
        with self.lock:
            return dict(self.counts)

    def reset(self):
        with self.lock:
            self.counts.clear()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/_counts":
            self.reply(200, json.dumps(self.server.counts.snapshot()).encode())
        elif path == "/_reset":
            self.server.counts.reset()
            self.reply(200, b"reset\n")
        elif path.startswith("/crl/") and "/" not in path[5:] and ".." not in path:
            self.serve_crl(path[5:])
        else:
            self.reply(404)

    def down(self, name):
        root = self.server.root
        if os.path.exists(os.path.join(root, name + ".down")):
            return True
        sched = os.path.join(root, name + ".schedule")
        if not os.path.exists(sched):
            return False
        with open(sched) as f:
            s = json.load(f)
        k = int((time.time() - s["t0"]) // s["cycle"])
        return k in s.get("down", [])

    def current(self, name):
        """(file path, max-age or None) of what NAME is now."""
        root = self.server.root
        sched = os.path.join(root, name + ".schedule")
        if os.path.exists(sched):
            with open(sched) as f:
                s = json.load(f)
            now = time.time()
            k = max(0, int((now - s["t0"]) // s["cycle"]))
            if k >= len(s["versions"]):
                return os.path.join(root, s["versions"][-1]), 0
            left = s["t0"] + (k + 1) * s["cycle"] - now
            return os.path.join(root, s["versions"][k]), max(0, int(left))
        age_file = os.path.join(root, name + ".max-age")
        if os.path.exists(age_file):
            with open(age_file) as f:
                return os.path.join(root, name), int(f.read().strip())
        age = self.server.max_age
        return os.path.join(root, name), (age if age >= 0 else None)

    def serve_crl(self, name):
        counts = self.server.counts
        if self.down(name):
            counts.hit(name, name + ":503")
            self.reply(503, b"down\n")
            return
        path, max_age = self.current(name)
        try:
            with open(path, "rb") as f:
                data = f.read()
            mtime = os.stat(path).st_mtime
        except OSError:
            counts.hit(name, name + ":404")
            self.reply(404)
            return
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        headers = {"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True),
                   "Date": email.utils.formatdate(time.time(), usegmt=True)}
        if max_age is not None:
            headers["Cache-Control"] = "max-age=%d" % max_age
        if self.headers.get("If-None-Match") == etag:
            counts.hit(name, name + ":304")
            self.reply(304, b"", headers)
            return
        counts.hit(name, name + ":200", name + "@" + etag.strip('"'))
        headers["Content-Type"] = "application/pkix-crl"
        self.reply(200, data, headers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--max-age", type=int, default=-1)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.root = args.root
    server.max_age = args.max_age
    server.counts = Counts()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
