"""test_daemon.py: certvald over its socket: verdicts, framing, errors, peers, reload, shutdown."""

import base64
import json
import os
import signal
import socket
import subprocess
import time
import unittest

import certvald_helper as h
from certvald_helper import testpki

NOBODY = (65534, 65534)       # a member of nogroup, the configured admin-group
OUTSIDER = (4321, 4321)       # no passwd entry, no group
NOBODY_OTHER_GID = (65534, 4321)  # nogroup only through nobody's passwd entry


def verify_req(rid, certs, **fields):
    req = {"id": rid, "op": "verify", "chain": [c.b64 for c in certs], "trustpoint": "TP"}
    req.update(fields)
    return req


class DaemonTest(h.StandardPKITest):
    """One daemon shared by the tests that do not change its configuration."""

    TMP_PREFIX = "certvald-test-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cfg = h.config_text(os.path.join(cls.dir, "unused.sock"),
                            [("TP", cls.pki.root.cert_path, ["revocation-check none"]),
                             ("OTHER", cls.pki.other_root.cert_path, ["revocation-check none"])])
        cls.d = h.Daemon(cls.dir, cfg).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        sock_left = os.path.exists(cls.d.sock)
        super().tearDownClass()
        if rc != 0:
            raise AssertionError("certvald exit status %r:\n%s" % (rc, log))
        if sock_left:
            raise AssertionError("socket file left behind")

    def tearDown(self):
        # After every case, the daemon still answers.
        resp = self.d.call({"id": "after", "op": "ping"})
        self.assertTrue(resp["ok"], resp)

    def good(self):
        return [self.pki.good, self.pki.sub]

    # ---- verdicts ----

    def test_verify_accept(self):
        resp = self.d.call(verify_req("a1", self.good()))
        self.assertEqual(resp["id"], "a1")
        self.assertTrue(resp["ok"], resp)
        v = resp["verdict"]
        self.assertEqual(v["decision"], "ACCEPT")
        self.assertIsNone(v["reason"])
        self.assertEqual(v["trustpoint"], "TP")
        self.assertEqual(v["revocation"], "unchecked-none")
        self.assertEqual(len(v["path"]), 3)
        self.assertEqual(v["path"][0]["subject"], self.pki.good.subject)
        self.assertTrue(v["path"][2]["trust_anchor"])
        self.assertRegex(v["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        for key in ("detail", "message", "cert_index", "cert_subject", "map", "failed_open",
                    "expiry_overridden", "profile", "relaxations", "aaa_username",
                    "evidence", "trace", "trace_dropped"):
            self.assertIn(key, v)
        self.assertTrue(any("TP" in e["text"] for e in v["trace"]))

    def test_verify_reject_expired(self):
        resp = self.d.call(verify_req(7, [self.pki.expired, self.pki.sub]))
        self.assertEqual(resp["id"], 7)
        v = resp["verdict"]
        self.assertEqual(v["decision"], "REJECT")
        self.assertEqual(v["reason"], "expired")
        self.assertEqual(v["cert_index"], 0)
        self.assertEqual(v["cert_subject"], self.pki.expired.subject)

    def test_verify_untrusted_and_fields(self):
        resp = self.d.call(verify_req("f", [self.pki.foreign]))
        self.assertEqual(resp["verdict"]["decision"], "REJECT")
        resp = self.d.call(verify_req("g", [self.pki.foreign], trustpoint=None,
                                      trustpoints=["TP", "OTHER"], purpose="server",
                                      peer_name="foreign.example", peer_addr="192.0.2.1",
                                      application="vpn"))
        self.assertFalse(resp["ok"])  # "trustpoint": null is a field of the wrong type
        req = verify_req("g", [self.pki.foreign], trustpoints=["TP", "OTHER"],
                         purpose="server", peer_name="foreign.example",
                         peer_addr="192.0.2.1", application="vpn")
        del req["trustpoint"]
        resp = self.d.call(req)
        self.assertTrue(resp["ok"], resp)
        self.assertEqual(resp["verdict"]["decision"], "ACCEPT")
        self.assertEqual(resp["verdict"]["trustpoint"], "OTHER")

    def test_verify_at_time(self):
        past = int(time.time()) - 20 * 86400  # the expired leaf was valid then
        resp = self.d.call(verify_req(1, [self.pki.expired, self.pki.sub], at=past))
        self.assertEqual(resp["verdict"]["decision"], "ACCEPT", resp)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(past))
        resp = self.d.call(verify_req(2, [self.pki.expired, self.pki.sub], at=iso))
        self.assertEqual(resp["verdict"]["decision"], "ACCEPT", resp)
        self.assertEqual(resp["verdict"]["at"], iso)

    def test_clock_moves_engine_time(self):
        resp = self.d.call({"id": 1, "op": "clock", "offset": 800 * 86400})
        self.assertTrue(resp["ok"], resp)
        try:
            resp = self.d.call(verify_req(2, self.good()))
            self.assertEqual(resp["verdict"]["reason"], "expired")
        finally:
            self.assertTrue(self.d.call({"id": 3, "op": "clock", "offset": 0})["ok"])
        self.assertEqual(self.d.call(verify_req(4, self.good()))["verdict"]["decision"],
                         "ACCEPT")

    # ---- many requests ----

    def test_pipelined_100(self):
        reqs = []
        for i in range(100):
            certs = self.good() if i % 3 else [self.pki.expired, self.pki.sub]
            rid = "p%d" % i if i % 2 else i
            reqs.append(verify_req(rid, certs))
        with self.d.connect() as s:
            s.sendall("".join(json.dumps(r) + "\n" for r in reqs).encode())
            resps = h.read_responses(s, 100)
        by_id = {json.dumps(r["id"]): r for r in resps}
        self.assertEqual(len(by_id), 100)
        for i, req in enumerate(reqs):
            r = by_id[json.dumps(req["id"])]
            want = "ACCEPT" if i % 3 else "REJECT"
            self.assertEqual(r["verdict"]["decision"], want, (i, r))

    def test_50_connections(self):
        socks = [self.d.connect() for _ in range(50)]
        try:
            for i, s in enumerate(socks):
                s.sendall((json.dumps(verify_req(i, self.good())) + "\n").encode())
            status = self.d.call({"id": "st", "op": "status"})["status"]
            self.assertGreaterEqual(status["connections"], 51)
            for i, s in enumerate(socks):
                r = h.read_responses(s, 1)[0]
                self.assertEqual(r["id"], i)
                self.assertEqual(r["verdict"]["decision"], "ACCEPT")
        finally:
            for s in socks:
                s.close()

    # ---- malformed requests ----

    def raw(self, line):
        with self.d.connect() as s:
            s.sendall(line)
            return h.read_responses(s, 1)[0]

    def assert_error(self, resp, code, rid=None):
        self.assertFalse(resp["ok"], resp)
        self.assertEqual(resp["error"]["code"], code, resp)
        self.assertTrue(resp["error"]["message"])
        self.assertEqual(resp["id"], rid)
        self.assertNotIn("verdict", resp)

    def test_malformed_json(self):
        self.assert_error(self.raw(b'{"id": 1, "op": "ping"\n'), "bad-request")
        self.assert_error(self.raw(b"\x00\xff\xfe garbage\n"), "bad-request")

    def test_json_not_an_object(self):
        for line in (b"[1,2]\n", b'"ping"\n', b"3\n", b"null\n"):
            self.assert_error(self.raw(line), "bad-request")

    def test_bad_ids(self):
        self.assert_error(self.raw(b'{"op":"ping"}\n'), "bad-request")
        self.assert_error(self.raw(b'{"id":[1],"op":"ping"}\n'), "bad-request")
        self.assert_error(self.raw(b'{"id":{"a":1},"op":"ping"}\n'), "bad-request")
        resp = self.raw(b'{"id":2.5,"op":"ping"}\n')
        self.assertEqual(resp["id"], 2.5)
        self.assertTrue(resp["ok"])

    def test_unknown_op(self):
        self.assert_error(self.raw(b'{"id":"u","op":"launch"}\n'), "unknown-op", "u")
        self.assert_error(self.raw(b'{"id":"u","op":5}\n'), "bad-request", "u")

    def test_bad_chains(self):
        cert = self.pki.good.b64
        cases = [
            {"id": 1, "op": "verify"},
            {"id": 1, "op": "verify", "chain": []},
            {"id": 1, "op": "verify", "chain": cert},
            {"id": 1, "op": "verify", "chain": [cert] * 17},
            {"id": 1, "op": "verify", "chain": [42]},
            {"id": 1, "op": "verify", "chain": ["!!!not base64!!!"]},
            {"id": 1, "op": "verify", "chain": [cert[:-3]]},
            {"id": 1, "op": "verify", "chain": [cert, "!!!"]},
            {"id": 1, "op": "verify", "chain": ["aGVsbG8gd29ybGQ=", 42]},
            {"id": 1, "op": "verify", "chain": [cert], "extra": "x"},
            {"id": 1, "op": "verify", "chain": [cert], "at": "yesterday"},
            {"id": 1, "op": "verify", "chain": [cert], "at": True},
            {"id": 1, "op": "verify", "chain": [cert], "purpose": "email"},
            {"id": 1, "op": "verify", "chain": [cert], "trustpoint": "TP",
             "trustpoints": ["TP"]},
            {"id": 1, "op": "verify", "chain": [cert], "trustpoints": ["x"] * 9},
            {"id": 1, "op": "verify", "chain": [cert], "trustpoint": "T" * 64},
            {"id": 1, "op": "verify", "chain": [cert], "peer_name": "h" * 300},
            {"id": 1, "op": "verify", "chain": [cert], "trustpiont": "TP"},
        ]
        for req in cases:
            with self.subTest(req=str(req)[:120]):
                self.assert_error(self.d.call(req), "bad-request", 1)

    def test_malformed_certificate_is_a_verdict(self):
        """Issue 11 class 10: valid base64 that is no certificate is the peer's fault, not a
        protocol error: a REJECT verdict with the position (it was bad-request)."""
        bad_leaf = base64.b64encode(testpki.truncated_der(self.pki.good)).decode()
        bad_sub = base64.b64encode(testpki.truncated_der(self.pki.sub)).decode()
        hello = base64.b64encode(b"hello world").decode()
        cases = [
            ({"chain": [bad_leaf, self.pki.sub.b64]}, 0),
            ({"chain": [hello]}, 0),
            ({"chain": [self.pki.good.b64, bad_sub]}, 1),
            ({"chain": [self.pki.good.b64, hello, self.pki.sub.b64]}, 1),
            ({"chain": [self.pki.good.b64], "extra": [self.pki.sub.b64, bad_sub]}, -1),
        ]
        for fields, index in cases:
            with self.subTest(index=index, fields=str(fields)[:80]):
                req = {"id": "m", "op": "verify", "trustpoint": "TP"}
                req.update(fields)
                resp = self.d.call(req)
                self.assertTrue(resp["ok"], resp)
                v = resp["verdict"]
                self.assertEqual(v["decision"], "REJECT")
                self.assertEqual(v["reason"], "chain-invalid")
                self.assertEqual(v["detail"], "malformed-certificate")
                self.assertEqual(v["cert_index"], index)
                self.assertIsNone(v["trustpoint"])
        # near miss: the same chains intact are accepted
        resp = self.d.call(verify_req("ok", self.good(), extra=[self.pki.sub.b64]))
        self.assertEqual(resp["verdict"]["decision"], "ACCEPT", resp)
        status = self.d.call({"id": "s", "op": "status"})["status"]
        self.assertGreaterEqual(status["stats"]["by_reason"].get("chain-invalid", 0), 5)

    def test_verdict_profile_and_relaxations(self):
        v = self.d.call(verify_req("p", self.good()))["verdict"]
        self.assertEqual(v["decision"], "ACCEPT")
        self.assertEqual(v["profile"], "rfc5280")
        self.assertEqual(v["relaxations"], [])
        v = self.d.call(verify_req("q", [self.pki.foreign]))["verdict"]
        self.assertEqual(v["decision"], "REJECT")
        self.assertEqual(v["profile"], "rfc5280")  # the profile the failure happened under
        self.assertEqual(v["relaxations"], [])

    def test_oversized_line(self):
        big = json.dumps({"id": 1, "op": "ping", "pad": "x" * 20000}).encode() + b"\n"
        with self.d.connect() as s:
            s.sendall(big)
            data = h.recv_all(s)  # the daemon answers, then closes
        lines = data.splitlines()
        self.assertEqual(len(lines), 1)
        self.assert_error(json.loads(lines[0]), "too-large")

    def test_oversized_unterminated(self):
        with self.d.connect() as s:
            s.sendall(b"{" + b" " * 17000)
            data = h.recv_all(s)
        self.assert_error(json.loads(data.splitlines()[0]), "too-large")

    def test_requests_after_error_on_same_connection(self):
        with self.d.connect() as s:
            s.sendall(b'nonsense\n{"id":"x","op":"ping"}\n')
            a, b = h.read_responses(s, 2)
        self.assertEqual(a["error"]["code"], "bad-request")
        self.assertTrue(b["ok"])
        self.assertEqual(b["id"], "x")

    # ---- peers that go away ----

    def test_disconnect_mid_request(self):
        for _ in range(20):
            s = self.d.connect()
            s.sendall((json.dumps(verify_req(1, self.good())) + "\n").encode())
            s.close()
        s = self.d.connect()
        s.sendall(b'{"id":1,"op":"verify","chain":["')  # half a request
        s.close()

    def test_half_close_still_answered(self):
        with self.d.connect() as s:
            s.sendall(b'{"id":"h","op":"ping"}\n')
            s.shutdown(socket.SHUT_WR)
            data = h.recv_all(s)
        self.assertEqual(json.loads(data)["id"], "h")

    # ---- administrative operations and peer credentials ----

    def test_status_as_root(self):
        resp = self.d.call({"id": 1, "op": "status"})
        self.assertTrue(resp["ok"], resp)
        st = resp["status"]
        self.assertEqual(st["config"], self.d.conf)
        self.assertEqual(sorted(st["trustpoints"]), ["OTHER", "TP"])
        self.assertGreaterEqual(st["connections"], 1)
        for key in ("requests", "accepted", "rejected", "failed_open", "by_reason"):
            self.assertIn(key, st["stats"])
        self.assertIn("expired", st["stats"]["by_reason"])
        self.assertIsInstance(st["uptime"], int)
        self.assertTrue(st["version"])

    def test_non_admin_forbidden(self):
        for op in ("status", "reload"):
            r = self.d.ctl(op, user=OUTSIDER)
            self.assertEqual(r.returncode, 3, r)
            self.assertIn("forbidden", r.stderr)
        r = self.d.ctl("ping", user=OUTSIDER)
        self.assertEqual(r.returncode, 0, r)
        chain = self.pki.chain_file("outsider", self.good())
        r = self.d.ctl("verify", "--trustpoint", "TP", chain, user=OUTSIDER)
        self.assertEqual(r.returncode, 0, r)

    def test_admin_group_member_allowed(self):
        r = self.d.ctl("status", "--json", user=NOBODY)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("TP", json.loads(r.stdout)["trustpoints"])
        r = self.d.ctl("status", user=NOBODY_OTHER_GID)
        self.assertEqual(r.returncode, 0, r)


class AnchorsDaemonTest(unittest.TestCase):
    """Issue 11 classes 1 and 4 through the daemon: the trust anchor's constraints (a root, and
    a subordinate CA configured as trustpoint with chain-validation stop) and the relaxation
    allow-cn-fallback of a trustpoint, named in the verdict when relied on."""

    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certvald-anchors-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        cls.nc_root = pki.ca("NC Root", extra=['nc_permit_dns = "example.com"'])
        cls.nc_in = pki.leaf("in", cls.nc_root, dns=["www.example.com"])
        cls.nc_out = pki.leaf("out", cls.nc_root, dns=["www.example.org"])
        cls.root = pki.ca("Plain Root")
        cls.client_sub = pki.ca("Client Sub", issuer=cls.root, extra=["tls_www_client"])
        cls.sub_leaf = pki.leaf("peer.example", cls.client_sub, dns=["peer.example"])
        cls.no_san = pki.leaf("host.example.com", cls.root)
        none = "revocation-check none"
        cfg = h.config_text(os.path.join(cls.dir, "unused.sock"), [
            ("NC", cls.nc_root.cert_path, [none]),
            ("SUB", cls.client_sub.cert_path, [none, "chain-validation stop"]),
            ("PLAIN", cls.root.cert_path, [none]),
            ("CNFB", cls.root.cert_path, [none, "allow-cn-fallback"])])
        cls.d = h.Daemon(cls.dir, cfg).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        log = cls.d.log_text()
        h.cleanup(cls.dir)
        if rc != 0:
            raise AssertionError("certvald exit status %r:\n%s" % (rc, log))

    def verify(self, tp, certs, **fields):
        resp = self.d.call(verify_req(1, certs, trustpoint=tp, **fields))
        self.assertTrue(resp["ok"], resp)
        return resp["verdict"]

    def test_anchor_name_constraints(self):
        v = self.verify("NC", [self.nc_in], purpose="server", peer_name="www.example.com")
        self.assertEqual(v["decision"], "ACCEPT", v)
        v = self.verify("NC", [self.nc_out], purpose="server", peer_name="www.example.org")
        self.assertEqual((v["decision"], v["detail"]), ("REJECT", "anchor-name-constraints"), v)
        self.assertIn("NC Root", v["message"])

    def test_subordinate_anchor_eku(self):
        v = self.verify("SUB", [self.sub_leaf], purpose="client")
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertTrue(v["path"][-1]["trust_anchor"])
        v = self.verify("SUB", [self.sub_leaf], purpose="server", peer_name="peer.example")
        self.assertEqual((v["decision"], v["detail"], v["cert_index"]),
                         ("REJECT", "anchor-eku", 1), v)
        self.assertIn("Client Sub", v["message"])

    def test_cn_fallback_trustpoint(self):
        fields = {"purpose": "server", "peer_name": "host.example.com"}
        v = self.verify("PLAIN", [self.no_san], **fields)
        self.assertEqual((v["decision"], v["detail"]), ("REJECT", "san-missing"), v)
        v = self.verify("CNFB", [self.no_san], **fields)
        self.assertEqual(v["decision"], "ACCEPT", v)
        self.assertEqual(v["relaxations"], ["cn-fallback"])
        v = self.verify("CNFB", [self.no_san], purpose="server", peer_name="other.example.com")
        self.assertEqual((v["decision"], v["detail"]), ("REJECT", "hostname"), v)


class LifecycleTest(unittest.TestCase):
    """Start-up, reload and shutdown, each with its own daemon."""

    def setUp(self):
        self.dir = h.make_tmpdir("certvald-life-")
        self.pki = testpki.standard(os.path.join(self.dir, "pki"))
        self.d = None

    def tearDown(self):
        if self.d is not None and self.d.proc is not None:
            rc = self.d.stop()
            self.assertEqual(rc, 0, self.d.log_text())
        h.cleanup(self.dir)

    def config(self, names):
        return h.config_text(os.path.join(self.dir, "x.sock"),
                             [(n, self.pki.root.cert_path, ["revocation-check none"])
                              for n in names])

    def trustpoints(self):
        return sorted(self.d.call({"id": 1, "op": "status"})["status"]["trustpoints"])

    def verdict(self, tp):
        req = verify_req(1, [self.pki.good, self.pki.sub], trustpoint=tp)
        return self.d.call(req)["verdict"]

    def test_sighup_reload(self):
        self.d = h.Daemon(self.dir, self.config(["TP"])).start()
        self.assertEqual(self.verdict("TP")["decision"], "ACCEPT")
        # A broken configuration: the old one stays.
        self.d.write_config(self.config(["TP"]) + "crypto pki trustpoint\n bogus-command\n")
        self.d.signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(self.trustpoints(), ["TP"])
        self.assertEqual(self.verdict("TP")["decision"], "ACCEPT")
        self.assertIn("reload failed", self.d.log_text())
        # A good new configuration takes effect.
        self.d.write_config(self.config(["TP2"]))
        self.d.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.trustpoints() != ["TP2"] and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.trustpoints(), ["TP2"])
        self.assertEqual(self.verdict("TP2")["decision"], "ACCEPT")
        self.assertEqual(self.verdict("TP")["decision"], "REJECT")

    def test_reload_operation(self):
        self.d = h.Daemon(self.dir, self.config(["TP"])).start()
        self.d.write_config("socket-mode 99999\n")
        resp = self.d.call({"id": 1, "op": "reload"})
        self.assertFalse(resp["ok"])
        self.assertEqual(resp["error"]["code"], "config-error")
        self.assertIn("certvald.conf", resp["error"]["message"])
        self.assertEqual(self.trustpoints(), ["TP"])
        self.d.write_config(self.config(["A", "B"]))
        resp = self.d.call({"id": 2, "op": "reload"})
        self.assertTrue(resp["ok"], resp)
        self.assertEqual(self.trustpoints(), ["A", "B"])

    def test_sigint_and_socket_removed(self):
        self.d = h.Daemon(self.dir, self.config(["TP"])).start()
        sock = self.d.sock
        self.d.signal(signal.SIGINT)
        self.assertEqual(self.d.proc.wait(30), 0, self.d.log_text())
        self.d.proc = None
        self.assertFalse(os.path.exists(sock))

    def test_config_error_exit_2(self):
        self.d = h.Daemon(self.dir, "crypto pki trustpoint X\n ca-certificate /nonexistent\n")
        with self.assertRaises(RuntimeError) as ctx:
            self.d.start()
        self.assertIn("exited with 2", str(ctx.exception))
        self.assertIn("certvald.conf", self.d.log_text())

    def test_stale_socket_replaced_live_refused(self):
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.d = h.Daemon(self.dir, self.config(["TP"]))
        stale.bind(self.d.sock)
        stale.close()  # the file stays, nobody listens
        self.d.start()
        # A second daemon on the same socket refuses to start and leaves the first alone.
        other = os.path.join(self.dir, "other.conf")
        with open(other, "w") as f:
            f.write(self.config(["TP"]))
        r = subprocess.run([h.CERTVALD, "-f", "-c", other, "-s", self.d.sock],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("another daemon", r.stderr)
        self.assertTrue(os.path.exists(self.d.sock))
        self.assertTrue(self.d.call({"id": 1, "op": "ping"})["ok"])

    def test_clock_needs_test_clock(self):
        self.d = h.Daemon(self.dir, self.config(["TP"]), args=()).start()
        resp = self.d.call({"id": 1, "op": "clock", "offset": 5})
        self.assertEqual(resp["error"]["code"], "forbidden")


if __name__ == "__main__":
    unittest.main(verbosity=2)
