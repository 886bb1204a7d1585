"""test_workers.py: certvald with its validation threads (`workers N`): every verdict of many
pipelined requests over several connections is delivered once and is the right one, a reload
(SIGHUP) while the threads are busy loses none, and shutdown with requests in flight is clean."""

import base64
import json
import os
import signal
import socket
import threading
import unittest

import certvald_helper as h
from certvald_helper import testpki

CONNECTIONS = 5
PER_CONNECTION = 100


def bad_signature_b64(cert):
    """The certificate's DER with its last signature byte flipped: parses, does not verify."""
    der = bytearray(base64.b64decode(cert.b64))
    der[-1] ^= 0x01
    return base64.b64encode(bytes(der)).decode()


class WorkersTest(unittest.TestCase):

    def setUp(self):
        self.dir = h.make_tmpdir("certvald-workers-")
        self.pki = testpki.standard(os.path.join(self.dir, "pki"))
        self.d = None

    def tearDown(self):
        if self.d is not None and self.d.proc is not None:
            rc = self.d.stop()
            self.assertEqual(rc, 0, self.d.log_text())
        h.cleanup(self.dir)

    def config(self, names, workers, extra=""):
        return h.config_text(os.path.join(self.dir, "x.sock"),
                             [(n, self.pki.root.cert_path, ["revocation-check none"])
                              for n in names], extra_global="workers %d\n%s" % (workers, extra))

    def cases(self):
        """(chain as base64, decision, reason) of good and bad chains, in rotation."""
        p = self.pki
        return [
            ([p.good.b64, p.sub.b64], "ACCEPT", None),
            ([p.expired.b64, p.sub.b64], "REJECT", "expired"),
            ([p.foreign.b64], "REJECT", "untrusted-issuer"),
            ([bad_signature_b64(p.good), p.sub.b64], "REJECT", "bad-signature"),
            ([p.future.b64, p.sub.b64], "REJECT", "not-yet-valid"),
        ]

    def run_connections(self, tag, during=None):
        """CONNECTIONS sockets, each with PER_CONNECTION pipelined requests; during() runs
        once all are sent. Returns (request, expected, responses) per connection."""
        cases = self.cases()
        socks = [self.d.connect(60) for _ in range(CONNECTIONS)]
        sent = []
        try:
            for ci, s in enumerate(socks):
                reqs = []
                for i in range(PER_CONNECTION):
                    chain, decision, reason = cases[(ci + i) % len(cases)]
                    rid = "%s-%d-%d" % (tag, ci, i)
                    reqs.append(({"id": rid, "op": "verify", "chain": chain,
                                  "trustpoint": "TP"}, decision, reason))
                s.sendall("".join(json.dumps(r[0]) + "\n" for r in reqs).encode())
                sent.append(reqs)
            if during is not None:
                during()
            out = []
            for s, reqs in zip(socks, sent):
                out.append((reqs, h.read_responses(s, len(reqs))))
            # Nothing more comes: each request was answered once.
            for s in socks:
                s.settimeout(0.3)
                with self.assertRaises(socket.timeout):
                    extra = s.recv(1)
                    if extra == b"":
                        raise socket.timeout()
            return out
        finally:
            for s in socks:
                s.close()

    def check_answers(self, results):
        total = 0
        for reqs, resps in results:
            by_id = {}
            for r in resps:
                self.assertNotIn(r["id"], by_id, "answered twice: %r" % r["id"])
                by_id[r["id"]] = r
            for req, decision, reason in reqs:
                r = by_id[req["id"]]
                self.assertTrue(r["ok"], r)
                self.assertEqual(r["verdict"]["decision"], decision, r)
                self.assertEqual(r["verdict"]["reason"], reason, r)
                total += 1
        self.assertEqual(total, CONNECTIONS * PER_CONNECTION)

    def test_500_pipelined_over_connections(self):
        self.d = h.Daemon(self.dir, self.config(["TP"], 2)).start()
        status = self.d.call({"id": 1, "op": "status"})["status"]
        self.assertEqual(status["workers"], 2)
        self.check_answers(self.run_connections("p"))
        stats = self.d.call({"id": 2, "op": "status"})["status"]["stats"]
        self.assertEqual(stats["requests"], CONNECTIONS * PER_CONNECTION)
        self.assertEqual(stats["accepted"], CONNECTIONS * PER_CONNECTION // 5)

    def test_allocator_as_built(self):
        """status names the malloc the daemon runs on, the one its build linked."""
        self.d = h.Daemon(self.dir, self.config(["TP"], 2)).start()
        status = self.d.call({"id": 1, "op": "status"})["status"]
        self.assertEqual(status["allocator"], os.environ.get("CERTVAL_ALLOCATOR", "libc"))
        self.check_answers(self.run_connections("m"))
        after = self.d.call({"id": 2, "op": "status"})["status"]
        self.assertEqual(after["stats"]["requests"], CONNECTIONS * PER_CONNECTION)

    def test_one_core_per_worker_by_default(self):
        self.d = h.Daemon(self.dir, self.config(["TP"], 0)).start()
        status = self.d.call({"id": 1, "op": "status"})["status"]
        self.assertEqual(status["workers"], os.cpu_count())
        self.check_answers(self.run_connections("d"))

    def test_reload_while_busy(self):
        self.d = h.Daemon(self.dir, self.config(["TP"], 2)).start()
        # The new configuration keeps TP (requests in flight must still anchor there) and
        # adds TP2; a reload mid-stream must lose or change no verdict.
        self.d.write_config(self.config(["TP", "TP2"], 2))
        self.check_answers(self.run_connections(
            "r", during=lambda: self.d.signal(signal.SIGHUP)))
        status = self.d.call({"id": 1, "op": "status"})["status"]
        self.assertEqual(sorted(status["trustpoints"]), ["TP", "TP2"])
        self.assertEqual(status["workers"], 2)
        # The thread count is read at start: a reload that changes it says so.
        self.d.write_config(self.config(["TP", "TP2"], 1))
        self.assertTrue(self.d.call({"id": 3, "op": "reload"})["ok"])
        self.assertIn("workers changes take effect at restart (still 2 threads)",
                      self.d.log_text())
        self.assertEqual(self.d.call({"id": 4, "op": "status"})["status"]["workers"], 2)
        req = {"id": 2, "op": "verify", "chain": [self.pki.good.b64, self.pki.sub.b64],
               "trustpoint": "TP2"}
        self.assertEqual(self.d.call(req)["verdict"]["decision"], "ACCEPT")

    def test_shutdown_with_requests_in_flight(self):
        self.d = h.Daemon(self.dir, self.config(["TP"], 2)).start()
        s = self.d.connect()
        try:
            chain = [self.pki.good.b64, self.pki.sub.b64]
            s.sendall("".join(json.dumps({"id": i, "op": "verify", "chain": chain}) + "\n"
                              for i in range(200)).encode())
            rc = self.d.stop()
        finally:
            s.close()
        self.assertEqual(rc, 0, self.d.log_text())

    def test_parse_once(self):
        """A certificate sent again is taken from the parsed-certificate cache, and a changed
        one (same names, another signature) is parsed on its own and still refused. One met
        twice is found by its text from then on, without being decoded; the forged leaf's
        text, a near miss of the good one's, is not. The verdict cache is off: a seen chain
        would not reach the parser at all."""
        self.d = h.Daemon(self.dir, self.config(["TP"], 2, "verdict-cache entries 0")).start()
        good = [self.pki.good.b64, self.pki.sub.b64]
        forged = [bad_signature_b64(self.pki.good), self.pki.sub.b64]

        def status():
            return self.d.call({"id": "s", "op": "status"})["status"]["parsed_certificates"]

        def verdict(chain):
            req = {"id": 1, "op": "verify", "chain": chain, "trustpoint": "TP"}
            return self.d.call(req)["verdict"]

        before = status()
        self.assertEqual(verdict(good)["decision"], "ACCEPT")
        first = status()
        self.assertEqual(first["misses"] - before["misses"], 2)
        self.assertEqual(verdict(good)["decision"], "ACCEPT")
        second = status()
        self.assertEqual(second["hits"] - first["hits"], 2)
        self.assertEqual(second["misses"], first["misses"])
        self.assertEqual(second["text_hits"], first["text_hits"])
        v = verdict(forged)
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "bad-signature"))
        third = status()
        self.assertEqual(third["misses"] - second["misses"], 1)  # the forged leaf
        self.assertEqual(third["hits"], second["hits"])
        self.assertEqual(third["text_hits"] - second["text_hits"], 1)  # the intermediate
        self.assertEqual(third["kept"], 3)
        self.assertEqual(verdict(good)["decision"], "ACCEPT")
        fourth = status()
        self.assertEqual(fourth["text_hits"] - third["text_hits"], 2)
        self.assertEqual((fourth["hits"], fourth["misses"]), (third["hits"], third["misses"]))
        v = verdict(forged)  # met twice now: found by its text, and still refused
        self.assertEqual((v["decision"], v["reason"]), ("REJECT", "bad-signature"))

    def test_workers_out_of_range(self):
        self.d = h.Daemon(self.dir, self.config(["TP"], 257))
        with self.assertRaises(RuntimeError) as cm:
            self.d.start()
        self.assertIn("workers", str(cm.exception))
        self.d = None


if __name__ == "__main__":
    unittest.main(verbosity=2)
