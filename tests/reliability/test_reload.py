#!/usr/bin/env python3
"""test_reload.py: the configuration file replaced by invalid ones and reloaded (SIGHUP and
the `reload` operation) while verify requests wait on slow CRL downloads: the running
configuration stays, and every request gets exactly one answer, the right one.
"""

import os
import signal
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reliability as rel  # noqa: E402
from reliability import helper  # noqa: E402

CLIENTS = 16
PER_CLIENT = rel.env_int("CERTVAL_ROUNDS", 12)

INVALID = [
    "socket /tmp/x\ncrypto pki trustpoint ROOT\n revocation-chek crl\n",
    "crypto pki trustpoint ROOT\n ca-certificate /nonexistent.pem\n",
    "\0\xff garbage \x01\n",
    "",
]


class ReloadTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-reload-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = rel.Server([os.path.join(rel.SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cdp = "http://127.0.0.1:%d/slowfile/200/sub.crl" % cls.httpd.port
        cls.pki = rel.RevPKI(os.path.join(cls.dir, "pki"), cdp)
        rel.serve(cls.www, "sub.crl", cls.pki.crl_der(cls.pki.sub, 10, [cls.pki.revoked]))

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        helper.cleanup(cls.dir)

    def client(self, daemon, k, results):
        """PER_CLIENT requests pipelined on one connection, good and revoked in turn."""
        leaves = [self.pki.good, self.pki.revoked]
        with daemon.connect(timeout=60) as s:
            reqs = [rel.verify_request(self.pki, leaves[i % 2], "%d-%d" % (k, i))
                    for i in range(PER_CLIENT)]
            for r in reqs:
                s.sendall((rel.json.dumps(r) + "\n").encode())
                time.sleep(0.01)
            reader = helper.LineReader(s)
            got = [reader.read() for _ in reqs]
            s.settimeout(0.5)
            try:
                extra = s.recv(1)  # nothing more: never answered twice
            except OSError:
                extra = b""
        results[k] = (got, extra)

    def test_invalid_config_reloaded_in_flight(self):
        d = os.path.join(self.dir, "d")
        os.makedirs(d)
        good_text = rel.config(d, self.pki, lines=("revocation-check crl", "crl-cache none"))
        daemon = helper.Daemon(d, good_text).start()
        try:
            results = {}
            threads = [threading.Thread(target=self.client, args=(daemon, k, results))
                       for k in range(CLIENTS)]
            for t in threads:
                t.start()
            reloads = 0
            while any(t.is_alive() for t in threads):
                daemon.write_config(INVALID[reloads % len(INVALID)])
                if reloads % 2 == 0:
                    daemon.signal(signal.SIGHUP)
                else:
                    r = daemon.call({"id": "reload", "op": "reload"})
                    self.assertEqual(r.get("error", {}).get("code"), "config-error", (reloads, r))
                reloads += 1
                time.sleep(0.05)
            for t in threads:
                t.join()
            daemon.write_config(good_text)
            self.assertEqual(len(results), CLIENTS)
            for k, (got, extra) in results.items():
                self.assertEqual(extra, b"", "client %d: an answer too many" % k)
                self.assertEqual(sorted(r["id"] for r in got),
                                 sorted("%d-%d" % (k, i) for i in range(PER_CLIENT)))
                for r in got:
                    i = int(r["id"].split("-")[1])
                    want = ("ACCEPT", None) if i % 2 == 0 else ("REJECT", "revoked")
                    self.assertEqual(rel.decision(r), want, r)
            self.assertGreater(reloads, 2)
            log = daemon.log_text()
            self.assertIn("reload failed, keeping the running configuration", log)
            self.assertNotIn("configuration reloaded", log)
            status = daemon.call({"id": 1, "op": "status"})
            self.assertEqual(status["status"]["trustpoints"], ["ROOT"], status)
            r = daemon.call(rel.verify_request(self.pki, self.pki.revoked))
            self.assertEqual(rel.decision(r), ("REJECT", "revoked"))
            print("\nreliability-reload: %d invalid reloads, %d requests answered once each"
                  % (reloads, CLIENTS * PER_CLIENT))
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
