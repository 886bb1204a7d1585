#!/usr/bin/env python3
"""fleet_bench.py: N certvald daemons (default 50) on this machine behind one nginx with
proxy_cache and proxy_cache_lock, in front of an origin CDP that replaces a short-lived CRL
every cycle and counts what it serves (issue 16). Measures, over several cycles:

- how many times the origin serves each CRL version (one per cycle is the goal, not N);
- verdict latency (p50/p99) in steady state and inside the refresh windows, under a steady
  verify load on every daemon;
- with the origin down for one cycle: daemons still answering from their last good CRL and
  reporting it stale;
- event latency: from the CRL that revokes a certificate becoming current at the origin to
  the "revoked" event reaching a subscriber of each daemon.

Run from the source tree after building:
    CERTVAL_BUILD_DIR=build python3 bench/fleet_bench.py [--daemons 50] [--cycle 10]
Prints a Markdown table (README.md "A fleet behind one HTTP cache" quotes one run).
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "support"))

import certvald_helper as helper  # noqa: E402
import fleet  # noqa: E402


class Subscribers:
    """One "all" subscription per daemon; records when the victim's revocation arrives."""

    def __init__(self, f):
        self.f, self.got = f, {}
        self.serial = "%X" % f.pki.victim.serial
        self.threads = []
        for i, d in enumerate(f.daemons):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.sock)
            s.sendall(b'{"op":"subscribe","id":1}\n')
            t = threading.Thread(target=self.run, args=(i, s), daemon=True)
            t.start()
            self.threads.append(t)

    def run(self, i, s):
        reader = helper.LineReader(s)
        try:
            while True:
                o = reader.read()
                if o.get("event") == "revoked" and o.get("serial") == self.serial:
                    self.got.setdefault(i, time.time())
        except (EOFError, OSError):
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--daemons", type=int, default=50)
    ap.add_argument("--cycle", type=int, default=10)
    ap.add_argument("--interval", type=float, default=0.2, help="seconds between verifies "
                    "of one daemon's load thread")
    args = ap.parse_args()
    if not fleet.nginx_available():
        print("nginx is not installed", file=sys.stderr)
        return 77
    c = args.cycle
    # versions 0..5: 0 downloaded at start, 1-2 refreshed, 3 revokes the victim, origin down
    # in cycle 4 (version 4 never served), 5 after
    directory = helper.make_tmpdir("certval-fleet-bench-")
    f = fleet.Fleet(directory, args.daemons, c, versions=6, down=(4,), revoke_from=3)
    try:
        t_setup = time.time()
        f.start()
        setup_s = time.time() - t_setup
        for d in f.daemons:
            assert f.verify(d)["decision"] == "ACCEPT"
        subs = Subscribers(f)
        stale_mid_down = accept_mid_down = 0
        with fleet.Load(f, args.interval) as load:
            f.sleep_until(f.boundary(4) + c * 0.75)
            for d in f.daemons:
                e = f.cached(d) or {}
                stale_mid_down += bool(e.get("refresh", {}).get("stale"))
            f.sleep_until(f.boundary(5))
        for d in f.daemons:  # version 3 expired with the cycle; each daemon asks again
            accept_mid_down += f.verify(d)["decision"] == "ACCEPT"
        served, counts = f.served()
        numbers = f.numbers()
    finally:
        rcs = f.stop()
    window = lambda s, k: f.boundary(k) + 1 <= s[0] < f.boundary(k) + 1 + (c - 1) / 2 + 1  # noqa
    refreshing = [s[1] for s in load.samples
                  if any(window(s, k) for k in (1, 2, 3)) and s[0] < f.boundary(4)]
    steady = [s[1] for s in load.samples
              if not any(window(s, k) for k in (1, 2, 3)) and s[0] < f.boundary(4)]
    downloads = sum(1 for s in load.samples if s[0] < f.boundary(4) and s[3] == "download")
    ev = sorted(t - f.boundary(3) for t in subs.got.values())
    ms = lambda v: "%.2f ms" % (v * 1000)  # noqa: E731
    print("| figure | value |")
    print("|---|---|")
    print("| daemons, cycle | %d, %d s (CRL life %d s), setup %.1f s |" %
          (args.daemons, c, 2 * c, setup_s))
    for k in range(6):
        print("| origin 200s for version %d | %s |" % (k, served.get(k, 0)))
    print("| origin 304s, 503s | %d, %d |" % (counts.get("sub.crl:304", 0),
                                            counts.get("sub.crl:503", 0)))
    print("| verdicts: steady / during refreshes | %d / %d |" % (len(steady), len(refreshing)))
    print("| p50 steady / refreshing | %s / %s |" % (ms(fleet.percentile(steady, 50)),
                                                   ms(fleet.percentile(refreshing, 50))))
    print("| p99 steady / refreshing | %s / %s |" % (ms(fleet.percentile(steady, 99)),
                                                   ms(fleet.percentile(refreshing, 99))))
    print("| verdicts that waited on a download (cycles 0-3) | %d |" % downloads)
    print("| stale during the origin's outage | %d of %d |" % (stale_mid_down, args.daemons))
    print("| ACCEPT after the outage (new download) | %d of %d |" %
          (accept_mid_down, args.daemons))
    print("| CRL numbers at the end | %s |" % sorted(set(numbers), key=str))
    if ev:
        print("| event latency, publish to subscriber: min / p50 / max | %.2f / %.2f / %.2f s |"
              % (ev[0], fleet.percentile(ev, 50), ev[-1]))
    print("| events received | %d of %d |" % (len(ev), args.daemons))
    print("| daemons exiting cleanly | %d of %d |" % (rcs.count(0), args.daemons))
    helper.cleanup(directory)
    ok = (downloads == 0 and stale_mid_down == args.daemons and len(ev) == args.daemons
          and accept_mid_down == args.daemons and rcs.count(0) == args.daemons
          and served.get(4, 0) == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
