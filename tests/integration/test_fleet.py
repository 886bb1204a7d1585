#!/usr/bin/env python3
"""test_fleet.py: a small fleet behind one caching proxy (issue 16; bench/fleet_bench.py is
the 50-daemon benchmark): 5 certvald instances with `fetch proxy` pointing at Debian's nginx
(proxy_cache, proxy_cache_lock) in front of an origin CDP that replaces its CRL every cycle
and is down for one cycle.

What must hold, whatever the machine's speed within the cycle's slack:
- every daemon moves to each new CRL version through the proxy, and the origin serves each
  version fewer times than there are daemons (the proxy answers the rest);
- no verdict during the refreshes waits on a download (each answers from the cache);
- with the origin down, every daemon keeps answering from its last good CRL and reports it
  stale until it expires; then, the origin back, the next verdict gets the newest version.
"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import fleet  # noqa: E402
from servers import wait_for  # noqa: E402

N, CYCLE = 5, 6  # versions 0..3: 0 at start, 1 refreshed, 2 never (origin down), 3 after


class FleetTest(unittest.TestCase):
    def setUp(self):
        if not fleet.nginx_available():
            self.skipTest("nginx not installed (scripts/setup-deps.sh installs it)")
        self.dir = helper.make_tmpdir("certval-fleet-")
        self.fleet = fleet.Fleet(self.dir, N, CYCLE, versions=4, down=(2,))

    def tearDown(self):
        rcs = self.fleet.stop()
        helper.cleanup(self.dir)
        self.assertEqual(rcs, [0] * len(rcs), "a certvald did not exit cleanly")

    def all_at(self, version, until):
        return wait_for(lambda: self.fleet.numbers() == [version + 1] * N,
                        seconds=max(1.0, until - time.time()))

    def test_fleet_behind_one_cache(self):
        f = self.fleet.start()
        for d in f.daemons:  # version 0, downloaded for the first verdicts
            self.assertEqual(f.verify(d)["decision"], "ACCEPT")
        self.assertEqual(f.numbers(), [1] * N)
        with fleet.Load(f, 0.05) as load:
            self.assertTrue(self.all_at(1, f.boundary(2) - 0.5), f.numbers())
        during = [s for s in load.samples if f.boundary(1) <= s[0] < f.boundary(2)]
        self.assertTrue(during)
        self.assertEqual({(s[2], s[3]) for s in during}, {("ACCEPT", "cache")},
                         "a verdict waited on a download during the refreshes")
        # origin down in cycle 2: the last good CRL (version 1, valid until cycle 3) serves
        f.sleep_until(f.boundary(2))
        self.assertTrue(wait_for(
            lambda: all((f.cached(d) or {}).get("refresh", {}).get("stale") for d in f.daemons),
            seconds=f.boundary(3) - 0.5 - time.time()), "not every daemon reports stale")
        for d in f.daemons:
            c = f.cached(d)
            self.assertEqual(int(c["crl_number"], 16), 2, c)
            self.assertIn("503", c["refresh"]["last_error"], c)
            self.assertEqual(f.verify(d)["decision"], "ACCEPT")
        # version 1 expires as cycle 3 starts, the origin is back: the next verdict of each
        # daemon downloads version 3, through the proxy
        f.sleep_until(f.boundary(3) + 0.5)
        for d in f.daemons:
            self.assertEqual(f.verify(d)["decision"], "ACCEPT")
        self.assertEqual(f.numbers(), [4] * N)
        served, counts = f.served()
        self.assertNotIn(2, served, counts)
        for version in (0, 1, 3):
            self.assertIn(version, served, counts)
            self.assertLess(served[version], N, counts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
