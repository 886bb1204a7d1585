#!/usr/bin/env python3
"""test_policy_daemon.py: trustpoint policy through a real certvald, for what the unit tests
drive in-process only: certificate-map fields, operators, name normalisation and AND/OR
across sequences (R31-R37, O-16); `chain-validation stop` explicit and by default, `continue`
with and without a parent (R10, R11); `crl optional` and `crl best-effort` against a dead
CDP (R15); the trustpool (O-2); the primary trustpoint first (R4, O-18, O-20); a map that
bans a certificate causes no fetch (O-19); RSA-4096 and P-384 keys on every level.
"""

import os
import shutil
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import testpki  # noqa: E402
from servers import Server, http_get  # noqa: E402
from testpki import days  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")


def map_date(t):
    """A map date as the configuration writes it: dd mm yyyy hh:mm:ss (UTC)."""
    return t.strftime("%d %m %Y %H:%M:%S")


class PolicyDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-pol-")
        www = os.path.join(cls.dir, "www")
        os.makedirs(www)
        cls.httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", www])
        h = "http://127.0.0.1:%d" % cls.httpd.port
        cls.cdp = h + "/file/root.crl"
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Map Root CA")
        pki.other_root = pki.ca("Other Root CA")
        pki.sub = pki.ca("Map Sub CA", issuer=pki.root)
        pki.vpn = pki.leaf("peer.example", pki.root, dns=["peer.example"], ips=["192.0.2.7"],
                           org="Corp", extra=['unit = "VPN Users"'], crl_url=cls.cdp,
                           not_after=days(365))
        pki.sales = pki.leaf("other.example", pki.root, dns=["other.example"], org="Corp",
                             extra=['unit = "Sales"'], crl_url=cls.cdp, not_after=days(30))
        pki.sub_leaf = pki.leaf("sub.example", pki.sub, crl_url=cls.cdp)
        pki.dead_leaf = pki.leaf("dead.example", pki.root, crl_url=h + "/reset/dead")
        pki.ban_leaf = pki.leaf("banned.example", pki.root, crl_url=h + "/file/ban.crl")
        pki.pool_leaf = pki.leaf("pool.example", pki.other_root)
        # RSA-4096 and P-384 on every level, both ways round
        pki.r4096 = pki.ca("RSA4096 Root", key="rsa4096")
        pki.p384_sub = pki.ca("P384 Sub", issuer=pki.r4096, key="p384",
                              crl_url=h + "/file/r4096.crl")
        pki.p384_leaf = pki.leaf("p384.example", pki.p384_sub, key="p384",
                                 crl_url=h + "/file/p384sub.crl")
        pki.p384 = pki.ca("P384 Root", key="p384")
        pki.r4096_sub = pki.ca("RSA4096 Sub", issuer=pki.p384, key="rsa4096",
                               crl_url=h + "/file/p384.crl")
        pki.r4096_leaf = pki.leaf("rsa4096.example", pki.r4096_sub, key="rsa4096",
                                  crl_url=h + "/file/r4096sub.crl")
        for ca, name in ((pki.root, "root"), (pki.r4096, "r4096"), (pki.p384_sub, "p384sub"),
                         (pki.p384, "p384"), (pki.r4096_sub, "r4096sub")):
            shutil.copy(pki.crl(ca, name=name), os.path.join(www, name + ".crl"))
        cls.bundle = pki.chain_file("pool-bundle", [pki.other_root])

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        helper.cleanup(cls.dir)

    def setUp(self):
        self.daemon = None

    def tearDown(self):
        self.stop()

    def stop(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            self.assertEqual(rc, 0, "certvald did not exit cleanly:\n" + self.daemon.log_text())
            self.daemon = None

    def start(self, trustpoints, extra_global="fetch retry-after 0"):
        self.stop()
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(os.path.join(d, "certvald.sock"), trustpoints, extra_global)
        self.daemon = helper.Daemon(d, text).start()
        return self.daemon

    def verify(self, leaf, tp=None, chain=()):
        req = {"id": 1, "op": "verify", "chain": [leaf.b64] + [c.b64 for c in chain]}
        if tp is not None:
            req["trustpoint"] = tp
        resp = self.daemon.call(req)
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def count(self, path):
        return int(http_get(self.httpd.port, "/_count?path=" + path).strip() or 0)

    def outcome(self, v):
        return (v["decision"], v["reason"], v["detail"])

    # ---- certificate maps (R31-R37, O-16) ----

    def test_map_fields_operators_and_sequences(self):
        """Each field and operator, the name normalisation, AND within an entry and OR across
        sequences, each with a certificate that matches and one that does not."""
        p = self.pki
        soon = map_date(days(100))
        maps = {
            # R34, O-16: case, runs of spaces and spaces around = and , do not matter
            "NORM": ["subject-name co OU = VPN  Users", "issuer-name eq CN = Map Root CA , "
                                                         "O = certval tests"],
            "SAN": ["alt-subject-name eq peer.example"],
            "NAME": ["name eq 192.0.2.7"],
            "SERIAL": ["serial-number eq %X" % p.vpn.serial],
            "NOTSALES": ["subject-name nc ou=sales", "serial-number ne %X" % p.sales.serial],
            "LATE": ["expires-on ge %s" % soon],
            "EARLY": ["expires-on lt %s" % soon],
            "START": ["valid-start lt %s" % map_date(days(0))],
            "AND": ["subject-name co vpn users", "issuer-name co other root"],
        }
        text = "".join("crypto pki certificate map %s 10\n" % label
                       + "".join(" %s\n" % line for line in lines)
                       for label, lines in maps.items())
        # OR across sequences: 10 fails for both, 20 holds for the VPN peer only
        text += ("crypto pki certificate map OR 10\n subject-name co nobody\n"
                 "crypto pki certificate map OR 20\n subject-name co vpn users\n")
        tps = [(label, p.root.cert_path, ["revocation-check none", "match certificate " + label])
               for label in list(maps) + ["OR"]]
        self.start(tps, extra_global=text)
        expect = {  # label: (VPN peer accepted, Sales peer accepted)
            "NORM": (True, False), "SAN": (True, False), "NAME": (True, False),
            "SERIAL": (True, False), "NOTSALES": (True, False), "LATE": (True, False),
            "EARLY": (False, True), "START": (True, True), "AND": (False, False),
            "OR": (True, False),
        }
        for label, (vpn_ok, sales_ok) in expect.items():
            for leaf, ok in ((p.vpn, vpn_ok), (p.sales, sales_ok)):
                with self.subTest(map=label, leaf=leaf.name):
                    v = self.verify(leaf, label)
                    if ok:
                        self.assertEqual(v["decision"], "ACCEPT", v["message"])
                        self.assertEqual(v["map"]["label"], label)
                    else:
                        self.assertEqual(self.outcome(v),
                                         ("REJECT", "not-authorized", "no-map-matched"))
        self.assertEqual(self.verify(p.vpn, "OR")["map"], {"label": "OR", "seq": 20})

    def test_banned_certificate_causes_no_fetch(self):
        """O-19: the maps are checked right after path validation: a banned certificate is
        rejected before any CDP is asked; an allowed one is fetched for."""
        self.start([("BAN", self.pki.root.cert_path,
                     ["revocation-check crl", "match certificate ONLY-VPN"])],
                   extra_global="crypto pki certificate map ONLY-VPN 10\n"
                                " subject-name co vpn users")
        v = self.verify(self.pki.ban_leaf, "BAN")
        self.assertEqual(self.outcome(v), ("REJECT", "not-authorized", "no-map-matched"))
        self.assertEqual(self.count("/file/ban.crl"), 0)
        before = self.count("/file/root.crl")
        self.assertEqual(self.verify(self.pki.vpn, "BAN")["revocation"], "good")
        self.assertEqual(self.count("/file/root.crl"), before + 1)

    # ---- chain validation (R10, R11) ----

    def test_chain_validation_stop_explicit_and_default(self):
        """`chain-validation stop` written out gives the verdicts of the default."""
        p = self.pki
        self.start([("EXPLICIT", p.sub.cert_path, ["revocation-check none",
                                                   "chain-validation stop"]),
                    ("DEFAULT", p.sub.cert_path, ["revocation-check none"])])
        for leaf in (p.sub_leaf, p.vpn, p.pool_leaf):
            a, b = self.verify(leaf, "EXPLICIT"), self.verify(leaf, "DEFAULT")
            self.assertEqual(self.outcome(a), self.outcome(b), leaf.name)
            self.assertEqual(len(a["path"]), len(b["path"]))
        self.assertEqual(self.verify(p.sub_leaf, "DEFAULT")["decision"], "ACCEPT")
        self.assertEqual(len(self.verify(p.sub_leaf, "DEFAULT")["path"]), 2)  # stops at Sub

    def test_chain_validation_continue_with_and_without_parent(self):
        """`continue ROOT` validates the sub CA up to ROOT (a wrong ROOT fails it);
        `continue` with no parent cannot validate it: the chain is invalid (R11 (b))."""
        p = self.pki
        for root, decision in ((p.root, "ACCEPT"), (p.other_root, "REJECT")):
            self.start([("ROOT", root.cert_path, ["revocation-check none"]),
                        ("SUB", p.sub.cert_path, ["revocation-check none",
                                                  "chain-validation continue ROOT"])])
            v = self.verify(p.sub_leaf, "SUB")
            self.assertEqual(v["decision"], decision, v["message"])
            if decision == "ACCEPT":
                self.assertEqual(len(v["path"]), 3)  # peer, Sub, Root
            else:
                self.assertEqual(v["reason"], "chain-invalid")
        self.start([("ROOT", p.root.cert_path, ["revocation-check none"]),
                    ("SUB", p.sub.cert_path, ["revocation-check none",
                                              "chain-validation continue"])])
        v = self.verify(p.sub_leaf, "SUB")
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "chain-invalid"), v)

    # ---- crl optional, crl best-effort (R15) ----

    def test_crl_optional_and_best_effort_with_a_dead_cdp(self):
        """With the CDP dead (it resets every connection): `crl best-effort` tries it on every
        presentation (three requests, three connections) and accepts; `crl optional` never
        asks and accepts; plain `crl` rejects."""
        p = self.pki
        self.start([("OPT", p.root.cert_path, ["crl optional"]),
                    ("BE", p.root.cert_path, ["crl best-effort"]),
                    ("CRL", p.root.cert_path, ["revocation-check crl"])])
        before = self.count("/reset/dead")
        for i in range(3):
            v = self.verify(p.dead_leaf, "OPT")
            self.assertEqual((v["decision"], v["revocation"]), ("ACCEPT", "unchecked-none"))
        self.assertEqual(self.count("/reset/dead"), before)
        for i in range(3):
            v = self.verify(p.dead_leaf, "BE")
            self.assertEqual((v["decision"], v["revocation"]), ("ACCEPT", "unchecked-none"))
            self.assertTrue(v["failed_open"])
        self.assertEqual(self.count("/reset/dead"), before + 3)
        v = self.verify(p.dead_leaf, "CRL")
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "revocation-unavailable"))

    # ---- trustpool, primary (O-2, R4, O-18, O-20) ----

    def test_trustpool_anchors_what_no_trustpoint_does(self):
        p = self.pki
        pool = ("crypto pki trustpool policy\n ca-bundle %s\n revocation-check none"
                % self.bundle)
        self.start([("ROOT", p.root.cert_path, ["revocation-check none"])],
                   extra_global="fetch retry-after 0\n" + pool)
        v = self.verify(p.pool_leaf)
        self.assertEqual(v["decision"], "ACCEPT", v["message"])
        self.assertEqual(v["trustpoint"], "trustpool")
        self.assertEqual(self.verify(p.vpn, "ROOT")["trustpoint"], "ROOT")
        self.start([("ROOT", p.root.cert_path, ["revocation-check none"])])  # no trustpool
        self.assertEqual(self.verify(p.pool_leaf)["reason"], "untrusted-issuer")

    def test_primary_trustpoint_tried_first(self):
        """Two trustpoints anchor the chain: without `primary` the first configured wins,
        with `primary` on the second, the second does."""
        p = self.pki
        self.start([("FIRST", p.root.cert_path, ["revocation-check none"]),
                    ("SECOND", p.root.cert_path, ["revocation-check none"])])
        self.assertEqual(self.verify(p.vpn)["trustpoint"], "FIRST")
        self.start([("FIRST", p.root.cert_path, ["revocation-check none"]),
                    ("SECOND", p.root.cert_path, ["revocation-check none", "primary"])])
        self.assertEqual(self.verify(p.vpn)["trustpoint"], "SECOND")

    # ---- key sizes ----

    def test_rsa4096_and_p384_on_every_level(self):
        """Root, intermediate and peer with RSA-4096 and P-384 keys, both ways round, each
        CRL signed by the CA's key: accepted, revocation good."""
        p = self.pki
        self.start([("RSA4096-ROOT", p.r4096.cert_path, ["revocation-check crl"]),
                    ("P384", p.p384.cert_path, ["revocation-check crl"])])
        for leaf, sub, tp in ((p.p384_leaf, p.p384_sub, "RSA4096-ROOT"),
                              (p.r4096_leaf, p.r4096_sub, "P384")):
            v = self.verify(leaf, tp, chain=[sub])
            self.assertEqual((v["decision"], v["revocation"]), ("ACCEPT", "good"), v["message"])
            self.assertEqual(len(v["path"]), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
