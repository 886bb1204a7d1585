"""test_tls.py: a real TLS handshake decided by certvald.

examples/tls_server (GnuTLS, libcertval's GnuTLS helper, client certificates required) runs on
a loopback port; gnutls-cli connects with a client certificate. Accepted for a good
certificate; refused for a revoked (CRL), expired, foreign or missing one; refused while the
daemon is down (fail closed); accepted again once it is back.
"""

import os
import select
import shutil
import subprocess
import threading
import time
import unittest

import certvald_helper as h
from certvald_helper import testpki

TLS_SERVER = os.path.join(h.BUILD_DIR, "examples", "tls_server")
GNUTLS_CLI = shutil.which("gnutls-cli")
REPLY = "hello from the certval example server"


class TLSTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certval-tls-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("TLS Root CA")
        pki.server = pki.leaf("localhost", pki.root, dns=["localhost"], ips=["127.0.0.1"],
                              eku=("server",))
        pki.good = pki.leaf("good client", pki.root, eku=("client",))
        pki.revoked = pki.leaf("revoked client", pki.root, eku=("client",))
        pki.expired = pki.leaf("expired client", pki.root, eku=("client",),
                               not_before=testpki.days(-30), not_after=testpki.days(-1))
        pki.other = pki.ca("Other Root CA")
        pki.foreign = pki.leaf("foreign client", pki.other, eku=("client",))
        crl = pki.crl(pki.root, revoked=[pki.revoked])
        cls.config = h.config_text(os.path.join(cls.dir, "unused.sock"),
                                   [("TLS", pki.root.cert_path,
                                     ["revocation-check crl", "crl file %s" % crl])])
        # Does this build's engine reject a certificate on a configured CRL file yet?
        conf = os.path.join(cls.dir, "offline.conf")
        with open(conf, "w") as f:
            f.write(cls.config)
        r = h.run_ctl(["verify", "--offline", "--config", conf, "--trustpoint", "TLS",
                       "--json", pki.revoked.cert_path])
        cls.crl_works = r.returncode == 1 and '"revoked"' in r.stdout

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.dir)

    def setUp(self):
        if GNUTLS_CLI is None:
            self.skipTest("gnutls-cli is not installed (Debian package gnutls-bin)")
        self.d = h.Daemon(self.dir, self.config).start()
        self.server = subprocess.Popen(
            [TLS_SERVER, "--cert", self.pki.server.cert_path, "--key", self.pki.server.key_path,
             "--socket", self.d.sock, "--trustpoint", "TLS", "--timeout", "5000",
             "--port", "0", "-n", "100"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.server_line()
        self.assertTrue(first.startswith("listening on "), first)
        self.port = int(first.split()[2])

    def tearDown(self):
        self.server.terminate()
        _, err = self.server.communicate(timeout=30)
        self.assertEqual(self.server.returncode, 0, err)  # also: no sanitizer report
        rc = self.d.stop()
        self.assertIn(rc, (0, None), self.d.log_text())

    def server_line(self, timeout=30):
        """The next line the example server prints."""
        ready, _, _ = select.select([self.server.stdout], [], [], timeout)
        if not ready:
            self.fail("tls_server printed nothing in %d s" % timeout)
        line = self.server.stdout.readline()
        if not line:
            self.fail("tls_server exited: %s" % self.server.stderr.read())
        return line.strip()

    def connect(self, cert=None):
        """gnutls-cli with cert (a testpki.Cert or None); returns (exit status, output, server
        line)."""
        args = [GNUTLS_CLI, "--x509cafile", self.pki.root.cert_path, "-p", str(self.port),
                "localhost"]
        if cert is not None:
            args += ["--x509certfile", cert.cert_path, "--x509keyfile", cert.key_path]
        # stdin stays open: gnutls-cli then waits for what the server sends (the reply and
        # close_notify, or an alert). With TLS 1.3 the client's handshake ends before the
        # server has checked its certificate, so at EOF it could leave before hearing the
        # verdict.
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        chunks = []
        reader = threading.Thread(target=lambda: chunks.append(p.stdout.read()))
        reader.start()
        try:
            p.wait(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            reader.join()
            p.stdout.close()
            p.stdin.close()
        out = b"".join(chunks).decode(errors="replace")
        return p.returncode, out, self.server_line()

    def assert_accepted(self, cert):
        rc, out, line = self.connect(cert)
        self.assertEqual(rc, 0, out)
        self.assertIn(REPLY, out)
        self.assertEqual(line, "handshake from 127.0.0.1: accepted by trustpoint TLS")

    def assert_refused(self, cert, reason):
        rc, out, line = self.connect(cert)
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn(REPLY, out)
        self.assertTrue(line.startswith("handshake from 127.0.0.1: refused: " + reason), line)
        return out

    def test_good_certificate_accepted(self):
        self.assert_accepted(self.pki.good)
        self.assert_accepted(self.pki.good)  # the helper's connection is reused

    def test_revoked_certificate_refused(self):
        if not self.crl_works:
            self.skipTest("this build does not yet reject a certificate listed on a "
                          "`crl file` CRL (certvalctl verify --offline did not say revoked)")
        out = self.assert_refused(self.pki.revoked, "revoked: ")
        self.assertIn("Certificate is bad", out)  # the alert the server sent
        # The daemon's rejection log line names the peer's address given by the helper.
        self.assertRegex(self.d.log_text(), r"from 127\.0\.0\.1 .*revoked")

    def test_expired_certificate_refused(self):
        self.assert_refused(self.pki.expired, "expired: ")

    def test_foreign_certificate_refused(self):
        self.assert_refused(self.pki.foreign, "untrusted-issuer")

    def test_no_client_certificate_refused(self):
        rc, out, line = self.connect(None)
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn(REPLY, out)
        self.assertIn("refused", line)

    def test_daemon_down_fails_closed(self):
        self.assert_accepted(self.pki.good)
        self.assertEqual(self.d.stop(), 0, self.d.log_text())
        self.assert_refused(self.pki.good, "certvald unavailable: ")
        # Back up: the helper reconnects by itself.
        self.d.start()
        self.assert_accepted(self.pki.good)

    def test_daemon_hung_fails_closed_within_timeout(self):
        self.d.signal(19)  # SIGSTOP: connected, but no answer
        try:
            start = time.monotonic()
            rc, out, line = self.connect(self.pki.good)
            elapsed = time.monotonic() - start
        finally:
            self.d.signal(18)  # SIGCONT
        self.assertIn("refused: certvald unavailable: no reply", line)
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn(REPLY, out)
        self.assertLess(elapsed, 30)
        self.assertGreaterEqual(elapsed, 4.5)  # --timeout 5000


if __name__ == "__main__":
    unittest.main(verbosity=2)
