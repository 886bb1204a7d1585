"""slapd.py: a private slapd on loopback for tests, holding CRLs as cRLDistributionPoint
entries under dc=test (no system-wide service is used or changed).

    with Slapd(directory, {"cn=CA1,dc=test": crl_der_bytes}) as ldap:
        url = "ldap://127.0.0.1:%d/cn=CA1,dc=test" % ldap.port

Raises Unavailable (tests skip) when slapd or its schema is not installed. The pieces
(missing, write_conf, BASE_LDIF, load, run_slapd) also serve directories of other entries
(tests/aaa/run_servers.py).
"""

import base64
import os
import shutil
import subprocess

from servers import free_port, listening, stop_process, wait_for

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema/core.schema"
MODULES = "/usr/lib/ldap"

# The root entry every test directory starts with.
BASE_LDIF = "dn: dc=test\nobjectClass: dcObject\nobjectClass: organization\ndc: test\no: test\n\n"


class Unavailable(Exception):
    pass


def missing():
    """The first of slapd, slapadd and the core schema that is not installed, or None."""
    for need in (SLAPD, SLAPADD, SCHEMA):
        if not os.path.exists(need):
            return need
    return None


def write_conf(directory, schemas=()):
    """slapd.conf of an mdb database for dc=test in directory/db (made here), with the core
    schema and the given ones; returns its path."""
    os.makedirs(os.path.join(directory, "db"))
    conf = os.path.join(directory, "slapd.conf")
    with open(conf, "w") as f:
        for schema in (SCHEMA,) + tuple(schemas):
            f.write("include %s\n" % schema)
        f.write("pidfile %s/slapd.pid\n" % directory)
        f.write("modulepath %s\nmoduleload back_mdb\n" % MODULES)
        f.write("database mdb\nsuffix \"dc=test\"\nrootdn \"cn=admin,dc=test\"\n")
        f.write("rootpw secret\ndirectory %s/db\nmaxsize 16777216\n" % directory)
    return conf


def load(conf, ldif):
    """Adds the entries of the LDIF file to the database of conf (slapadd)."""
    r = subprocess.run([SLAPADD, "-q", "-f", conf, "-l", ldif], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (SLAPADD, r.returncode, r.stdout, r.stderr))


def run_slapd(conf, port, log, debug="0", seconds=10.0):
    """slapd on the loopback port with its debug output (-d) in the file log, once it accepts
    connections; RuntimeError with the log when it does not within seconds."""
    with open(log, "w") as logf:
        proc = subprocess.Popen([SLAPD, "-h", "ldap://127.0.0.1:%d/" % port, "-f", conf,
                                 "-d", debug], stdout=subprocess.DEVNULL, stderr=logf)
    if not wait_for(lambda: listening(port), proc, seconds):
        stop_process(proc, 5)
        with open(log, errors="replace") as f:
            raise RuntimeError("slapd did not start:\n" + f.read())
    return proc


def _rdn_value(dn):
    return dn.split(",", 1)[0].split("=", 1)[1]


class Slapd:
    """entries maps a DN under dc=test to the DER of a CRL, or to None (no CRL attribute)."""

    def __init__(self, directory, entries):
        need = missing()
        if need is not None:
            raise Unavailable("%s not found (apt-get install slapd ldap-utils)" % need)
        self.dir = directory
        self.conf = write_conf(directory)
        ldif = os.path.join(directory, "data.ldif")
        with open(ldif, "w") as f:
            f.write(BASE_LDIF)
            for dn, der in entries.items():
                f.write("dn: %s\nobjectClass: cRLDistributionPoint\ncn: %s\n" %
                        (dn, _rdn_value(dn)))
                if der is not None:
                    f.write("certificateRevocationList;binary:: %s\n" %
                            base64.b64encode(der).decode())
                f.write("\n")
        load(self.conf, ldif)
        self.port = free_port()
        self.proc = None

    def start(self, seconds=10.0):
        self.proc = run_slapd(self.conf, self.port, os.path.join(self.dir, "slapd.log"),
                              seconds=seconds)
        return self

    def stop(self):
        stop_process(self.proc, 5)
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
