"""certvald_helper.py: start a real certvald on a temporary socket and talk to it.

Used by the integration tests. Binaries come from $CERTVAL_BUILD_DIR (daemon/certvald,
ctl/certvalctl); test PKIs from tests/support/testpki.py.

Commands run as another user (as_user) run from copies in a temporary directory that every
user can read: the checkout, and so the build directory, may be where other users cannot go
(a clone under /root, mode 0700).
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))

import testpki  # noqa: E402
from servers import recv_all  # noqa: E402,F401 (for the tests)

BUILD_DIR = os.environ.get("CERTVAL_BUILD_DIR",
                           os.path.join(HERE, "..", "..", "build"))
CERTVALD = os.path.join(BUILD_DIR, "daemon", "certvald")
CERTVALCTL = os.path.join(BUILD_DIR, "ctl", "certvalctl")


def make_tmpdir(prefix):
    """A temporary directory other users can traverse (tests run clients as nobody)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    return d


_DIRS = iter(range(1, 1 << 30))


def daemon_dir(base, mode=0o755):
    """A new, short directory under base for one daemon's socket, configuration and log.

    Short on purpose: a Unix socket path holds at most 107 bytes, and the temporary
    directory's own name differs from machine to machine."""
    d = os.path.join(base, "d%d" % next(_DIRS))
    os.makedirs(d)
    os.chmod(d, mode)
    return d


def config_text(sock, trustpoints, extra_global=""):
    """A configuration: global settings, then one trustpoint per (name, ca_path, lines)."""
    out = ["socket %s" % sock, "socket-mode 0666", "admin-group nogroup",
           "max-request-bytes 16384", "request-timeout 5"]
    if extra_global:
        out.append(extra_global)
    for name, ca, lines in trustpoints:
        out.append("crypto pki trustpoint %s" % name)
        out.append(" ca-certificate %s" % ca)
        out += [" " + line for line in lines]
    return "\n".join(out) + "\n"


class Daemon:
    """A certvald process in the foreground on its own socket and configuration file."""

    def __init__(self, directory, config, args=("--test-clock",)):
        self.dir = directory
        self.sock = os.path.join(directory, "certvald.sock")
        self.conf = os.path.join(directory, "certvald.conf")
        self.log = os.path.join(directory, "certvald.log")
        self.args = list(args)
        self.preexec = None  # run in the child before certvald (e.g. to lower a limit)
        self.proc = None
        self.write_config(config)

    def write_config(self, text):
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.conf)

    def start(self, timeout=20):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([CERTVALD, "-f", "-d", "-c", self.conf, "-s", self.sock]
                                     + self.args, stdout=logf, stderr=logf,
                                     preexec_fn=self.preexec)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc, self.proc = self.proc.returncode, None
                raise RuntimeError("certvald exited with %d:\n%s" % (rc, self.log_text()))
            try:
                self.call({"op": "ping"})
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("certvald did not start:\n" + self.log_text())

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit status (0 expected, ASan leaks make it not)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.proc = None
        return rc

    def signal(self, sig):
        self.proc.send_signal(sig)

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def connect(self, timeout=30):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(timeout)
            s.connect(self.sock)
        except OSError:
            s.close()
            raise
        return s

    def call(self, obj, timeout=30):
        """One request on a fresh connection; returns the decoded response."""
        with self.connect(timeout) as s:
            s.sendall((json.dumps(obj) + "\n").encode())
            return read_responses(s, 1)[0]

    def ctl(self, *args, user=None, input=None):
        """Runs certvalctl against this daemon; user=(uid, gid) runs it through setpriv."""
        return run_ctl(["--socket", self.sock] + list(args), user=user)


_shared_ctl = []  # the copy of certvalctl that other users can run, once made


def shared_ctl():
    """certvalctl and the libcertval it loads (RUNPATH $ORIGIN/../client, as meson links it)
    copied, in the same relative layout, to a temporary directory every user can read and
    traverse; removed when the test program exits."""
    if not _shared_ctl:
        d = make_tmpdir("certval-ctl-")
        atexit.register(shutil.rmtree, d, True)
        build = os.path.dirname(os.path.dirname(CERTVALCTL))
        for sub, wanted in (("ctl", lambda n: n == "certvalctl"),
                            ("client", lambda n: n.startswith("libcertval.so"))):
            os.mkdir(os.path.join(d, sub), 0o755)
            for name in os.listdir(os.path.join(build, sub)):
                src = os.path.join(build, sub, name)
                if os.path.isfile(src) and wanted(name):
                    dst = os.path.join(d, sub, name)
                    shutil.copyfile(src, dst)  # follows symbolic links
                    os.chmod(dst, 0o755)
        _shared_ctl.append(os.path.join(d, "ctl", "certvalctl"))
    return _shared_ctl[0]


# A Python that other users can run: the system's, not one installed under a home directory.
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def as_user(cmd, user):
    """cmd run as user=(uid, gid) with no supplementary group, through setpriv (util-linux).
    Raises unittest.SkipTest, with the reason, where users cannot be switched."""
    if os.geteuid() != 0:
        raise unittest.SkipTest("running a command as another user needs root")
    if shutil.which("setpriv") is None:
        raise unittest.SkipTest("setpriv is not installed (Debian package util-linux)")
    uid, gid = user
    return ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + list(cmd)


def run_ctl(args, user=None):
    if user is None:
        return subprocess.run([CERTVALCTL] + list(args), capture_output=True, text=True,
                              timeout=120)
    # cwd "/": the test's own directory may be out of the other user's reach
    return subprocess.run(as_user([shared_ctl()] + list(args), user), capture_output=True,
                          text=True, timeout=120, cwd="/")


class LineReader:
    """Reads newline-delimited JSON from a socket."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def read(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def read_responses(s, n):
    r = LineReader(s)
    return [r.read() for _ in range(n)]


def cleanup(directory):
    shutil.rmtree(directory, ignore_errors=True)


class StandardPKITest(unittest.TestCase):
    """Tests that share one directory (cls.dir, named after TMP_PREFIX) and the standard test
    PKI in it (cls.pki), made once for the class and removed after its last test."""

    TMP_PREFIX = "certval-test-"

    @classmethod
    def setUpClass(cls):
        cls.dir = make_tmpdir(cls.TMP_PREFIX)
        cls.pki = testpki.standard(os.path.join(cls.dir, "pki"))

    @classmethod
    def tearDownClass(cls):
        cleanup(cls.dir)
