#!/usr/bin/env python3
"""test_clients.py: certvald under load and hostile clients on its socket.

  - max-connections: beyond it a client gets one `busy` line and is disconnected, and a
    place freed is a place taken again;
  - CERTVAL_CLIENTS well-behaved clients (1,000 by default) connected at once, each sending
    CERTVAL_ROUNDS requests one after the other (5 here, 200 in scripts/reliability.sh),
    while 100 clients send half a request and stall, clients disconnect in the middle of a
    reply, clients flood lines longer than max-request-bytes and one client sends without ever
    reading its replies. Every well-behaved client gets every answer, right; the p99 latency of
    their requests is printed; certvald's peak memory (VmHWM) stays under MEMORY_BOUND_MIB (the
    bound README.md states) and its open descriptors under max-connections plus a margin.
"""

import os
import resource
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reliability as rel  # noqa: E402
from reliability import helper  # noqa: E402

CLIENTS = rel.env_int("CERTVAL_CLIENTS", 1000)
ROUNDS = rel.env_int("CERTVAL_ROUNDS", 5)
STALLERS = 100
HANGUPS = 50
FLOODERS = 4
MEMORY_BOUND_MIB = 64  # README.md, "Reliability"; times ASAN_FACTOR in a sanitizer build
ASAN_FACTOR = 8
FD_MARGIN = 64          # listener, fetches, files, log beyond the clients


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need and hard >= need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, need * 2), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        raise unittest.SkipTest("needs %d open files (hard limit %d)" % (need, hard))


class ClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_fd_limit(CLIENTS + STALLERS + HANGUPS + 200)
        cls.dir = helper.make_tmpdir("certval-clients-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = rel.Server([os.path.join(rel.SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cdp = "http://127.0.0.1:%d/file/sub.crl" % cls.httpd.port
        cls.pki = rel.RevPKI(os.path.join(cls.dir, "pki"), cdp)
        rel.serve(cls.www, "sub.crl", cls.pki.crl_der(cls.pki.sub, 100, [cls.pki.revoked]))

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        helper.cleanup(cls.dir)

    def daemon(self, max_connections):
        d = helper.daemon_dir(self.dir)
        text = rel.config(d, self.pki, "max-connections %d" % max_connections)
        return helper.Daemon(d, text, args=()).start()

    def test_connection_limit(self):
        daemon = self.daemon(5)
        try:
            held = [daemon.connect() for _ in range(4)]  # the 5th place: ping in start()
            held.append(daemon.connect())
            time.sleep(0.2)
            extra = daemon.connect(timeout=10)
            line = helper.LineReader(extra).read()
            self.assertEqual(line["error"]["code"], "busy", line)
            self.assertIn("max-connections 5", line["error"]["message"])
            self.assertEqual(extra.recv(1), b"")  # then closed
            extra.close()
            for s in held:  # the held ones still work
                s.sendall(b'{"id":1,"op":"ping"}\n')
                self.assertTrue(helper.LineReader(s).read()["ok"])
            held.pop().close()
            deadline = time.monotonic() + 10
            while True:  # the place freed is taken again (once certvald saw the close)
                r = daemon.call({"id": 2, "op": "ping"})
                if r.get("ok") or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertTrue(r.get("ok"), r)
            for s in held:
                s.close()
            self.assertIn("max-connections 5 reached", daemon.log_text())
        finally:
            self.assertEqual(daemon.stop(), 0, daemon.log_text())

    def test_descriptor_limit(self):
        """Under an open-files limit of 128 and the default max-connections (4096), the
        clients certvald has no descriptor for are refused with `busy` too, not left hanging,
        and certvald neither spins on accept nor floods its log."""
        d = helper.daemon_dir(self.dir)
        daemon = helper.Daemon(d, rel.config(d, self.pki), args=())
        daemon.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
        daemon.start()
        socks, busy = [], 0
        try:
            for _ in range(300):
                s = daemon.connect(timeout=10)
                try:
                    s.sendall(b'{"id":1,"op":"ping"}\n')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused: the busy line waits in the socket
                line = helper.LineReader(s).read()  # an answer or a refusal, never silence
                if line.get("ok"):
                    socks.append(s)
                else:
                    self.assertEqual(line["error"]["code"], "busy", line)
                    busy += 1
                    s.close()
            self.assertGreater(len(socks), 32)
            self.assertGreater(busy, 0)
            served = len(socks)
            for s in socks[:8]:  # places freed: a verify with its download goes through
                s.close()
            socks = socks[8:]
            deadline = time.monotonic() + 10
            while True:
                r = daemon.call(rel.verify_request(self.pki, self.pki.revoked))
                if rel.decision(r) != ("error", "busy") or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(rel.decision(r), ("REJECT", "revoked"))
            with open("/proc/%d/stat" % daemon.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            self.assertLess(cpu_s, 30, "certvald spun")
            self.assertLess(daemon.log_text().count("accept:"), 10)
            print("\nreliability-fdlimit: %d clients served, %d refused with busy, "
                  "certvald CPU %.2f s" % (served, busy, cpu_s))
        finally:
            for s in socks:
                s.close()
            self.assertEqual(daemon.stop(), 0, daemon.log_text()[-2000:])

    def test_descriptors_exhausted_by_http_clients(self):
        """Idle HTTP-front connections take every descriptor (open-files limit 128): a socket
        client then waits in the backlog instead of being accepted, certvald pauses its
        listener rather than spinning on accept, logs it once, and serves the client as soon
        as descriptors come back."""
        from servers import free_port
        port = free_port()
        d = helper.daemon_dir(self.dir)
        daemon = helper.Daemon(d, rel.config(d, self.pki, "http listen 127.0.0.1:%d" % port),
                               args=())
        daemon.preexec = lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
        daemon.start()
        http = []
        try:
            for _ in range(200):
                http.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            time.sleep(1)  # certvald accepts what it can, then runs out
            waiting = daemon.connect(timeout=30)
            waiting.sendall(b'{"id":7,"op":"ping"}\n')
            time.sleep(3)  # a spinning listener would burn these seconds
            with open("/proc/%d/stat" % daemon.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu_s = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for s in http:
                s.close()
            http = []
            r = helper.LineReader(waiting).read()
            waiting.close()
            self.assertTrue(r.get("ok"), r)
            self.assertLess(cpu_s, 1.0, "certvald spun on accept")
            warnings = [x for x in daemon.log_text().splitlines()
                        if "accept:" in x and "debug:" not in x]
            self.assertLess(len(warnings), 5, warnings)
        finally:
            for s in http:
                s.close()
            self.assertEqual(daemon.stop(), 0, daemon.log_text()[-2000:])

    # ---- the load ----

    def good_client(self, daemon, k, barrier, out):
        latencies, errors = [], []
        leaves = [self.pki.good, self.pki.revoked]
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(daemon.sock)  # blocking: waits while the backlog is full
                s.settimeout(120)
                reader = helper.LineReader(s)
                barrier.wait(120)
                for i in range(ROUNDS):
                    leaf = leaves[(k + i) % 2]
                    t0 = time.monotonic()
                    s.sendall((rel.json.dumps(rel.verify_request(self.pki, leaf, i)) + "\n")
                              .encode())
                    r = reader.read()
                    latencies.append(time.monotonic() - t0)
                    want = ("ACCEPT", None) if leaf is self.pki.good else ("REJECT", "revoked")
                    if r.get("id") != i or rel.decision(r) != want:
                        errors.append(r)
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(repr(e))
        out[k] = (latencies, errors)

    def staller(self, daemon, stop):
        with daemon.connect() as s:
            s.sendall(b'{"id":1,"op":"verify","trustpoint":"RO')
            stop.wait()

    def hangup_client(self, daemon, stop):
        """Sends requests, reads a few bytes of the first reply and disconnects; again."""
        n = 0
        while not stop.is_set():
            with daemon.connect() as s:
                req = rel.json.dumps(rel.verify_request(self.pki, self.pki.good, 1)) + "\n"
                s.sendall(req.encode() * 20)
                s.recv(10)
            n += 1
        return n

    def flooder(self, daemon, stop, counts):
        big = b"x" * (64 << 10)
        while not stop.is_set():
            try:
                with daemon.connect(timeout=10) as s:
                    for _ in range(8):
                        s.sendall(big)
                    counts.append(1)
            except OSError:
                counts.append(1)  # closed by certvald with too-large, as it should

    def never_reader(self, daemon, stop, sent):
        s = daemon.connect()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        req = (rel.json.dumps(rel.verify_request(self.pki, self.pki.good, 1)) + "\n").encode()
        s.settimeout(5)
        try:
            while not stop.is_set():
                s.sendall(req * 16)
                sent[0] += 16
        except OSError:
            sent[1] = True  # blocked 5 s (certvald stopped reading it) or disconnected
        s.close()

    def test_load_with_hostile_clients(self):
        max_conn = CLIENTS + STALLERS + HANGUPS + FLOODERS + 50
        daemon = self.daemon(max_conn)
        pid = daemon.proc.pid
        stop = threading.Event()
        flood_counts, never_sent = [], [0, False]
        hostile = [threading.Thread(target=self.staller, args=(daemon, stop))
                   for _ in range(STALLERS)]
        hostile += [threading.Thread(target=self.hangup_client, args=(daemon, stop))
                    for _ in range(HANGUPS // 10)]
        hostile += [threading.Thread(target=self.flooder, args=(daemon, stop, flood_counts))
                    for _ in range(FLOODERS)]
        hostile.append(threading.Thread(target=self.never_reader,
                                        args=(daemon, stop, never_sent)))
        for t in hostile:
            t.daemon = True
            t.start()
        barrier = threading.Barrier(CLIENTS)
        out = {}
        good = [threading.Thread(target=self.good_client, args=(daemon, k, barrier, out))
                for k in range(CLIENTS)]
        t0 = time.monotonic()
        max_fds = 0
        try:
            for t in good:
                t.start()
            while any(t.is_alive() for t in good):
                max_fds = max(max_fds, rel.open_fds(pid))
                time.sleep(0.2)
            elapsed = time.monotonic() - t0
            stop.set()
            for t in hostile:
                t.join(60)
            lat = sorted(x for latencies, _ in out.values() for x in latencies)
            errors = [e for _, errs in out.values() for e in errs]
            self.assertEqual(errors, [], "%d errors, first %s" % (len(errors), errors[:3]))
            self.assertEqual(len(lat), CLIENTS * ROUNDS)
            r = daemon.call(rel.verify_request(self.pki, self.pki.revoked))
            self.assertEqual(rel.decision(r), ("REJECT", "revoked"))
            hwm = rel.vm_hwm_kib(pid) / 1024.0
            p99 = lat[int(len(lat) * 0.99) - 1] * 1000
            print("\nreliability-clients: %d clients x %d requests answered right in %.1f s; "
                  "p50 %.1f ms, p99 %.1f ms; %d stallers, %d oversized-line connections, "
                  "never-reading client sent %d requests (then blocked or cut: %s); VmHWM %.1f MiB; "
                  "peak open fds %d" % (CLIENTS, ROUNDS, elapsed, lat[len(lat) // 2] * 1000,
                                        p99, STALLERS, len(flood_counts), never_sent[0],
                                        never_sent[1], hwm, max_fds))
            bound = MEMORY_BOUND_MIB * (ASAN_FACTOR if rel.sanitized(pid) else 1)
            self.assertLess(hwm, bound, "VmHWM over the stated bound")
            self.assertLess(max_fds, max_conn + FD_MARGIN)
        finally:
            stop.set()
            self.assertEqual(daemon.stop(), 0, daemon.log_text()[-3000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
