#!/usr/bin/env python3
"""run_ldap.py: starts a private slapd on loopback with CRL entries, runs test_fetch_ldap
against it, and always stops slapd.

usage: run_ldap.py TEST_BINARY
Needs slapd, certtool (gnutls-bin) and /etc/ldap/schema/core.schema.
"""

import base64
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema/core.schema"
MODULES = "/usr/lib/ldap"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


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


def write_config(d, crl):
    os.mkdir(os.path.join(d, "db"))
    conf = os.path.join(d, "slapd.conf")
    with open(conf, "w") as f:
        f.write("include %s\n" % SCHEMA)
        f.write("pidfile %s/slapd.pid\n" % d)
        f.write("modulepath %s\nmoduleload back_mdb\n" % MODULES)
        f.write("database mdb\nsuffix \"dc=test\"\nrootdn \"cn=admin,dc=test\"\n")
        f.write("rootpw secret\ndirectory %s/db\nmaxsize 16777216\n" % d)
    with open(crl, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    ldif = os.path.join(d, "data.ldif")
    with open(ldif, "w") as f:
        f.write("dn: dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
                "dc: test\no: test\n\n")
        for cn in ("CA1", "CA 2"):
            f.write("dn: cn=%s,dc=test\nobjectClass: cRLDistributionPoint\ncn: %s\n"
                    "certificateRevocationList;binary:: %s\n\n" % (cn, cn, b64))
        f.write("dn: cn=NoCRL,dc=test\nobjectClass: cRLDistributionPoint\ncn: NoCRL\n\n")
    run([SLAPADD, "-q", "-f", conf, "-l", ldif])
    return conf


def wait_listening(port, proc, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for need in (SLAPD, SLAPADD, SCHEMA):
        if not os.path.exists(need):
            print("SKIP: %s not found (apt-get install slapd ldap-utils)" % need)
            sys.exit(77)
    d = tempfile.mkdtemp(prefix="certval-ldap-")
    proc = None
    try:
        crl = make_crl(d)
        conf = write_config(d, crl)
        port = free_port()
        proc = subprocess.Popen([SLAPD, "-h", "ldap://127.0.0.1:%d/" % port, "-f", conf,
                                 "-d", "0"], stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(d, "slapd.log"), "w"))
        if not wait_listening(port, proc):
            with open(os.path.join(d, "slapd.log")) as f:
                sys.stderr.write(f.read())
            sys.exit("slapd did not start")
        rc = subprocess.call([sys.argv[1], str(port), crl])
        sys.exit(rc)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
