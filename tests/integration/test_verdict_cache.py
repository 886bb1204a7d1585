"""test_verdict_cache.py: the verdict cache of seen chains and the reply's detail level (issue 13).

Through a real certvald on a socket: a seen chain is answered from the cache with the same
verdict; every change that can change a verdict (a new CRL, a reload, time passing a
certificate's notAfter, an AAA answer's lifetime) makes the next request evaluate afresh;
what depends on the network failing is never cached. The request's "detail" renders only
what was asked for.
"""

import os
import unittest

import certvald_helper as h
from certvald_helper import testpki

SUMMARY = {"decision", "reason", "detail", "message", "cert_index", "cert_subject", "at",
           "trustpoint", "map", "revocation", "failed_open", "expiry_overridden", "profile",
           "relaxations", "aaa_username"}


def verify_req(rid, certs, **fields):
    req = {"id": rid, "op": "verify", "chain": [c.b64 for c in certs], "trustpoint": "TP"}
    req.update(fields)
    return req


class DetailTest(unittest.TestCase):
    """The request's "detail": verdict, evidence, trace (the default)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certvald-detail-")
        cls.pki = testpki.standard(os.path.join(cls.dir, "pki"))
        cfg = h.config_text(os.path.join(cls.dir, "unused.sock"),
                            [("TP", cls.pki.root.cert_path, ["revocation-check none"])])
        cls.d = h.Daemon(cls.dir, cfg).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        h.cleanup(cls.dir)
        if rc != 0:
            raise AssertionError("certvald exit status %r:\n%s" % (rc, log))

    def good(self):
        return [self.pki.good, self.pki.sub]

    def verdict(self, **fields):
        resp = self.d.call(verify_req(1, self.good(), **fields))
        self.assertTrue(resp["ok"], resp)
        return resp["verdict"]

    def test_levels(self):
        full = self.verdict()
        self.assertEqual(set(full), SUMMARY | {"path", "evidence", "trace", "trace_dropped"})
        self.assertEqual(self.verdict(detail="trace").keys(), full.keys())
        evidence = self.verdict(detail="evidence")
        self.assertEqual(set(evidence), SUMMARY | {"path", "evidence"})
        self.assertEqual(len(evidence["path"]), 3)
        summary = self.verdict(detail="verdict")
        self.assertEqual(set(summary), SUMMARY)
        for v in (evidence, summary):
            self.assertEqual(v["decision"], "ACCEPT")
            self.assertEqual(v["trustpoint"], "TP")
            self.assertEqual(v["revocation"], full["revocation"])

    def test_bad_detail_is_refused(self):
        for bad in ("full", "", 3, None):
            resp = self.d.call(verify_req(2, self.good(), detail=bad))
            self.assertFalse(resp["ok"], resp)
            self.assertEqual(resp["error"]["code"], "bad-request")
            self.assertIn("detail", resp["error"]["message"])

    def test_certvalctl_asks_for_what_it_prints(self):
        chain = os.path.join(self.dir, "good-chain.pem")
        with open(chain, "w") as f:
            f.write(self.pki.good.pem + self.pki.sub.pem)
        plain = self.d.ctl("verify", "--trustpoint", "TP", chain)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertIn("path:", plain.stdout)
        self.assertNotIn("trace:", plain.stdout)
        verbose = self.d.ctl("verify", "--trustpoint", "TP", "-v", chain)
        self.assertEqual(verbose.returncode, 0, verbose.stderr)
        self.assertIn("trace:", verbose.stdout)
        self.assertIn("Trust-Point TP picked up", verbose.stdout)
        summary = self.d.ctl("verify", "--trustpoint", "TP", "--detail", "verdict", "-v", chain)
        self.assertEqual(summary.returncode, 0, summary.stderr)
        self.assertNotIn("trace:", summary.stdout)
        self.assertNotIn("path:", summary.stdout)
        bad = self.d.ctl("verify", "--trustpoint", "TP", "--detail", "all", chain)
        self.assertEqual(bad.returncode, 2, bad.stdout)


if __name__ == "__main__":
    unittest.main()
