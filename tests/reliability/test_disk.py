#!/usr/bin/env python3
"""test_disk.py: the persisted CRL cache (D-4) when the disk misbehaves: cache files truncated,
with flipped bytes, with a mismatched digest, replaced by another issuer's CRL; leftovers of
an interrupted write; a read-only and a full cache directory (small tmpfs mounts, root only).

Every case checks that the damage is detected (log and `show crls`), that nothing damaged is
trusted (the revoked certificate stays revoked) and that verdicts go on from the network (the
CDP server sees the download again).
"""

import os
import re
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import reliability as rel  # noqa: E402
from reliability import helper  # noqa: E402


class DiskFaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = helper.make_tmpdir("certval-disk-")
        cls.www = os.path.join(cls.dir, "www")
        os.makedirs(cls.www)
        cls.httpd = rel.Server([os.path.join(rel.SUPPORT, "httpd_fault.py"), "--root", cls.www])
        cdp = "http://127.0.0.1:%d/file/sub.crl" % cls.httpd.port
        cls.pki = rel.RevPKI(os.path.join(cls.dir, "pki"), cdp)
        cls.sub_der = cls.pki.crl_der(cls.pki.sub, 10, revoked=[cls.pki.revoked])
        cls.other_der = cls.pki.crl_der(cls.pki.other, 10)
        rel.serve(cls.www, "sub.crl", cls.sub_der)
        cls.daemon = None
        cls.mounts = []

    @classmethod
    def tearDownClass(cls):
        cls.httpd.stop()
        for m in cls.mounts:
            rel.umount(m)
        helper.cleanup(cls.dir)

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon = None

    # ---- helpers ----

    def fresh_dir(self, name):
        d = os.path.join(self.dir, "%s-%d" % (name, time.monotonic_ns()))
        os.makedirs(d)
        return d

    def start(self, cache):
        d = self.fresh_dir("d")
        text = rel.config(d, self.pki, "cache-dir %s" % cache)
        self.daemon = helper.Daemon(d, text).start()
        return self.daemon

    def stop(self):
        self.assertEqual(self.daemon.stop(), 0, self.daemon.log_text())
        self.daemon = None

    def downloads(self):
        return int(rel.http_get(self.httpd.port, "/_count?path=/file/sub.crl").strip() or 0)

    def check_verdicts(self):
        """The good leaf is accepted, the revoked one rejected: never a wrong answer."""
        r = self.daemon.call(rel.verify_request(self.pki, self.pki.good))
        self.assertEqual(rel.decision(r), ("ACCEPT", None), r)
        r = self.daemon.call(rel.verify_request(self.pki, self.pki.revoked, 2))
        self.assertEqual(rel.decision(r), ("REJECT", "revoked"), r)

    def warm_cache(self):
        """A cache directory holding the sub CA's CRL, written by a daemon now stopped."""
        cache = self.fresh_dir("cache")
        self.start(cache)
        self.check_verdicts()
        self.stop()
        crl, meta = rel.cache_pair(cache)
        return cache, os.path.join(cache, crl), os.path.join(cache, meta)

    def restart_and_check(self, cache, problem):
        """Restart on the damaged cache: the damage is logged and shown, the CRL downloaded
        again, the verdicts right, and the cache holds a good copy again."""
        before = self.downloads()
        self.start(cache)
        self.check_verdicts()
        self.assertEqual(self.downloads(), before + 1, "the CRL was not downloaded again")
        shown = rel.show_crls(self.daemon)
        problems = shown["cache_problems"]["latest"]
        self.assertTrue(any(re.search(problem, p["problem"]) for p in problems), shown)
        self.assertRegex(self.daemon.log_text(), problem)
        text = self.daemon.ctl("show", "crls").stdout
        self.assertIn("CRL cache problem:", text)
        self.stop()
        crl, _ = rel.cache_pair(cache)
        with open(os.path.join(cache, crl), "rb") as f:
            self.assertEqual(f.read(), self.sub_der)

    # ---- damaged files ----

    def test_truncated_crl_file(self):
        cache, crl, _ = self.warm_cache()
        with open(crl, "r+b") as f:
            f.truncate(len(self.sub_der) // 2)
        self.restart_and_check(cache, "does not match its digest")

    def test_flipped_bytes(self):
        cache, crl, _ = self.warm_cache()
        with open(crl, "r+b") as f:
            for pos in (30, len(self.sub_der) - 20):
                f.seek(pos)
                b = f.read(1)
                f.seek(pos)
                f.write(bytes([b[0] ^ 0x5A]))
        self.restart_and_check(cache, "does not match its digest")

    def test_mismatched_digest(self):
        cache, _, meta = self.warm_cache()
        with open(meta) as f:
            text = f.read()
        damaged = re.sub(r"sha256 ([0-9a-fA-F])",
                         lambda m: "sha256 " + ("0" if m.group(1) != "0" else "1"), text)
        self.assertNotEqual(damaged, text)
        with open(meta, "w") as f:
            f.write(damaged)
        # the metadata names the CRL file by its digest: another digest, a file not there
        self.restart_and_check(cache, "CRL file of .* its metadata names is missing")

    def test_truncated_metadata(self):
        cache, _, meta = self.warm_cache()
        with open(meta, "r+b") as f:
            f.truncate(30)
        self.restart_and_check(cache, "unreadable metadata")

    def test_crl_of_another_issuer(self):
        """The CRL file replaced by another CA's CRL (a good CRL, the wrong one)."""
        cache, crl, _ = self.warm_cache()
        with open(crl, "wb") as f:
            f.write(self.other_der)
        self.restart_and_check(cache, "does not match its digest")

    def test_crl_of_another_issuer_digest_forged(self):
        """The CRL file replaced by another CA's CRL, its digest updated to match: it loads,
        but it is not the issuer's CRL, so it answers nothing: the revoked leaf stays revoked
        and the right CRL is downloaded."""
        import hashlib
        cache, crl, meta = self.warm_cache()
        with open(crl, "wb") as f:
            f.write(self.other_der)
        with open(meta) as f:
            text = f.read()
        text = re.sub(r"sha256 [0-9a-f]{64}",
                      "sha256 " + hashlib.sha256(self.other_der).hexdigest(), text)
        with open(meta, "w") as f:
            f.write(text)
        before = self.downloads()
        self.start(cache)
        self.check_verdicts()
        self.assertEqual(self.downloads(), before + 1, "the issuer's CRL was not downloaded")

    def test_leftovers_of_interrupted_writes(self):
        """A kill during a write leaves a temporary file (and a CRL file without metadata):
        the next start removes them, so that kills never make the directory grow."""
        cache, crl, meta = self.warm_cache()
        hexname = os.path.basename(crl)[:64]
        junk = [hexname + ".crl.tmp.4242", hexname + ".meta.tmp.4242", "ab" * 32 + ".crl",
                "cd" * 32 + ".crl.tmp.1", hexname + ".0123456789abcdef.crl",
                "ef" * 32 + ".0123456789abcdef.crl",
                hexname + ".0123456789abcdef.crl.tmp.7"]
        for name in junk:
            with open(os.path.join(cache, name), "wb") as f:
                f.write(b"half a write")
        with open(os.path.join(cache, "README"), "w") as f:
            f.write("not ours: left alone\n")
        self.start(cache)
        self.check_verdicts()
        self.assertEqual(sorted(rel.cache_files(cache)),
                         sorted(["README", os.path.basename(crl), os.path.basename(meta)]))
        self.assertIn("files of interrupted writes removed", self.daemon.log_text())

    def test_directory_fsynced_after_rename(self):
        """D-4: each rename into cache-dir is followed by an fsync of the directory (strace)."""
        if shutil.which("strace") is None:
            self.skipTest("strace is not installed")
        cache = self.fresh_dir("cache")
        trace = os.path.join(self.dir, "strace-%d.txt" % time.monotonic_ns())
        d = self.fresh_dir("d")
        text = rel.config(d, self.pki, "cache-dir %s" % cache)
        self.daemon = helper.Daemon(d, text)
        # strace execs certvald in place: the Daemon's process is certvald's
        self.daemon.preexec = None
        real = helper.CERTVALD
        helper.CERTVALD = "/usr/bin/strace"
        try:
            self.daemon.args = ["-q", "-f", "-o", trace, "-e", "trace=openat,rename,fsync",
                                real] + ["-f", "-d", "-c", self.daemon.conf, "-s",
                                         self.daemon.sock, "--test-clock"]
            self.daemon.start = self.start_strace.__get__(self.daemon)
            self.daemon.start()
        finally:
            helper.CERTVALD = real
        self.check_verdicts()
        strace = self.daemon.proc
        with open("/proc/%d/task/%d/children" % (strace.pid, strace.pid)) as f:
            child = int(f.read().split()[0])
        os.kill(child, 15)
        rc = strace.wait(30)
        # LeakSanitizer cannot run under ptrace: it makes an ASan build exit 1
        if "LeakSanitizer does not work under ptrace" not in self.daemon.log_text():
            self.assertEqual(rc, 0, self.daemon.log_text())
        self.daemon.proc = None
        self.daemon = None
        with open(trace) as f:
            calls = f.read().splitlines()
        fd_is_dir = {}  # what each descriptor was last opened on
        renames = fsynced = 0
        pending = False
        for line in calls:
            m = re.search(r'openat\(AT_FDCWD, "([^"]*)", ([A-Z_|]*)[^)]*\) = (\d+)', line)
            if m:
                fd_is_dir[m.group(3)] = m.group(1) == cache and "O_DIRECTORY" in m.group(2)
            if re.search(r'rename\("%s/' % re.escape(cache), line):
                renames += 1
                pending = True
            m = re.search(r"fsync\((\d+)\)\s+= 0", line)
            if m and fd_is_dir.get(m.group(1)) and pending:
                fsynced += 1
                pending = False
        if renames == 0:
            self.skipTest("strace saw no rename (ptrace not allowed?)")
        self.assertEqual(fsynced, renames, "renames not followed by a directory fsync")

    @staticmethod
    def start_strace(daemon, timeout=20):
        logf = open(daemon.log, "ab")
        daemon.proc = subprocess.Popen(["/usr/bin/strace"] + daemon.args, stdout=logf,
                                       stderr=logf)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                daemon.call({"op": "ping"})
                return daemon
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("certvald under strace did not start:\n" + daemon.log_text())

    # ---- the directory itself ----

    def tmpfs(self, size_kib):
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        path = self.fresh_dir("mnt")
        rel.mount_tmpfs(path, size_kib)
        self.mounts.append(path)
        return path

    def check_not_persisted(self, cache, problem):
        """Verdicts from the network, the write failure logged and shown, no file left."""
        before = self.downloads()
        self.check_verdicts()
        self.assertGreaterEqual(self.downloads(), before + 1)
        shown = rel.show_crls(self.daemon)
        self.assertEqual(len(shown["crls"]), 2, shown)  # the download and the root's file CRL
        problems = shown["cache_problems"]["latest"]
        self.assertTrue(any(re.search(problem, p["problem"]) for p in problems), shown)
        self.assertRegex(self.daemon.log_text(), problem)
        self.assertEqual([f for f in rel.cache_files(cache) if f != "filler"], [])

    def test_full_disk(self):
        cache = self.tmpfs(64)
        fd = os.open(os.path.join(cache, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        self.start(cache)
        self.check_not_persisted(cache, "cannot persist .*No space left on device")

    def test_read_only_at_start(self):
        cache = self.tmpfs(256)
        rel.remount(cache, "ro")
        self.start(cache)
        self.assertIn("not a writable directory", self.daemon.log_text())
        before = self.downloads()
        self.check_verdicts()
        self.assertEqual(self.downloads(), before + 1)
        problems = rel.show_crls(self.daemon)["cache_problems"]["latest"]
        self.assertTrue(any("not a writable directory" in p["problem"] for p in problems))

    def test_read_only_while_running(self):
        cache = self.tmpfs(256)
        self.start(cache)
        rel.remount(cache, "ro")
        self.check_not_persisted(cache, "cannot persist .*Read-only file system")


if __name__ == "__main__":
    unittest.main(verbosity=2)
