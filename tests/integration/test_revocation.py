#!/usr/bin/env python3
"""test_revocation.py: revocation through a real certvald, with a real HTTP CDP server and a
real OCSP responder (openssl ocsp) on loopback (R13-R30, D-1, D-3).

Every test checks the verdict the daemon gives and what the servers saw (request counts).
"""

import concurrent.futures
import datetime
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import slapd  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, http_get, wait_for  # noqa: E402
from testpki import days, openssl_index_line  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")


def pem_crl_der(path):
    with open(path) as f:
        lines = f.read().split("-----")[2]
    import base64
    return base64.b64decode("".join(lines.split()))


class RevocationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-rev-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cls.dead_port = free_port()  # nothing listens: connection refused
        cls.ocsp_port = free_port()
        h = "http://127.0.0.1:%d" % cls.httpd.port
        cls.cdp = h + "/file/sub.crl"
        cls.dead_cdp = "http://127.0.0.1:%d/sub.crl" % cls.dead_port
        cls.ocsp_url = "http://127.0.0.1:%d/" % cls.ocsp_port

        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Rev Root CA")
        pki.sub = pki.ca("Rev Sub CA", issuer=pki.root, pathlen=0)
        pki.good = pki.leaf("good.example", pki.sub, crl_url=cls.cdp, ocsp_url=cls.ocsp_url)
        pki.revoked = pki.leaf("revoked.example", pki.sub, crl_url=cls.cdp,
                               ocsp_url=cls.ocsp_url)
        pki.two_cdps = pki.leaf("twocdp.example", pki.sub, crl_url=[cls.dead_cdp, cls.cdp])
        pki.dead = pki.leaf("dead.example", pki.sub, crl_url=cls.dead_cdp,
                            ocsp_url="http://127.0.0.1:%d/" % cls.dead_port)
        pki.no_cdp = pki.leaf("nocdp.example", pki.sub)
        # R27: an AIA responder that is down, for the override URL to win over
        pki.aia_dead = pki.leaf("aiadead.example", pki.sub,
                                ocsp_url="http://127.0.0.1:%d/" % cls.dead_port)
        # R17, O-23: a CDP that never answers, then one that does (bg.crl, served below)
        cls.stall_cdp = h + "/stall/walk"
        cls.bg_cdp = h + "/file/bg.crl"
        pki.slow = pki.leaf("slow.example", pki.sub, crl_url=[cls.stall_cdp, cls.bg_cdp])
        # O-10: delegated responders (OCSPSigning, no ocsp-nocheck) whose own status is on
        # the sub CA's CRL at their CDP; the second one is revoked there
        pki.delegated = pki.leaf("Delegated OCSP Responder", pki.sub, eku=("ocsp",),
                                 crl_url=h + "/file/resp.crl")
        pki.delegated_bad = pki.leaf("Revoked OCSP Responder", pki.sub, eku=("ocsp",),
                                     crl_url=h + "/file/resprev.crl")
        # R54: a CDP that is missing at first (seen.crl, put in place by the test)
        cls.seen_cdp = h + "/file/seen.crl"
        pki.seen = pki.leaf("seen.example", pki.sub, crl_url=cls.seen_cdp)
        pki.other = pki.ca("Rev Other CA")
        # A responder of another PKI: OCSPSigning, and id-pkix-ocsp-nocheck (O-10).
        pki.other_responder = pki.leaf("Other OCSP Responder", pki.other, eku=("ocsp",),
                                       extra=['add_extension = "1.3.6.1.5.5.7.48.1.5 0x0500"'])
        # The issuing CA's CRL, served at the CDP; the root's CRL is not needed: the sub CA is
        # checked against it, so serve one too (the sub CA carries no CDP: it is a file CRL).
        shutil.copy(pki.crl(pki.sub, revoked=[pki.revoked], name="sub"),
                    os.path.join(cls.www, "sub.crl"))
        cls.stale_crl = pki.crl(pki.sub, this_update=days(-10), next_update=days(-1),
                                name="stale")
        shutil.copy(cls.stale_crl, os.path.join(cls.www, "stale.crl"))
        shutil.copy(pki.crl(pki.other, name="foreign"), os.path.join(cls.www, "foreign.crl"))
        shutil.copy(pki.crl(pki.sub, this_update=days(1), next_update=days(8), name="future"),
                    os.path.join(cls.www, "future.crl"))
        shutil.copy(os.path.join(cls.www, "sub.crl"), os.path.join(cls.www, "bg.crl"))
        shutil.copy(os.path.join(cls.www, "sub.crl"), os.path.join(cls.www, "resp.crl"))
        shutil.copy(pki.crl(pki.sub, revoked=[pki.revoked, pki.delegated_bad], name="resprev"),
                    os.path.join(cls.www, "resprev.crl"))
        cls.sub_crl_der = pem_crl_der(os.path.join(cls.www, "sub.crl"))
        with open(os.path.join(cls.www, "truncated.crl"), "wb") as f:
            f.write(cls.sub_crl_der[:len(cls.sub_crl_der) // 2])
        with open(os.path.join(cls.www, "garbage.crl"), "wb") as f:
            f.write(b"<html>this is not a CRL</html>\n" * 10)
        cls.root_crl = pki.crl(pki.root, name="root")

        with open(os.path.join(cls.dir, "index.txt"), "w") as f:
            f.write(openssl_index_line(pki.good))
            f.write(openssl_index_line(pki.revoked, revoked_at=days(-2)))
            f.write(openssl_index_line(pki.aia_dead))
        cls.ocsp = Server([os.path.join(SUPPORT, "ocsp_responder.py"), "--dir", cls.dir,
                           "--index", "index.txt", "--ca", pki.sub.cert_path,
                           "--rsigner", pki.sub.cert_path, "--rkey", pki.sub.key_path,
                           "--port", str(cls.ocsp_port)])
        cls.daemon = None

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        cls.ocsp.stop()
        helper.cleanup(cls.dir)

    def tearDown(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            self.daemon = None
            self.assertEqual(rc, 0, "certvald did not exit cleanly")

    # ---- helpers ----

    def start(self, lines, extra_global="fetch retry-after 0", anchor="root"):
        """A daemon with one trustpoint. anchor="root": trustpoint ROOT, and the sub CA's own
        status comes from a CRL file; anchor="sub": trustpoint SUB (chain-validation stop at
        the issuing CA), so that only the peer's certificate needs a revocation answer."""
        d = helper.daemon_dir(self.dir)
        sock = os.path.join(d, "certvald.sock")
        lines = [line.strip() for line in lines]
        if anchor == "root":
            self.tp, ca = "ROOT", self.pki.root.cert_path
            lines.append("crl file %s" % self.root_crl)
        else:
            self.tp, ca = "SUB", self.pki.sub.cert_path
        text = helper.config_text(sock, [(self.tp, ca, lines)], extra_global)
        self.daemon = helper.Daemon(d, text).start()
        return self.daemon

    def verify(self, leaf, rid=1, at=None, detail=None):
        req = {"id": rid, "op": "verify", "trustpoint": self.tp,
               "chain": [leaf.b64, self.pki.sub.b64]}
        if at is not None:
            req["at"] = at
        if detail is not None:
            req["detail"] = detail
        resp = self.daemon.call(req)
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def count(self, path):
        return int(http_get(self.httpd.port, "/_count?path=" + path).strip() or 0)

    def reset_counts(self):
        http_get(self.httpd.port, "/_reset")

    def ocsp_stats(self):
        return json.loads(http_get(self.ocsp_port, "/_stats"))

    def assert_verdict(self, v, decision, reason=None, revocation=None):
        msg = json.dumps(v, indent=1)[:4000]
        self.assertEqual(v["decision"], decision, msg)
        if reason is not None:
            self.assertEqual(v["reason"], reason, msg)
        if revocation is not None:
            self.assertEqual(v["revocation"], revocation, msg)

    # ---- CRL ----

    def test_default_method_is_crl_and_caches(self):
        """R13, R16, R23: no revocation-check line means crl; the CRL is fetched once."""
        self.start([])
        self.reset_counts()
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        leaf_ev = [e for e in v["evidence"] if e["cert_index"] == 0]
        self.assertEqual(leaf_ev[-1]["method"], "crl")
        self.assertEqual(leaf_ev[-1]["url"], self.cdp)
        self.assertEqual(leaf_ev[-1]["source"], "download")
        self.assertIsNotNone(leaf_ev[-1]["next_update"])
        sub_ev = [e for e in v["evidence"] if e["cert_index"] == 1]
        self.assertEqual(sub_ev[-1]["source"], "file")
        v = self.verify(self.pki.good, rid=2)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual([e for e in v["evidence"] if e["cert_index"] == 0][-1]["source"],
                         "cache")
        self.assertEqual(self.count("/file/sub.crl"), 1)
        r = self.daemon.ctl("stats", "--json")
        engine = json.loads(r.stdout)["engine"]
        self.assertEqual(engine["crl_downloads"], 1)
        self.assertGreaterEqual(engine["crl_cache_hits"], 1)

    def test_pubkey_cache_never_bypasses_maps(self):
        """R49, R36: a chain seen before (its signatures remembered) is still checked against
        the maps: a map added later bans it; `clear pubkeys` empties the remembered keys.
        The verdict cache is off: the second request must be evaluated to use the keys."""
        self.start(["revocation-check none"],
                   extra_global="fetch retry-after 0\nverdict-cache entries 0")
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT")
        self.assert_verdict(self.verify(self.pki.good, rid=2), "ACCEPT")
        st = json.loads(self.daemon.ctl("show", "pubkeys", "--json").stdout)
        self.assertGreaterEqual(st["links"], 2)
        self.assertGreaterEqual(st["hits"], 2)
        conf = open(self.daemon.conf).read().replace(
            " revocation-check none\n", " revocation-check none\n match certificate BAN\n")
        self.daemon.write_config(conf + "crypto pki certificate map BAN 10\n"
                                        " subject-name nc good.example\n")
        self.assertEqual(self.daemon.ctl("reload").returncode, 0)
        v = self.verify(self.pki.good, rid=3)
        self.assert_verdict(v, "REJECT", reason="not-authorized")
        r = self.daemon.ctl("clear", "pubkeys")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("remembered peer keys", r.stdout)
        st = json.loads(self.daemon.ctl("show", "pubkeys", "--json").stdout)
        self.assertEqual(st["links"], 0)

    def test_pubkey_chain_index_zeroize_and_lifetime(self):
        """R49, O-25: each accepted peer key gets an index in the pubkey chain and lives as
        long as the revocation data that vouched for it (here its CRL's nextUpdate, 7 days);
        `clear pubkeys INDEX` (IOS `crypto key zeroize pubkey-chain INDEX`) forgets that one
        entry, an unknown index is refused, and past the CRL's nextUpdate the entry is gone."""
        self.start(["revocation-check crl"], anchor="sub")
        v1 = self.verify(self.pki.good)
        self.assert_verdict(v1, "ACCEPT", revocation="good")
        self.assert_verdict(self.verify(self.pki.two_cdps, rid=2), "ACCEPT", revocation="good")
        self.assert_verdict(self.verify(self.pki.good, rid=3), "ACCEPT")  # the same entry
        keys = json.loads(self.daemon.ctl("show", "pubkeys", "--json").stdout)["keys"]
        by_subject = {k["subject"]: k for k in keys}
        self.assertEqual(sorted(k["index"] for k in keys), [1, 2])
        good = by_subject[self.pki.good.subject]
        self.assertEqual((good["index"], good["trustpoint"]), (1, "SUB"))
        crl_next = [e for e in v1["evidence"] if e["cert_index"] == 0][-1]["next_update"]
        self.assertEqual(good["expires"], crl_next)
        text = self.daemon.ctl("show", "pubkeys").stdout
        self.assertIn("X.500 DN name: %s" % self.pki.good.subject, text)
        self.assertIn("Codes: C - Extracted from certificate", text)
        r = self.daemon.ctl("clear", "pubkeys", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "1 remembered peer keys dropped\n")
        keys = json.loads(self.daemon.ctl("show", "pubkeys", "--json").stdout)["keys"]
        self.assertEqual([(k["index"], k["subject"]) for k in keys],
                         [(2, self.pki.two_cdps.subject)])
        self.assertNotEqual(self.daemon.ctl("clear", "pubkeys", "1").returncode, 0)
        self.assertNotEqual(self.daemon.ctl("clear", "pubkeys", "70000").returncode, 0)
        # past the CRL's nextUpdate the entry is gone, whatever else is cached
        self.assertTrue(self.daemon.call({"id": "c", "op": "clock", "offset": 8 * 86400})["ok"])
        keys = json.loads(self.daemon.ctl("show", "pubkeys", "--json").stdout)["keys"]
        self.assertEqual(keys, [])

    def test_revoked_on_crl_is_final(self):
        """R14(2): revoked by CRL under `crl ocsp`: OCSP is not contacted."""
        self.start([" revocation-check crl ocsp"])
        before = self.ocsp_stats()["requests"]
        v = self.verify(self.pki.revoked)
        self.assert_verdict(v, "REJECT", reason="revoked", revocation="revoked")
        self.assertEqual(v["cert_index"], 0)
        self.assertEqual(self.ocsp_stats()["requests"], before)

    def test_crl_notes_only_in_the_trace(self):
        """Issue 13: a CRL method without an answer lists in the trace what it decided about
        each CRL (here: the stale CRL of another CA); a verdict made without its trace skips those notes and
        decides the same. A good and a revoked leaf decide the same at either detail too."""
        h = "http://127.0.0.1:%d" % self.httpd.port
        self.start([" revocation-check crl",
                    " match certificate STALE override cdp url %s/file/stale.crl" % h],
                   extra_global="fetch retry-after 0\nverdict-cache entries 0\n"
                                "crypto pki certificate map STALE 10\n"
                                " subject-name co nocdp")
        cases = [(self.pki.no_cdp, "REJECT", "out of scope: issuer differs"),
                 (self.pki.good, "ACCEPT", None), (self.pki.revoked, "REJECT", None)]
        for leaf, decision, note in cases:
            full = self.verify(leaf, rid=1)
            self.assertEqual(full["decision"], decision, full)
            if note is not None:
                texts = [t["text"] for t in full["trace"]]
                self.assertTrue(any(t.startswith("  CRL of ") and note in t for t in texts),
                                texts)
            brief = self.verify(leaf, rid=2, detail="verdict")
            self.assertNotIn("trace", brief)
            for key in ("decision", "reason", "revocation", "cert_index"):
                self.assertEqual(brief.get(key), full.get(key), (key, brief, full))

    def test_next_cdp_after_failure(self):
        """R17: the first CDP refuses, the second serves: accepted; both in the evidence."""
        self.start([" revocation-check crl"])
        v = self.verify(self.pki.two_cdps)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        urls = [(e["url"], e["outcome"]) for e in v["evidence"] if e["cert_index"] == 0]
        self.assertIn((self.dead_cdp, "error"), urls)
        self.assertIn((self.cdp, "good"), urls)

    def test_cdp_down(self):
        """R14(4) and R14(3): `crl` alone rejects; `crl none` accepts and says it failed open."""
        self.start([" revocation-check crl"])
        v = self.verify(self.pki.dead)
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable", revocation="error")
        self.daemon.stop()
        self.start([" revocation-check crl none"])
        v = self.verify(self.pki.dead)
        self.assert_verdict(v, "ACCEPT", revocation="unchecked-none")
        self.assertTrue(v["failed_open"])
        texts = [t["text"] for t in v["trace"]]
        self.assertIn("cert revocation status unknown.", texts)
        self.assertIn("Certificate validated without revocation check", texts)

    def test_no_cdp_is_an_error(self):
        """O-14: no CDP and no CRL at hand: the crl method has no answer."""
        self.start([" revocation-check crl"])
        v = self.verify(self.pki.no_cdp)
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")

    def test_override_cdp(self):
        """R19: a matching `override cdp url` replaces the certificate's dead CDP."""
        self.start(["revocation-check crl",
                    "match certificate DEAD override cdp url %s" % self.cdp],
                   extra_global="fetch retry-after 0\n"
                                "crypto pki certificate map DEAD 10\n"
                                " subject-name co dead.example")
        self.reset_counts()
        v = self.verify(self.pki.dead)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 1)

    def test_crl_cache_none(self):
        """R24: with `crl-cache none` every validation downloads."""
        self.start([" revocation-check crl", " crl-cache none"])
        self.reset_counts()
        for i in range(2):
            self.assert_verdict(self.verify(self.pki.good, rid=i), "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 2)

    def test_delete_after(self):
        """R25: `delete-after 2`: refetched once 2 minutes have passed (moved clock)."""
        self.start([" revocation-check crl", " crl-cache delete-after 2"])
        self.reset_counts()
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        self.assert_verdict(self.verify(self.pki.good, rid=2), "ACCEPT")
        self.assertEqual(self.count("/file/sub.crl"), 1)
        resp = self.daemon.call({"id": 3, "op": "clock", "offset": 150})
        self.assertTrue(resp["ok"], resp)
        self.assert_verdict(self.verify(self.pki.good, rid=4), "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 2)

    def test_stale_and_foreign_crls_are_errors(self):  # noqa: D102
        """O-9, R20: a CRL past nextUpdate, or from another CA, is no answer (never good)."""
        h = "http://127.0.0.1:%d" % self.httpd.port
        for name in ("stale.crl", "foreign.crl"):
            self.start([" revocation-check crl",
                        " match certificate ALL override cdp url %s/file/%s" % (h, name)],
                       extra_global="fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                                    " subject-name co example")
            v = self.verify(self.pki.good)
            self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
            self.daemon.stop()
            self.daemon = None

    def override_start(self, path, extra=""):
        """A daemon whose every leaf uses the CDP at path on the fault server."""
        self.start(["revocation-check crl",
                    "match certificate ALL override cdp url http://127.0.0.1:%d%s" %
                    (self.httpd.port, path)],
                   extra_global="fetch retry-after 0\n%scrypto pki certificate map ALL 10\n"
                                " subject-name co example" % extra)

    def test_bad_crls_are_errors(self):
        """O-9: a CRL from the future, garbage, a truncated CRL and one over the size cap are
        each no answer: `crl` alone rejects, and the evidence says why."""
        cases = [("/file/future.crl", "", "not yet valid|thisUpdate|future|no usable"),
                 ("/file/garbage.crl", "", "not a usable CRL"),
                 ("/file/truncated.crl", "", "not a usable CRL"),
                 ("/huge/1", "fetch max-crl-size 4096\n", "too large")]
        import re
        for path, extra, why in cases:
            self.override_start(path, extra)
            v = self.verify(self.pki.good)
            self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
            errors = " ".join(e["error"] or "" for e in v["evidence"] if e["cert_index"] == 0)
            self.assertTrue(re.search(why, errors, re.I), "%s: %s" % (path, errors))
            self.assertEqual(self.daemon.stop(), 0)
            self.daemon = None

    def test_stalled_cdp_answers_within_deadline(self):
        """A CDP that never answers costs each request at most its deadline."""
        self.override_start("/stall", "fetch timeout 2\n")
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            verdicts = list(pool.map(lambda i: self.verify(self.pki.good, rid=i), range(20)))
        elapsed = time.monotonic() - start
        for v in verdicts:
            self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
        self.assertLess(elapsed, 5.0, "a stalled CDP held requests past their deadline")

    def test_retry_after_spares_a_dead_cdp(self):
        """D-3: a failed URL is not contacted again before `fetch retry-after`."""
        self.start(["revocation-check crl",
                    "match certificate ALL override cdp url http://127.0.0.1:%d/status/500" %
                    self.httpd.port],
                   extra_global="fetch retry-after 30\ncrypto pki certificate map ALL 10\n"
                                " subject-name co example")
        self.reset_counts()
        for i in range(3):
            self.assert_verdict(self.verify(self.pki.good, rid=i), "REJECT",
                                reason="revocation-unavailable")
        self.assertEqual(self.count("/status/500"), 1)
        v = self.verify(self.pki.good, rid=9)
        errors = " ".join(e["error"] or "" for e in v["evidence"])
        self.assertIn("negative-cached", errors)

    def test_ldap_cdp_and_crl_query(self):
        """R16, R18, R19: a CRL over LDAP, by ldap:// URL and as a directory name looked up on
        the `crl query` server; without `crl query` the directory CDP has no answer."""
        try:
            server = slapd.Slapd(os.path.join(self.dir, "slapd-%d" % time.monotonic_ns()),
                                 {"cn=Sub CRL,dc=test": self.sub_crl_der})
        except slapd.Unavailable as e:
            self.skipTest(str(e))
        with server:
            url = "ldap://127.0.0.1:%d/cn=Sub%%20CRL,dc=test" % server.port
            self.start(["revocation-check crl",
                        "match certificate ALL override cdp url \"%s\"" % url],
                       extra_global="fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                                    " subject-name co example")
            v = self.verify(self.pki.good)
            self.assert_verdict(v, "ACCEPT", revocation="good")
            self.assert_verdict(self.verify(self.pki.revoked, rid=2), "REJECT",
                                reason="revoked")
            self.assertEqual(self.daemon.stop(), 0)
            glob = ("fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                    " subject-name co example")
            lines = ["revocation-check crl",
                     "match certificate ALL override cdp directory \"cn=Sub CRL,dc=test\""]
            self.start(lines + ["crl query ldap://127.0.0.1:%d" % server.port],
                       extra_global=glob)
            self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
            self.assertEqual(self.daemon.stop(), 0)
            self.start(lines, extra_global=glob)
            v = self.verify(self.pki.good)
            self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
            self.assertIn("crl query", " ".join(e["error"] or "" for e in v["evidence"]))

    def test_refresh_ahead_with_conditional_get(self):
        """A cached CRL is downloaded again shortly before it expires, with a conditional
        GET; the 304 keeps it, so no verdict waits for a download."""
        self.start(["revocation-check crl", "crl-cache delete-after 2"])
        self.reset_counts()
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        # the refresh window is the last 60 s (10% of 2 min, at least 60 s), and each daemon
        # starts at its own point of its first half: by 90 s at the latest (issue 16)
        self.assertTrue(self.daemon.call({"id": 2, "op": "clock", "offset": 95})["ok"])
        self.assertTrue(wait_for(lambda: self.count("/file/sub.crl:304") == 1),
                        "no conditional GET ahead of expiry")
        self.assertTrue(self.daemon.call({"id": 3, "op": "clock", "offset": 150})["ok"])
        v = self.verify(self.pki.good, rid=4)  # past the first download's 2 minutes
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual([e for e in v["evidence"] if e["cert_index"] == 0][-1]["source"],
                         "cache")
        # every request after the first was a conditional GET answered 304
        self.assertGreaterEqual(self.count("/file/sub.crl:304"), 1)
        self.assertEqual(self.count("/file/sub.crl") - self.count("/file/sub.crl:304"), 1)

    def test_crl_request(self):
        """R54: `crl-request TP` downloads the trustpoint's CRL again at once: a CRL the CA
        has just published takes effect without waiting for the cached one to expire."""
        served = os.path.join(self.www, "req.crl")
        shutil.copy(os.path.join(self.www, "sub.crl"), served)
        self.start(["revocation-check crl",
                    "match certificate ALL override cdp url http://127.0.0.1:%d/file/req.crl" %
                    self.httpd.port],
                   extra_global="fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                                " subject-name co example")
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        shutil.copy(self.pki.crl(self.pki.sub, revoked=[self.pki.good, self.pki.revoked],
                                 name="republished"), served)
        self.assert_verdict(self.verify(self.pki.good, rid=2), "ACCEPT")  # still cached
        r = self.daemon.ctl("crl-request", "ROOT")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 CRL downloads of trustpoint ROOT started", r.stdout)
        self.assertTrue(wait_for(
            lambda: self.verify(self.pki.good, rid=3)["decision"] == "REJECT"),
            "the republished CRL did not take effect")
        self.assert_verdict(self.verify(self.pki.good, rid=4), "REJECT", reason="revoked")
        r = self.daemon.ctl("crl-request", "NOSUCH")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)

    def test_cdp_walk_goes_on_after_the_deadline(self):
        """R17, O-23: the request's deadline (1 s) passes while the first CDP stalls; the
        request is answered without the CRL, but the walk goes on (each CDP with the full
        fetch timeout, 3 s) and caches the second CDP's CRL, which the next request uses
        without fetching. On the old code the walk stopped at the deadline."""
        self.start(["revocation-check crl"], anchor="sub",
                   extra_global="fetch retry-after 0\nrequest-timeout 1\nfetch timeout 3")
        self.reset_counts()
        v = self.verify(self.pki.slow)
        # the revocation stage's own clamp (whole seconds) or the server's deadline timer,
        # whichever fires first, answers the request without the CRL
        self.assertEqual(v["decision"], "REJECT", v)
        self.assertIn(v["reason"], ("revocation-unavailable", "internal-error"), v)
        self.assertEqual(self.count("/file/bg.crl"), 0)
        self.assertTrue(wait_for(lambda: self.count("/file/bg.crl") == 1, seconds=20),
                        "the walk did not reach the second CDP")
        self.assertTrue(wait_for(lambda: self.bg_cdp in self.daemon.ctl("show", "crls").stdout),
                        "the walk's CRL is not cached")
        v = self.verify(self.pki.slow, rid=2)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual([e for e in v["evidence"] if e["cert_index"] == 0][-1]["source"],
                         "cache")
        self.assertEqual(self.count("/file/bg.crl"), 1)

    def test_crl_request_with_nothing_cached(self):
        """R54: `crl-request TP` with no CRL of TP cached downloads from the CDPs of the
        certificates recently checked under TP (and of TP's CA certificates), instead of
        leaving it to the next validation."""
        served = os.path.join(self.www, "seen.crl")
        if os.path.exists(served):
            os.unlink(served)
        self.start(["revocation-check crl"], anchor="sub")
        v = self.verify(self.pki.seen)  # the CDP answers 404: nothing cached
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
        self.assertEqual(self.daemon.ctl("show", "crls").stdout, "")
        shutil.copy(os.path.join(self.www, "sub.crl"), served)
        self.reset_counts()
        r = self.daemon.ctl("crl-request", "SUB")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 CRL downloads of trustpoint SUB started", r.stdout)
        self.assertTrue(wait_for(lambda: self.seen_cdp in self.daemon.ctl("show", "crls").stdout),
                        "crl-request cached nothing")
        self.assertEqual(self.count("/file/seen.crl"), 1)
        v = self.verify(self.pki.seen, rid=2)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/seen.crl"), 1)
        os.unlink(served)

    def openssl_crl(self, d, name, index_lines, number, extensions):
        """A CRL of the sub CA made by `openssl ca -gencrl` with the given CRL extensions;
        number None: no CRLNumber (no crlnumber file)."""
        with open(os.path.join(d, "index.txt"), "w") as f:
            f.write("".join(index_lines))
        numbering = ""
        if number is not None:
            with open(os.path.join(d, "crlnumber"), "w") as f:
                f.write("%02X\n" % number)
            numbering = "crlnumber = %s/crlnumber\n" % d
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca = CA\n[CA]\ndatabase = %s/index.txt\n"
                    "certificate = %s\nprivate_key = %s\n%s"
                    "default_md = sha256\ndefault_crl_days = 1\n[ext]\n%s\n" %
                    (d, self.pki.sub.cert_path, self.pki.sub.key_path, numbering, extensions))
        pem = os.path.join(d, name + ".pem")
        subprocess.run(["openssl", "ca", "-config", os.path.join(d, "ca.cnf"), "-gencrl",
                        "-crlexts", "ext", "-out", pem], check=True, capture_output=True)
        return pem

    def test_crl_without_number_fails_to_next_method(self):
        """RFC 5280 5.2.3: a CRL without CRLNumber, or with a critical one, is unusable: the
        crl method fails with the reason in its evidence and `crl ocsp` asks the responder
        (good). The same CRL with a number answers: the certificate is revoked."""
        d = os.path.join(self.dir, "crlnumber-%d" % time.monotonic_ns())
        os.makedirs(d)
        h = "http://127.0.0.1:%d" % self.httpd.port
        listed = [openssl_index_line(self.pki.good, days(-1))]
        aki = "authorityKeyIdentifier = keyid:always"
        cases = (("numbered", 0x30, aki, None),
                 ("nonumber", None, aki, "no CRLNumber extension"),
                 ("critnumber", None, "2.5.29.20 = critical, DER:02:01:31",
                  "CRLNumber extension marked critical"))
        glob = ("fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                " subject-name co example")
        for name, number, extensions, why in cases:
            os.makedirs(os.path.join(d, name))
            crl = self.openssl_crl(os.path.join(d, name), name, listed, number, extensions)
            shutil.copy(crl, os.path.join(self.www, "num-%s.crl" % name))
            self.start(["revocation-check crl ocsp", "ocsp url %s" % self.ocsp_url,
                        "match certificate ALL override cdp url %s/file/num-%s.crl" % (h, name)],
                       extra_global=glob, anchor="sub")
            v = self.verify(self.pki.good)
            evidence = [e for e in v["evidence"] if e["cert_index"] == 0]
            crl_ev = [e for e in evidence if e["method"] == "crl"]
            if why is None:
                self.assert_verdict(v, "REJECT", reason="revoked", revocation="revoked")
                self.assertEqual(crl_ev[-1]["outcome"], "revoked")
            else:
                self.assert_verdict(v, "ACCEPT", revocation="good")
                self.assertEqual(crl_ev[-1]["outcome"], "error", name)
                self.assertIn(why, crl_ev[-1]["error"], name)
                self.assertIn(("ocsp", "good"), [(e["method"], e["outcome"]) for e in evidence])
            self.assertEqual(self.daemon.stop(), 0)
            self.daemon = None

    def test_delta_crl_fetched_from_freshest_crl(self):
        """RFC 5280 5.2.6, 6.3: a complete CRL naming a freshestCRL makes the daemon fetch the
        delta too; the delta's revocation counts; without the delta there is no answer."""
        d = os.path.join(self.dir, "delta-%d" % time.monotonic_ns())
        os.makedirs(d)
        h = "http://127.0.0.1:%d" % self.httpd.port
        base = self.openssl_crl(d, "base", [], 0x20,
                                "freshestCRL = URI:%s/file/delta.crl" % h)
        delta = self.openssl_crl(d, "delta", [openssl_index_line(self.pki.good, days(-1))],
                                 0x21, "2.5.29.27 = critical, DER:02:01:20")
        shutil.copy(base, os.path.join(self.www, "base.crl"))
        glob = ("fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                " subject-name co example")
        lines = ["revocation-check crl",
                 "match certificate ALL override cdp url %s/file/base.crl" % h]
        self.start(lines, extra_global=glob)
        v = self.verify(self.pki.good)  # no delta published yet
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
        self.assertEqual(self.daemon.stop(), 0)
        shutil.copy(delta, os.path.join(self.www, "delta.crl"))
        self.reset_counts()
        self.start(lines, extra_global=glob)
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "REJECT", reason="revoked", revocation="revoked")
        self.assertEqual(self.count("/file/delta.crl"), 1)
        self.assert_verdict(self.verify(self.pki.two_cdps, rid=2),
                            "ACCEPT")
        os.unlink(os.path.join(self.www, "delta.crl"))

    def test_source_interface_and_vrf(self):
        """R22, O-22: `source interface` sets the fetches' source address; `vrf` binds their
        sockets to the VRF's device (here the loopback device; a missing one fails)."""
        if os.geteuid() != 0:
            self.skipTest("binding a socket to a device needs root")
        self.start(["revocation-check crl", "source interface 127.0.0.2"])
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        peer = http_get(self.httpd.port, "/_peer_of?path=/file/sub.crl").decode()
        self.assertEqual(peer, "127.0.0.2")
        self.assertEqual(self.daemon.stop(), 0)
        self.start(["revocation-check crl", "vrf lo"])
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        self.assertEqual(self.daemon.stop(), 0)
        self.start(["revocation-check crl", "vrf cvnodev0"])
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")

    def test_vrf_for_ldap(self):
        """R22, O-22: `vrf` binds LDAP fetches too (the socket is bound to the device before
        it connects, then handed to libldap): over the loopback device the CRL arrives; over
        a device that does not exist no connection is made. The old code refused every LDAP
        fetch under `vrf`."""
        if os.geteuid() != 0:
            self.skipTest("binding a socket to a device needs root")
        try:
            server = slapd.Slapd(os.path.join(self.dir, "slapd-%d" % time.monotonic_ns()),
                                 {"cn=Sub CRL,dc=test": self.sub_crl_der})
        except slapd.Unavailable as e:
            self.skipTest(str(e))
        with server:
            url = "ldap://127.0.0.1:%d/cn=Sub%%20CRL,dc=test" % server.port
            glob = ("fetch retry-after 0\ncrypto pki certificate map ALL 10\n"
                    " subject-name co example")
            for vrf, decision in (("lo", "ACCEPT"), ("cvnodev0", "REJECT")):
                self.start(["revocation-check crl", "vrf %s" % vrf,
                            "match certificate ALL override cdp url \"%s\"" % url],
                           extra_global=glob)
                v = self.verify(self.pki.good)
                self.assertEqual(v["decision"], decision, v)
                if decision == "REJECT":
                    self.assertIn("cvnodev0", json.dumps(v["evidence"]))
                self.assertEqual(self.daemon.stop(), 0)
                self.daemon = None

    def test_concurrent_requests_one_download(self):
        """D-3: 200 concurrent requests for one uncached CRL cause one download."""
        self.start([" revocation-check crl"])
        self.reset_counts()
        n = 200
        with self.daemon.connect() as s:
            batch = "".join(json.dumps({"id": i, "op": "verify", "trustpoint": "ROOT",
                                        "chain": [self.pki.good.b64, self.pki.sub.b64]}) + "\n"
                            for i in range(n))
            s.sendall(batch.encode())
            responses = helper.read_responses(s, n)
        self.assertEqual(sorted(r["id"] for r in responses), list(range(n)))
        for r in responses:
            self.assert_verdict(r["verdict"], "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 1)

    def big_crl_daemon(self, n=100000):
        """A daemon with trustpoints ROOT (crl) and FAST (revocation-check none), and a CRL of
        the sub CA with n more entries at /file/big.crl and /file/big2.crl (issue 13). Each
        ingest waits 1.5 s on its thread first (--test-ingest-delay), so that the window
        between a download's end and its CRL's store is one no round trip can miss: on the
        loop (the old code), the wait would hold every other verdict back instead."""
        pki = self.pki
        h = "http://127.0.0.1:%d/file/" % self.httpd.port
        big = {"cdp": h + "big.crl", "cdp2": h + "big2.crl"}
        big["good"] = pki.leaf("biggood.example", pki.sub, crl_url=big["cdp"])
        big["revoked"] = pki.leaf("bigrevoked.example", pki.sub, crl_url=big["cdp"])
        big["good2"] = pki.leaf("biggood2.example", pki.sub, crl_url=big["cdp2"])
        fast = pki.leaf("fast.example", pki.other)
        big["fast"] = {"op": "verify", "trustpoint": "FAST", "chain": [fast.b64]}
        base = pki.crl(pki.sub, revoked=[big["revoked"]], name="bigbase")
        path = os.path.join(self.www, "big.crl")
        self.assertGreater(testpki.crl_with_entries(base, pki.sub, n, path), n * 30)
        shutil.copy(path, os.path.join(self.www, "big2.crl"))
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(
            os.path.join(d, "certvald.sock"),
            [("ROOT", pki.root.cert_path,
              ["revocation-check crl", "crl file %s" % self.root_crl]),
             ("FAST", pki.other.cert_path, ["revocation-check none"])],
            "fetch retry-after 0\nrequest-timeout 30\nworkers 2")
        self.daemon = helper.Daemon(d, text, args=("--test-clock", "--test-ingest-delay",
                                                    "1500")).start()
        self.reset_counts()
        return big

    def watch_ingest(self, a, b, cdp, fast_req, until_ingesting=False):
        """Asks on b, in order, until a has something to read: is the download of cdp done
        (`show fetch`), a verify of FAST, is the CRL stored (`show crls`). Done before and
        not stored after means the verify was answered between the download's end and the
        CRL's store: during the ingest ("during-ingest"). Returns the list of what each round
        saw; stops at the first "during-ingest" when until_ingesting."""
        reader, events, rid = helper.LineReader(b), [], 0

        def ask(obj):
            b.sendall((json.dumps(obj) + "\n").encode())
            return reader.read()

        while not select.select([a], [], [], 0)[0]:
            rid += 3
            urls = ask({"id": rid, "op": "show", "what": "fetch"})["show"]["urls"]
            downloaded = any(u["url"] == cdp and u["successes"] >= 1 for u in urls)
            r = ask(dict(fast_req, id=rid + 1))
            self.assertEqual(r["verdict"]["decision"], "ACCEPT", r)
            crls = ask({"id": rid + 2, "op": "show", "what": "crls"})["show"]["crls"]
            stored = any(c.get("url") == cdp for c in crls)
            events.append("during-ingest" if downloaded and not stored else
                          "after" if stored else "before")
            if until_ingesting and events[-1] == "during-ingest":
                break
        return events

    def send_verifies(self, s, leaves):
        s.sendall("".join(json.dumps({"id": i, "op": "verify", "trustpoint": "ROOT",
                                      "chain": [leaf.b64, self.pki.sub.b64]}) + "\n"
                          for i, leaf in leaves).encode())

    def test_large_crl_ingested_off_the_loop(self):
        """Issue 13: a large downloaded CRL is ingested off the event loop, once for every
        request waiting on its download: another client's verifies of another trustpoint are
        answered while it is ingested (after the daemon reports the download done, before the
        CRL is stored), and the CRL's verdicts are right. The old code ingested and stored in
        the callback that ended the download, so no request could be answered between them:
        order, not time."""
        big = self.big_crl_daemon()
        slow = [(1, big["revoked"]), (2, big["good"]), (3, big["revoked"])]
        verdicts = {}
        with self.daemon.connect() as a, self.daemon.connect() as b:
            self.send_verifies(a, slow)
            events = self.watch_ingest(a, b, big["cdp"], big["fast"])
            reader = helper.LineReader(a)
            for _ in slow:
                r = reader.read()
                verdicts[r["id"]] = r["verdict"]
        counts = {e: events.count(e) for e in set(events)}
        self.assertIn("before", events, "no verify answered before the CRL's verdicts")
        self.assertIn("during-ingest", events,
                      "no verify answered while the downloaded CRL was ingested: %s" % counts)
        self.assert_verdict(verdicts[1], "REJECT", "revoked", revocation="revoked")
        self.assert_verdict(verdicts[2], "ACCEPT", revocation="good")
        self.assert_verdict(verdicts[3], "REJECT", "revoked", revocation="revoked")
        # one download, one ingest for the three requests waiting on it
        self.assertEqual(self.count("/file/big.crl"), 1)
        engine = json.loads(self.daemon.ctl("stats", "--json").stdout)["engine"]
        self.assertEqual(engine["crl_downloads"], 1)

    def test_reload_and_shutdown_during_an_ingest(self):
        """Issue 13: a reload while a downloaded CRL is ingested changes nothing for the
        requests waiting on it; a shutdown while one is ingested exits cleanly (under ASan:
        without a leak)."""
        big = self.big_crl_daemon()
        with self.daemon.connect() as a, self.daemon.connect() as b:
            self.send_verifies(a, [(1, big["revoked"])])
            events = self.watch_ingest(a, b, big["cdp"], big["fast"], until_ingesting=True)
            self.assertIn("during-ingest", events)
            self.daemon.signal(signal.SIGHUP)
            v = helper.LineReader(a).read()["verdict"]
            self.assert_verdict(v, "REJECT", "revoked", revocation="revoked")
        self.assertTrue(wait_for(lambda: "configuration reloaded" in self.daemon.log_text()))
        with self.daemon.connect() as a, self.daemon.connect() as b:
            self.send_verifies(a, [(2, big["good2"])])
            events = self.watch_ingest(a, b, big["cdp2"], big["fast"], until_ingesting=True)
            self.assertIn("during-ingest", events)
            rc = self.daemon.stop()
            self.daemon = None
        self.assertEqual(rc, 0, "certvald did not exit cleanly during an ingest")

    def test_restart_with_warm_cache(self):
        """D-4: with cache-dir, a restarted daemon uses the CRL it cached, without a download;
        a cached file that no longer matches its digest is dropped and fetched again."""
        cache = os.path.join(self.dir, "cache-%d" % time.monotonic_ns())
        os.makedirs(cache)
        glob = "fetch retry-after 0\ncache-dir %s" % cache
        self.start(["revocation-check crl"], extra_global=glob)
        self.reset_counts()
        self.assert_verdict(self.verify(self.pki.good), "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 1)
        self.assertEqual(self.daemon.stop(), 0)
        self.assertEqual(len([f for f in os.listdir(cache) if f.endswith(".meta")]), 1)

        self.start(["revocation-check crl"], extra_global=glob)
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual([e for e in v["evidence"] if e["cert_index"] == 0][-1]["source"],
                         "cache")
        self.assertEqual(self.count("/file/sub.crl"), 1)
        self.assertEqual(self.daemon.stop(), 0)

        der = [f for f in os.listdir(cache) if f.endswith(".crl")][0]
        with open(os.path.join(cache, der), "r+b") as f:
            f.seek(40)
            byte = f.read(1)
            f.seek(40)
            f.write(bytes([byte[0] ^ 0xFF]))
        self.start(["revocation-check crl"], extra_global=glob)
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual(self.count("/file/sub.crl"), 2)
        self.assertIn("does not match its digest", self.daemon.log_text())

    # ---- OCSP ----

    def test_ocsp_good_revoked_and_cached(self):
        """R26, R28, R29: AIA responder, nonce echoed; revoked; a second query from the cache
        (`ocsp cache-lifetime`: under `ocsp nonce require` answers are cached only so)."""
        self.start([" revocation-check ocsp", " ocsp cache-lifetime 300"], anchor="sub")
        before = self.ocsp_stats()["requests"]
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        ev = [e for e in v["evidence"] if e["cert_index"] == 0 and e["method"] == "ocsp"][-1]
        self.assertEqual(ev["url"], self.ocsp_url)
        self.assertEqual(ev["nonce"], "sent-echoed")
        self.assertEqual(ev["signer"], self.pki.sub.subject)
        self.assertIsNotNone(ev["produced_at"])
        self.assertEqual(self.ocsp_stats()["requests"], before + 1)
        v = self.verify(self.pki.good, rid=2)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertEqual(self.ocsp_stats()["requests"], before + 1)
        v = self.verify(self.pki.revoked, rid=3)
        self.assert_verdict(v, "REJECT", reason="revoked", revocation="revoked")
        ev = [e for e in v["evidence"] if e["cert_index"] == 0 and e["method"] == "ocsp"][-1]
        self.assertEqual(ev["revocation_reason"], "keyCompromise")

    def test_ocsp_cache_and_nonces(self):
        """Under `ocsp nonce require` (the default) each validation asks the responder: an
        answer to another request's nonce is no proof of freshness. `ocsp cache-lifetime`
        turns the cache on, for at most that long; without nonces answers are cached until
        their nextUpdate unless `ocsp cache-lifetime 0`."""
        def queries(lines, steps):
            self.start([" revocation-check ocsp"] + lines, anchor="sub")
            before = self.ocsp_stats()["requests"]
            out = []
            for rid, offset in enumerate(steps):
                if offset:
                    resp = self.daemon.call({"id": "c", "op": "clock", "offset": offset})
                    self.assertTrue(resp["ok"], resp)
                v = self.verify(self.pki.good, rid=rid)
                self.assert_verdict(v, "ACCEPT", revocation="good")
                out.append(self.ocsp_stats()["requests"] - before)
            self.daemon.stop()
            self.daemon = None
            return out

        self.assertEqual(queries([], [0, 0]), [1, 2])
        self.assertEqual(queries([" ocsp nonce require"], [0, 0]), [1, 2])
        self.assertEqual(queries([" ocsp cache-lifetime 60"], [0, 0, 30, 61]), [1, 1, 1, 2])
        self.assertEqual(queries([" ocsp nonce if-echoed"], [0, 0]), [1, 1])
        self.assertEqual(queries([" ocsp disable-nonce"], [0, 0]), [1, 1])
        self.assertEqual(queries([" ocsp disable-nonce", " ocsp cache-lifetime 0"], [0, 0]),
                         [1, 2])

    def test_ocsp_wrong_nonce_falls_through(self):
        """R29, D-1: a wrong nonce is no answer: `ocsp` alone rejects, `ocsp crl` uses the CRL."""
        url = "http://127.0.0.1:%d/fault/wrong-nonce/" % self.ocsp_port
        self.start([" revocation-check ocsp", " ocsp url %s" % url], anchor="sub")
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
        ev = [e for e in v["evidence"] if e["cert_index"] == 0 and e["method"] == "ocsp"][-1]
        self.assertEqual(ev["nonce"], "mismatch")
        self.daemon.stop()
        self.start([" revocation-check ocsp crl", " ocsp url %s" % url], anchor="sub")
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")

    def test_ocsp_disable_nonce(self):
        """R29: with `ocsp disable-nonce` the request carries no nonce extension."""
        url = "http://127.0.0.1:%d/fault/no-nonce/" % self.ocsp_port
        self.start([" revocation-check ocsp", " ocsp url %s" % url, " ocsp disable-nonce"],
                   anchor="sub")
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.assertFalse(self.ocsp_stats()["last_request_has_nonce"])

    def test_ocsp_single_flight(self):
        """200 concurrent requests for one certificate cause one OCSP query; the others wait
        for it and take its answer (or, arriving later, the cache's)."""
        self.start([" revocation-check ocsp", " ocsp cache-lifetime 300"], anchor="sub")
        before = self.ocsp_stats()["requests"]
        n = 200
        with self.daemon.connect() as s:
            s.sendall("".join(json.dumps({"id": i, "op": "verify", "trustpoint": "SUB",
                                          "chain": [self.pki.revoked.b64, self.pki.sub.b64]})
                              + "\n" for i in range(n)).encode())
            responses = helper.read_responses(s, n)
        self.assertEqual(sorted(r["id"] for r in responses), list(range(n)))
        for r in responses:
            self.assert_verdict(r["verdict"], "REJECT", reason="revoked", revocation="revoked")
        self.assertEqual(self.ocsp_stats()["requests"], before + 1)

    def test_ocsp_get_without_nonce(self):
        """RFC 5019: a request without a nonce is small and the same every time: GET."""
        self.start([" revocation-check ocsp", " ocsp disable-nonce"], anchor="sub")
        before = self.ocsp_stats()
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        after = self.ocsp_stats()
        self.assertEqual(after["get"], before["get"] + 1)
        self.assertEqual(after["post"], before["post"])

    def test_ocsp_faults_are_no_answer(self):
        """O-9, D-1: a responder that answers garbage, too much, HTTP 500, tryLater,
        unauthorized, a stale or future response, or no nonce when one is required, gives
        no answer: under `ocsp` alone the certificate is rejected, never accepted."""
        modes = ["garbage", "huge", "http500", "trylater", "unauthorized", "no-nonce"]
        if shutil.which("faketime"):
            modes += ["stale", "future"]
        for mode in modes:
            url = "http://127.0.0.1:%d/fault/%s/" % (self.ocsp_port, mode)
            self.start(["revocation-check ocsp", "ocsp url %s" % url], anchor="sub")
            v = self.verify(self.pki.good)
            self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
            ev = [e for e in v["evidence"] if e["method"] == "ocsp"][-1]
            self.assertEqual(ev["outcome"], "error", mode)
            self.assertTrue(ev["error"], mode)
            if mode == "no-nonce":
                self.assertIn("if-echoed", ev["error"])
            self.assertEqual(self.daemon.stop(), 0)
            self.daemon = None

    def test_ocsp_unknown_falls_to_crl(self):
        """O-9: `unknown` is no answer: under `ocsp crl` the CRL decides."""
        self.start(["revocation-check ocsp crl", "ocsp url %s" % self.ocsp_url], anchor="sub")
        v = self.verify(self.pki.two_cdps)  # not in the responder's index
        self.assert_verdict(v, "ACCEPT", revocation="good")
        methods = [(e["method"], e["outcome"]) for e in v["evidence"]]
        self.assertEqual(methods[0], ("ocsp", "error"))
        self.assertIn(("crl", "good"), methods)

    def test_ocsp_override_with_responder_trustpoint(self):
        """R27, R30: a responder certified by another PKI is accepted only through
        `override ocsp trustpoint TPX`, TPX anchoring the responder's certificate."""
        url = "http://127.0.0.1:%d/" % self.ocsp_port
        control = "/_control?rsigner=%s&rkey=%s" % (self.pki.other_responder.cert_path,
                                                    self.pki.other_responder.key_path)
        http_get(self.ocsp_port, control)
        try:
            for with_tp in (True, False):
                d = os.path.join(self.dir, "ovr-%d" % time.monotonic_ns())
                os.makedirs(d)
                override = "match certificate ALL override ocsp %s10 url %s" % (
                    "trustpoint TPX " if with_tp else "", url)
                text = helper.config_text(
                    os.path.join(d, "certvald.sock"),
                    [("SUB", self.pki.sub.cert_path, ["revocation-check ocsp", override]),
                     ("TPX", self.pki.other.cert_path, ["revocation-check none"])],
                    "crypto pki certificate map ALL 10\n subject-name co example")
                self.daemon = helper.Daemon(d, text).start()
                self.tp = "SUB"
                v = self.verify(self.pki.good)
                if with_tp:
                    self.assert_verdict(v, "ACCEPT", revocation="good")
                    ev = [e for e in v["evidence"] if e["method"] == "ocsp"][-1]
                    self.assertEqual(ev["signer"], self.pki.other_responder.subject)
                else:
                    self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
                self.assertEqual(self.daemon.stop(), 0)
                self.daemon = None
        finally:
            http_get(self.ocsp_port, "/_control?rsigner=%s&rkey=%s" % (
                self.pki.sub.cert_path, self.pki.sub.key_path))

    def test_delegated_responder_status_fetched(self):
        """O-10: a delegated responder's own status, not at hand, is fetched from its CDP
        (the CRL of the CA that certified it) before its answer is believed; a responder
        that CRL lists as revoked is no answer. The old code took the status only from CRLs
        already cached, and rejected."""
        cases = ((self.pki.delegated, "/file/resp.crl", "ACCEPT"),
                 (self.pki.delegated_bad, "/file/resprev.crl", "REJECT"))
        try:
            for signer, path, decision in cases:
                http_get(self.ocsp_port, "/_control?rsigner=%s&rkey=%s" % (
                    signer.cert_path, signer.key_path))
                self.start([" revocation-check ocsp"], anchor="sub")
                self.reset_counts()
                v = self.verify(self.pki.good)
                self.assertEqual(v["decision"], decision, v)
                self.assertEqual(self.count(path), 1)
                self.assertTrue(any("delegated responder" in t["text"] for t in v["trace"]))
                if decision == "ACCEPT":
                    ev = [e for e in v["evidence"] if e["method"] == "ocsp"][-1]
                    self.assertEqual(ev["signer"], signer.subject)
                else:
                    self.assertEqual(v["reason"], "revocation-unavailable")
                    self.assertIn("revoked", json.dumps(v["evidence"]))
                self.assertEqual(self.daemon.stop(), 0)
                self.daemon = None
        finally:
            http_get(self.ocsp_port, "/_control?rsigner=%s&rkey=%s" % (
                self.pki.sub.cert_path, self.pki.sub.key_path))

    def test_ocsp_override_url_wins_over_the_aia(self):
        """R27: `match certificate L override ocsp SEQ url U` asks U, not the responder the
        certificate's AIA names (down here): good. Without the override, no answer."""
        glob = "fetch retry-after 0\ncrypto pki certificate map ALL 10\n subject-name co example"
        self.start([" revocation-check ocsp",
                    " match certificate ALL override ocsp 10 url %s" % self.ocsp_url],
                   extra_global=glob, anchor="sub")
        v = self.verify(self.pki.aia_dead)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        ev = [e for e in v["evidence"] if e["method"] == "ocsp"][-1]
        self.assertEqual(ev["url"], self.ocsp_url)
        self.assertEqual([(m["modifier"], m["label"]) for m in v["modifiers"]],
                         [("override ocsp", "ALL")])
        self.assertEqual(self.daemon.stop(), 0)
        self.start([" revocation-check ocsp"], extra_global=glob, anchor="sub")
        v = self.verify(self.pki.aia_dead)
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")

    def test_ocsp_down_with_none(self):
        """R14(3): `ocsp none` with the responder down: accepted, failed open."""
        self.start([" revocation-check ocsp none",
                    " ocsp url http://127.0.0.1:%d/" % self.dead_port], anchor="sub")
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="unchecked-none")
        self.assertTrue(v["failed_open"])

    def test_crl_down_ocsp_good(self):
        """R14(1): `crl ocsp`, CDP down, OCSP good: accepted."""
        self.start([" revocation-check crl ocsp", " ocsp url %s" % self.ocsp_url])
        v = self.verify(self.pki.dead)
        # dead.example is not in the responder's index: unknown, so that is no answer either
        self.assert_verdict(v, "REJECT", reason="revocation-unavailable")
        v = self.verify(self.pki.two_cdps, rid=2)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        self.daemon.stop()
        self.start([" revocation-check crl ocsp",
                    " match certificate GOOD override cdp url %s" % self.dead_cdp],
                   extra_global="fetch retry-after 0\ncrypto pki certificate map GOOD 10\n"
                                " subject-name co good.example")
        v = self.verify(self.pki.good)
        self.assert_verdict(v, "ACCEPT", revocation="good")
        methods = [(e["method"], e["outcome"]) for e in v["evidence"] if e["cert_index"] == 0]
        self.assertIn(("crl", "error"), methods)
        self.assertIn(("ocsp", "good"), methods)


if __name__ == "__main__":
    unittest.main(verbosity=2)
