#!/usr/bin/env python3
"""test_manuals.py: the manuals' own configuration examples (tests/manuals/*.conf), loaded by a
real certvald as written and run against PKIs made here, each showing the behaviour the manual
describes next to its example.

An example file holds the manual's lines with a header naming the manual and its lines (see
tests/manuals/README.md). Where the manual shows a CLI session, the prompt is the mode: a line
typed at `Router(config)#` is written at the left margin, one typed in a sub-mode
(`Router(ca-trustpoint)#`) is indented, except the global commands the manual types there
(`crypto ...`, which IOS runs in global mode). Nothing else is changed: the daemon reads the
example's lines, on the same line numbers, followed by what binds it to the test PKI (each
trustpoint's `ca-certificate`, and what an example leaves out on purpose, named per example)
and the daemon's own settings (socket, timeouts).
"""

import glob
import json
import os
import re
import shutil
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, http_get  # noqa: E402
from testpki import days, openssl_index_line  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")
CORPUS = os.path.join(HERE, "..", "manuals")
PROMPT = re.compile(r"^[\w/:.-]+?\s*(?:\(([\w-]+)\))?\s*#\s*(.*)$")
TRUSTPOINT = re.compile(r"(?m)^\s*crypto\s+(?:pki|ca)\s+trustpoint\s+(\S+)")


def example_lines(name):
    """The example's lines as the daemon reads them: prompts become indentation."""
    out = []
    with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
        for line in f.read().split("\n"):
            m = PROMPT.match(line)
            if m is not None:
                mode, rest = m.group(1), m.group(2)
                global_cmd = mode in (None, "config") or re.match(r"crypto\s", rest)
                line = rest if global_cmd else " " + rest
            out.append(line)
    while out and out[-1] == "":
        out.pop()
    return out


class ManualsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-man-")
        www = os.path.join(cls.dir, "www")
        os.makedirs(www)
        cls.httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", www])
        cls.ocsp_port = free_port()
        h = "http://127.0.0.1:%d/file/" % cls.httpd.port
        cls.cdp, cls.home_cdp, cls.absent_cdp = h + "main.crl", h + "home.crl", h + "absent.crl"
        cls.dead_cdp = "http://127.0.0.1:%d/main.crl" % free_port()  # nothing listens
        ocsp = "http://127.0.0.1:%d/" % cls.ocsp_port

        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        # A root that issues the peers directly: the examples' single-CA trustpoints.
        pki.main = pki.ca("Manual Root CA")
        pki.good = pki.leaf("good.example", pki.main, crl_url=cls.cdp, ocsp_url=ocsp)
        pki.revoked = pki.leaf("revoked.example", pki.main, crl_url=cls.cdp, ocsp_url=ocsp)
        pki.dead = pki.leaf("dead.example", pki.main, crl_url=cls.dead_cdp, ocsp_url=ocsp)
        pki.s279d = pki.leaf("serial.example", pki.main, crl_url=cls.cdp, serial=0x279D)
        pki.crl4aca = pki.leaf("crl", pki.main, crl_url=cls.cdp, serial=0x4ACA)
        pki.crl4acb = pki.leaf("crl", pki.main, crl_url=cls.cdp, serial=0x4ACB)
        pki.myexample = pki.leaf("MyExample peer", pki.main, crl_url=cls.absent_cdp)
        pki.subjsn = pki.leaf("sn.example", pki.main, crl_url=cls.cdp,
                              extra=["dn_oid = 2.5.4.5 1D7EBD4"])
        pki.wan = pki.leaf("wan.example", pki.main, org="Cisco", extra=['unit = "WAN"'],
                            crl_url=cls.cdp)
        pki.lan = pki.leaf("lan.example", pki.main, org="Cisco", extra=['unit = "LAN"'],
                            crl_url=cls.cdp)
        # The home office PKI of the hub-and-spoke examples. The manual's maps say
        # ou=Home Office Inc where its show output says o= (SPEC O-27): the CA here has the
        # OU, so that the maps as written match what the manual means them to.
        pki.home = pki.ca("Central Certificate Authority", org=None,
                          extra=['unit = "Home Office Inc"'])
        org = "Home Office Inc"
        pki.central = pki.leaf("Central VPN Gateway", pki.home, org=org, crl_url=cls.absent_cdp)
        pki.central_crl = pki.leaf("Central VPN Gateway", pki.home, org=org,
                                   crl_url=cls.home_cdp)
        pki.branch2 = pki.leaf("Branch 2 Site", pki.home, org=org, crl_url=cls.absent_cdp)
        pki.branch2_crl = pki.leaf("Branch 2 Site", pki.home, org=org, crl_url=cls.home_cdp)
        old = dict(not_before=days(-60), not_after=days(-1), crl_url=cls.home_cdp, org=org)
        pki.branch1_expired = pki.leaf("Branch 1 Site", pki.home, **old)
        pki.branch2_expired = pki.leaf("Branch 2 Site", pki.home, **old)
        # The chain-validation hierarchy: RootCA -> SubCA1 -> SubCA11 -> peer.
        pki.rootca = pki.ca("RootCA")
        pki.sub1 = pki.ca("SubCA1", issuer=pki.rootca)
        pki.sub11 = pki.ca("SubCA11", issuer=pki.sub1)
        pki.cpeer = pki.leaf("chain.example", pki.sub11)
        pki.other_root = pki.ca("Other RootCA")

        shutil.copy(pki.crl(pki.main, revoked=[pki.revoked], name="main"),
                    os.path.join(www, "main.crl"))
        shutil.copy(pki.crl(pki.home, name="home"), os.path.join(www, "home.crl"))
        with open(os.path.join(cls.dir, "index.txt"), "w") as f:
            f.write(openssl_index_line(pki.good))
            f.write(openssl_index_line(pki.dead))
            f.write(openssl_index_line(pki.revoked, revoked_at=days(-2)))
        cls.ocsp = Server([os.path.join(SUPPORT, "ocsp_responder.py"), "--dir", cls.dir,
                           "--index", "index.txt", "--ca", pki.main.cert_path,
                           "--rsigner", pki.main.cert_path, "--rkey", pki.main.key_path,
                           "--port", str(cls.ocsp_port)])

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        cls.ocsp.stop()
        helper.cleanup(cls.dir)

    def setUp(self):
        self.daemon = None

    def tearDown(self):
        self.stop()

    # ---- how each example is bound to the test PKI ----

    def binding(self, name):
        """(trustpoint -> CA, extra lines) of an example: what the manual leaves out."""
        p = self.pki
        chain = {"RootCA": p.rootca, "SubCA1": p.sub1, "SubCA11": p.sub11}
        home = ["home-office", "VPN-GW"]
        special = {
            "000_2662_branch_skip_authorization.conf":
                ["aaa authorization network allow_list local"],  # "lines similar to"
            # step 10 names trustpoint mytp for the responder; no step defines it
            "000_1859_authorization_steps.conf":
                ["crypto pki trustpoint mytp", " ca-certificate %s" % p.main.cert_path],
        }
        cas = {}
        for tp in TRUSTPOINT.findall("\n".join(example_lines(name))):
            if tp in chain:
                cas[tp] = chain[tp]
            elif tp in home and name != "000_2507_hub_vpn_gw.conf":
                cas[tp] = p.home
            else:
                cas[tp] = p.main
        return cas, special.get(name, [])

    def start(self, name, cas=None, extra=()):
        """A daemon on the example as written, then the binding, then the daemon settings."""
        bound, more = self.binding(name)
        bound.update(cas or {})
        d = helper.daemon_dir(self.dir)
        lines = example_lines(name) + [""]
        self.example_len = len(lines)
        for tp, ca in bound.items():
            lines += ["crypto pki trustpoint %s" % tp, " ca-certificate %s" % ca.cert_path]
        lines += list(more) + list(extra)
        lines += ["socket %s" % os.path.join(d, "certvald.sock"), "socket-mode 0666",
                  "admin-group nogroup", "request-timeout 20", "fetch timeout 3",
                  "fetch retry-after 0"]
        self.stop()
        self.daemon = helper.Daemon(d, "\n".join(lines) + "\n").start()
        return self.daemon

    def stop(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            self.assertEqual(rc, 0, "certvald did not exit cleanly:\n" + self.daemon.log_text())
            self.daemon = None

    # ---- helpers ----

    def verify(self, leaf, tp, chain=(), **extra):
        req = {"id": 1, "op": "verify", "trustpoint": tp,
               "chain": [leaf.b64] + [c.b64 for c in chain]}
        req.update(extra)
        resp = self.daemon.call(req)
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def accepted(self, v, revocation=None):
        self.assertEqual(v["decision"], "ACCEPT", json.dumps(v, indent=1))
        if revocation is not None:
            self.assertEqual(v["revocation"], revocation, v)
        return v

    def rejected(self, v, reason, detail=None):
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", reason),
                         json.dumps(v, indent=1))
        if detail is not None:
            self.assertEqual(v["detail"], detail, v)
        return v

    def warnings(self):
        """{line of the example: [warning texts]} from the daemon's log."""
        out = {}
        pat = re.compile(re.escape(self.daemon.conf) + r":(\d+): (.*)$")
        for line in self.daemon.log_text().splitlines():
            m = pat.search(line)
            if m is not None:
                out.setdefault(int(m.group(1)), []).append(m.group(2))
        return out

    def assert_warned(self, name, text, warning):
        """The line of the example holding text got a warning containing warning."""
        lines = example_lines(name)
        numbers = [i + 1 for i, line in enumerate(lines) if text in line]
        self.assertTrue(numbers, "no line with %r in %s" % (text, name))
        got = self.warnings()
        for n in numbers:
            self.assertTrue(any(warning in w for w in got.get(n, [])),
                            "line %d (%s): no warning %r in %s" % (n, lines[n - 1], warning, got))

    def count(self, url):
        path = url.split(":%d" % self.httpd.port, 1)[1]
        return int(http_get(self.httpd.port, "/_count?path=" + path).strip() or 0)

    def ocsp_requests(self):
        return json.loads(http_get(self.ocsp_port, "/_stats"))["requests"]

    def ctl(self, *args):
        r = self.daemon.ctl(*args)
        self.assertEqual(r.returncode, 0, "certvalctl %s: %s %s" % (args, r.stdout, r.stderr))
        return r.stdout

    def modifiers(self, v):
        return [(m["modifier"], m["label"], m["seq"]) for m in v["modifiers"]]

    # ---- the corpus as a whole ----

    def test_every_example_loads_and_has_its_behaviour_test(self):
        names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(CORPUS, "*.conf")))
        self.assertGreaterEqual(len(names), 20)
        for name in names:
            with self.subTest(example=name):
                with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
                    head = f.readline()
                self.assertRegex(head, r"^! manual: \d{3}_[0-9a-f]{16}\.txt lines \d+")
                method = "test_" + name[:-len(".conf")]
                self.assertTrue(hasattr(self, method), "no behaviour test %s" % method)
                self.start(name)
                # no warning is about anything but the example's own lines, and each names
                # one of them
                self.assertTrue(all(n <= self.example_len for n in self.warnings()),
                                self.warnings())
                self.stop()

    # ---- the AAA examples ----

    def test_000_2184_running_config(self):
        """The router's own lines are skipped with warnings; `crl optional` fetches nothing;
        the list ACSLab asks TACACS+, which certval lacks: the peer is refused."""
        name = "000_2184_running_config.conf"
        self.start(name)
        for text in ("version 12.3", "hostname", "aaa authentication login default",
                     "aaa accounting exec", "aaa session-id", "ip domain name"):
            self.assert_warned(name, text, "configures the router itself")
        self.assert_warned(name, "enrollment url", "enrollment command")
        self.assert_warned(name, "aaa authorization network ACSLab", "tacacs+ is not supported")
        before = self.count(self.cdp)
        v = self.rejected(self.verify(self.pki.good, "EM-CERT-SERV"), "aaa-denied",
                          "aaa-unreachable")
        self.assertIn("tacacs+", v["message"])
        self.assertEqual(v["revocation"], "unchecked-none")  # crl optional: revocation-check none
        self.assertEqual(self.count(self.cdp), before)  # so no fetch

    def test_000_1647_aaa_steps(self):
        """Steps 3-11: the username is the subject's serialNumber; the list maxaaa goes to
        TACACS+ (unreachable here), so authorization fails closed."""
        name = "000_1647_aaa_steps.conf"
        self.start(name)
        self.assert_warned(name, "tacacs-server host", "configures the router itself")
        v = self.rejected(self.verify(self.pki.subjsn, "msca"), "aaa-denied", "aaa-unreachable")
        self.assertEqual(v["aaa_username"], "1D7EBD4")
        self.rejected(self.verify(self.pki.good, "msca"), "aaa-denied", "aaa-no-username")

    def test_000_1659_radius_server(self):
        """`group radius` is the `radius-server host`: the list asks 192.0.2.1 (a
        documentation address nobody answers on) with the configured key."""
        self.start("000_1659_radius_server.conf")
        running = self.ctl("show", "running-config")
        self.assertIn("aaa group server radius radius\n server 192.0.2.1 key <hidden>",
                      running)
        self.assertIn("aaa authorization list maxaaa group radius\n", running)
        v = self.rejected(self.verify(self.pki.subjsn, "msca"), "aaa-denied", "aaa-unreachable")
        self.assertIn("192.0.2.1", v["message"])

    def test_000_2891_cert_serial_not(self):
        """As written the trustpoint names no authorization list (SPEC O-27): AAA is not
        asked and 4ACA passes. With the list the manual's trace shows, 4ACA is refused."""
        name = "000_2891_cert_serial_not.conf"
        self.start(name)
        self.assert_warned(name, "attribute-type aaa-cert-serial-not", "left margin")
        self.accepted(self.verify(self.pki.crl4aca, "CA1"), "good")
        self.start(name, extra=["aaa authorization network crl local",
                                "aaa attribute list crl", " attribute type cert-application all",
                                "crypto pki trustpoint CA1", " authorization list crl",
                                " authorization username subjectname commonname"])
        v = self.rejected(self.verify(self.pki.crl4aca, "CA1"), "aaa-denied", "cert-serial-not")
        self.assertEqual(v["aaa_username"], "crl")
        self.assertIn("cert-serial-not=4ACA", v["aaa_attributes"])
        v = self.accepted(self.verify(self.pki.crl4acb, "CA1"), "good")
        self.assertIn("cert-application=all", v["aaa_attributes"])

    def test_000_1859_authorization_steps(self):
        """As written, the steps name maps Group1 and mycertmapname that no step defines:
        the file loads with a warning on each of their lines, and every chain of Access2 is
        rejected (O-17). With those maps defined as the steps presuppose, a certificate whose
        subject holds MyExample skips revocation (no fetch) and the verdict names the three
        maps' modifiers; another certificate is checked by CRL, cached at most 20 minutes
        (`crl-cache delete-after 20` replaced `crl-cache none`)."""
        name = "000_1859_authorization_steps.conf"
        self.start(name)
        self.assert_warned(name, "Group1 override cdp", "'Group1' is not defined")
        self.assert_warned(name, "mycertmapname override ocsp", "'mycertmapname' is not defined")
        self.assert_warned(name, "crl-cache delete-after 20", "replaces crl-cache none")
        self.rejected(self.verify(self.pki.myexample, "Access2"), "not-authorized",
                      "undefined-map")
        self.start(name, extra=["crypto pki certificate map Group1 10",
                                " subject-name co MyExample",
                                "crypto pki certificate map mycertmapname 10",
                                " subject-name co MyExample"])
        before = self.count(self.absent_cdp)
        v = self.accepted(self.verify(self.pki.myexample, "Access2"), "skipped-by-map")
        self.assertEqual(self.modifiers(v), [("skip revocation-check", "Group", 10),
                                             ("override cdp", "Group1", 10),
                                             ("override ocsp", "mycertmapname", 10)])
        self.assertEqual(self.count(self.absent_cdp), before)
        self.accepted(self.verify(self.pki.good, "Access2"), "good")
        crl = json.loads(self.ctl("show", "crls", "Access2", "--json"))["crls"][0]
        self.assertEqual(crl["cache_policy"], "delete-after 20")

    def test_000_1944_override_ocsp_order(self):
        """The override added with SEQ 5 is listed first, before 10 and 15, and is the one
        used for a certificate that two of the maps match."""
        name = "000_1944_override_ocsp_order.conf"
        self.start(name)
        self.assert_warned(name, "map3 override ocsp 5", "'map3' is not defined")
        running = self.ctl("show", "running-config")
        lines = [l.strip() for l in running.splitlines() if "override ocsp" in l]
        self.assertEqual(lines, ["match certificate map3 override ocsp 5 url http://192.0.2.3/",
                                 "match certificate map1 override ocsp 10 url http://192.0.2.1/",
                                 "match certificate map2 override ocsp 15 url "
                                 "http://192.0.2.2/"])
        self.start(name, extra=["crypto pki certificate map map1 10", " subject-name co good",
                                "crypto pki certificate map map2 10", " subject-name co nobody",
                                "crypto pki certificate map map3 10", " subject-name co good"])
        v = self.accepted(self.verify(self.pki.good, "tp"), "good")  # by CRL, the default
        self.assertEqual(self.modifiers(v), [("override ocsp", "map3", 10)])

    # ---- OCSP ----

    def test_000_1756_ocsp_steps(self):
        """Three `ocsp url` forms: the last one stays, and wins over the certificate's AIA
        (whose responder is not asked). The manual's IPv6 form has a typo (2001DB8) that no
        resolver takes: the responder cannot be asked, and `ocsp none` lets the peer pass."""
        self.start("000_1756_ocsp_steps.conf")
        running = self.ctl("show", "running-config")
        self.assertIn(" ocsp url http://[2001DB8:1:1::2]:80\n", running)
        self.assertNotIn("ocsp url http://10.10.10.1", running)
        self.assertIn(" ocsp disable-nonce\n", running)
        before = self.ocsp_requests()
        v = self.accepted(self.verify(self.pki.good, "hazel"), "unchecked-none")
        self.assertTrue(v["failed_open"])
        self.assertIn("2001DB8", v["evidence"][0]["url"])
        self.assertEqual(self.ocsp_requests(), before)

    def test_000_2460_ocsp_aia(self):
        """The responder of the certificate's AIA answers: good, and revoked."""
        self.start("000_2460_ocsp_aia.conf")
        v = self.accepted(self.verify(self.pki.good, "mytp"), "good")
        self.assertEqual([e["method"] for e in v["evidence"]], ["ocsp"])
        self.rejected(self.verify(self.pki.revoked, "mytp"), "revoked")

    def test_000_2469_crl_then_ocsp(self):
        """The CRL first; when it cannot be had, the AIA's OCSP server."""
        self.start("000_2469_crl_then_ocsp.conf")
        before = self.ocsp_requests()
        v = self.accepted(self.verify(self.pki.good, "mytp"), "good")
        self.assertEqual([e["method"] for e in v["evidence"]], ["crl"])
        self.assertEqual(self.ocsp_requests(), before)
        v = self.accepted(self.verify(self.pki.dead, "mytp"), "good")
        self.assertEqual([(e["method"], e["outcome"]) for e in v["evidence"]],
                         [("crl", "error"), ("ocsp", "good")])

    def test_000_2478_ocsp_url_none(self):
        """`ocsp url` wins over the AIA (whose responder is never asked); the configured
        server is down (its name does not resolve), so the check is ignored: `none`."""
        self.start("000_2478_ocsp_url_none.conf")
        before = self.ocsp_requests()
        v = self.accepted(self.verify(self.pki.good, "mytp"), "unchecked-none")
        self.assertTrue(v["failed_open"])
        self.assertEqual(self.ocsp_requests(), before)
        self.assertIn("myocspserver:81", v["evidence"][0]["url"])

    def test_000_2488_ocsp_disable_nonce(self):
        """As above, with no nonce: the running configuration says so."""
        self.start("000_2488_ocsp_disable_nonce.conf")
        self.assertIn(" ocsp disable-nonce\n", self.ctl("show", "running-config"))
        v = self.accepted(self.verify(self.pki.good, "mytp"), "unchecked-none")
        self.assertTrue(v["failed_open"])

    # ---- CRL and the hub-and-spoke examples ----

    def test_000_2507_hub_vpn_gw(self):
        """The hub checks each peer's CRL at its CDP."""
        name = "000_2507_hub_vpn_gw.conf"
        self.start(name)
        self.assert_warned(name, "revocation-check crl", "left margin")
        self.accepted(self.verify(self.pki.good, "VPN-GW"), "good")
        self.rejected(self.verify(self.pki.revoked, "VPN-GW"), "revoked")

    def test_000_2559_branch_trustpoint(self):
        """The branch checks the CRL: unreachable CRL, no tunnel."""
        name = "000_2559_branch_trustpoint.conf"
        self.start(name)
        self.assert_warned(name, "subject-name o=Home Office Inc", "enrollment command")
        self.accepted(self.verify(self.pki.branch2_crl, "home-office"), "good")
        self.rejected(self.verify(self.pki.branch2, "home-office"), "revocation-unavailable")

    def test_000_2638_branch_skip_revocation(self):
        """The central site's certificate skips the CRL check (no fetch at all); another
        peer of the same CA still needs it."""
        self.start("000_2638_branch_skip_revocation.conf")
        before = self.count(self.absent_cdp)
        v = self.accepted(self.verify(self.pki.central, "home-office"), "skipped-by-map")
        self.assertEqual(self.modifiers(v), [("skip revocation-check", "central-site", 10)])
        self.assertIsNone(v["map"])
        self.assertEqual(self.count(self.absent_cdp), before)
        r = self.daemon.ctl("verify", "--trustpoint", "home-office", self.pki.central.cert_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('modifier="skip revocation-check" map=central-site/10', r.stdout)
        v = self.rejected(self.verify(self.pki.branch2, "home-office"), "revocation-unavailable")
        self.assertEqual(v["modifiers"], [])
        self.assertEqual(self.count(self.absent_cdp), before + 1)

    def test_000_2662_branch_skip_authorization(self):
        """AAA is skipped for the central site (`allow_list` is bound to the local backend,
        which knows no user here, so every other peer is refused)."""
        name = "000_2662_branch_skip_authorization.conf"
        self.start(name)
        v = self.accepted(self.verify(self.pki.central_crl, "home-office"), "good")
        self.assertEqual(self.modifiers(v), [("skip authorization-check", "central-site", 10)])
        self.assertIsNone(v["aaa_username"])
        v = self.rejected(self.verify(self.pki.branch2_crl, "home-office"), "aaa-denied")
        self.assertEqual(v["aaa_username"], "Branch 2 Site")  # auth user subj commonname

    def test_000_2680_central_allow_expired(self):
        """Branch 1's expired certificate is accepted; another expired one is not."""
        self.start("000_2680_central_allow_expired.conf")
        v = self.accepted(self.verify(self.pki.branch1_expired, "VPN-GW"), "good")
        self.assertTrue(v["expiry_overridden"])
        self.assertEqual(self.modifiers(v), [("allow expired-certificate", "branch1", 10)])
        self.rejected(self.verify(self.pki.branch2_expired, "VPN-GW"), "expired")

    def test_000_2762_central_write_term(self):
        """The write-term output names map branch1 but shows map central-site (SPEC O-27):
        it loads with a warning on the match line, and every chain of VPN-GW is rejected
        (O-17), the valid ones too."""
        name = "000_2762_central_write_term.conf"
        self.start(name)
        self.assert_warned(name, "match certificate branch1", "'branch1' is not defined")
        v = self.rejected(self.verify(self.pki.central_crl, "VPN-GW"), "not-authorized",
                          "undefined-map")
        self.assertIn("branch1", v["message"])
        # the expired one fails first on its dates: the modifier's map does not exist
        self.rejected(self.verify(self.pki.branch1_expired, "VPN-GW"), "expired")

    def test_000_2791_crl_cache_none(self):
        """No CRL is cached: each validation downloads it, and show crls prints nothing."""
        self.start("000_2791_crl_cache_none.conf")
        before = self.count(self.cdp)
        self.accepted(self.verify(self.pki.good, "CA1"), "good")
        self.accepted(self.verify(self.pki.good, "CA1"), "good")
        self.assertEqual(self.count(self.cdp), before + 2)
        self.assertEqual(self.ctl("show", "crls"), "")

    def test_000_2826_crl_cache_delete_after(self):
        """The CRL is cached for 2 minutes: NextUpdate shows LastUpdate plus 2 minutes."""
        self.start("000_2826_crl_cache_delete_after.conf")
        self.accepted(self.verify(self.pki.good, "CA1"), "good")
        crl = json.loads(self.ctl("show", "crls", "CA1", "--json"))["crls"][0]
        self.assertEqual(crl["cache_policy"], "delete-after 2")
        fetched = time.strptime(crl["fetched_at"], "%Y-%m-%dT%H:%M:%SZ")
        expires = time.strptime(crl["expires"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual(time.mktime(expires) - time.mktime(fetched), 120)

    def test_000_2871_serial_map(self):
        """Serial 279D matches map crl (serial-number co 279d); another serial does not."""
        self.start("000_2871_serial_map.conf")
        v = self.accepted(self.verify(self.pki.s279d, "CA1"), "good")
        self.assertEqual(v["map"], {"label": "crl", "seq": 10})
        self.rejected(self.verify(self.pki.good, "CA1"), "not-authorized", "no-map-matched")

    # ---- chain validation ----

    def test_000_2006_chain_validation_steps(self):
        """The step example names trustpoint ca-sub1 as its own parent: it loads with a
        warning on that line, and (its CA not being a root) every chain of ca-sub1 is
        rejected, there being no parent to validate the CA against (R11 (b)). With the
        default `stop` the same chain passes."""
        name = "000_2006_chain_validation_steps.conf"
        no_crl = ["crypto pki trustpoint ca-sub1", " revocation-check none"]  # no CDP here
        self.start(name, cas={"ca-sub1": self.pki.sub11}, extra=no_crl)
        self.assert_warned(name, "chain-validation continue ca-sub1",
                           "the parent is the trustpoint itself")
        self.rejected(self.verify(self.pki.cpeer, "ca-sub1"), "chain-invalid",
                      "parent-is-itself")
        self.start(name, cas={"ca-sub1": self.pki.sub11},
                   extra=no_crl + [" chain-validation stop"])
        self.accepted(self.verify(self.pki.cpeer, "ca-sub1"))

    def chain_cas(self, root=None):
        return {"RootCA": root or self.pki.rootca, "SubCA1": self.pki.sub1,
                "SubCA11": self.pki.sub11}

    def check_chain_to_root(self, name):
        self.start(name)
        v = self.accepted(self.verify(self.pki.cpeer, "SubCA11"))
        self.assertEqual([p["subject"] for p in v["path"]][-1], "CN=RootCA,O=certval tests")
        # the same trustpoints with another root CA: SubCA1 no longer validates
        self.start(name, cas=self.chain_cas(root=self.pki.other_root))
        v = self.rejected(self.verify(self.pki.cpeer, "SubCA11"), "chain-invalid", "no-issuer")
        self.assertIn("chain-validation continue SubCA1", v["message"])

    def test_000_2956_chain_to_root(self):
        """Peer, SubCA11, SubCA1 and RootCA are all validated."""
        self.check_chain_to_root("000_2956_chain_to_root.conf")

    def test_000_2978_chain_to_sub(self):
        """The manual repeats the first configuration: the same verdicts."""
        self.check_chain_to_root("000_2978_chain_to_sub.conf")

    def test_000_3004_chain_gap(self):
        """SubCA1 is not configured: the peer must send it, else validation fails."""
        self.start("000_3004_chain_gap.conf")
        v = self.accepted(self.verify(self.pki.cpeer, "SubCA11", chain=[self.pki.sub1]))
        self.assertIn("CN=SubCA1,O=certval tests", [p["subject"] for p in v["path"]])
        v = self.rejected(self.verify(self.pki.cpeer, "SubCA11"), "chain-invalid", "no-issuer")
        self.assertIn("chain-validation continue RootCA", v["message"])

    # ---- the other manuals ----

    def test_003_561_group_map(self):
        """Both lines of the map must hold: OU=WAN and O=Cisco."""
        self.start("003_561_group_map.conf")
        v = self.accepted(self.verify(self.pki.wan, "pkil"))
        self.assertEqual(v["map"], {"label": "Group", "seq": 10})
        self.rejected(self.verify(self.pki.lan, "pkil"), "not-authorized", "no-map-matched")

    def test_003_554_trustpoint_ka(self):
        """Only enrollment is configured: the enrollment line is warned about, and the
        trustpoint checks CRLs by default (R13): the peer's CRL, or no tunnel."""
        name = "003_554_trustpoint_ka.conf"
        self.start(name)
        self.assert_warned(name, "enrollment url http://kahului:80", "enrollment command")
        self.accepted(self.verify(self.pki.good, "ka"), "good")
        self.rejected(self.verify(self.pki.revoked, "ka"), "revoked")
        self.rejected(self.verify(self.pki.dead, "ka"), "revocation-unavailable")

    def test_001_2195_crl_none_source_interface(self):
        """Fetches leave through Ethernet0/0, which this host lacks: no CRL can be had and
        `crl none` lets the peer through; the CDP never sees a request."""
        name = "001_2195_crl_none_source_interface.conf"
        self.start(name)
        self.assert_warned(name, "auto-enroll 70", "enrollment command")
        before = self.count(self.cdp)
        v = self.accepted(self.verify(self.pki.good, "ese-ios-ca"), "unchecked-none")
        self.assertTrue(v["failed_open"])
        self.assertEqual(self.count(self.cdp), before)

    def test_001_3153_headend_crl_none(self):
        """crl none: the CRL when it answers, else the peer passes."""
        name = "001_3153_headend_crl_none.conf"
        self.start(name)
        self.assert_warned(name, "conf t", "configures the router itself")
        self.accepted(self.verify(self.pki.good, "ese-ios-ca"), "good")
        self.rejected(self.verify(self.pki.revoked, "ese-ios-ca"), "revoked")
        v = self.accepted(self.verify(self.pki.dead, "ese-ios-ca"), "unchecked-none")
        self.assertTrue(v["failed_open"])

    def test_001_3552_restore_trustpoint(self):
        self.start("001_3552_restore_trustpoint.conf")
        self.accepted(self.verify(self.pki.good, "ese-ios-ca"), "good")
        self.rejected(self.verify(self.pki.revoked, "ese-ios-ca"), "revoked")

    def test_001_3783_headend_crl(self):
        """Back to crl: without a CRL, no tunnel."""
        self.start("001_3783_headend_crl.conf")
        self.accepted(self.verify(self.pki.good, "ese-ios-ca"), "good")
        self.rejected(self.verify(self.pki.dead, "ese-ios-ca"), "revocation-unavailable")

    def test_004_215_query_url(self):
        """IOS XR's `query url` is the trustpoint's CRL query URL; HTTP CDPs are read as
        before."""
        self.start("004_215_query_url.conf")
        self.assertIn("CRL query url: ldap://my-ldap.domain.com",
                      self.ctl("show", "trustpoints", "myca"))
        self.accepted(self.verify(self.pki.good, "myca"), "good")


if __name__ == "__main__":
    unittest.main(verbosity=2)
