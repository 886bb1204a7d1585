"""test_decode.py: request lines read off the event loop (issue 13: certvald hands a
connection's complete lines, in batches, to its worker threads, which parse them, answer seen
chains from the verdict cache and read the requests to evaluate; the loop dispatches them in
order). Checked through the socket:

- many mixed requests pipelined on one connection (verdict-cache hits, evaluations, malformed
  lines, bad requests, unknown operations, ping, administrative operations) are each answered
  exactly once, with the right verdict or error, and the engine's counters count them all;
- a reload pipelined between two requests for the same chain is applied in order: the request
  after it is not served from the verdict of the old configuration;
- the reply to an evaluated chain, rendered on a worker from a copy of its verdict, carries
  what each detail level asks;
- clients that close while their lines are being read never crash the daemon (run many times,
  so that a use-after-free shows under ASan), and the daemon serves on;
- a batch of a few lines has its seen lines answered by the loop itself, up to the first line
  that is not one; lines not seen, voided verdicts and larger batches go to the workers;
- a line that differs from one read before only in its first certificate is read from that
  line's template and decided as any other (good, expired, forged, foreign leaves); near
  misses (an escape, another prefix or suffix) are read in full;
- a new chain's path is validated on the worker that read it, ahead of its dispatch: a reload
  that lands in between (certvald --test-read-delay holds the batch there) has the chain
  decided afresh under the new configuration, whether that withdraws or grants trust.
"""

import base64
import json
import os
import socket
import signal
import struct
import time
import unittest

import certvald_helper as h

ROUNDS = 6  # of the mixed sequence on one connection


def not_a_certificate_b64():
    return base64.b64encode(b"\x30\x03\x02\x01\x05").decode()


class DecodeTest(h.StandardPKITest):

    TMP_PREFIX = "certvald-decode-"

    def setUp(self):
        self.ddir = h.daemon_dir(self.dir)
        self.d = h.Daemon(self.ddir, self.config(["TP"])).start()

    def tearDown(self):
        rc = self.d.stop()
        self.assertEqual(rc, 0, self.d.log_text())

    def config(self, names):
        return h.config_text(os.path.join(self.ddir, "x.sock"),
                             [(n, self.pki.root.cert_path, ["revocation-check none"])
                              for n in names], extra_global="workers 2\n")

    def verify(self, rid, chain, **more):
        req = {"id": rid, "op": "verify", "chain": chain, "trustpoint": "TP",
               "detail": "verdict"}
        req.update(more)
        return req

    def mixed(self):
        """(line, id, check) for one round trip of every kind; check(response) asserts."""
        p = self.pki
        good = [p.good.b64, p.sub.b64]
        expired = [p.expired.b64, p.sub.b64]
        now = int(time.time())
        seq = []

        def verdict(decision, reason, cached=None):
            def check(r):
                self.assertTrue(r["ok"], r)
                self.assertEqual(r["verdict"]["decision"], decision, r)
                self.assertEqual(r["verdict"]["reason"], reason, r)
                if cached is not None:
                    self.assertEqual(r["verdict"]["cached"], cached, r)
            return check

        def error(code, text=None):
            def check(r):
                self.assertFalse(r["ok"], r)
                self.assertEqual(r["error"]["code"], code, r)
                if text is not None:
                    self.assertIn(text, r["error"]["message"], r)
            return check

        def ok(key):
            def check(r):
                self.assertTrue(r["ok"], r)
                self.assertIn(key, r)
            return check

        def add(obj, check):
            seq.append((json.dumps(obj), obj["id"], check))

        for i in range(ROUNDS):
            t = "r%d-" % i
            add(self.verify(t + "hit-good", good), verdict("ACCEPT", None, True))
            add(self.verify(t + "hit-expired", expired), verdict("REJECT", "expired", True))
            # "at": never cached, so always evaluated (the request read on a worker)
            add(self.verify(t + "new-good", good, at=now), verdict("ACCEPT", None, False))
            add(self.verify(t + "new-foreign", [p.foreign.b64], at=now),
                verdict("REJECT", "untrusted-issuer", False))
            add(self.verify(t + "malformed-cert", [not_a_certificate_b64(), p.sub.b64]),
                verdict("REJECT", "chain-invalid"))
            add(self.verify(t + "bad-base64", ["%%%"]),
                error("bad-request", "\"chain\"[0] is not base64"))
            add(self.verify(t + "bad-detail", good, detail="all"),
                error("bad-request", "\"detail\""))
            add({"id": t + "ping", "op": "ping"}, ok("pong"))
            add({"id": t + "stats", "op": "stats"}, ok("stats"))
            add({"id": t + "unknown", "op": "frobnicate"}, error("unknown-op"))
            seq.append(("{not json", None, error("bad-request", "malformed JSON")))
            seq.append(("", None, None))  # an empty line: no answer
        return seq

    def warm(self):
        """The two chains the sequence expects as hits, decided once."""
        for chain in ([self.pki.good.b64, self.pki.sub.b64],
                      [self.pki.expired.b64, self.pki.sub.b64]):
            r = self.d.call(self.verify("warm", chain))
            self.assertTrue(r["ok"], r)

    def stats(self):
        return self.d.call({"id": "st", "op": "stats"})["stats"]

    def status(self):
        return self.d.call({"id": "st", "op": "status"})["status"]

    def test_mixed_pipeline_answered_once(self):
        self.warm()
        before = self.stats()
        seq = self.mixed()
        answered = [x for x in seq if x[2] is not None]
        s = self.d.connect(60)
        try:
            s.sendall("".join(line + "\n" for line, _, _ in seq).encode())
            resps = h.read_responses(s, len(answered))
            s.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                if s.recv(1) == b"":
                    raise socket.timeout()
        finally:
            s.close()
        by_id = {}
        nulls = []
        for r in resps:
            if r["id"] is None:
                nulls.append(r)
                continue
            self.assertNotIn(r["id"], by_id, "answered twice: %r" % r["id"])
            by_id[r["id"]] = r
        for line, rid, check in answered:
            if rid is not None:
                check(by_id.pop(rid))
        self.assertEqual(by_id, {})
        self.assertEqual(len(nulls), ROUNDS)
        for r in nulls:
            self.assertEqual(r["error"]["code"], "bad-request", r)
        # The verdicts served on the workers are counted like the others (on the loop).
        after = self.stats()
        eng, eng0 = after["engine"], before["engine"]
        self.assertEqual(eng["requests"] - eng0["requests"], 5 * ROUNDS)
        self.assertEqual(eng["accepted"] - eng0["accepted"], 2 * ROUNDS)
        self.assertEqual(eng["rejected"] - eng0["rejected"], 3 * ROUNDS)
        self.assertEqual(after["verdict_cache"]["hits"] - before["verdict_cache"]["hits"],
                         2 * ROUNDS)

    def test_reload_in_pipeline_applies_in_order(self):
        self.warm()
        good = [self.pki.good.b64, self.pki.sub.b64]
        self.d.write_config(self.config(["TP", "TP2"]))
        lines = [self.verify("before", good), {"id": "reload", "op": "reload"},
                 self.verify("after", good)]
        s = self.d.connect(60)
        try:
            s.sendall("".join(json.dumps(x) + "\n" for x in lines).encode())
            resps = {r["id"]: r for r in h.read_responses(s, 3)}
        finally:
            s.close()
        self.assertTrue(resps["reload"]["ok"], resps["reload"])
        self.assertEqual(resps["before"]["verdict"]["decision"], "ACCEPT")
        self.assertTrue(resps["before"]["verdict"]["cached"])
        # decided afresh under the new configuration, not served from the old one
        self.assertEqual(resps["after"]["verdict"]["decision"], "ACCEPT")
        self.assertFalse(resps["after"]["verdict"]["cached"])

    def test_evaluated_reply_detail_levels(self):
        """An evaluated chain's reply is rendered off the loop from a copy of its verdict:
        each detail level carries what it must, path and trace included."""
        good = [self.pki.good.b64, self.pki.sub.b64]
        now = int(time.time())
        lines = [self.verify(d, good, at=now, detail=d) for d in ("verdict", "evidence", "trace")]
        s = self.d.connect(60)
        try:
            s.sendall("".join(json.dumps(x) + "\n" for x in lines).encode())
            v = {r["id"]: r["verdict"] for r in h.read_responses(s, 3)}
        finally:
            s.close()
        self.assertNotIn("path", v["verdict"])
        self.assertNotIn("trace", v["evidence"])
        for d in ("evidence", "trace"):
            self.assertEqual([e["subject"] for e in v[d]["path"]],
                             [e["subject"] for e in v["trace"]["path"]])
            self.assertEqual(len(v[d]["path"]), 3, v[d])
            self.assertTrue(v[d]["path"][2]["trust_anchor"], v[d])
        self.assertTrue(any("TP" in e["text"] for e in v["trace"]["trace"]), v["trace"])
        self.assertEqual(v["trace"]["trace_dropped"], 0)

    # ---- lines seen before (ipc/seen_lines.h): {"id":N,REST answered without being read ----

    def line(self, rid, chain, **more):
        """A request line as libcertval writes it: compact, the id first."""
        return json.dumps(self.verify(rid, chain, **more), separators=(",", ":"))

    def pipeline(self, lines):
        s = self.d.connect(60)
        try:
            s.sendall("".join(x + "\n" for x in lines).encode())
            return h.read_responses(s, len(lines))
        finally:
            s.close()

    def test_seen_line_answered_with_its_own_id(self):
        """The same bytes after the id are answered from the lines seen before with each
        line's own id; ids outside the form (19 digits, white space, a string) are read in
        full and get the same verdict."""
        self.warm()
        good = [self.pki.good.b64, self.pki.sub.b64]
        before = self.stats()
        hits = self.status()["seen_lines"]["hits"]
        ids = [10, 11, 0, 999999999999999999, 1234567890123456789]
        lines = [self.line(i, good) for i in ids]
        lines.append(json.dumps(self.verify(12, good)))       # '{"id": 12, ...'
        lines.append(self.line("13", good))                   # a string id
        lines.append(self.line(14, good).replace('"id":14', '"id":014'))  # not JSON
        resps = self.pipeline(lines)  # all hits: answered in order
        self.assertEqual([r["id"] for r in resps[:-1]], ids + [12, "13"])
        first = resps[0]["verdict"]
        for r in resps[:-1]:
            self.assertTrue(r["ok"], r)
            self.assertEqual(r["verdict"], first, r)
        self.assertEqual((first["decision"], first["cached"]), ("ACCEPT", True), first)
        self.assertEqual((resps[-1]["ok"], resps[-1]["error"]["code"]), (False, "bad-request"))
        after = self.stats()
        # 10 was read (and remembered), 11, 0 and the 18-digit id were not
        self.assertEqual(self.status()["seen_lines"]["hits"] - hits, 3)
        self.assertEqual(after["engine"]["requests"] - before["engine"]["requests"], 7)
        self.assertEqual(after["verdict_cache"]["hits"] - before["verdict_cache"]["hits"], 7)

    def on_loop(self):
        return self.status()["seen_lines"]["on_loop"]

    def test_seen_lines_answered_on_the_loop(self):
        """A batch of a few lines (decode.h, CV_DECODE_LOOP_MAX) has its seen lines answered
        by the loop, with the verdict a worker gives; a line not seen before, a line after
        it in the same batch and a seen line whose cached verdict a reload voided go to the
        workers, and every line is decided right."""
        p = self.pki
        good = [p.good.b64, p.sub.b64]
        expired = [p.expired.b64, p.sub.b64]
        first = self.pipeline([self.line(1, good)])[0]  # read in full, then remembered
        self.assertEqual((first["verdict"]["decision"], first["verdict"]["cached"]),
                         ("ACCEPT", False), first)
        self.assertEqual(self.on_loop(), 0)
        again = self.pipeline([self.line(2, good)])[0]
        self.assertEqual(again["id"], 2, again)
        self.assertEqual(dict(again["verdict"], cached=False), first["verdict"], again)
        self.assertTrue(again["verdict"]["cached"], again)
        self.assertEqual(self.on_loop(), 1)
        # the same for a rejection, remembered then answered by the loop
        rej = [self.pipeline([self.line(i, expired)])[0] for i in (3, 4)]
        self.assertEqual([r["verdict"]["decision"] for r in rej], ["REJECT", "REJECT"], rej)
        self.assertEqual([r["verdict"]["reason"] for r in rej], ["expired", "expired"], rej)
        self.assertEqual(self.on_loop(), 2)
        # near miss: another peer name is another line, not seen: a worker decides it
        other = self.pipeline([self.line(5, good, peer_name="other.example")])[0]
        self.assertEqual((other["verdict"]["decision"], other["verdict"]["detail"]),
                         ("REJECT", "hostname"), other)
        self.assertEqual(self.on_loop(), 2)
        # a seen line, an unseen one, a seen one: the loop stops at the unseen line
        mixed = self.pipeline([self.line(6, good), self.line(7, good, peer_name="x.example"),
                               self.line(8, good)])
        by_id = {r["id"]: r["verdict"] for r in mixed}
        self.assertEqual([by_id[i]["decision"] for i in (6, 7, 8)],
                         ["ACCEPT", "REJECT", "ACCEPT"], mixed)
        self.assertIn(self.on_loop(), (3, 4))  # 8 too when it came in a read of its own
        # a reload voids the cached verdicts: the seen line is decided afresh by a worker
        loop_before = self.on_loop()
        r = self.d.call({"id": "rl", "op": "reload"})
        self.assertTrue(r["ok"], r)
        fresh = self.pipeline([self.line(9, good)])[0]
        self.assertEqual((fresh["verdict"]["decision"], fresh["verdict"]["cached"]),
                         ("ACCEPT", False), fresh)
        self.assertEqual(self.on_loop(), loop_before)
        # many seen lines pipelined: answered in order, by the loop or, in reads of more
        # than a few lines, by a worker (how the bytes arrive decides which)
        ids = list(range(20, 60))
        many = self.pipeline([self.line(i, good) for i in ids])
        self.assertEqual([r["id"] for r in many], ids)
        for r in many:
            self.assertEqual((r["verdict"]["decision"], r["verdict"]["cached"]),
                             ("ACCEPT", True), r)

    def test_seen_line_near_misses(self):
        """A line that differs after the id in any byte is another request: a peer name that
        the leaf does not carry, another detail, another chain."""
        self.warm()
        p = self.pki
        good = [p.good.b64, p.sub.b64]
        kinds = [
            (lambda i: self.line(i, good), "ACCEPT"),
            (lambda i: self.line(i, good, peer_name="other.example"), "REJECT"),
            (lambda i: self.line(i, [p.expired.b64, p.sub.b64]), "REJECT"),
            (lambda i: self.line(i, good, detail="evidence"), "ACCEPT"),
        ]
        lines, want = [], []
        for rnd in range(4):  # the first round reads them, the next ones are seen lines
            for k, (make, decision) in enumerate(kinds):
                lines.append(make(100 * rnd + k))
                want.append((100 * rnd + k, decision, k))
        by_id = {r["id"]: r for r in self.pipeline(lines)}  # evaluations answer out of order
        for rid, decision, k in want:
            r = by_id[rid]
            self.assertEqual(r["verdict"]["decision"], decision, r)
            self.assertEqual("path" in r["verdict"], k == 3, r)
            if k == 1:
                self.assertEqual(r["verdict"]["detail"], "hostname", r)

    def test_seen_line_peer_addr_in_the_log(self):
        """A rejection answered from a seen line still writes its log line (SPEC R56), naming
        the peer address the line carries."""
        expired = [self.pki.expired.b64, self.pki.sub.b64]
        lines = [self.line(i, expired, peer_addr="192.0.2.44") for i in range(4)]
        resps = self.pipeline(lines[:1]) + self.pipeline(lines[1:])
        self.assertEqual([r["verdict"]["cached"] for r in resps], [False, True, True, True])
        deadline = time.monotonic() + 10
        while (self.d.log_text().count("Certificate received from 192.0.2.44 is bad") < 4
               and time.monotonic() < deadline):
            time.sleep(0.05)
        self.assertEqual(self.d.log_text().count("Certificate received from 192.0.2.44 is bad"),
                         4, self.d.log_text())

    def test_seen_lines_across_reloads(self):
        """Seen lines pipelined while another connection reloads: every line is answered once
        with its id, a line decoded before a reload and dispatched after it is decided again
        (read on the loop), and the daemon stays up (run under ASan too)."""
        import threading
        good = [self.pki.good.b64, self.pki.sub.b64]
        self.warm()
        stop = threading.Event()

        def reloads():
            while not stop.is_set():
                r = self.d.call({"id": "rl", "op": "reload"})
                self.assertTrue(r["ok"], r)

        t = threading.Thread(target=reloads)
        t.start()
        try:
            for rnd in range(5):
                ids = list(range(rnd * 300, rnd * 300 + 300))
                resps = self.pipeline([self.line(i, good) for i in ids])
                self.assertEqual(sorted(r["id"] for r in resps), ids)
                for r in resps:
                    self.assertEqual(r["verdict"]["decision"], "ACCEPT", r)
        finally:
            stop.set()
            t.join()

    # ---- lines read from a template (ipc/line_templates.h): another first certificate ----

    def template_line(self, rid, leaf, rest=None, detail="verdict"):
        """libcertval's shape with the chain last: {"id":N,...,"chain":["LEAF",...]}."""
        chain = [leaf] + (rest if rest is not None else [self.pki.sub.b64])
        return ('{"id":%d,"op":"verify","trustpoint":"TP","detail":"%s","chain":[%s]}'
                % (rid, detail, ",".join('"%s"' % c for c in chain)))

    def test_template_lines(self):
        """A line that differs from one read before only in its first certificate is read from
        that line's template, and decided as any other: another good leaf accepted; an expired
        leaf, the good leaf with its signature broken (a near miss of its text) and a leaf of
        another CA refused. Near misses are read in full and decided the same: the leaf's text
        with an escape, another detail (the prefix differs), another certificate after the
        leaf (the suffix differs); the line with another detail leaves a template of its own."""
        p = self.pki
        second = p.leaf("second.example", p.sub, dns=["second.example"])
        forged = base64.b64decode(p.good.b64)
        forged = base64.b64encode(forged[:-1] + bytes([forged[-1] ^ 1])).decode()

        def counts():
            return self.status()["line_templates"]

        def decide(lines):
            by_id = {r["id"]: r["verdict"] for r in self.pipeline(lines)}
            return [(by_id[i]["decision"], by_id[i]["reason"]) for i in sorted(by_id)]

        start = counts()
        self.assertEqual(decide([self.template_line(1, p.good.b64)]), [("ACCEPT", None)])
        self.assertEqual(counts()["kept"] - start["kept"], 1)
        self.assertEqual(counts()["hits"], start["hits"])
        read = decide([self.template_line(2, second.b64), self.template_line(3, p.expired.b64),
                       self.template_line(4, forged), self.template_line(5, p.foreign.b64)])
        self.assertEqual(read[:3], [("ACCEPT", None), ("REJECT", "expired"),
                                    ("REJECT", "bad-signature")])
        self.assertEqual(read[3][0], "REJECT")
        self.assertEqual(counts()["hits"] - start["hits"], 4)
        escaped = "\\u%04x%s" % (ord(second.b64[0]), second.b64[1:])
        near = decide([self.template_line(6, escaped),
                       self.template_line(7, second.b64, detail="evidence"),
                       self.template_line(8, second.b64, [p.sub.b64, p.root.b64])])
        self.assertEqual(near, [("ACCEPT", None)] * 3)
        self.assertEqual(counts()["hits"] - start["hits"], 4)  # none of them from a template
        # the line with another detail left its own template: the forged leaf is read from it
        self.assertEqual(decide([self.template_line(9, forged, detail="evidence")]),
                         [("REJECT", "bad-signature")])
        self.assertEqual(counts()["hits"] - start["hits"], 5)

    def test_close_while_decoding(self):
        self.warm()
        p = self.pki
        lines = []
        for i in range(200):  # a few batches: replies fail once the client is gone
            chain = [p.good.b64, p.sub.b64] if i % 2 else [p.foreign.b64]
            extra = {"at": int(time.time())} if i % 4 == 1 else {}
            lines.append(json.dumps(self.verify(i, chain, **extra)))
        payload = ("\n".join(lines) + "\n").encode()
        for i in range(150):
            s = self.d.connect(10)
            s.sendall(payload[: len(payload) - (i % 3) * 7])  # some end mid-line
            if i % 2:  # reset rather than an orderly shutdown
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        r = self.d.call(self.verify("after", [p.good.b64, p.sub.b64]))
        self.assertEqual(r["verdict"]["decision"], "ACCEPT", r)
        self.assertIsNotNone(self.d.proc)
        self.assertIsNone(self.d.proc.poll(), self.d.log_text())


class AheadTest(h.StandardPKITest):
    """Stage 1 run where the request was read, then a reload before the loop dispatches it."""

    DELAY_MS = 1500  # the batch waits on its worker this long after it was read

    TMP_PREFIX = "certvald-ahead-"

    def setUp(self):
        self.ddir = h.daemon_dir(self.dir)
        self.d = None

    def tearDown(self):
        if self.d is not None:
            rc = self.d.stop()
            self.assertEqual(rc, 0, self.d.log_text())

    def config(self, anchor):
        return h.config_text(os.path.join(self.ddir, "x.sock"),
                             [("TP", anchor.cert_path, ["revocation-check none"])],
                             extra_global="workers 2\n")

    def start(self, anchor):
        self.d = h.Daemon(self.ddir, self.config(anchor),
                          args=("--test-read-delay", str(self.DELAY_MS))).start()

    def verdict_across(self, anchor):
        """The good chain's verdict when a reload to a TP anchored at anchor (None: no
        reload) lands while the request waits on its worker, already validated there."""
        # "at": never served from the verdict cache, so each request is validated ahead
        req = {"id": "x", "op": "verify", "chain": [self.pki.good.b64, self.pki.sub.b64],
               "trustpoint": "TP", "detail": "trace", "at": int(time.time())}
        requests0 = self.d.call({"id": "s", "op": "stats"})["stats"]["engine"]["requests"]
        s = self.d.connect(30)
        try:
            s.sendall((json.dumps(req) + "\n").encode())
            time.sleep(self.DELAY_MS / 4000.0)
            if anchor is not None:
                self.d.write_config(self.config(anchor))
                self.d.signal(signal.SIGHUP)
            r = h.read_responses(s, 1)[0]
        finally:
            s.close()
        self.assertTrue(r["ok"], r)
        stats = self.d.call({"id": "s", "op": "stats"})["stats"]["engine"]
        self.assertEqual(stats["requests"] - requests0, 1, stats)
        return r["verdict"]

    def reloads(self):
        return self.d.log_text().count("configuration reloaded")

    def test_reload_withdraws_trust(self):
        self.start(self.pki.root)
        v = self.verdict_across(None)  # the near miss: nothing in between
        self.assertEqual(v["decision"], "ACCEPT", v)
        v = self.verdict_across(self.pki.other_root)
        self.assertEqual(self.reloads(), 1, self.d.log_text())
        self.assertEqual(v["decision"], "REJECT", v)
        self.assertEqual(v["reason"], "untrusted-issuer", v)

    def test_reload_grants_trust(self):
        self.start(self.pki.other_root)
        v = self.verdict_across(None)
        self.assertEqual(v["decision"], "REJECT", v)
        v = self.verdict_across(self.pki.root)
        self.assertEqual(self.reloads(), 1, self.d.log_text())
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertEqual(len(v["path"]), 3, v)


if __name__ == "__main__":
    unittest.main(verbosity=2)
