#!/usr/bin/env python3
"""test_refresh.py: the background refresh of cached CRLs (issue 16) through a real certvald
and an origin CDP that sends Cache-Control and counts what it serves (cdp_origin.py).

The daemon runs on a test clock: each test moves it to a point of the CRL's life and checks
what the daemon scheduled (`show crls`: the refresh's due time, the server's freshness, the
stale state) and what the origin saw. Nothing depends on how fast a process runs: where a
download must have happened, the test waits for the origin's count.
"""

import datetime
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import crlkit  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, http_get, wait_for  # noqa: E402
from testpki import openssl_index_line  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")
DAY = 86400


def parse_time(text):
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


class RefreshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-refresh-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.origin = Server([os.path.join(SUPPORT, "cdp_origin.py"), "--root", cls.www])
        cls.base = "http://127.0.0.1:%d/crl/" % cls.origin.port
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Refresh Root CA")
        pki.sub = pki.ca("Refresh Sub CA", issuer=pki.root, pathlen=0)
        cls.leaves = {}
        for name in ("window", "maxage", "ncp", "down"):
            cls.leaves[name] = pki.leaf(name + ".example", pki.sub,
                                        crl_url=cls.base + name + ".crl")

    @classmethod
    def tearDownClass(cls):
        cls.origin.stop()
        helper.cleanup(cls.dir)

    def setUp(self):
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.assertEqual(self.daemon.stop(), 0, "certvald did not exit cleanly")

    # ---- helpers ----

    def start(self, lines):
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(os.path.join(d, "certvald.sock"),
                                  [("SUB", self.pki.sub.cert_path, lines)],
                                  "fetch retry-after 0")
        self.daemon = helper.Daemon(d, text).start()

    def publish(self, name, seconds, number, next_publish=None):
        """A CRL of the sub CA served as NAME.crl, valid for seconds from now."""
        src = crlkit.make_crl(self.dir, "%s-%d" % (name, number), self.pki.sub, [], number,
                              seconds, next_publish)
        crlkit.publish(src, self.www, name + ".crl")

    def verify(self, name, rid=1):
        resp = self.daemon.call({"id": rid, "op": "verify", "trustpoint": "SUB",
                                 "chain": [self.leaves[name].b64, self.pki.sub.b64]})
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def counts(self):
        return json.loads(http_get(self.origin.port, "/_counts"))

    def count(self, key):
        return self.counts().get(key, 0)

    def clock(self, offset):
        resp = self.daemon.call({"id": 9, "op": "clock", "offset": offset})
        self.assertTrue(resp["ok"], resp)

    def cached(self, name):
        """The `show crls` object of NAME.crl's cache entry, and the daemon's now."""
        resp = self.daemon.call({"id": 8, "op": "show", "what": "crls"})
        self.assertTrue(resp["ok"], resp)
        for c in resp["show"]["crls"]:
            if c.get("source") == self.base + name + ".crl":
                return c, parse_time(resp["show"]["now"])
        self.fail("%s.crl is not cached: %s" % (name, resp))

    # ---- tests ----

    def test_refresh_window_duration(self):
        """`crl refresh-window 600`: the refresh starts in the first half of the last 600 s
        before nextUpdate, not earlier (the old fixed margin refreshed an hour ahead)."""
        self.publish("window", DAY, 1)
        self.start(["revocation-check crl", "crl refresh-window 600"])
        self.assertEqual(self.verify("window")["decision"], "ACCEPT")
        c, now = self.cached("window")
        next_update = parse_time(c["next_update"])
        due = parse_time(c["refresh"]["due"])
        self.assertGreaterEqual(due, next_update - 600, c)
        self.assertLessEqual(due, next_update - 300, c)
        self.clock(next_update - 700 - now)
        c, now2 = self.cached("window")
        self.assertLess(now2, parse_time(c["refresh"]["due"]))
        self.assertEqual(self.count("window.crl"), 1)
        self.clock(next_update - 299 - now)
        self.assertTrue(wait_for(lambda: self.count("window.crl:304") == 1),
                        "no conditional GET inside the window: %s" % self.counts())
        self.assertEqual(self.count("window.crl:200"), 1)

    def test_cache_control_defers_refresh(self):
        """A response the server says is fresh (Cache-Control: max-age) is not asked again
        before then, even inside the refresh window."""
        with open(os.path.join(self.www, "maxage.crl.max-age"), "w") as f:
            f.write("%d\n" % (DAY - 100))
        self.publish("maxage", DAY, 1)
        self.start(["revocation-check crl", "crl refresh-window 600"])
        self.assertEqual(self.verify("maxage")["decision"], "ACCEPT")
        c, now = self.cached("maxage")
        next_update = parse_time(c["next_update"])
        fresh = parse_time(c["refresh"]["fresh_until"])
        self.assertGreaterEqual(fresh, next_update - 110, c)
        self.assertGreaterEqual(parse_time(c["refresh"]["due"]), fresh, c)
        self.clock(next_update - 299 - now)  # the end of the jitter half of the window
        c, now2 = self.cached("maxage")
        self.assertLess(now2, parse_time(c["refresh"]["due"]), c)
        self.assertEqual(self.count("maxage.crl"), 1)
        self.clock(fresh + 1 - now)
        self.assertTrue(wait_for(lambda: self.count("maxage.crl") == 2),
                        "no refresh once the server's freshness ended: %s" % self.counts())

    def test_next_crl_publish_starts_window(self):
        """Microsoft's Next CRL Publish starts the window: a CRL valid for a day whose next
        one is published in an hour is refreshed from then on, long before the default
        window (the last 10%, at most an hour)."""
        t0 = datetime.datetime.now(datetime.timezone.utc)
        self.publish("ncp", DAY, 1, next_publish=t0 + datetime.timedelta(seconds=3600))
        self.start(["revocation-check crl"])
        self.assertEqual(self.verify("ncp")["decision"], "ACCEPT")
        c, now = self.cached("ncp")
        this_update = parse_time(c["this_update"])
        due = parse_time(c["refresh"]["due"])
        self.assertGreaterEqual(due, this_update + 3600 - 1, c)
        self.assertLessEqual(due, this_update + 3600 + (DAY - 3600) // 2 + 1, c)
        self.publish("ncp", DAY, 2)
        self.clock(this_update + 3600 + (DAY - 3600) // 2 + 2 - now)
        self.assertTrue(wait_for(lambda: self.count("ncp.crl:200") == 2),
                        "no refresh after Next CRL Publish: %s" % self.counts())
        self.assertTrue(wait_for(lambda: self.cached("ncp")[0]["crl_number"] == "02"),
                        "%s\n%s" % (self.cached("ncp"), self.daemon.log_text()[-3000:]))

    def test_failed_refresh_backs_off_and_keeps_last_good(self):
        """A refresh that fails is retried with backoff (30 s, then 60 s); the last good CRL
        keeps answering and `show crls` says it is stale; once it expires, fail closed."""
        self.publish("down", DAY, 1)
        self.start(["revocation-check crl", "crl refresh-window 600"])
        self.assertEqual(self.verify("down")["decision"], "ACCEPT")
        c, now = self.cached("down")
        next_update = parse_time(c["next_update"])
        down = os.path.join(self.www, "down.crl.down")
        open(down, "w").close()
        try:
            self.clock(next_update - 299 - now)
            self.assertTrue(wait_for(lambda: self.cached("down")[0]["refresh"]["stale"]),
                            "the failed refresh is not reported")
            c, now2 = self.cached("down")
            self.assertEqual(c["refresh"]["failures"], 1, c)
            self.assertIn("503", c["refresh"]["last_error"])
            self.assertAlmostEqual(parse_time(c["refresh"]["next_retry"]), now2 + 30, delta=2)
            v = self.verify("down", rid=2)
            self.assertEqual(v["decision"], "ACCEPT", v)  # the last good CRL
            self.clock(next_update - 299 - now + 10)  # inside the backoff: no attempt
            self.assertEqual(self.cached("down")[0]["refresh"]["failures"], 1)
            self.assertEqual(self.count("down.crl:503"), 1)
            self.clock(next_update - 299 - now + 31)
            self.assertTrue(wait_for(lambda: self.count("down.crl:503") == 2))
            self.assertTrue(wait_for(
                lambda: self.cached("down")[0]["refresh"]["failures"] == 2))
            c, now3 = self.cached("down")
            self.assertAlmostEqual(parse_time(c["refresh"]["next_retry"]), now3 + 60, delta=2)
            self.clock(next_update + 1 - now)  # expired, origin still down: fail closed
            v = self.verify("down", rid=3)
            self.assertEqual(v["decision"], "REJECT", v)
        finally:
            os.unlink(down)


    def test_ocsp_prefetch_with_get(self):
        """An OCSP answer asked with GET (`ocsp disable-nonce`, RFC 5019) for a certificate
        seen recently is asked again inside the last hour before it goes stale, without a
        verdict asking; a trustpoint that sends nonces (POST) is not prefetched."""
        port = free_port()
        d = os.path.join(self.dir, "ocsp")
        os.makedirs(d)
        pki = testpki.TestPKI(os.path.join(d, "pki"))
        ca = pki.ca("Prefetch OCSP CA")
        peer = pki.leaf("prefetch.example", ca, ocsp_url="http://127.0.0.1:%d/" % port)
        with open(os.path.join(d, "index.txt"), "w") as f:
            f.write(openssl_index_line(peer))
        ocsp = Server([os.path.join(SUPPORT, "ocsp_responder.py"), "--dir", d, "--index",
                       "index.txt", "--ca", ca.cert_path, "--rsigner", ca.cert_path,
                       "--rkey", ca.key_path, "--port", str(port)])
        stats = lambda: json.loads(http_get(port, "/_stats"))  # noqa: E731
        try:
            dd = helper.daemon_dir(self.dir)
            text = helper.config_text(os.path.join(dd, "certvald.sock"), [
                ("GET", ca.cert_path, ["revocation-check ocsp", "ocsp disable-nonce"]),
                ("POST", ca.cert_path, ["revocation-check ocsp",  # its own cache entry
                                        "ocsp url http://127.0.0.1:%d/post/" % port])],
                "fetch retry-after 0")
            self.daemon = helper.Daemon(dd, text).start()
            for tp in ("GET", "POST"):
                v = self.daemon.call({"id": 1, "op": "verify", "trustpoint": tp,
                                      "chain": [peer.b64]})["verdict"]
                self.assertEqual(v["decision"], "ACCEPT", v)
            st = stats()
            self.assertEqual((st["get"], st["post"]), (1, 1), st)
            resp = self.daemon.call({"id": 2, "op": "show", "what": "ocsp"})["show"]
            first = {a["url"]: a for a in resp["answers"]}
            valid_until = max(parse_time(a["valid_until"]) for a in resp["answers"])
            now = parse_time(resp["now"])
            self.clock(valid_until - 1799 - now)  # past the first half of the last hour
            self.assertTrue(wait_for(lambda: stats()["get"] == 2), stats())
            self.assertEqual(stats()["post"], 1)  # the nonce trustpoint waits for a verdict
            self.assertTrue(wait_for(lambda: any(
                a["stored_at"] != first[a["url"]]["stored_at"]
                for a in self.daemon.call({"id": 3, "op": "show",
                                           "what": "ocsp"})["show"]["answers"])))
            v = self.daemon.call({"id": 4, "op": "verify", "trustpoint": "GET",
                                  "chain": [peer.b64]})["verdict"]
            self.assertEqual(v["decision"], "ACCEPT", v)
            self.assertEqual([e["source"] for e in v["evidence"]], ["cache"], v)
            self.assertEqual(stats()["get"], 2)
        finally:
            ocsp.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
