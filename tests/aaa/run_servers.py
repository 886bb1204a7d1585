#!/usr/bin/env python3
"""run_servers.py: starts a private FreeRADIUS or slapd on loopback with the AAA test users,
runs test_aaa_servers against it, and always stops the server.

usage: run_servers.py radius|ldap TEST_BINARY
The RADIUS configuration comes from tests/support/radius/ (radiusd.conf.in, users); the LDAP
directory uses tests/aaa/ciscoavpair.schema. Exits 77 (skip) when the server is not installed.

Where it runs as root with unshare (util-linux), the RADIUS client runs a second time in a
mount namespace where /etc/services is empty, as on a minimal system without netbase: the
client must use the configured port and never look up a service name.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import slapd  # noqa: E402
from servers import free_port, stop_process, wait_for  # noqa: E402

RADIUS_DIR = os.path.join(HERE, "..", "support", "radius")
FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"
SECRET = "s3cret"


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
    need = slapd.missing()
    if need is not None:
        print("SKIP: %s not found (apt-get install slapd ldap-utils)" % need)
        sys.exit(77)
    conf = slapd.write_conf(d, [os.path.join(HERE, "ciscoavpair.schema")])
    ldif = os.path.join(d, "data.ldif")
    with open(ldif, "w") as f:
        f.write(slapd.BASE_LDIF)
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
    slapd.load(conf, ldif)
    port = free_port(socket.SOCK_STREAM)
    log = os.path.join(d, "slapd.log")
    try:
        # -d 256: the "stats" log (one SRCH line per search), to count requests
        proc = slapd.run_slapd(conf, port, log, debug="256")
    except RuntimeError as e:
        sys.exit(str(e))
    return proc, port, log


def stop(proc):
    stop_process(proc, 5)


def without_services(d, cmd):
    """cmd with an empty /etc/services (its own mount namespace); 0 where that cannot be made."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("note: not run again without /etc/services (needs root and unshare)")
        return 0
    empty = os.path.join(d, "services.empty")
    open(empty, "w").close()
    # private propagation, so that the bind mount never reaches the machine's own namespace
    unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" /etc/services && exec "$@"', empty]
    probe = subprocess.run(unshare + ["true"], capture_output=True, text=True)
    if probe.returncode != 0:  # e.g. in a chroot, whose / is no mount point
        print("note: not run again without /etc/services (no private mount namespace here: "
              "%s)" % probe.stderr.strip())
        return 0
    print("again, with an empty /etc/services:", flush=True)
    return subprocess.call(unshare + cmd)


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
        if rc == 0 and sys.argv[1] == "radius":
            rc = without_services(d, [sys.argv[2], sys.argv[1], str(port), log])
        if rc not in (0, 77):
            sys.stderr.write("---- server log ----\n")
            sys.stderr.write(open(log, errors="replace").read()[-4000:])
        sys.exit(rc)
    finally:
        stop(proc)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
