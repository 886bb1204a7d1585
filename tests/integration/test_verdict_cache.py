"""test_verdict_cache.py: the verdict cache of seen chains and the reply's detail level (issue 13).

Through a real certvald on a socket: a seen chain is answered from the cache with the same
verdict; every change that can change a verdict (a new CRL, a reload, time passing a
certificate's notAfter, an AAA answer's lifetime) makes the next request evaluate afresh;
what depends on the network failing is never cached. The request's "detail" renders only
what was asked for.
"""

import json
import os
import shutil
import sys
import unittest

import certvald_helper as h
from certvald_helper import testpki

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "support")
sys.path.insert(0, SUPPORT)

from servers import Server, free_port, wait_for  # noqa: E402
from testpki import days  # noqa: E402

DAY = 86400

SUMMARY = {"decision", "reason", "detail", "message", "cert_index", "cert_subject", "at",
           "trustpoint", "map", "revocation", "failed_open", "expiry_overridden", "profile",
           "relaxations", "aaa_username", "aaa_attributes", "modifiers", "cached"}


def verify_req(rid, certs, **fields):
    req = {"id": rid, "op": "verify", "chain": [c.b64 for c in certs], "trustpoint": "TP"}
    req.update(fields)
    return req


class DetailTest(h.StandardPKITest):
    """The request's "detail": verdict, evidence, trace (the default)."""

    TMP_PREFIX = "certvald-detail-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cfg = h.config_text(os.path.join(cls.dir, "unused.sock"),
                            [("TP", cls.pki.root.cert_path, ["revocation-check none"])])
        cls.d = h.Daemon(cls.dir, cfg).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        super().tearDownClass()
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


def stable(v):
    """A verdict without what differs between two answers of the same decision."""
    return {k: x for k, x in v.items() if k not in ("at", "cached")}


class CacheBase(unittest.TestCase):
    """A daemon per test (each changes configuration, clock or caches)."""

    daemon = None

    def tearDown(self):
        if self.daemon is not None:
            rc = self.daemon.stop()
            log = self.daemon.log_text()
            self.daemon = None
            self.assertEqual(rc, 0, "certvald exit status %r:\n%s" % (rc, log))

    def start(self, tp_lines, extra_global="", ca=None):
        d = h.make_tmpdir("certvald-vcache-")
        self.addCleanup(h.cleanup, d)
        self.dir = d
        self.tp_lines = list(tp_lines)
        self.extra_global = extra_global
        self.ca = ca or self.pki.root.cert_path
        self.daemon = h.Daemon(d, self.config()).start()
        return self.daemon

    def config(self, tp_lines=None, extra_global=None):
        return h.config_text(os.path.join(self.dir, "unused.sock"),
                             [("TP", self.ca, self.tp_lines if tp_lines is None else tp_lines)],
                             self.extra_global if extra_global is None else extra_global)

    def verify(self, certs, rid=1, **fields):
        resp = self.daemon.call(verify_req(rid, certs, **fields))
        self.assertTrue(resp["ok"], resp)
        return resp["verdict"]

    def vstats(self):
        r = self.daemon.ctl("stats", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)["verdict_cache"]

    def clock(self, offset):
        resp = self.daemon.call({"id": "c", "op": "clock", "offset": offset})
        self.assertTrue(resp["ok"], resp)

    def reload(self, text):
        self.daemon.write_config(text)
        resp = self.daemon.call({"id": "r", "op": "reload"})
        self.assertTrue(resp["ok"], resp)


class SeenChainTest(CacheBase):
    """Hits, keys, reloads and time, without revocation (revocation-check none is failing
    open, so these trustpoints skip revocation through a certificate map instead)."""

    @classmethod
    def setUpClass(cls):
        cls.pkidir = h.make_tmpdir("certvald-vcache-pki-")
        pki = cls.pki = testpki.standard(os.path.join(cls.pkidir, "pki"))
        pki.short = pki.leaf("short.example", pki.sub, dns=["short.example"],
                             not_after=days(2))
        pki.later = pki.leaf("later.example", pki.sub, dns=["later.example"],
                             not_before=days(2))

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.pkidir)

    SKIP = "crypto pki certificate map ALL 10\n subject-name co example"
    TP = ["revocation-check crl", "match certificate ALL skip revocation-check"]

    def good(self):
        return [self.pki.good, self.pki.sub]

    def test_seen_chain_is_served_from_the_cache(self):
        self.start(self.TP, self.SKIP)
        first = self.verify(self.good())
        self.assertEqual(first["decision"], "ACCEPT", first)
        self.assertEqual(first["revocation"], "skipped-by-map")
        self.assertFalse(first["cached"])
        before = self.vstats()
        self.assertEqual((before["stores"], before["misses"], before["hits"]), (1, 1, 0))
        second = self.verify(self.good(), rid=2)
        self.assertTrue(second["cached"], second)
        self.assertEqual(stable(second), stable(first))
        after = self.vstats()
        self.assertEqual((after["hits"], after["misses"]), (1, 1))
        self.assertEqual(after["entries"], 1)
        # A rejection that only time could undo, and a refusal by configuration, are seen too.
        self.assertEqual(self.verify([self.pki.expired, self.pki.sub])["reason"], "expired")
        self.assertTrue(self.verify([self.pki.expired, self.pki.sub])["cached"])
        # Every engine statistic counts a cached answer as a request.
        r = self.daemon.ctl("stats", "--json")
        self.assertEqual(json.loads(r.stdout)["engine"]["requests"], 4)
        self.assertIn("Verdict cache: 2 of 2048 verdicts, 2 hits",
                      self.daemon.ctl("stats").stdout)

    def test_every_request_parameter_is_in_the_key(self):
        self.start(self.TP, self.SKIP)
        self.verify(self.good())
        self.assertTrue(self.verify(self.good())["cached"])
        variants = [{"purpose": "server"}, {"purpose": "client"},
                    {"peer_name": "peer.example"}, {"peer_name": "other.example"},
                    {"application": "vpn"}, {"trustpoint": None}]
        for fields in variants:
            req = verify_req(3, self.good(), **fields)
            if req["trustpoint"] is None:  # no trustpoint named: any may anchor
                del req["trustpoint"]
            first = self.daemon.call(req)["verdict"]
            self.assertFalse(first["cached"], fields)
            self.assertTrue(self.daemon.call(req)["verdict"]["cached"], fields)
        # The answers differ where the parameter matters.
        bad_name = self.verify(self.good(), peer_name="other.example")
        self.assertEqual(bad_name["reason"], "chain-invalid", bad_name)
        self.assertTrue(bad_name["cached"])
        # The chain's own bytes and order: without the intermediate, another key.
        self.assertFalse(self.verify([self.pki.good])["cached"])
        self.assertFalse(self.verify([self.pki.good, self.pki.sub, self.pki.expired])["cached"])
        # peer_addr only names the peer in the log: the same verdict.
        self.assertTrue(self.verify(self.good(), peer_addr="192.0.2.9")["cached"])
        # An explicit validation time is a simulation: never served from the cache.
        at = self.verify(self.good(), at=self.verify(self.good())["at"])
        self.assertFalse(at["cached"])
        self.assertFalse(self.verify(self.good(), at=at["at"])["cached"])

    def test_a_bad_request_is_never_answered_from_the_cache(self):
        """The seen-chain lookup happens before the certificates are parsed, never before
        the request is checked: every error of a fresh request is still reported."""
        self.start(self.TP, self.SKIP)
        self.verify(self.good())
        self.assertTrue(self.verify(self.good())["cached"])
        for fields, word in (({"detail": "all"}, "detail"), ({"purpose": "vpn"}, "purpose"),
                             ({"peer_name": 7}, "peer_name"), ({"extra": "x"}, "extra"),
                             ({"color": "red"}, "color"), ({"trustpoints": ["TP"]}, "not both")):
            resp = self.daemon.call(verify_req(4, self.good(), **fields))
            self.assertFalse(resp["ok"], (fields, resp))
            self.assertEqual(resp["error"]["code"], "bad-request")
            self.assertIn(word, resp["error"]["message"])
        req = verify_req(5, self.good())
        req["chain"][1] = "not base64!"
        self.assertEqual(self.daemon.call(req)["error"]["code"], "bad-request")
        # A certificate that does not parse is a verdict, never a cached one.
        req["chain"][1] = "AAAA"
        for _ in range(2):
            v = self.daemon.call(req)["verdict"]
            self.assertEqual((v["detail"], v["cached"]), ("malformed-certificate", False), v)

    def test_reload_gives_a_new_verdict(self):
        self.start(self.TP, self.SKIP)
        self.verify(self.good())
        self.assertTrue(self.verify(self.good())["cached"])
        refuse = self.SKIP + "\ncrypto pki certificate map NONE 10\n subject-name co nosuch"
        self.reload(self.config(self.TP + ["match certificate NONE"], refuse))
        v = self.verify(self.good())
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "not-authorized"), v)
        self.assertFalse(v["cached"])
        self.assertTrue(self.verify(self.good())["cached"])
        # A reload to a smaller bound applies it.
        self.reload(self.config(extra_global=self.SKIP + "\nverdict-cache entries 1"))
        self.verify(self.good())
        self.verify([self.pki.expired, self.pki.sub])
        st = self.vstats()
        self.assertEqual((st["entries"], st["max_entries"]), (1, 1))
        self.assertGreaterEqual(st["evictions"], 1)
        self.reload(self.config(extra_global=self.SKIP + "\nverdict-cache entries 0"))
        self.verify(self.good())
        self.assertFalse(self.verify(self.good())["cached"])
        self.assertEqual(self.vstats()["entries"], 0)

    def test_hit_reply_has_its_own_id_and_time(self):
        """A hit's reply is rendered once per entry, detail and second, then each hit puts
        its own id in front: the id is always the request's, and the time moves with the
        clock."""
        from datetime import datetime, timedelta
        self.start(self.TP, self.SKIP)
        chain = [self.pki.good, self.pki.sub]

        def hit(rid, detail):
            resp = self.daemon.call(verify_req(rid, chain, detail=detail))
            self.assertTrue(resp["ok"], resp)
            self.assertEqual(resp["id"], rid)
            self.assertTrue(resp["verdict"]["cached"], resp)
            return resp["verdict"]

        self.verify(chain)
        first = hit(2, "verdict")
        self.assertEqual(hit("three \"quoted\"", "verdict"), first)
        self.assertEqual(hit(4.5, "verdict"), first)
        self.assertIn("trace", hit(5, "trace"))
        self.assertNotIn("trace", hit(6, "evidence"))
        self.assertEqual(hit(7, "verdict"), first)
        self.clock(DAY)
        later = hit(8, "verdict")
        when = [datetime.strptime(v["at"], "%Y-%m-%dT%H:%M:%SZ") for v in (first, later)]
        self.assertGreaterEqual(when[1] - when[0], timedelta(days=1))
        self.assertEqual(stable(later), stable(first))

    def test_verdict_made_only_as_far_as_asked(self):
        """A verdict is made as far as its request's detail and no further (no trace, no
        path text at "verdict"): a later request asking for more is evaluated afresh, and
        its fuller verdict then serves every level."""
        self.start(self.TP, self.SKIP)
        chain = [self.pki.good, self.pki.sub]
        first = self.verify(chain, detail="verdict")
        self.assertEqual((first["decision"], first["cached"]), ("ACCEPT", False), first)
        self.assertTrue(self.verify(chain, detail="verdict")["cached"])
        evidence = self.verify(chain, detail="evidence")
        self.assertFalse(evidence["cached"], evidence)
        self.assertEqual(len(evidence["path"]), 3, evidence)
        self.assertTrue(all(e["subject"] and e["issuer"] for e in evidence["path"]), evidence)
        self.assertTrue(self.verify(chain, detail="evidence")["cached"])
        trace = self.verify(chain, detail="trace")
        self.assertFalse(trace["cached"], trace)
        texts = [t["text"] for t in trace["trace"]]
        leaf = evidence["path"][0]["subject"]
        self.assertTrue(any("peer certificate %s" % leaf in t for t in texts), texts)
        self.assertTrue(any("Trust-Point TP picked up" in t for t in texts), texts)
        for detail in ("trace", "evidence", "verdict"):
            again = self.verify(chain, detail=detail)
            self.assertTrue(again["cached"], (detail, again))
            self.assertEqual(again.get("trace"), trace["trace"] if detail == "trace" else None)
        self.assertEqual(self.vstats()["misses"], 3)
        # A rejection's summary names its certificate at every level.
        bad = self.verify([self.pki.expired, self.pki.sub], detail="verdict")
        self.assertEqual((bad["reason"], bad["cert_index"]), ("expired", 0), bad)
        self.assertTrue(bad["cert_subject"].startswith("CN="), bad)

    def test_certificate_expiring_while_cached(self):
        self.start(self.TP, self.SKIP)
        chain = [self.pki.short, self.pki.sub]
        self.assertEqual(self.verify(chain)["decision"], "ACCEPT")
        self.assertTrue(self.verify(chain)["cached"])
        self.clock(DAY)  # time passes, the leaf is still valid: still the cached verdict
        v = self.verify(chain)
        self.assertTrue(v["cached"], v)
        self.assertEqual(v["decision"], "ACCEPT")
        self.clock(3 * DAY)  # past its notAfter
        v = self.verify(chain)
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "expired"), v)
        self.assertFalse(v["cached"])
        self.assertTrue(self.verify(chain)["cached"])
        self.assertGreaterEqual(self.vstats()["invalidations"], 1)

    def test_not_yet_valid_becomes_valid(self):
        self.start(self.TP, self.SKIP)
        chain = [self.pki.later, self.pki.sub]
        v = self.verify(chain)
        self.assertEqual(v["reason"], "not-yet-valid", v)
        self.assertTrue(self.verify(chain)["cached"])
        self.clock(3 * DAY)
        v = self.verify(chain)
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertFalse(v["cached"])

    def test_clock_moved_back_is_not_served(self):
        self.start(self.TP, self.SKIP)
        self.clock(3 * DAY)
        chain = [self.pki.short, self.pki.sub]
        self.assertEqual(self.verify(chain)["reason"], "expired")
        self.assertTrue(self.verify(chain)["cached"])
        self.clock(0)  # before the verdict was decided: the leaf is valid again
        v = self.verify(chain)
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertFalse(v["cached"])


class AAACacheTest(CacheBase):
    """The AAA answer's lifetime (`aaa cache-time`) bounds a verdict that relied on it."""

    @classmethod
    def setUpClass(cls):
        cls.pkidir = h.make_tmpdir("certvald-vcache-aaa-")
        cls.pki = testpki.standard(os.path.join(cls.pkidir, "pki"))

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.pkidir)

    TP = ["revocation-check crl", "match certificate ALL skip revocation-check",
          "authorization list L", "authorization username subjectname commonname"]
    AAA = ("crypto pki certificate map ALL 10\n subject-name co example\n"
           "aaa attribute list default\n attribute type cert-application all\n"
           "aaa authorization list L local")

    def aaa_source(self, v):
        ev = [e for e in v["evidence"] if e["method"] == "aaa"]
        self.assertEqual(len(ev), 1, v)
        return ev[0]["source"]

    def test_aaa_answer_expiring(self):
        self.start(self.TP, self.AAA + "\naaa cache-time 60")
        chain = [self.pki.good, self.pki.sub]
        v = self.verify(chain)
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertEqual(self.aaa_source(v), "request")
        v = self.verify(chain)
        self.assertTrue(v["cached"], v)
        self.clock(30)
        self.assertTrue(self.verify(chain)["cached"])
        self.clock(61)  # the AAA answer is no longer cached: AAA is asked again
        v = self.verify(chain)
        self.assertFalse(v["cached"], v)
        self.assertEqual(self.aaa_source(v), "request")
        self.assertTrue(self.verify(chain)["cached"])

    def test_uncached_aaa_answer_is_asked_every_time(self):
        self.start(self.TP, self.AAA)  # aaa cache-time 0: every request asks AAA
        chain = [self.pki.good, self.pki.sub]
        for rid in range(3):
            v = self.verify(chain, rid=rid)
            self.assertEqual(v["decision"], "ACCEPT", v)
            self.assertFalse(v["cached"], v)
            self.assertEqual(self.aaa_source(v), "request")
        self.assertEqual(self.vstats()["entries"], 0)


class RevocationCacheTest(CacheBase):
    """Revocation: a new CRL, a CRL's nextUpdate, and what the network failing decided."""

    @classmethod
    def setUpClass(cls):
        cls.pkidir = h.make_tmpdir("certvald-vcache-rev-")
        cls.www = os.path.join(cls.pkidir, "www")
        os.makedirs(cls.www)
        cls.httpd = Server([os.path.join(SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cls.cdp = "http://127.0.0.1:%d/file/sub.crl" % cls.httpd.port
        cls.dead_cdp = "http://127.0.0.1:%d/sub.crl" % free_port()
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.pkidir, "pki"))
        pki.root = pki.ca("VC Root CA")
        pki.sub = pki.ca("VC Sub CA", issuer=pki.root, pathlen=0)
        pki.good = pki.leaf("good.example", pki.sub, crl_url=cls.cdp)
        pki.dead = pki.leaf("dead.example", pki.sub, crl_url=cls.dead_cdp)
        cls.clean_crl = pki.crl(pki.sub, name="clean")
        cls.revoking_crl = pki.crl(pki.sub, revoked=[pki.good], name="revoking")

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        h.cleanup(cls.pkidir)

    def warm(self, chain):
        """The first evaluation downloads the CRL (it changes the CRL cache while it runs, so
        it is not stored); the second finds the CRL cached and is stored; the third is a hit."""
        first = self.verify(chain)
        self.assertFalse(self.verify(chain)["cached"])
        third = self.verify(chain)
        self.assertTrue(third["cached"], third)
        self.assertEqual(stable(third)["decision"], first["decision"])
        return first

    def start_rev(self, methods):
        shutil.copy(self.clean_crl, os.path.join(self.www, "sub.crl"))
        return self.start(["revocation-check %s" % methods], "fetch retry-after 0",
                          ca=self.pki.sub.cert_path)

    def test_new_crl_revoking_a_cached_leaf(self):
        self.start_rev("crl")
        chain = [self.pki.good, self.pki.sub]
        v = self.warm(chain)
        self.assertEqual((v["decision"], v["revocation"]), ("ACCEPT", "good"), v)
        shutil.copy(self.revoking_crl, os.path.join(self.www, "sub.crl"))
        self.assertTrue(self.verify(chain)["cached"])  # the cached CRL still says good
        r = self.daemon.ctl("crl-request", "TP")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(wait_for(lambda: self.verify(chain)["decision"] == "REJECT"),
                        "the new CRL did not take effect")
        v = self.verify(chain)
        self.assertEqual((v["reason"], v["revocation"]), ("revoked", "revoked"), v)
        self.assertGreaterEqual(self.vstats()["invalidations"], 1)

    def test_clear_crls_invalidates(self):
        self.start_rev("crl")
        chain = [self.pki.good, self.pki.sub]
        self.warm(chain)
        shutil.copy(self.revoking_crl, os.path.join(self.www, "sub.crl"))
        self.assertEqual(self.daemon.ctl("clear", "crls").returncode, 0)
        v = self.verify(chain)
        self.assertEqual(v["reason"], "revoked", v)
        self.assertFalse(v["cached"])

    def test_crl_next_update_bounds_the_verdict(self):
        self.start_rev("crl")
        chain = [self.pki.good, self.pki.sub]
        self.warm(chain)
        self.clock(8 * DAY)  # past the CRL's nextUpdate (7 days): the CDP serves it stale
        v = self.verify(chain)
        self.assertEqual(v["reason"], "revocation-unavailable", v)
        self.assertFalse(v["cached"])

    def test_network_failures_are_never_cached(self):
        self.start_rev("crl")
        chain = [self.pki.dead, self.pki.sub]
        for rid in range(2):
            v = self.verify(chain, rid=rid)
            self.assertEqual(v["reason"], "revocation-unavailable", v)
            self.assertFalse(v["cached"], v)
        self.assertEqual(self.vstats()["entries"], 0)

    def test_failed_open_is_never_cached(self):
        self.start_rev("crl none")
        chain = [self.pki.dead, self.pki.sub]
        for rid in range(2):
            v = self.verify(chain, rid=rid)
            self.assertEqual((v["decision"], v["failed_open"]), ("ACCEPT", True), v)
            self.assertFalse(v["cached"], v)
        self.assertEqual(self.vstats()["entries"], 0)
        # The same trustpoint's chains that did get an answer are cached.
        self.warm([self.pki.good, self.pki.sub])

    def test_revocation_check_none_alone_is_cached(self):
        """No method was tried: nothing could answer a fresh evaluation differently."""
        self.start_rev("none")
        chain = [self.pki.dead, self.pki.sub]
        v = self.verify(chain)
        self.assertEqual((v["revocation"], v["failed_open"]), ("unchecked-none", True), v)
        v = self.verify(chain)
        self.assertTrue(v["cached"], v)
        self.assertTrue(v["failed_open"])


if __name__ == "__main__":
    unittest.main()
