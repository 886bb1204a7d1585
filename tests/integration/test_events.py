#!/usr/bin/env python3
"""test_events.py: revocation events pushed to subscribed clients (issue 16), through a real
certvald, an origin CDP (cdp_origin.py), raw socket subscribers, libcertval's watch API (by
way of `certvalctl watch`) and the limits: queue bounds, a subscriber that stops reading,
subscription counts, reconnects.

Absence of an event is checked without waiting: events of one CRL are queued when the CRL is
stored, so a ping sent on the same connection afterwards is answered after any of them.
"""

import base64
import datetime
import json
import os
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as helper  # noqa: E402
import crlkit  # noqa: E402
import testpki  # noqa: E402
from servers import Server, free_port, wait_for  # noqa: E402
from testpki import openssl_index_line  # noqa: E402

SUPPORT = os.path.join(HERE, "..", "support")
DAY = 86400
UTC = datetime.timezone.utc


class Subscriber:
    """A raw socket connection that subscribed; reads lines on demand."""

    def __init__(self, daemon, request, rcvbuf=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(30)
        self.s.connect(daemon.sock)
        self.buf = b""
        self.send(dict(request, op="subscribe", id="sub"))
        self.reply = self.line()

    def send(self, obj):
        self.s.sendall((json.dumps(obj) + "\n").encode())

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("certvald closed the subscription")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def until_pong(self):
        """Every event before the answer to a ping sent now."""
        self.send({"op": "ping", "id": "mark"})
        out = []
        while True:
            o = self.line()
            if o.get("id") == "mark":
                return out
            out.append(o)

    def close(self):
        self.s.close()


class EventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-events-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.origin = Server([os.path.join(SUPPORT, "cdp_origin.py"), "--root", cls.www])
        cls.cdp = "http://127.0.0.1:%d/crl/sub.crl" % cls.origin.port
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("Events Root CA")
        pki.sub = pki.ca("Events Sub CA", issuer=pki.root, pathlen=0)
        pki.alice = pki.leaf("alice.example", pki.sub, crl_url=cls.cdp)
        pki.bob = pki.leaf("bob.example", pki.sub, crl_url=cls.cdp)
        pki.carol = pki.leaf("carol.example", pki.sub, crl_url=cls.cdp)
        cls.number = 0

    @classmethod
    def tearDownClass(cls):
        cls.origin.stop()
        helper.cleanup(cls.dir)

    def setUp(self):
        self.daemon = None
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.close()
        if self.daemon is not None:
            self.assertEqual(self.daemon.stop(), 0, "certvald did not exit cleanly")

    # ---- helpers ----

    def publish(self, revoked=(), extra_serials=0):
        """A new CRL of the sub CA at the CDP revoking the certificates revoked and
        extra_serials made-up serials; returns its CRL number."""
        cls = type(self)
        cls.number += 1
        when = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
        lines = [crlkit.index_line(c.serial, when) for c in revoked]
        lines += [crlkit.index_line(0x7000000 + i, when) for i in range(extra_serials)]
        src = crlkit.make_crl(self.dir, "sub-%d" % cls.number, self.pki.sub, lines,
                              cls.number, DAY)
        crlkit.publish(src, self.www, "sub.crl")
        return cls.number

    def start(self, tps=("SUB",), extra=""):
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(os.path.join(d, "certvald.sock"),
                                  [(tp, self.pki.sub.cert_path, ["revocation-check crl"])
                                   for tp in tps], "fetch retry-after 0" + extra)
        self.daemon = helper.Daemon(d, text).start()

    def verify(self, leaf, tp="SUB"):
        resp = self.daemon.call({"id": 1, "op": "verify", "trustpoint": tp,
                                 "chain": [leaf.b64, self.pki.sub.b64]})
        self.assertTrue(resp.get("ok"), resp)
        return resp["verdict"]

    def subscribe(self, request=None, **kw):
        s = Subscriber(self.daemon, request or {}, **kw)
        self.subs.append(s)
        return s

    def crl_request(self, tp="SUB"):
        r = self.daemon.ctl("crl-request", tp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def serial(self, cert):
        return "%X" % cert.serial

    # ---- tests ----

    def test_revoked_event_after_crl_request(self):
        """A CRL that newly lists a certificate pushes a "revoked" event with the evidence;
        a certificate that the previous CRL already listed is not news."""
        self.publish(revoked=[self.pki.bob])
        self.start()
        self.assertEqual(self.verify(self.pki.alice)["decision"], "ACCEPT")
        s = self.subscribe()
        self.assertTrue(s.reply["ok"], s.reply)
        self.assertEqual(s.reply["subscribed"]["scope"], "all")
        number = self.publish(revoked=[self.pki.bob, self.pki.alice])
        self.crl_request()
        e = s.line()
        self.assertEqual(e["event"], "revoked", e)
        self.assertEqual(e["serial"], self.serial(self.pki.alice))
        self.assertEqual(e["trustpoint"], "SUB")
        self.assertEqual(e["reason"], "keyCompromise")
        self.assertIn("Events Sub CA", e["issuer"])
        self.assertTrue(e["verified"], e)
        self.assertEqual(e["evidence"]["url"], self.cdp)
        self.assertEqual(int(e["evidence"]["crl_number"], 16), number)
        self.assertEqual(s.until_pong(), [])  # nothing about bob
        self.assertEqual(self.verify(self.pki.alice)["decision"], "REJECT")

    def test_crl_file_reload(self):
        """A `crl file` loaded again by a reload pushes the entries its previous version did
        not list, with the file as the evidence."""
        path = os.path.join(self.dir, "file-%d.crl" % time.monotonic_ns())
        crlkit.publish(crlkit.make_crl(self.dir, "file-1", self.pki.sub, [], 1, DAY),
                       self.dir, os.path.basename(path))
        d = helper.daemon_dir(self.dir)
        text = helper.config_text(os.path.join(d, "certvald.sock"), [(
            "SUB", self.pki.sub.cert_path, ["revocation-check crl", "crl file " + path])])
        self.daemon = helper.Daemon(d, text).start()
        s = self.subscribe({"trustpoint": "SUB"})
        self.assertTrue(s.reply["ok"], s.reply)
        when = datetime.datetime.now(UTC) - datetime.timedelta(hours=1)
        crlkit.publish(crlkit.make_crl(self.dir, "file-2", self.pki.sub,
                                       [crlkit.index_line(self.pki.carol.serial, when)], 2,
                                       DAY), self.dir, os.path.basename(path))
        r = self.daemon.ctl("reload")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        e = s.line()
        self.assertEqual((e["event"], e["serial"]), ("revoked", self.serial(self.pki.carol)))
        self.assertEqual(e["evidence"]["source"], "file:" + path)
        self.assertIsNone(e["evidence"]["url"])
        self.assertTrue(e["verified"])

    def test_ocsp_revoked_event(self):
        """A fresh OCSP response that says revoked is pushed (method ocsp); an answer from
        the OCSP cache is not news."""
        port = free_port()
        d = os.path.join(self.dir, "ocsp-%d" % time.monotonic_ns())
        os.makedirs(d)
        pki = testpki.TestPKI(os.path.join(d, "pki"))
        pki.ca_ = pki.ca("Events OCSP CA")
        dave = pki.leaf("dave.example", pki.ca_, ocsp_url="http://127.0.0.1:%d/" % port)
        with open(os.path.join(d, "index.txt"), "w") as f:
            f.write(openssl_index_line(dave, revoked_at=datetime.datetime.now(UTC)
                                       - datetime.timedelta(days=1)))
        ocsp = Server([os.path.join(SUPPORT, "ocsp_responder.py"), "--dir", d, "--index",
                       "index.txt", "--ca", pki.ca_.cert_path, "--rsigner", pki.ca_.cert_path,
                       "--rkey", pki.ca_.key_path, "--port", str(port)])
        try:
            dd = os.path.join(d, "daemon")
            os.makedirs(dd)
            text = helper.config_text(os.path.join(dd, "certvald.sock"), [(
                "OC", pki.ca_.cert_path, ["revocation-check ocsp", "ocsp cache-lifetime 300"])])
            self.daemon = helper.Daemon(dd, text).start()
            mine = self.subscribe({"certificates": [{"certificate": dave.b64}]})
            every = self.subscribe()
            req = {"id": 1, "op": "verify", "trustpoint": "OC", "chain": [dave.b64]}
            v = self.daemon.call(req)["verdict"]
            self.assertEqual((v["decision"], v["reason"]), ("REJECT", "revoked"), v)
            for s in (mine, every):
                e = s.line()
                self.assertEqual((e["event"], e["serial"], e["trustpoint"]),
                                 ("revoked", "%X" % dave.serial, "OC"), e)
                self.assertEqual(e["evidence"]["method"], "ocsp")
                self.assertEqual(e["reason"], "keyCompromise")
            v = self.daemon.call(req)["verdict"]  # from the OCSP cache
            self.assertEqual(v["decision"], "REJECT")
            self.assertEqual(every.until_pong(), [])
        finally:
            ocsp.stop()

    def test_unusable_crl_and_expiring_ca(self):
        """A cached CRL that expires without a replacement, and a trustpoint CA certificate
        entering its expiry notices, are events too; a certificate subscriber hears neither."""
        self.publish()
        self.start()
        self.assertEqual(self.verify(self.pki.alice)["decision"], "ACCEPT")
        every = self.subscribe()
        certs = self.subscribe({"certificates": [{"certificate": self.pki.alice.b64}]})
        os.replace(os.path.join(self.www, "sub.crl"), os.path.join(self.www, "sub.crl.gone"))
        try:
            r = self.daemon.call({"id": 2, "op": "clock", "offset": DAY + 60})
            self.assertTrue(r["ok"], r)
            events = {e["event"]: e for e in every.until_pong()}
            self.assertIn("crl-unusable", events, events)
            self.assertEqual(events["crl-unusable"]["source"], self.cdp)
            self.assertEqual(certs.until_pong(), [])
            not_after = subprocess.run(
                ["openssl", "x509", "-noout", "-enddate", "-in", self.pki.sub.cert_path],
                capture_output=True, text=True, check=True).stdout.split("=", 1)[1].strip()
            end = datetime.datetime.strptime(not_after, "%b %d %H:%M:%S %Y %Z").replace(
                tzinfo=UTC)
            offset = int((end - datetime.datetime.now(UTC)).total_seconds()) - 30 * DAY
            r = self.daemon.call({"id": 3, "op": "clock", "offset": offset})
            self.assertTrue(r["ok"], r)
            expiring = [e for e in every.until_pong() if e["event"] == "ca-expiring"]
            self.assertTrue(expiring)
            self.assertEqual((expiring[0]["trustpoint"], expiring[0]["notice"]),
                             ("SUB", "warning"), expiring)
            self.assertIn("Events Sub CA", expiring[0]["subject"])
        finally:
            os.replace(os.path.join(self.www, "sub.crl.gone"), os.path.join(self.www, "sub.crl"))

    def test_certificate_and_trustpoint_filters(self):
        """A subscriber of certificates hears only of its own (by certificate or by issuer
        and serial); a subscriber of another trustpoint hears nothing."""
        self.publish()
        self.start(tps=("SUB", "OTHER"))
        self.assertEqual(self.verify(self.pki.alice)["decision"], "ACCEPT")
        mine = self.subscribe({"certificates": [{"certificate": self.pki.alice.b64}]})
        self.assertTrue(mine.reply["ok"], mine.reply)
        by_name = self.subscribe({"certificates": [{
            "issuer": "CN=Events Sub CA,O=certval tests", "serial": self.serial(self.pki.carol)}]})
        self.assertTrue(by_name.reply["ok"], by_name.reply)
        other_tp = self.subscribe({"trustpoint": "OTHER"})
        self.assertTrue(other_tp.reply["ok"], other_tp.reply)
        self.publish(revoked=[self.pki.alice, self.pki.bob])
        self.crl_request()
        e = mine.line()
        self.assertEqual((e["event"], e["serial"]), ("revoked", self.serial(self.pki.alice)))
        self.assertEqual(mine.until_pong(), [])
        self.assertEqual(by_name.until_pong(), [])
        self.assertEqual(other_tp.until_pong(), [])
        # carol revoked now: the subscriber by issuer and serial hears of it, once
        self.publish(revoked=[self.pki.alice, self.pki.bob, self.pki.carol])
        self.crl_request()
        e = by_name.line()
        self.assertEqual((e["event"], e["serial"]), ("revoked", self.serial(self.pki.carol)))
        self.assertEqual(mine.until_pong(), [])  # alice was told once already

    def test_subscription_limits(self):
        """Bad requests and the limits: queue size, certificate count, one subscription per
        connection, subscriptions per daemon."""
        self.publish()
        self.start(extra="\nmax-request-bytes 262144")
        for req, what in (({"queue": 0}, "queue"), ({"queue": 100000}, "queue"),
                          ({"trustpoint": "NOPE"}, "trustpoint"),
                          ({"certificates": []}, "certificates"),
                          ({"certificates": [{"issuer": "CN=x", "serial": "zz"}]}, "serial"),
                          ({"certificates": [{"serial": "01"}] * 5000}, "certificates"),
                          ({"trustpoint": "SUB", "certificates": [{"serial": "01"}]},
                           "not both")):
            with self.subTest(req=str(req)[:60]):
                s = self.subscribe(req)
                self.assertFalse(s.reply["ok"], s.reply)
                self.assertEqual(s.reply["error"]["code"], "bad-request")
                self.assertIn(what, s.reply["error"]["message"])
        s = self.subscribe()
        s.send({"op": "subscribe", "id": 2})
        again = s.line()
        self.assertEqual(again["error"]["code"], "bad-request", again)
        for s in self.subs:
            s.close()
        self.subs = []
        for i in range(128):
            self.assertTrue(self.subscribe().reply["ok"], i)
        extra = self.subscribe()
        self.assertEqual(extra.reply["error"]["code"], "forbidden", extra.reply)
        self.subs.pop(0).close()  # a slot frees when its connection goes
        self.assertTrue(wait_for(lambda: self.subscribe().reply["ok"]))

    def test_per_user_limit(self):
        """A user that is not an administrator has at most 16 subscriptions (others keep
        theirs): the 17th is refused with forbidden."""
        self.publish()
        self.start()
        os.chmod(os.path.dirname(self.daemon.sock), 0o755)
        script = (
            "import json, socket, sys\n"
            "conns, answers = [], []\n"
            "for i in range(17):\n"
            "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            "    s.settimeout(20)\n"
            "    s.connect(sys.argv[1])\n"
            "    s.sendall(b'{\"op\":\"subscribe\",\"id\":1}\\n')\n"
            "    buf = b''\n"
            "    while not buf.endswith(b'\\n'):\n"
            "        buf += s.recv(4096)\n"
            "    answers.append(json.loads(buf))\n"
            "    conns.append(s)\n"
            "print(json.dumps([a.get('ok') for a in answers]))\n"
            "print(json.dumps(answers[-1]))\n")
        r = subprocess.run(helper.as_user([helper.SYSTEM_PYTHON, "-c", script,
                                           self.daemon.sock], (4321, 4321)),
                           capture_output=True, text=True, timeout=60, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        oks, last = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(oks, [True] * 16 + [False])
        self.assertEqual(last["error"]["code"], "forbidden", last)
        self.assertIn("uid 4321", last["error"]["message"])
        self.assertTrue(self.subscribe().reply["ok"])  # root is not limited by it

    def test_slow_subscriber_loses_oldest_and_is_told(self):
        """A subscriber that stops reading costs a bounded queue: the oldest events are
        dropped and it is told how many; a subscriber that reads gets every event."""
        self.publish()
        self.start()
        self.assertEqual(self.verify(self.pki.alice)["decision"], "ACCEPT")
        slow = self.subscribe({"queue": 8}, rcvbuf=4096)
        fast = self.subscribe({"queue": 4096})
        n = 3000
        self.publish(extra_serials=n)
        self.crl_request()
        got = 0
        while got < n:
            e = fast.line()
            self.assertEqual(e["event"], "revoked", e)
            got += 1
        self.assertEqual(fast.until_pong(), [])
        # what the kernel and the daemon's output buffer held, then "lost", then the queue
        last = "%X" % (0x7000000 + n - 1)
        events = []
        while not events or events[-1].get("serial") != last:
            events.append(slow.line())
        lost = [e["count"] for e in events if e["event"] == "lost"]
        revoked = [e for e in events if e["event"] == "revoked"]
        self.assertEqual(len(lost), 1, events[:3])
        self.assertGreater(lost[0], 0)
        self.assertEqual(len(revoked) + lost[0], n)
        self.assertEqual(len(revoked[-8:]), 8)  # the queue's 8, the newest
        self.assertEqual(slow.until_pong(), [])
        st = self.daemon.call({"id": 3, "op": "status"})
        self.assertEqual(st["status"]["events"]["subscribers"], 2, st)
        self.assertEqual(st["status"]["events"]["lost"], lost[0], st)

    def test_stale_event_and_watch_reconnects(self):
        """certvalctl watch (libcertval's watch API) prints events, survives a restart of
        the daemon (and says so), and prints a crl-stale event when a refresh fails."""
        self.publish()
        self.start()
        self.assertEqual(self.verify(self.pki.alice)["decision"], "ACCEPT")
        out = os.path.join(self.dir, "watch-%d.out" % time.monotonic_ns())
        with open(out, "w") as f:
            watch = subprocess.Popen([helper.CERTVALCTL, "--socket", self.daemon.sock,
                                      "watch", "--json", "--count", "3"],
                                     stdout=f, stderr=subprocess.DEVNULL)
        try:
            self.assertTrue(wait_for(lambda: self.daemon.call(
                {"id": 1, "op": "status"})["status"]["connections"] >= 2))
            self.publish(revoked=[self.pki.alice])
            self.crl_request()
            self.assertTrue(wait_for(lambda: os.path.getsize(out) > 0))
            rc = self.daemon.stop()
            self.assertEqual(rc, 0)
            self.daemon.start()
            self.assertEqual(self.verify(self.pki.bob)["decision"], "ACCEPT")

            def lines():
                with open(out) as f:
                    return f.read().splitlines()

            self.assertTrue(wait_for(lambda: len(lines()) >= 2, seconds=20), lines())
            down = os.path.join(self.www, "sub.crl.down")
            open(down, "w").close()
            try:
                self.crl_request()
                self.assertEqual(watch.wait(20), 0)
            finally:
                os.unlink(down)
            events = [json.loads(x) for x in lines()]
            self.assertEqual([e["event"] for e in events],
                             ["revoked", "reconnected", "crl-stale"], events)
            self.assertEqual(events[0]["serial"], self.serial(self.pki.alice))
            self.assertIn("503", events[2]["detail"])
        finally:
            if watch.poll() is None:
                watch.kill()
                watch.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
