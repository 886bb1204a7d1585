"""test_client.py: libcertval (certval.h) against a real certvald and against fake daemons.

Real daemon: the blocking and the non-blocking API, several requests in flight, a daemon
restart between calls and one in the middle of requests in flight. Fake daemons (a Python
socket server): one that never answers (timeouts) and ones that answer with garbage, an
enormous line or a look-alike verdict (the connection is dropped with an error, nothing is
ever accepted).
"""

import json
import os
import signal
import socket
import subprocess
import threading
import unittest

import certvald_helper as h
from certvald_helper import testpki

CLIENT_CHECK = os.path.join(h.BUILD_DIR, "tests", "integration", "client_check")


class Driver:
    """client_check in one mode, spoken to line by line."""

    def __init__(self, *args):
        self.p = subprocess.Popen([CLIENT_CHECK] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def expect(self, line):
        got = self.p.stdout.readline()
        if got.strip() != line:
            self.p.kill()
            out, err = self.p.communicate()
            raise AssertionError("expected %r, got %r\n%s%s" % (line, got, out, err))

    def go(self):
        self.p.stdin.write("go\n")
        self.p.stdin.flush()

    def finish(self, timeout=60):
        try:
            out, err = self.p.communicate(timeout=timeout)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        return self.p.returncode, out, err


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.dir = h.make_tmpdir("certval-client-")
        self.pki = testpki.standard(os.path.join(self.dir, "pki"))
        cfg = h.config_text(os.path.join(self.dir, "x.sock"),
                            [("TP", self.pki.root.cert_path, ["revocation-check none"])])
        self.d = h.Daemon(self.dir, cfg).start()

    def tearDown(self):
        rc = self.d.stop()
        self.assertIn(rc, (0, None), self.d.log_text())
        h.cleanup(self.dir)

    def der(self, cert):
        return self.pki.chain_file(cert.name, [cert], der=True)

    def certs(self):
        return [self.der(self.pki.good), self.der(self.pki.sub), self.der(self.pki.expired)]

    def test_blocking_api_and_restart_between_calls(self):
        drv = Driver("sync", self.d.sock, *self.certs())
        drv.expect("phase1 ok")
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.d.start()
        drv.go()
        rc, out, err = drv.finish()
        self.assertEqual(rc, 0, out + err)
        self.assertIn("phase2 ok", out)

    def test_async_api_and_restart_with_requests_in_flight(self):
        drv = Driver("async", self.d.sock, *self.certs())
        drv.expect("phase1 ok")
        # libcertval writes {"id":N,... : a chain asked again is answered without its line
        # being read (ipc/seen_lines.h)
        status = self.d.call({"id": 1, "op": "status"})["status"]
        self.assertGreater(status["seen_lines"]["hits"], 0, status)
        self.d.signal(signal.SIGSTOP)  # connected, but answers nothing
        drv.go()
        drv.expect("submitted")  # three requests in flight
        self.d.proc.kill()  # the daemon dies with them...
        self.d.proc.wait()
        self.d.proc = None
        self.d.start()  # ...and a new one comes up on the same socket
        drv.go()
        rc, out, err = drv.finish()
        self.assertEqual(rc, 0, out + err)
        self.assertIn("phase2 ok", out)


class FakeDaemon:
    """A Unix socket server that answers each request line with reply(request) (bytes or
    None for silence); after_reply 'close' closes the connection after the first reply."""

    def __init__(self, path, reply, close_after=False, raw=False):
        self.path = path
        self.reply = reply
        self.raw = raw  # reply gets the line's bytes rather than its JSON
        self.close_after = close_after
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        self.conns = []
        self.stopping = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    out = self.reply(json.loads(line) if not self.raw else line)
                    if out is not None:
                        c.sendall(out)
                    if self.close_after:
                        c.shutdown(socket.SHUT_RDWR)
                        return
        except OSError:
            return  # the client dropped us (as it should after garbage)

    def stop(self):
        self.stopping = True
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def verdict_line(req, decision, **extra):
    v = {"decision": decision}
    v.update(extra)
    return (json.dumps({"id": req["id"], "ok": True, "verdict": v}) + "\n").encode()


HUGE = 9 << 20  # more than the library's 8 MiB reply limit

# mode: (reply function, close after the first reply, expected "sync=... async=...")
BAD_REPLIES = {
    "not-json": (lambda r: b"this is not JSON\n", False, "sync=protocol async=protocol"),
    "binary": (lambda r: bytes(range(256)) + b"\n", False, "sync=protocol async=protocol"),
    "array": (lambda r: b"[1,2,3]\n", False, "sync=protocol async=protocol"),
    "huge-no-newline": (lambda r: b"x" * HUGE, False, "sync=protocol async=protocol"),
    "huge-accept": (lambda r: verdict_line(r, "ACCEPT", message="x" * HUGE), False,
                    "sync=protocol async=protocol"),
    "no-verdict": (lambda r: (json.dumps({"id": r["id"], "ok": True}) + "\n").encode(), False,
                   "sync=protocol async=protocol"),
    "lowercase-accept": (lambda r: verdict_line(r, "accept"), False,
                         "sync=ok:REJECT async=ok:REJECT"),
    "decision-not-string": (lambda r: verdict_line(r, True), False,
                            "sync=protocol async=protocol"),
    "duplicate-decision": (lambda r: ('{"id":%d,"ok":true,"verdict":{"decision":"REJECT",'
                                      '"decision":"ACCEPT"}}\n' % r["id"]).encode(), False,
                           "sync=protocol async=protocol"),
    "null-id-error": (lambda r: b'{"id":null,"ok":false,"error":{"code":"too-large",'
                                b'"message":"line too long"}}\n', True,
                      "sync=server async=protocol"),
    "wrong-id": (lambda r: verdict_line({"id": r["id"] + 1000}, "ACCEPT"), False,
                 "sync=timeout async=timeout"),
    "close": (lambda r: None, True, "sync=connect async=connect"),
    "error-response": (lambda r: ('{"id":%d,"ok":false,"error":{"code":"internal",'
                                  '"message":"boom"}}\n' % r["id"]).encode(), False,
                       "sync=server async=server"),
}


class FakeDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certval-fake-")
        pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        root = pki.ca("Fake Root")
        cls.leaf = pki.chain_file("leaf", [pki.leaf("leaf.example", root)], der=True)

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.dir)

    def fake(self, name, reply, close_after=False, raw=False):
        path = os.path.join(self.dir, name + ".sock")
        f = FakeDaemon(path, reply, close_after, raw)
        self.addCleanup(os.unlink, path)
        self.addCleanup(f.stop)
        return path

    def test_request_lines_have_the_id_first(self):
        """libcertval frames each request compact with the id first, {"id":N,..., the form
        certvald answers without reading again when the rest of the line repeats."""
        import re
        lines = []

        def record(raw):
            lines.append(raw)
            return verdict_line(json.loads(raw), "REJECT")

        path = self.fake("record", record, raw=True)
        r = subprocess.run([CLIENT_CHECK, "bad", path, self.leaf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertGreaterEqual(len(lines), 2)
        for raw in lines:
            m = re.match(rb'\{"id":(0|[1-9][0-9]{0,17}),"', raw)
            self.assertIsNotNone(m, raw[:80])
            self.assertEqual(json.loads(raw)["id"], int(m.group(1)))
            self.assertEqual(raw, json.dumps(json.loads(raw), separators=(",", ":")).encode())

    def test_timeouts(self):
        path = self.fake("silent", lambda r: None)
        r = subprocess.run([CLIENT_CHECK, "timeout", path, self.leaf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("timeout ok", r.stdout)

    def test_garbage_from_the_socket(self):
        for mode, (reply, close_after, expected) in BAD_REPLIES.items():
            with self.subTest(mode=mode):
                path = self.fake(mode, reply, close_after)
                r = subprocess.run([CLIENT_CHECK, "bad", path, self.leaf],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(r.stdout.strip(), expected, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
