"""test_ctl.py: certvalctl's command line contract: verdicts, --offline, --json, exit codes."""

import json
import os
import shutil
import unittest

import certvald_helper as h
from certvald_helper import testpki


class CtlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certvalctl-test-")
        pki = cls.pki = testpki.standard(os.path.join(cls.dir, "pki"))
        cls.good = pki.chain_file("good", [pki.good, pki.sub])
        cls.good_reordered = pki.chain_file("good-ro", [pki.good, pki.other_root, pki.sub])
        cls.expired = pki.chain_file("expired", [pki.expired, pki.sub])
        cls.future = pki.chain_file("future", [pki.future, pki.sub])
        cls.leaf_der = pki.chain_file("leaf", [pki.good], der=True)
        cls.revoked_leaf = pki.leaf("revoked.example", pki.sub, dns=["revoked.example"])
        cls.revoked = pki.chain_file("revoked", [cls.revoked_leaf, pki.sub])
        cls.crl = pki.crl(pki.sub, revoked=[cls.revoked_leaf])
        cls.root_crl = pki.crl(pki.root)
        cls.crls = os.path.join(cls.dir, "crls.pem")
        with open(cls.crls, "w") as out:
            for path in (cls.crl, cls.root_crl):
                with open(path) as f:
                    out.write(f.read())
        cls.conf_text = h.config_text(os.path.join(cls.dir, "unused.sock"),
                                      [("TP", pki.root.cert_path, ["revocation-check none"])])
        cls.d = h.Daemon(cls.dir, cls.conf_text).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        h.cleanup(cls.dir)
        if rc != 0:
            raise AssertionError("certvald exit status %r:\n%s" % (rc, log))

    def ctl(self, *args):
        return self.d.ctl(*args)

    def assert_rc(self, r, rc):
        self.assertEqual(r.returncode, rc, "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr))

    # ---- through the daemon ----

    def test_verify_accept(self):
        r = self.ctl("verify", "--trustpoint", "TP", self.good)
        self.assert_rc(r, 0)
        self.assertTrue(r.stdout.startswith("ACCEPT trustpoint=TP"), r.stdout)
        self.assertIn(self.pki.good.subject, r.stdout)

    def test_verify_reject_expired(self):
        r = self.ctl("verify", "--trustpoint", "TP", self.expired)
        self.assert_rc(r, 1)
        self.assertTrue(r.stdout.startswith("REJECT expired"), r.stdout)
        self.assertIn("certificate 0 (%s)" % self.pki.expired.subject, r.stdout)

    def test_verify_json(self):
        r = self.ctl("verify", "--trustpoint", "TP", "--json", self.expired)
        self.assert_rc(r, 1)
        v = json.loads(r.stdout)
        self.assertEqual(v["decision"], "REJECT")
        self.assertEqual(v["reason"], "expired")
        r = self.ctl("verify", "--json", "--trustpoint", "TP", "--purpose", "server",
                     "--peer-name", "peer.example", "--peer-addr", "192.0.2.9",
                     self.good_reordered)
        self.assert_rc(r, 0)
        self.assertEqual(json.loads(r.stdout)["decision"], "ACCEPT")

    def test_verify_verbose_trace(self):
        r = self.ctl("verify", "-v", "--trustpoint", "TP", self.good)
        self.assert_rc(r, 0)
        self.assertIn("trace:", r.stdout)
        self.assertIn("Trust-Point TP picked up", r.stdout)

    def test_verify_der_and_untrusted(self):
        r = self.ctl("verify", "--trustpoint", "TP", self.leaf_der)
        self.assert_rc(r, 1)  # the intermediate is missing
        r = self.ctl("verify", "--trustpoint", "TP", "--untrusted", self.pki.sub.cert_path,
                     self.leaf_der)
        self.assert_rc(r, 0)

    def test_verify_at(self):
        self.assert_rc(self.ctl("verify", "--trustpoint", "TP", self.future), 1)
        at = testpki.days(30).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assert_rc(self.ctl("verify", "--trustpoint", "TP", "--at", at, self.future), 0)

    def test_ping_status_reload(self):
        self.assert_rc(self.ctl("ping"), 0)
        r = self.ctl("status")
        self.assert_rc(r, 0)
        self.assertIn("trustpoints: TP", r.stdout)
        r = self.ctl("reload")
        self.assert_rc(r, 0)
        self.assertIn("reloaded", r.stdout)

    def test_reload_config_error_exit_2(self):
        self.d.write_config("crypto pki trustpoint\n")
        try:
            r = self.ctl("reload")
            self.assert_rc(r, 2)
            self.assertIn("config-error", r.stderr)
        finally:
            self.d.write_config(self.conf_text)
        self.assert_rc(self.ctl("reload"), 0)

    # ---- in-process ----

    def test_offline_config(self):
        self.assert_rc(h.run_ctl(["verify", "--offline", "--config", self.d.conf,
                                  "--trustpoint", "TP", self.good]), 0)
        r = h.run_ctl(["verify", "--offline", "--config", self.d.conf, "--trustpoint", "TP",
                       "--json", self.expired])
        self.assert_rc(r, 1)
        self.assertEqual(json.loads(r.stdout)["reason"], "expired")

    def test_offline_config_error_exit_2(self):
        bad = os.path.join(self.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("crypto pki trustpoint TP\n ca-certificate /nonexistent.pem\n")
        r = h.run_ctl(["verify", "--offline", "--config", bad, self.good])
        self.assert_rc(r, 2)
        self.assertIn("bad.conf:2", r.stderr)

    def test_offline_adhoc(self):
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path, "--json",
                       self.good])
        self.assert_rc(r, 0)
        v = json.loads(r.stdout)
        self.assertEqual(v["trustpoint"], "ADHOC")
        self.assertEqual(v["revocation"], "unchecked-none")
        self.assert_rc(h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                                  self.expired]), 1)
        self.assert_rc(h.run_ctl(["verify", "--offline", "--ca",
                                  self.pki.other_root.cert_path, self.good]), 1)
        self.assert_rc(h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                                  "--untrusted", self.pki.sub.cert_path, self.leaf_der]), 0)

    def test_offline_adhoc_path_with_spaces(self):
        spaced = os.path.join(self.dir, "dir with spaces")
        os.makedirs(spaced, exist_ok=True)
        ca = os.path.join(spaced, "root ca.pem")
        shutil.copy(self.pki.root.cert_path, ca)
        self.assert_rc(h.run_ctl(["verify", "--offline", "--ca", ca, self.good]), 0)

    def test_offline_adhoc_crl(self):
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                       "--crl", self.crls, "--json", self.revoked])
        v = json.loads(r.stdout)
        if any("not available in this build" in e["error"] or ""
               for e in v["evidence"] if e["error"]):
            self.skipTest("the engine has no CRL checking yet")
        self.assert_rc(r, 1)
        self.assertEqual(v["reason"], "revoked")
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                       "--crl", self.crls, "--json", self.good])
        self.assert_rc(r, 0)
        self.assertEqual(json.loads(r.stdout)["revocation"], "good")

    def test_offline_adhoc_policy_options(self):
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                       "--policy", "1.3.6.1.4.1.99999.1", "--explicit-policy", self.good])
        self.assert_rc(r, 1)  # the test certificates carry no policies
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path,
                       "--inhibit-mapping", "--inhibit-any", "--allow-weak", "sha1",
                       "--revocation", "none", self.good])
        self.assert_rc(r, 0)

    def test_map_test(self):
        """Issue "Policy": map-test shows the sequences and lines a certificate satisfies."""
        conf = os.path.join(self.dir, "maps.conf")
        with open(conf, "w") as f:
            f.write("crypto pki certificate map HUB 10\n subject-name co peer.example\n"
                    " issuer-name co nothing\n"
                    "crypto pki certificate map HUB 20\n subject-name co peer.example\n"
                    "crypto pki trustpoint TP\n ca-certificate %s\n match certificate HUB\n"
                    % self.pki.root.cert_path)
        r = h.run_ctl(["map-test", "--config", conf, "--map", "HUB", self.pki.good.cert_path])
        self.assert_rc(r, 0)
        self.assertIn("crypto pki certificate map HUB 10: no match", r.stdout)
        self.assertIn("line 3: issuer-name co nothing: no", r.stdout)
        self.assertIn("crypto pki certificate map HUB 20: MATCH", r.stdout)
        r = h.run_ctl(["map-test", "--config", conf, "--map", "HUB",
                       self.pki.foreign.cert_path])
        self.assert_rc(r, 1)
        self.assertIn("no sequence of HUB matches", r.stdout)
        self.assert_rc(h.run_ctl(["map-test", "--config", conf, "--map", "NOPE",
                                  self.pki.good.cert_path]), 2)
        self.assert_rc(h.run_ctl(["map-test", "--map", "HUB", self.pki.good.cert_path]), 2)

    # ---- exit codes ----

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["verify"], ["verify", "a", "b"],
                     ["verify", "--at", "tomorrow-ish", self.good],
                     ["verify", "--purpose", "email", self.good],
                     ["verify", "--ca", self.pki.root.cert_path, self.good],
                     ["verify", "--offline", self.good],
                     ["verify", "--offline", "--config", self.d.conf, "--ca", "x", self.good],
                     ["verify", "--offline", "--config", self.d.conf, "--crl", "x", self.good],
                     ["verify", "--offline", "--ca", self.pki.root.cert_path,
                      "--revocation", "crl;rm", self.good],
                     ["verify", "--trustpoint", "TP", "/nonexistent.pem"],
                     ["status", "extra"], ["--bogus"]):
            with self.subTest(args=args):
                self.assert_rc(self.ctl(*args), 2)

    def test_daemon_not_running_exit_3(self):
        gone = os.path.join(self.dir, "nobody-listens.sock")
        for args in (["ping"], ["status"], ["verify", "--trustpoint", "TP", self.good]):
            with self.subTest(args=args):
                r = h.run_ctl(["--socket", gone] + args)
                self.assert_rc(r, 3)
                self.assertIn("cannot connect", r.stderr)

    def test_socket_from_environment(self):
        env_before = os.environ.get("CERTVAL_SOCKET")
        os.environ["CERTVAL_SOCKET"] = self.d.sock
        try:
            self.assert_rc(h.run_ctl(["ping"]), 0)
        finally:
            if env_before is None:
                del os.environ["CERTVAL_SOCKET"]
            else:
                os.environ["CERTVAL_SOCKET"] = env_before


if __name__ == "__main__":
    unittest.main(verbosity=2)
