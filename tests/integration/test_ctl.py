"""test_ctl.py: certvalctl's command line contract: verdicts, --offline, --json, exit codes."""

import json
import os
import re
import shutil
import unittest

import certvald_helper as h
from certvald_helper import testpki


class CtlTest(h.StandardPKITest):
    TMP_PREFIX = "certvalctl-test-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pki = cls.pki
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
        # issue 11 class 10: certificates that do not parse, at positions 0 and 1
        cls.bad_at_0 = cls.text_file("bad0.pem", testpki.der_to_pem(
            testpki.truncated_der(pki.good)) + pki.sub.pem)
        cls.bad_at_1 = cls.text_file("bad1.pem", pki.good.pem + testpki.der_to_pem(
            testpki.truncated_der(pki.sub)))
        cls.bad_der = os.path.join(cls.dir, "bad0.der")
        with open(cls.bad_der, "wb") as f:
            f.write(testpki.truncated_der(pki.good))
        # a leaf its CA signed over SHA-1 (allow-weak-signature sha1)
        cls.sha1_leaf = pki.leaf("sha1.example", pki.sub, dns=["sha1.example"],
                                 hash_alg="SHA1")
        cls.sha1 = pki.chain_file("sha1", [cls.sha1_leaf, pki.sub])
        cls.conf_text = h.config_text(os.path.join(cls.dir, "unused.sock"),
                                      [("TP", pki.root.cert_path, ["revocation-check none"])])
        cls.d = h.Daemon(cls.dir, cls.conf_text).start()

    @classmethod
    def text_file(cls, name, text):
        path = os.path.join(cls.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        super().tearDownClass()
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

    def offline_json(self, chain, *options):
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path, "--json",
                       "--purpose", "server"] + list(options) + [chain])
        self.assertIn(r.returncode, (0, 1), r.stderr)
        return json.loads(r.stdout)

    def test_offline_key_policy(self):
        """Weak keys are refused by default and accepted with their allow-weak value."""
        for kind, allow in (("rsa1024", "rsa-1024"), ("p192", "p192")):
            leaf = self.pki.leaf("weak-%s.example" % kind, self.pki.sub,
                                 dns=["weak-%s.example" % kind], key=kind)
            chain = self.pki.chain_file("weak-" + kind, [leaf, self.pki.sub])
            v = self.offline_json(chain)
            self.assertEqual(v["decision"], "REJECT", v)
            self.assertEqual(v["detail"], "weak-algorithm")
            self.assertIn("allow-weak-signature " + allow, v["message"])
            self.assertEqual(self.offline_json(chain, "--allow-weak", allow)["decision"],
                             "ACCEPT")
            self.assertEqual(self.offline_json(chain, "--allow-weak", "sha1")["decision"],
                             "REJECT")
        strong = self.pki.leaf("rsa2048.example", self.pki.sub, dns=["rsa2048.example"],
                               key="rsa2048")
        chain = self.pki.chain_file("rsa2048", [strong, self.pki.sub])
        self.assertEqual(self.offline_json(chain)["decision"], "ACCEPT")

    def test_offline_profile_rules(self):
        """A CA certificate as a TLS leaf, and a critical AIA, are refused."""
        ca_leaf = self.pki.ca("CA as leaf", issuer=self.pki.sub)
        chain = self.pki.chain_file("ca-leaf", [ca_leaf, self.pki.sub])
        v = self.offline_json(chain)
        self.assertEqual(v["decision"], "REJECT", v)
        self.assertEqual(v["detail"], "profile-leaf-ca")
        self.assertIn("RFC 5280 4.2.1.9", v["message"])
        r = h.run_ctl(["verify", "--offline", "--ca", self.pki.root.cert_path, "--json",
                       "--purpose", "ike", chain])
        self.assert_rc(r, 0)
        # id-ad-ocsp http://o, as a non-critical extension (fine) and a critical one
        aia = "0x3016301406082b06010505073001860868747470 3a2f2f6f".replace(" ", "")
        ok = self.pki.leaf("aia.example", self.pki.sub, dns=["aia.example"],
                           extra=['add_extension = "1.3.6.1.5.5.7.1.1 %s"' % aia])
        bad = self.pki.leaf("aia-crit.example", self.pki.sub, dns=["aia-crit.example"],
                            extra=['add_critical_extension = "1.3.6.1.5.5.7.1.1 %s"' % aia])
        v = self.offline_json(self.pki.chain_file("aia", [ok, self.pki.sub]))
        self.assertEqual(v["decision"], "ACCEPT", v)
        v = self.offline_json(self.pki.chain_file("aia-crit", [bad, self.pki.sub]))
        self.assertEqual(v["decision"], "REJECT", v)
        self.assertEqual(v["detail"], "profile-aia")

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

    # ---- issue 11 class 10: malformed input, profile, depth, relaxations ----

    def assert_malformed(self, r, index):
        self.assert_rc(r, 1)
        v = json.loads(r.stdout)
        self.assertEqual(v["decision"], "REJECT")
        self.assertEqual(v["reason"], "chain-invalid")
        self.assertEqual(v["detail"], "malformed-certificate")
        self.assertEqual(v["cert_index"], index)
        self.assertEqual(v["path"], [])

    def test_malformed_certificate_offline_is_a_rejection(self):
        """A certificate that does not parse is the peer's: REJECT with its position, exit 1
        (it was a usage error, exit 2)."""
        adhoc = ["verify", "--offline", "--ca", self.pki.root.cert_path, "--json"]
        self.assert_malformed(h.run_ctl(adhoc + [self.bad_at_0]), 0)
        self.assert_malformed(h.run_ctl(adhoc + [self.bad_at_1]), 1)
        self.assert_malformed(h.run_ctl(adhoc + [self.bad_der]), 0)
        self.assert_malformed(h.run_ctl(["verify", "--offline", "--config", self.d.conf,
                                         "--json", self.bad_at_1]), 1)
        r = h.run_ctl(adhoc[:-1] + [self.bad_at_1])
        self.assert_rc(r, 1)
        self.assertTrue(r.stdout.startswith(
            "REJECT chain-invalid (malformed-certificate): certificate 1: "), r.stdout)
        # near miss: the same chain intact is accepted; a file that is not there stays a
        # usage error
        self.assert_rc(h.run_ctl(adhoc + [self.good]), 0)
        self.assert_rc(h.run_ctl(adhoc + [os.path.join(self.dir, "missing.pem")]), 2)

    def test_malformed_certificate_through_daemon_is_a_rejection(self):
        self.assert_malformed(self.ctl("verify", "--trustpoint", "TP", "--json",
                                       self.bad_at_0), 0)
        self.assert_malformed(self.ctl("verify", "--trustpoint", "TP", "--json",
                                       self.bad_at_1), 1)
        self.assert_rc(self.ctl("verify", "--trustpoint", "TP", self.good), 0)

    def test_offline_max_depth(self):
        """--max-depth / chain-depth count the certificates of the path, anchor included:
        leaf, sub and root pass at 3 and fail at 2."""
        adhoc = ["verify", "--offline", "--ca", self.pki.root.cert_path, "--json"]
        self.assert_rc(h.run_ctl(adhoc + ["--max-depth", "3", self.good]), 0)
        r = h.run_ctl(adhoc + ["--max-depth", "2", self.good])
        self.assert_rc(r, 1)
        v = json.loads(r.stdout)
        self.assertEqual((v["reason"], v["detail"]), ("chain-invalid", "depth-exceeded"))
        self.assertIn("2 certificates", v["message"])
        for bad in ("0", "11", "three", "-1", ""):
            with self.subTest(max_depth=bad):
                self.assert_rc(h.run_ctl(adhoc + ["--max-depth", bad, self.good]), 2)
        # the same limit from a configuration file
        for depth, rc in ((3, 0), (2, 1)):
            with self.subTest(chain_depth=depth):
                conf = self.text_file("depth%d.conf" % depth, h.config_text(
                    "unused.sock", [("TP", self.pki.root.cert_path,
                                     ["revocation-check none", "chain-depth %d" % depth])]))
                r = h.run_ctl(["verify", "--offline", "--config", conf, "--json", self.good])
                self.assert_rc(r, rc)
                self.assertEqual(json.loads(r.stdout)["detail"],
                                 None if rc == 0 else "depth-exceeded")

    def test_offline_profile(self):
        adhoc = ["verify", "--offline", "--ca", self.pki.root.cert_path, "--json"]
        r = h.run_ctl(adhoc + [self.good])
        self.assert_rc(r, 0)
        self.assertEqual(json.loads(r.stdout)["profile"], "rfc5280")  # the default
        r = h.run_ctl(adhoc + ["--profile", "rfc5280", self.good])
        self.assert_rc(r, 0)
        self.assertEqual(json.loads(r.stdout)["profile"], "rfc5280")
        r = h.run_ctl(adhoc + ["--profile", "webpki", self.good])
        self.assertEqual(json.loads(r.stdout)["profile"], "webpki", r.stdout)
        for bad in ("strict", "WebPKI", "web", ""):
            with self.subTest(profile=bad):
                r = h.run_ctl(adhoc + ["--profile", bad, self.good])
                self.assert_rc(r, 2)
                self.assertIn("--profile must be rfc5280 or webpki", r.stderr)
        # ad-hoc trustpoint options only
        self.assert_rc(h.run_ctl(["verify", "--offline", "--config", self.d.conf,
                                  "--profile", "webpki", self.good]), 2)

    def test_verdict_names_weak_algorithm_relied_on(self):
        """A SHA-1 signature accepted under allow-weak-signature sha1 is named in the verdict
        ("weak:sha1"); without it the chain is refused; a clean chain names nothing."""
        adhoc = ["verify", "--offline", "--ca", self.pki.root.cert_path]
        r = h.run_ctl(adhoc + ["--json", self.sha1])
        self.assert_rc(r, 1)
        self.assertEqual(json.loads(r.stdout)["detail"], "weak-algorithm")
        r = h.run_ctl(adhoc + ["--json", "--allow-weak", "sha1", "-v", self.sha1])
        self.assert_rc(r, 0)
        v = json.loads(r.stdout)
        self.assertEqual(v["relaxations"], ["weak:sha1"])
        self.assertEqual(v["profile"], "rfc5280")
        self.assertTrue(any("relied on: weak:sha1" in e["text"] for e in v["trace"]), v)
        r = h.run_ctl(adhoc + ["--allow-weak", "sha1,md5", self.sha1])
        self.assert_rc(r, 0)
        self.assertIn(" relaxations=weak:sha1\n", r.stdout.splitlines(True)[0])
        # allowed but not relied on: not named
        r = h.run_ctl(adhoc + ["--json", "--allow-weak", "sha1", "--allow-cn-fallback",
                               self.good])
        self.assert_rc(r, 0)
        v = json.loads(r.stdout)
        self.assertEqual(v["relaxations"], [])
        self.assertFalse(any("relied on" in e["text"] for e in v["trace"]), v)
        r = h.run_ctl(adhoc + [self.good])
        self.assertNotIn("relaxations=", r.stdout)

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

    # ---- the usage comes from the tables: every operation and view the daemon has ----

    def daemon_names(self, request):
        """The names the daemon lists when it refuses request: its table, not a copy.
        Returns (names, test_only): the operations marked "(certvald --test-clock only)"
        have no certvalctl command."""
        resp = self.d.call(dict(request, id=1))
        self.assertFalse(resp["ok"], resp)
        message = resp["error"]["message"]
        self.assertIn("one of: ", message)
        listed = message.rsplit("one of: ", 1)[1].split(", ")
        names = [n for n in listed if " (" not in n]
        test_only = [n.split(" (")[0] for n in listed if " (" in n]
        return names, test_only

    def test_usage_lists_every_operation_and_view(self):
        r = self.ctl("--help")
        self.assert_rc(r, 0)
        usage = r.stdout
        ops, test_only = self.daemon_names({"op": "no-such-op"})
        self.assertIn("crl-request", ops)
        self.assertEqual(test_only, ["clock"])
        for op in ops:
            with self.subTest(op=op):
                self.assertRegex(usage, r"(?m)^  %s( |$)" % re.escape(op))
        for verb in ("show", "clear"):
            views, _ = self.daemon_names({"op": verb, "what": "no-such-view"})
            self.assertIn("crls", views)
            # the usage lists exactly the daemon's views, and each one runs
            self.assertEqual(sorted(re.findall(r"(?m)^  %s (\S+)" % verb, usage)),
                             sorted(views))
            for view in views:
                with self.subTest(verb=verb, view=view):
                    self.assert_rc(self.ctl(verb, view), 0)
                    self.assert_rc(self.ctl(verb, view, "--json"), 0)
        self.assertIn("pubkeys", self.daemon_names({"op": "clear", "what": "x"})[0])
        # a view that cannot be cleared is refused by both sides, with the daemon's list
        self.assert_rc(self.ctl("clear", "timers"), 2)
        resp = self.d.call({"id": 2, "op": "clear", "what": "timers"})
        self.assertEqual(resp["error"]["message"],
                         '"what" of clear must be one of: crls, ocsp, pubkeys')

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


class NamesCtlTest(unittest.TestCase):
    """Host names and name constraints through `certvalctl verify --offline` (issue 11)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certvalctl-names-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        cls.root = pki.ca("Names Root")
        cls.no_localhost = pki.ca("No Localhost CA", issuer=cls.root,
                                  extra=['nc_exclude_dns = "localhost"'])
        cls.no_org = pki.ca("No Org CA", issuer=cls.root,
                            extra=['nc_exclude_dns = "example.org"'])
        cls.no_bar = pki.ca("No Bar CA", issuer=cls.root,
                            extra=['nc_exclude_dns = "bar.example.com"'])
        cls.cn_only = {ca: pki.leaf("test.localhost", ca) for ca in (cls.no_localhost, cls.no_org)}
        cls.wild = {ca: pki.leaf("wild %s" % ca.name, ca, dns=["*.example.com"])
                    for ca in (cls.no_bar, cls.no_org)}

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.dir)

    def verify(self, leaf, ca, purpose, peer):
        chain = self.pki.chain_file("chain-%d" % leaf.serial, [leaf, ca])
        return h.run_ctl(["verify", "--offline", "--ca", self.root.cert_path,
                          "--purpose", purpose, "--peer-name", peer, chain])

    def assert_verdict(self, r, rc, start):
        self.assertEqual(r.returncode, rc, r.stdout + r.stderr)
        self.assertTrue(r.stdout.startswith(start), r.stdout)

    def test_no_cn_fallback_for_server(self):
        """RFC 9525 6.3: a leaf without subjectAltName does not name a TLS server."""
        leaf = self.cn_only[self.no_org]
        self.assert_verdict(self.verify(leaf, self.no_org, "server", "test.localhost"), 1,
                            "REJECT chain-invalid (san-missing)")
        self.assert_verdict(self.verify(self.wild[self.no_org], self.no_org, "server",
                                        "foo.example.com"), 0, "ACCEPT")
        self.assert_verdict(self.verify(self.wild[self.no_org], self.no_org, "server",
                                        "foo.example.org"), 1, "REJECT chain-invalid (hostname)")

    def test_cn_under_dns_constraints(self):
        """The CN an ike peer name may match is held to the dNSName constraints."""
        self.assert_verdict(self.verify(self.cn_only[self.no_org], self.no_org, "ike",
                                        "test.localhost"), 0, "ACCEPT")
        r = self.verify(self.cn_only[self.no_localhost], self.no_localhost, "ike",
                        "test.localhost")
        self.assert_verdict(r, 1, "REJECT chain-invalid (name-constraints)")
        self.assertIn("test.localhost", r.stdout)
        self.assertIn("localhost", r.stdout)

    def test_wildcard_under_excluded_subtree(self):
        """CVE-2025-61727: *.example.com covers the excluded bar.example.com."""
        r = self.verify(self.wild[self.no_bar], self.no_bar, "server", "foo.example.com")
        self.assert_verdict(r, 1, "REJECT chain-invalid (name-constraints)")
        self.assertIn("*.example.com", r.stdout)
        self.assertIn("bar.example.com", r.stdout)


class AnchorsCtlTest(unittest.TestCase):
    """Issue 11 classes 1 and 4 through `certvalctl verify --offline --ca ANCHOR.pem`: the
    constraints of the trust anchor's certificate and the extended key usage of every CA hold
    for the path; and the allow-cn-fallback relaxation, named in the verdict when relied on."""

    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certvalctl-anchors-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        cls.nc_root = pki.ca("NC Root", extra=['nc_permit_dns = "example.com"'])
        cls.nc_in = pki.leaf("in", cls.nc_root, dns=["www.example.com"])
        cls.nc_out = pki.leaf("out", cls.nc_root, dns=["www.example.org"])
        cls.email_root = pki.ca("Email Root", extra=["email_protection_key"])
        cls.server_root = pki.ca("Server Root", extra=["tls_www_server"])
        cls.len0_root = pki.ca("Len0 Root", pathlen=0)
        cls.odd_root = pki.ca("Odd Root",
                              extra=['add_critical_extension = "1.3.6.1.4.1.55555.1 0x0500"'])
        cls.plain_root = pki.ca("Plain Root")
        cls.email_ca = pki.ca("Email CA", issuer=cls.plain_root, extra=["email_protection_key"])
        cls.server_ca = pki.ca("Server CA", issuer=cls.plain_root, extra=["tls_www_server"])
        cls.no_san = pki.leaf("host.example.com", cls.plain_root)

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.dir)

    def verify(self, anchor, certs, *options, purpose="server"):
        chain = self.pki.chain_file("c-%s" % "-".join(str(c.serial) for c in certs), certs)
        r = h.run_ctl(["verify", "--offline", "--ca", anchor.cert_path, "--json",
                       "--purpose", purpose] + list(options) + [chain])
        self.assertIn(r.returncode, (0, 1), r.stdout + r.stderr)
        return r.returncode, json.loads(r.stdout)

    def issued(self, root, ca=None):
        """A server leaf under root (and ca): [leaf, ca] or [leaf]."""
        issuer = ca or root
        leaf = self.pki.leaf("leaf %s" % issuer.name, issuer, dns=["peer.example"])
        return [leaf] + ([ca] if ca else [])

    def test_anchor_name_constraints(self):
        rc, v = self.verify(self.nc_root, [self.nc_in])
        self.assertEqual(rc, 0, v)
        rc, v = self.verify(self.nc_root, [self.nc_out])
        self.assertEqual((rc, v["detail"]), (1, "anchor-name-constraints"), v)
        self.assertIn("NC Root", v["message"])
        self.assertIn("www.example.org", v["message"])

    def test_anchor_eku(self):
        rc, v = self.verify(self.server_root, self.issued(self.server_root))
        self.assertEqual(rc, 0, v)
        chain = self.issued(self.email_root)
        rc, v = self.verify(self.email_root, chain)
        self.assertEqual((rc, v["detail"], v["cert_index"]), (1, "anchor-eku", 1), v)
        self.assertIn("Email Root", v["message"])
        rc, v = self.verify(self.email_root, chain, purpose="any")  # no purpose asked
        self.assertEqual(rc, 0, v)

    def test_ca_eku(self):
        rc, v = self.verify(self.plain_root, self.issued(self.plain_root, self.server_ca))
        self.assertEqual(rc, 0, v)
        rc, v = self.verify(self.plain_root, self.issued(self.plain_root, self.email_ca))
        self.assertEqual((rc, v["detail"], v["cert_index"]), (1, "eku", 1), v)
        self.assertIn("Email CA", v["message"])

    def test_anchor_path_len(self):
        rc, v = self.verify(self.len0_root, self.issued(self.len0_root))
        self.assertEqual(rc, 0, v)
        sub = self.pki.ca("Len0 Sub", issuer=self.len0_root)
        rc, v = self.verify(self.len0_root, self.issued(self.len0_root, sub))
        self.assertEqual((rc, v["detail"]), (1, "anchor-path-len"), v)
        self.assertIn("Len0 Root", v["message"])

    def test_anchor_malformed(self):
        rc, v = self.verify(self.odd_root, self.issued(self.odd_root))
        self.assertEqual((rc, v["detail"]), (1, "anchor-malformed"), v)
        self.assertIn("1.3.6.1.4.1.55555.1", v["message"])
        self.assertIn("Odd Root", v["message"])

    def test_allow_cn_fallback(self):
        """A leaf without subjectAltName for --purpose server --peer-name: san-missing unless
        --allow-cn-fallback, and then the verdict names cn-fallback."""
        peer = ["--peer-name", "host.example.com"]
        rc, v = self.verify(self.plain_root, [self.no_san], *peer)
        self.assertEqual((rc, v["detail"]), (1, "san-missing"), v)
        rc, v = self.verify(self.plain_root, [self.no_san], "--allow-cn-fallback", *peer)
        self.assertEqual(rc, 0, v)
        self.assertEqual(v["relaxations"], ["cn-fallback"])
        rc, v = self.verify(self.plain_root, [self.no_san], "--allow-cn-fallback",
                            "--peer-name", "other.example.com")
        self.assertEqual((rc, v["detail"]), (1, "hostname"), v)


if __name__ == "__main__":
    unittest.main(verbosity=2)
