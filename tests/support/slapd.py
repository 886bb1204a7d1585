"""slapd.py: a private slapd on loopback for tests, holding CRLs as cRLDistributionPoint
entries under dc=test (no system-wide service is used or changed).

    with Slapd(directory, {"cn=CA1,dc=test": crl_der_bytes}) as ldap:
        url = "ldap://127.0.0.1:%d/cn=CA1,dc=test" % ldap.port

Raises Unavailable (tests skip) when slapd or its schema is not installed.
"""

import base64
import os
import shutil
import socket
import subprocess
import time

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema/core.schema"
MODULES = "/usr/lib/ldap"


class Unavailable(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (cmd[0], r.returncode, r.stdout, r.stderr))


def _rdn_value(dn):
    return dn.split(",", 1)[0].split("=", 1)[1]


class Slapd:
    """entries maps a DN under dc=test to the DER of a CRL, or to None (no CRL attribute)."""

    def __init__(self, directory, entries):
        for need in (SLAPD, SLAPADD, SCHEMA):
            if not os.path.exists(need):
                raise Unavailable("%s not found (apt-get install slapd ldap-utils)" % need)
        self.dir = directory
        os.makedirs(os.path.join(directory, "db"))
        self.conf = os.path.join(directory, "slapd.conf")
        with open(self.conf, "w") as f:
            f.write("include %s\npidfile %s/slapd.pid\n" % (SCHEMA, directory))
            f.write("modulepath %s\nmoduleload back_mdb\n" % MODULES)
            f.write("database mdb\nsuffix \"dc=test\"\nrootdn \"cn=admin,dc=test\"\n")
            f.write("rootpw secret\ndirectory %s/db\nmaxsize 16777216\n" % directory)
        ldif = os.path.join(directory, "data.ldif")
        with open(ldif, "w") as f:
            f.write("dn: dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
                    "dc: test\no: test\n\n")
            for dn, der in entries.items():
                f.write("dn: %s\nobjectClass: cRLDistributionPoint\ncn: %s\n" %
                        (dn, _rdn_value(dn)))
                if der is not None:
                    f.write("certificateRevocationList;binary:: %s\n" %
                            base64.b64encode(der).decode())
                f.write("\n")
        _run([SLAPADD, "-q", "-f", self.conf, "-l", ldif])
        self.port = free_port()
        self.proc = None

    def start(self, seconds=10.0):
        log = open(os.path.join(self.dir, "slapd.log"), "w")
        self.proc = subprocess.Popen([SLAPD, "-h", "ldap://127.0.0.1:%d/" % self.port, "-f",
                                      self.conf, "-d", "0"], stdout=subprocess.DEVNULL,
                                     stderr=log)
        log.close()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        with open(os.path.join(self.dir, "slapd.log")) as f:
            raise RuntimeError("slapd did not start:\n" + f.read())

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
