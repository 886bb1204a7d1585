#!/usr/bin/env python3
"""run_ldap.py: starts a private slapd on loopback with CRL entries, runs test_fetch_ldap
against it, and always stops slapd.

usage: run_ldap.py TEST_BINARY
Needs slapd, certtool (gnutls-bin) and /etc/ldap/schema/core.schema.
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import slapd  # noqa: E402


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (cmd[0], r.returncode, r.stdout, r.stderr))
    return r


def make_crl(d):
    """A real CRL (slapd checks the certificateRevocationList syntax)."""
    with open(os.path.join(d, "ca.tmpl"), "w") as f:
        f.write('cn = "Test CA1"\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 3650\n')
    with open(os.path.join(d, "crl.tmpl"), "w") as f:
        f.write("crl_next_update = 30\ncrl_number = 7\n")
    key, crt, crl = (os.path.join(d, n) for n in ("ca.key", "ca.pem", "crl.der"))
    run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key])
    run(["certtool", "--generate-self-signed", "--load-privkey", key,
         "--template", os.path.join(d, "ca.tmpl"), "--outfile", crt])
    run(["certtool", "--generate-crl", "--load-ca-privkey", key, "--load-ca-certificate", crt,
         "--template", os.path.join(d, "crl.tmpl"), "--outder", "--outfile", crl])
    return crl


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = tempfile.mkdtemp(prefix="certval-ldap-")
    try:
        crl = make_crl(d)
        with open(crl, "rb") as f:
            der = f.read()
        entries = {"cn=CA1,dc=test": der, "cn=CA 2,dc=test": der, "cn=NoCRL,dc=test": None}
        try:
            server = slapd.Slapd(os.path.join(d, "slapd"), entries)
        except slapd.Unavailable as e:
            print("SKIP: %s" % e)
            sys.exit(77)
        with server:
            sys.exit(subprocess.call([sys.argv[1], str(server.port), crl]))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
