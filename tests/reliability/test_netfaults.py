#!/usr/bin/env python3
"""test_netfaults.py: fetches against misbehaving servers of the project's own on loopback
(tests/support/httpd_fault.py): a CDP that sends its body one byte per second (slowloris),
one whose body never ends, one that resets after half the CRL, one that redirects in a loop;
an LDAP server that stops in the middle of a search result (tests/support/ldap_stall.py);
and an OCSP answer about another certificate. Each request is answered by its deadline with
the reason (REJECT revocation-unavailable, the URL in the trace), and a request that needs no
faulty server, sent after all of them on the same connection, is answered before those that
stall.
"""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reliability as rel  # noqa: E402
from reliability import helper  # noqa: E402

FAULTS = {  # leaf name -> CDP path on httpd_fault
    "slowloris": "/drip/1000/sub.crl",
    "endless": "/endless/crl",
    "half": "/half/sub.crl",
    "loop": "/loop/0",
    "ldap": "/ldap:",  # tests/support/ldap_stall.py: stops in the middle of a search result
}

REASONS = {  # what the evidence must say of each
    "slowloris": "timeout after 3000 ms",
    "endless": r"too large \(> 1048576 bytes\)",
    "half": "Connection reset by peer",
    "loop": "too many redirects",
    "ldap": "timeout after 3000 ms",
}


class NetFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-net-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = rel.Server([os.path.join(rel.SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cls.ldap = rel.Server([os.path.join(rel.SUPPORT, "ldap_stall.py")])
        base = "http://127.0.0.1:%d" % cls.httpd.port
        cls.pki = rel.RevPKI(os.path.join(cls.dir, "pki"), base + "/file/sub.crl",
                             ocsp_url=base + "/file/good.ocsp")
        rel.serve(cls.www, "sub.crl", cls.pki.crl_der(cls.pki.sub, 2000, [cls.pki.revoked]))
        cls.faulty = {name: cls.pki.pki.leaf(name + ".example", cls.pki.sub, crl_url=base + path)
                      for name, path in FAULTS.items()}
        ldap_url = ("ldap://127.0.0.1:%d/cn=Rel%%20Sub%%20CA,dc=test"
                    "?certificateRevocationList;binary" % cls.ldap.port)
        cls.faulty["ldap"] = cls.pki.pki.leaf("ldap.example", cls.pki.sub, crl_url=ldap_url)
        cls.make_ocsp_answer()

    @classmethod
    def make_ocsp_answer(cls):
        """A genuine OCSP response of the sub CA saying `good` about the good leaf only."""
        p, sub = cls.pki, cls.pki.sub
        index = os.path.join(cls.dir, "index.txt")
        with open(index, "w") as f:
            f.write(rel.testpki.openssl_index_line(p.good))
            f.write(rel.testpki.openssl_index_line(p.revoked, revoked_at=rel.testpki.days(-2)))
        req = os.path.join(cls.dir, "good.req")
        for args in (["-issuer", sub.cert_path, "-cert", p.good.cert_path, "-no_nonce",
                      "-reqout", req],
                     ["-index", index, "-CA", sub.cert_path, "-rsigner", sub.cert_path,
                      "-rkey", sub.key_path, "-reqin", req, "-ndays", "2",
                      "-respout", os.path.join(cls.www, "good.ocsp")]):
            subprocess.run(["openssl", "ocsp"] + args, check=True, capture_output=True)

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        cls.ldap.stop()
        helper.cleanup(cls.dir)

    def start(self, lines, extra=""):
        d = helper.daemon_dir(self.dir)
        text = rel.config(d, self.pki, "fetch timeout 3\nfetch max-crl-size 1048576\n" + extra,
                          lines=lines)
        return helper.Daemon(d, text).start()

    def test_faulty_cdps_answered_with_reason_and_not_holding_back(self):
        daemon = self.start(["revocation-check crl"])
        try:
            # the good CDP's CRL in the cache first
            r = daemon.call(rel.verify_request(self.pki, self.pki.good))
            self.assertEqual(rel.decision(r), ("ACCEPT", None), r)
            with daemon.connect(timeout=60) as s:
                names = list(self.faulty)
                reqs = [rel.verify_request(self.pki, self.faulty[n], n) for n in names]
                reqs.append(rel.verify_request(self.pki, self.pki.revoked, "cached"))
                s.sendall("".join(rel.json.dumps(q) + "\n" for q in reqs).encode())
                got = helper.read_responses(s, len(reqs))
            order = [r["id"] for r in got]
            # the servers that stall (until the fetch timeout) hold back no other request;
            # those that fail at once may well answer first
            for slow in ("slowloris", "ldap"):
                self.assertLess(order.index("cached"), order.index(slow),
                                "a stalled fetch held back a request: %s" % order)
            cached = got[order.index("cached")]
            self.assertEqual(rel.decision(cached), ("REJECT", "revoked"))
            for r in got:
                if r["id"] == "cached":
                    continue
                self.assertEqual(rel.decision(r), ("REJECT", "revocation-unavailable"), r)
                trace = rel.json.dumps(r["verdict"])
                self.assertIn(FAULTS[r["id"]].split("/")[1], trace, r)
                errors = " ".join(e["error"] or "" for e in r["verdict"]["evidence"])
                self.assertRegex(errors, REASONS[r["id"]], r)
            print("\nreliability-netfaults: answers in the order %s" % ", ".join(order))
            self.assertNotIn("AddressSanitizer", daemon.log_text())
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log_text()[-2000:])

    def test_ocsp_answer_about_another_certificate(self):
        """The responder answers `good` about the good leaf whatever it is asked: for the
        revoked leaf that answer is no answer (RFC 6960 4.2.2.3: the CertID must match)."""
        # ocsp, then crl: the sub CA has no responder, its status comes from the root's CRL
        daemon = self.start(["revocation-check ocsp crl", "ocsp disable-nonce"])
        try:
            r = daemon.call(rel.verify_request(self.pki, self.pki.good))
            self.assertEqual(rel.decision(r), ("ACCEPT", None), r)
            ev = [e for e in r["verdict"]["evidence"] if e["cert_index"] == 0]
            self.assertEqual((ev[0]["method"], ev[0]["outcome"]), ("ocsp", "good"), ev)
            r = daemon.call(rel.verify_request(self.pki, self.pki.revoked, 2))
            # the `good` about another certificate is no answer: the CRL says revoked
            self.assertEqual(rel.decision(r), ("REJECT", "revoked"), r)
            ev = [e for e in r["verdict"]["evidence"] if e["cert_index"] == 0]
            self.assertEqual((ev[0]["method"], ev[0]["outcome"]), ("ocsp", "error"), ev)
            self.assertIsNotNone(ev[0]["error"])
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log_text()[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
