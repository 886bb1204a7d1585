#!/usr/bin/env python3
"""run_servers.py: starts a private FreeRADIUS or slapd on loopback with the AAA test users,
runs test_aaa_servers against it, and always stops the server.

usage: run_servers.py radius|ldap TEST_BINARY
The RADIUS configuration comes from tests/support/radius/ (radiusd.conf.in, users); the LDAP
directory uses tests/aaa/ciscoavpair.schema. Exits 77 (skip) when the server is not installed.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RADIUS_DIR = os.path.join(HERE, "..", "support", "radius")
FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
CORE_SCHEMA = "/etc/ldap/schema/core.schema"
SECRET = "s3cret"


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, proc, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if pred():
            return True
        time.sleep(0.05)
    return False


def log_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except OSError:
        return False


def start_radius(d):
    if not os.path.exists(FREERADIUS):
        print("SKIP: freeradius not found (apt-get install freeradius)")
        sys.exit(77)
    port = free_port(socket.SOCK_DGRAM)
    with open(os.path.join(RADIUS_DIR, "radiusd.conf.in")) as f:
        conf = f.read()
    conf = conf.replace("@DIR@", d).replace("@PORT@", str(port)).replace("@SECRET@", SECRET)
    with open(os.path.join(d, "radiusd.conf"), "w") as f:
        f.write(conf)
    shutil.copy(os.path.join(RADIUS_DIR, "users"), os.path.join(d, "users"))
    open(os.path.join(d, "dictionary"), "w").close()  # the site dictionary: empty
    log = os.path.join(d, "radius.log")
    # -f: foreground, -n radiusd: our radiusd.conf; no -X (debug mode is slow and verbose)
    with open(log + ".err", "w") as err:
        proc = subprocess.Popen([FREERADIUS, "-f", "-d", d, "-n", "radiusd"],
                                stdout=subprocess.DEVNULL, stderr=err)
    if not wait_for(lambda: log_has(log, "Ready to process requests"), proc):
        for p in (log, log + ".err"):
            if os.path.exists(p):
                sys.stderr.write(open(p, errors="replace").read())
        stop(proc)
        sys.exit("freeradius did not start")
    return proc, port, log


def start_ldap(d):
    for need in (SLAPD, SLAPADD, CORE_SCHEMA):
        if not os.path.exists(need):
            print("SKIP: %s not found (apt-get install slapd ldap-utils)" % need)
            sys.exit(77)
    os.mkdir(os.path.join(d, "db"))
    conf = os.path.join(d, "slapd.conf")
    with open(conf, "w") as f:
        f.write("include %s\n" % CORE_SCHEMA)
        f.write("include %s\n" % os.path.join(HERE, "ciscoavpair.schema"))
        f.write("pidfile %s/slapd.pid\n" % d)
        f.write("modulepath /usr/lib/ldap\nmoduleload back_mdb\n")
        f.write("database mdb\nsuffix \"dc=test\"\nrootdn \"cn=admin,dc=test\"\n")
        f.write("rootpw secret\ndirectory %s/db\nmaxsize 16777216\n" % d)
    ldif = os.path.join(d, "data.ldif")
    with open(ldif, "w") as f:
        f.write("dn: dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
                "dc: test\no: test\n\n")
        for ou in ("users", "more"):
            f.write("dn: ou=%s,dc=test\nobjectClass: organizationalUnit\nou: %s\n\n"
                    % (ou, ou))

        def user(cn, ou="users", pairs=(), desc=()):
            f.write("dn: cn=%s,ou=%s,dc=test\nobjectClass: person\n"
                    "objectClass: certvalAAAUser\ncn: %s\nsn: test\n"
                    % (cn.replace(",", "\\,"), ou, cn))
            for p in pairs:
                f.write("ciscoAVPair: %s\n" % p)
            for p in desc:
                f.write("description: %s\n" % p)
            f.write("\n")

        user("PKIAAAA", pairs=("pki:cert-application=all", "pki:cert-trustpoint=CA1",
                               "cisco-avpair=pki:cert-serial-not=4ACA",
                               "shell:priv-lvl=15"))
        user("PKIAAA-L", pairs=("pki:cert-application=all", "pki:cert-trustpoint=CA1",
                                "pki:cert-serial=15DE",
                                "pki:cert-lifetime-end=1:00 jan 1, 2003"))
        user("Peer (1)*, x", pairs=("pki:cert-application=all",))
        user("DESC", desc=("pki:cert-application=ipsec", "a plain description"))
        user("EMPTY")
        user("DUP", pairs=("pki:cert-application=all",))
        user("DUP", ou="more", pairs=("pki:cert-application=all",))
    run([SLAPADD, "-q", "-f", conf, "-l", ldif])
    port = free_port(socket.SOCK_STREAM)
    log = os.path.join(d, "slapd.log")
    # -d 256: the "stats" log (one SRCH line per search), to count requests
    proc = subprocess.Popen([SLAPD, "-h", "ldap://127.0.0.1:%d/" % port, "-f", conf,
                             "-d", "256"], stdout=subprocess.DEVNULL, stderr=open(log, "w"))

    def listening():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    if not wait_for(listening, proc):
        sys.stderr.write(open(log, errors="replace").read())
        stop(proc)
        sys.exit("slapd did not start")
    return proc, port, log


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (cmd[0], r.returncode, r.stdout, r.stderr))


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("radius", "ldap"):
        sys.exit(__doc__)
    d = tempfile.mkdtemp(prefix="certval-aaa-")
    proc = None
    try:
        if sys.argv[1] == "radius":
            proc, port, log = start_radius(d)
        else:
            proc, port, log = start_ldap(d)
        rc = subprocess.call([sys.argv[2], sys.argv[1], str(port), log])
        if rc not in (0, 77):
            sys.stderr.write("---- server log ----\n")
            sys.stderr.write(open(log, errors="replace").read()[-4000:])
        sys.exit(rc)
    finally:
        stop(proc)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
