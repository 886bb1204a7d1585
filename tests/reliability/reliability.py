"""reliability.py: what the reliability tests share: a test PKI whose leaves name a CDP on a
loopback httpd_fault.py, CRLs of any size (openssl ca -gencrl over a generated index), a
daemon with a cache directory, and small helpers (verdicts, files of the cache, VmHWM).

The number of repetitions comes from the environment, so that CI runs the short versions and
scripts/reliability.sh the long ones: CERTVAL_KILLS, CERTVAL_CLIENTS, CERTVAL_ROUNDS.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "support")
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, SUPPORT)

import certvald_helper as helper  # noqa: E402
import testpki  # noqa: E402
from servers import Server, http_get  # noqa: E402,F401


def env_int(name, default):
    """A repetition count from the environment (the long runs raise it)."""
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


class RevPKI:
    """root -> sub -> good, revoked; the leaves name cdp_url; the root's CRL is a file."""

    def __init__(self, directory, cdp_url, ocsp_url=None):
        pki = self.pki = testpki.TestPKI(directory)
        self.dir = directory
        self.root = pki.ca("Rel Root CA")
        self.sub = pki.ca("Rel Sub CA", issuer=self.root, pathlen=0)
        self.good = pki.leaf("good.example", self.sub, crl_url=cdp_url, ocsp_url=ocsp_url)
        self.revoked = pki.leaf("revoked.example", self.sub, crl_url=cdp_url,
                                ocsp_url=ocsp_url)
        self.other = pki.ca("Rel Other CA")
        self.root_crl = pki.crl(self.root, name="root")
        self._numbers = 100

    def crl_der(self, issuer, n_entries, revoked=()):
        """A DER CRL of issuer listing the certificates revoked plus n_entries other serials,
        made with openssl ca -gencrl (fast for 100,000 entries)."""
        self._numbers += 1
        work = os.path.join(self.dir, "ca-%d" % self._numbers)
        os.makedirs(work)
        now = datetime.datetime.now(datetime.timezone.utc)
        rev_at = (now - datetime.timedelta(days=2)).strftime("%y%m%d%H%M%SZ")
        expiry = (now + datetime.timedelta(days=300)).strftime("%y%m%d%H%M%SZ")
        lines = ["R\t%s\t%s\t%016X\tunknown\t/CN=x\n" % (expiry, rev_at, c.serial) for c in revoked]
        lines += ["R\t%s\t%s\t%016X\tunknown\t/CN=x\n" % (expiry, rev_at, 0x7000000 + i)
                  for i in range(n_entries)]
        with open(os.path.join(work, "index.txt"), "w") as f:
            f.writelines(lines)
        with open(os.path.join(work, "crlnumber"), "w") as f:
            f.write("%04X\n" % self._numbers)
        with open(os.path.join(work, "ca.cnf"), "w") as f:
            f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s/index.txt\ncrlnumber=%s/crlnumber\n"
                    "default_md=sha256\ndefault_crl_days=7\ncrl_extensions=ext\n"
                    "[ext]\nauthorityKeyIdentifier=keyid:always\n" % (work, work))
        out = os.path.join(work, "crl.der")
        pem = os.path.join(work, "crl.pem")
        for args in (["openssl", "ca", "-batch", "-config", os.path.join(work, "ca.cnf"),
                      "-gencrl", "-cert", issuer.cert_path, "-keyfile", issuer.key_path,
                      "-out", pem],
                     ["openssl", "crl", "-in", pem, "-outform", "DER", "-out", out]):
            subprocess.run(args, check=True, capture_output=True)
        with open(out, "rb") as f:
            der = f.read()
        shutil.rmtree(work, ignore_errors=True)
        return der


def serve(www, name, der):
    """Puts der at www/name atomically (the CDP server never sends half a file)."""
    tmp = os.path.join(www, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(der)
    os.replace(tmp, os.path.join(www, name))


def config(directory, pki, extra_global="", lines=("revocation-check crl",)):
    """Trustpoint ROOT over pki; the sub CA is checked against the root's CRL file."""
    sock = os.path.join(directory, "certvald.sock")
    tp_lines = list(lines) + ["crl file %s" % pki.root_crl]
    return helper.config_text(sock, [("ROOT", pki.root.cert_path, tp_lines)],
                              "fetch retry-after 0\n" + extra_global)


def verify_request(pki, leaf, rid=1):
    return {"id": rid, "op": "verify", "trustpoint": "ROOT", "chain": [leaf.b64, pki.sub.b64]}


def decision(resp):
    """(decision, reason) of a verify response; ("error", code) for an error response."""
    if not resp.get("ok"):
        return ("error", resp.get("error", {}).get("code"))
    v = resp["verdict"]
    return (v["decision"], v["reason"])


def cache_files(cache):
    try:
        return sorted(os.listdir(cache))
    except OSError:
        return []


def cache_pair(cache):
    """The one entry of a cache directory: its CRL file (<source hash>.<16 hex digits of the
    CRL's hash>.crl) and its metadata file; AssertionError when it holds anything else."""
    import re
    files = cache_files(cache)
    if (len(files) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}\.[0-9a-fA-F]{16}\.crl", files[0])
            or files[1] != files[0][:64] + ".meta"):
        raise AssertionError("cache directory holds %s" % files)
    return files[0], files[1]


def show_crls(daemon):
    r = daemon.ctl("show", "crls", "--json")
    if r.returncode != 0:
        raise AssertionError("show crls failed: %s %s" % (r.stdout, r.stderr))
    return json.loads(r.stdout)


def vm_hwm_kib(pid):
    """The peak resident set size of a process (VmHWM, KiB)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def sanitized(pid):
    """Whether the process runs with AddressSanitizer (its memory figures are not the real
    ones: shadow memory and quarantine)."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def mount_tmpfs(path, size_kib, read_only=False):
    """A small tmpfs at path; raises unittest.SkipTest where mounting is not allowed."""
    import unittest
    opts = "size=%dk,mode=0755" % size_kib + (",ro" if read_only else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise unittest.SkipTest("cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): "
                                + r.stderr.strip())


def remount(path, opts):
    subprocess.run(["mount", "-o", "remount," + opts, path], check=True, capture_output=True)


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)
