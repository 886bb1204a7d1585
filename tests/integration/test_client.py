"""test_client.py: libcertval (certval.h) against a real certvald, including a daemon restart."""

import os
import subprocess
import unittest

import certvald_helper as h
from certvald_helper import testpki

CLIENT_CHECK = os.path.join(h.BUILD_DIR, "tests", "integration", "client_check")


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.dir = h.make_tmpdir("certval-client-")
        self.pki = testpki.standard(os.path.join(self.dir, "pki"))
        cfg = h.config_text(os.path.join(self.dir, "x.sock"),
                            [("TP", self.pki.root.cert_path, ["revocation-check none"])])
        self.d = h.Daemon(self.dir, cfg).start()

    def tearDown(self):
        rc = self.d.stop()
        self.assertEqual(rc, 0, self.d.log_text())
        h.cleanup(self.dir)

    def der(self, cert):
        return self.pki.chain_file(cert.name, [cert], der=True)

    def test_client_library(self):
        p = subprocess.Popen([CLIENT_CHECK, self.d.sock, self.der(self.pki.good),
                              self.der(self.pki.sub), self.der(self.pki.expired)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            first = p.stdout.readline()
            self.assertEqual(first.strip(), "phase1 ok", p.stderr.read() if not first else "")
            self.assertEqual(self.d.stop(), 0, self.d.log_text())
            self.d.start()
            out, err = p.communicate("go\n", timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, out + err)
        self.assertIn("phase2 ok", out)


if __name__ == "__main__":
    unittest.main()
