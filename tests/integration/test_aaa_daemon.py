#!/usr/bin/env python3
"""test_aaa_daemon.py: AAA authorization through a real certvald asking a real FreeRADIUS on
loopback (R41-R48, scenario 3: serial-number session control through AAA).

The RADIUS users come from tests/support/radius/users: PKIAAAA is answered with
cert-application=all, cert-trustpoint=CA1 and cert-serial-not=4ACA.
"""

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "aaa"))

import certvald_helper as helper  # noqa: E402
import run_servers  # noqa: E402
import testpki  # noqa: E402


class AAADaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-aaa-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("AAA Root CA")
        pki.banned = pki.leaf("PKIAAAA", pki.root, serial=0x4ACA)
        pki.allowed = pki.leaf("PKIAAAA", pki.root, serial=0x4ACB)
        pki.stranger = pki.leaf("nobody-known", pki.root)
        rad_dir = os.path.join(cls.dir, "radius")
        os.makedirs(rad_dir)
        try:
            cls.radius, cls.port, _ = run_servers.start_radius(rad_dir)
        except SystemExit as e:
            helper.cleanup(cls.dir)
            raise unittest.SkipTest("freeradius unavailable (%s)" % e)
        text = helper.config_text(
            os.path.join(cls.dir, "certvald.sock"),
            [("CA1", pki.root.cert_path,
              ["revocation-check none", "authorization list L",
               "authorization username subjectname commonname"])],
            "aaa group server radius RAD\n server 127.0.0.1 auth-port %d key %s\n timeout 2\n"
            "aaa authorization list L group RAD" % (cls.port, run_servers.SECRET))
        cls.daemon = helper.Daemon(cls.dir, text).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.daemon.stop()
        run_servers.stop(cls.radius)
        helper.cleanup(cls.dir)
        if rc != 0:
            raise AssertionError("certvald exited with %r" % rc)

    def verify(self, leaf):
        resp = self.daemon.call({"id": 1, "op": "verify", "trustpoint": "CA1",
                                 "chain": [leaf.b64], "peer_addr": "192.0.2.43"})
        self.assertTrue(resp["ok"], resp)
        return resp["verdict"], [t["text"] for t in resp["verdict"]["trace"]]

    def test_cert_serial_not(self):
        """R46: cert-serial-not 4ACA rejects serial 4ACA with the manual's trace."""
        v, trace = self.verify(self.pki.banned)
        self.assertEqual(v["decision"], "REJECT", json.dumps(v, indent=1))
        self.assertEqual(v["reason"], "aaa-denied")
        self.assertEqual(v["aaa_username"], "PKIAAAA")
        self.assertIn("Selected AAA username: 'PKIAAAA'", trace)
        self.assertIn('cert-serial doesn\'t match ("4ACA" != "4ACA")', trace)
        self.assertIn("AAA authorization for list 'L', and user 'PKIAAAA' failed.", trace)
        self.assertTrue(trace[-1].endswith("CRYPTO_PKI_CERT_NOT_AUTHORIZED"), trace[-1])
        self.assertIn("192.0.2.43", self.daemon.log_text())

    def test_other_serial_passes(self):
        """R43, R44, R48: the same user with another serial passes, in the manual's order."""
        v, trace = self.verify(self.pki.allowed)
        self.assertEqual(v["decision"], "ACCEPT", json.dumps(v, indent=1))
        order = ["Selected AAA username: 'PKIAAAA'", "Anticipate checking AAA list:'L'",
                 "checking AAA authorization (L, PKIAAAA, <all>)",
                 "pre-authorization chain validation status (0x4)",
                 'reply attribute ("cert-application" = "all")',
                 "post-authorization chain validation status (0x4)", "authorization passed"]
        positions = [trace.index(line) for line in order]
        self.assertEqual(positions, sorted(positions))
        aaa = [e for e in v["evidence"] if e["method"] == "aaa"]
        self.assertEqual(aaa[0]["url"], "group RAD")
        # the answer's attributes, for the upstream of an auth subrequest
        self.assertIn("cert-application=all", v["aaa_attributes"].split("; "))

    def test_unknown_user_is_refused(self):
        v, _ = self.verify(self.pki.stranger)
        self.assertEqual(v["decision"], "REJECT")
        self.assertIsNone(v["aaa_attributes"])
        self.assertEqual(v["reason"], "aaa-denied")

    def test_z_server_down(self):
        """R41: the AAA server does not answer: authorization fails (fail closed)."""
        run_servers.stop(self.radius)
        v, trace = self.verify(self.pki.allowed)
        self.assertEqual(v["decision"], "REJECT")
        self.assertEqual(v["reason"], "aaa-denied")
        self.assertIn("authorization declined by AAA, or AAA server not found.", trace)


if __name__ == "__main__":
    unittest.main(verbosity=2)
