#!/usr/bin/env python3
"""test_crl_check.py: `certvalctl crl-check` through its real command line, and through it the
engine's RFC 5280 6.3 code (validator/crl/crl_check.c) on CRLs made by certtool and by
`openssl ca -gencrl`: each rule with a CRL that must answer and a near miss that must not.

Every time is given explicitly (the CRLs' dates and --at), so nothing depends on the clock.
"""

import datetime
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import certvald_helper as h  # noqa: E402
import testpki  # noqa: E402
from testpki import openssl_index_line  # noqa: E402

UTC = datetime.timezone.utc
# thisUpdate of every CRL here; the checks run at T plus an offset (--at).
T = datetime.datetime.now(UTC).replace(microsecond=0) - datetime.timedelta(days=1)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(hours):
    return iso(T + datetime.timedelta(hours=hours))


class CrlCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.make_tmpdir("certval-crlcheck-")
        pki = cls.pki = testpki.TestPKI(os.path.join(cls.dir, "pki"))
        pki.root = pki.ca("CRL Check Root")
        pki.sub = pki.ca("CRL Check Sub", issuer=pki.root, pathlen=0)
        pki.good = pki.leaf("good.example", pki.sub)
        pki.revoked = pki.leaf("revoked.example", pki.sub)
        pki.other = pki.ca("CRL Check Other")
        next_update = T + datetime.timedelta(days=7)
        cls.crl = pki.crl(pki.sub, revoked=[pki.revoked], this_update=T,
                          next_update=next_update, name="sub")
        cls.foreign = pki.crl(pki.other, this_update=T, next_update=next_update,
                              name="foreign")

    @classmethod
    def tearDownClass(cls):
        h.cleanup(cls.dir)

    def openssl_crl(self, name, number=None, extensions=None):
        """A CRL of the sub CA by `openssl ca -gencrl` (thisUpdate T), listing the revoked
        leaf: number None leaves CRLNumber out (no crlnumber file); extensions are the lines
        of the -crlexts section (None: no section, which with no number gives a v1 CRL)."""
        d = os.path.join(self.dir, "openssl-" + name)
        os.makedirs(d)
        with open(os.path.join(d, "index.txt"), "w") as f:
            f.write(openssl_index_line(self.pki.revoked,
                                       revoked_at=T - datetime.timedelta(hours=1)))
        conf = ("[ca]\ndefault_ca = CA\n[CA]\ndatabase = %s/index.txt\ncertificate = %s\n"
                "private_key = %s\ndefault_md = sha256\n" %
                (d, self.pki.sub.cert_path, self.pki.sub.key_path))
        if number is not None:
            with open(os.path.join(d, "crlnumber"), "w") as f:
                f.write("%02X\n" % number)
            conf += "crlnumber = %s/crlnumber\n" % d
        if extensions is not None:
            conf += "[ext]\n%s\n" % extensions
        with open(os.path.join(d, "ca.cnf"), "w") as f:
            f.write(conf)
        out = os.path.join(d, name + ".crl.pem")
        cmd = ["openssl", "ca", "-config", os.path.join(d, "ca.cnf"), "-gencrl", "-out", out,
               "-crl_lastupdate", T.strftime("%Y%m%d%H%M%SZ"),
               "-crl_nextupdate", (T + datetime.timedelta(days=7)).strftime("%Y%m%d%H%M%SZ")]
        if extensions is not None:
            cmd += ["-crlexts", "ext"]
        subprocess.run(cmd, check=True, capture_output=True)
        return out

    def check(self, crl, cert, when=1, issuer=None, extra=()):
        args = ["crl-check", "--crl", crl, "--cert", cert.cert_path,
                "--issuer", (issuer or self.pki.sub).cert_path]
        if when is not None:
            args += ["--at", at(when)]
        return h.run_ctl(args + list(extra))

    def assert_out(self, r, rc, first_line):
        msg = "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr)
        self.assertEqual(r.returncode, rc, msg)
        self.assertTrue(r.stdout.startswith(first_line), msg)

    def test_good_and_revoked(self):
        """The certificate not listed is GOOD (exit 0); the listed one REVOKED with its
        reason and date (exit 1)."""
        self.assert_out(self.check(self.crl, self.pki.good), 0, "GOOD\n")
        r = self.check(self.crl, self.pki.revoked)
        self.assert_out(r, 1, "REVOKED: revoked at %s" % iso(T))
        self.assertIn("certificate listed", r.stdout)

    def test_no_crl_number_is_unusable(self):
        """RFC 5280 5.2.3: a CRL without CRLNumber (v2 with only an AKI, or v1) is not used,
        and the reason is named; the same CRL with a number answers."""
        aki = "authorityKeyIdentifier = keyid:always"
        numbered = self.openssl_crl("numbered", number=0x10, extensions=aki)
        self.assert_out(self.check(numbered, self.pki.good), 0, "GOOD\n")
        self.assert_out(self.check(numbered, self.pki.revoked), 1, "REVOKED:")
        for crl in (self.openssl_crl("nonumber", extensions=aki),
                    self.openssl_crl("v1")):
            for cert in (self.pki.good, self.pki.revoked):
                r = self.check(crl, cert)
                self.assert_out(r, 1, "UNUSABLE: no usable CRL for the certificate "
                                      "(unusable: no CRLNumber extension (RFC 5280 5.2.3))")
                self.assertIn("CRLNumber: (none)", r.stdout)

    def test_critical_crl_number_is_unusable(self):
        """RFC 5280 5.2.3: CRLNumber is non-critical; a critical one makes the CRL unusable,
        the same number non-critical does not."""
        plain = self.openssl_crl("plainnumber", extensions="2.5.29.20 = DER:02:01:21")
        self.assert_out(self.check(plain, self.pki.good), 0, "GOOD\n")
        crit = self.openssl_crl("critnumber", extensions="2.5.29.20 = critical, DER:02:01:21")
        for cert in (self.pki.good, self.pki.revoked):
            r = self.check(crit, cert)
            self.assert_out(r, 1, "UNUSABLE: no usable CRL for the certificate (unusable: "
                                  "CRLNumber extension marked critical (RFC 5280 5.2.3))")
            self.assertIn("CRLNumber: 21 (critical)", r.stdout)

    def test_dates_and_max_age(self):
        """O-9: before thisUpdate and after nextUpdate the CRL is unusable; --max-age refuses a
        CRL whose thisUpdate is older than that, however far its nextUpdate."""
        self.assert_out(self.check(self.crl, self.pki.good, when=-1), 1,
                        "UNUSABLE: no usable CRL for the certificate (unusable: thisUpdate is "
                        "after the validation time)")
        self.assert_out(self.check(self.crl, self.pki.good, when=24 * 7 + 1), 1,
                        "UNUSABLE: no usable CRL for the certificate (unusable: nextUpdate "
                        "has passed (stale))")
        self.assert_out(self.check(self.crl, self.pki.good, when=2, extra=["--max-age", "3600"]),
                        1, "UNUSABLE: no usable CRL for the certificate (unusable: thisUpdate "
                           "is older than the maximum age)")
        self.assert_out(self.check(self.crl, self.pki.good, when=2, extra=["--max-age", "7201"]),
                        0, "GOOD\n")

    def test_signer_and_scope(self):
        """The CRL must be signed by the issuer given and be the issuer's: another CA's CRL,
        or the right CRL with the wrong issuer key, does not answer."""
        r = self.check(self.foreign, self.pki.good)
        self.assert_out(r, 1, "UNUSABLE: no usable CRL for the certificate\n")
        self.assertIn("out of scope: issuer differs", r.stdout)
        impostor = self.pki.ca("CRL Check Sub", issuer=self.pki.root)  # same name, other key
        r = self.check(self.crl, self.pki.revoked, issuer=impostor)
        self.assert_out(r, 1, "UNUSABLE:")
        self.assertIn("no valid signer", r.stdout)

    def test_bad_input_and_usage(self):
        """A file that is no CRL is INVALID (exit 1); unreadable files and bad options exit
        2."""
        garbage = os.path.join(self.dir, "garbage.crl")
        with open(garbage, "w") as f:
            f.write("this is not a CRL\n")
        self.assert_out(self.check(garbage, self.pki.good), 1, "INVALID: ")
        self.assert_out(self.check(os.path.join(self.dir, "missing.crl"), self.pki.good), 2, "")
        self.assert_out(self.check(self.crl, self.pki.good, extra=["--max-age", "-5"]), 2, "")
        self.assert_out(self.check(self.crl, self.pki.good, extra=["--bogus"]), 2, "")
        r = h.run_ctl(["crl-check", "--crl", self.crl, "--cert", self.pki.good.cert_path])
        self.assert_out(r, 2, "")
        r = h.run_ctl(["crl-check", "--crl", self.crl, "--cert", self.pki.good.cert_path,
                       "--issuer", self.pki.sub.cert_path, "--at", "yesterday"])
        self.assert_out(r, 2, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
