#!/usr/bin/env python3
"""test_kill.py: kill -9 of certvald at random moments while it downloads, refreshes and
writes CRLs to its cache (D-4), in a loop (CERTVAL_KILLS, 50 by default; scripts/reliability.sh
runs 500). The CRLs served rotate between 10, 1,000 and CERTVAL_CRL_MAX entries (20,000 by
default, 100,000 in the long run), so that kills land during downloads, parsing and writes.

After every kill the daemon is started again on the same cache directory, and:
  - it starts (never a crash), and its cache directory holds no temporary file and at most
    one CRL file and one metadata file (kills never make it grow);
  - it finds no damaged entry: whatever moment the kill hit, the metadata file names a CRL
    file that is there and matches;
  - the revoked certificate is rejected as revoked and the good one accepted: a CRL that was
    not verified is never served, whatever the kill left;
and every answer received before a kill was right too. The figures are printed at the end.
"""

import os
import random
import re
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reliability as rel  # noqa: E402
from reliability import helper  # noqa: E402

KILLS = rel.env_int("CERTVAL_KILLS", 50)
CRL_MAX = rel.env_int("CERTVAL_CRL_MAX", 20000)


class KillLoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-kill-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = rel.Server([os.path.join(rel.SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cdp = "http://127.0.0.1:%d/file/sub.crl" % cls.httpd.port
        cls.pki = rel.RevPKI(os.path.join(cls.dir, "pki"), cdp)
        cls.crls = [cls.pki.crl_der(cls.pki.sub, n, revoked=[cls.pki.revoked])
                    for n in (10, 1000, CRL_MAX)]

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        helper.cleanup(cls.dir)

    def check_answer(self, resp, leaf):
        want = ("ACCEPT", None) if leaf is self.pki.good else ("REJECT", "revoked")
        self.assertEqual(rel.decision(resp), want, resp)

    def fire(self, daemon, action):
        """Starts work that writes the cache (a download after clear, a refresh, or plain
        verifies) and reads what answers come before the kill; returns the connection."""
        s = daemon.connect(timeout=5)
        reqs = []
        if action == "clear":
            reqs.append({"id": "c", "op": "clear", "what": "crls"})
        elif action == "refresh":
            reqs.append({"id": "r", "op": "crl-request", "trustpoint": "ROOT"})
        reqs += [rel.verify_request(self.pki, self.pki.good, 1),
                 rel.verify_request(self.pki, self.pki.revoked, 2)]
        s.sendall("".join(rel.json.dumps(r) + "\n" for r in reqs).encode())
        return s

    def drain(self, s):
        """Checks every verdict that arrived before the kill."""
        s.settimeout(2)
        reader = helper.LineReader(s)
        seen = 0
        try:
            while True:
                r = reader.read()
                if r.get("id") in (1, 2):
                    self.check_answer(r, self.pki.good if r["id"] == 1 else self.pki.revoked)
                    seen += 1
        except (EOFError, OSError, socket.timeout, ValueError):
            pass
        s.close()
        return seen

    def test_kill_loop(self):
        rng = random.Random(int(os.environ.get("CERTVAL_SEED", "18")))
        cache = os.path.join(self.dir, "cache")
        os.makedirs(cache)
        d = os.path.join(self.dir, "d")
        os.makedirs(d)
        text = rel.config(d, self.pki, "cache-dir %s" % cache)
        figures = {"kills": 0, "restarts": 0, "loaded_from_cache": 0, "damaged_dropped": 0,
                   "leftovers_seen_after_kill": 0, "answers_before_kill": 0}
        log_at = 0
        kinds = {}  # what the damaged files were, by message
        for i in range(KILLS + 1):
            rel.serve(self.www, "sub.crl", self.crls[rng.randrange(len(self.crls))])
            daemon = helper.Daemon(d, text).start(timeout=60)
            figures["restarts"] += 1
            log = daemon.log_text()
            new_log, log_at = log[log_at:], len(log)
            figures["loaded_from_cache"] += "cached CRLs loaded" in new_log
            for line in new_log.splitlines():
                if "CRL cache:" in line and "dropped" in line:
                    figures["damaged_dropped"] += 1
                    kinds[re.sub(r"^.*: the CRL of \S+ ", "", line)] = 1 + kinds.get(
                        re.sub(r"^.*: the CRL of \S+ ", "", line), 0)
            self.assertNotIn("AddressSanitizer", new_log)
            files = rel.cache_files(cache)
            self.assertFalse([f for f in files if ".tmp." in f], files)
            self.assertLessEqual(len(files), 2, files)
            # whatever the kill left, the answers are right
            self.check_answer(daemon.call(rel.verify_request(self.pki, self.pki.revoked)),
                              self.pki.revoked)
            self.check_answer(daemon.call(rel.verify_request(self.pki, self.pki.good)),
                              self.pki.good)
            if i == KILLS:
                self.assertEqual(daemon.stop(), 0, daemon.log_text()[log_at:])
                break
            s = self.fire(daemon, rng.choice(["clear", "clear", "refresh", "verify"]))
            time.sleep(rng.uniform(0, rng.choice([0.03, 0.25])))
            daemon.proc.kill()
            daemon.proc.wait()
            daemon.proc = None
            figures["kills"] += 1
            figures["answers_before_kill"] += self.drain(s)
            leftovers = [f for f in rel.cache_files(cache) if ".tmp." in f]
            figures["leftovers_seen_after_kill"] += bool(leftovers)
        print("\nreliability-kill: " + ", ".join("%s=%d" % kv for kv in figures.items()))
        for what, n in sorted(kinds.items()):
            print("  %d x %s" % (n, what))
        self.assertEqual(figures["kills"], KILLS)
        # the CRL is written under its own name before the metadata that names it: no kill
        # leaves a pair that does not match
        self.assertEqual(figures["damaged_dropped"], 0, kinds)


if __name__ == "__main__":
    unittest.main(verbosity=2)
