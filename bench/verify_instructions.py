#!/usr/bin/env python3
"""verify_instructions.py: instructions per verdict of a real certvald, counted by valgrind's
callgrind, so that steps of issue 13 compare without the noise of a shared machine (README
"Benchmarks"). The counts are of user-space instructions only: the kernel's share (socket
I/O, thread wake-ups) and what an instruction costs (cache misses) are verify_bench's to
measure, in time.

It makes root -> intermediate -> N leaves (ECDSA P-256, certtool), a CRL of the root and one
of the intermediate with --crl-entries other serials, and asks each certvald, running under
callgrind, one request at a time over its socket (raw JSON lines, "detail":"verdict"):

  new            N-W new leaves, after W warm-up requests (the intermediate and its link
                 known): each costs one signature check;
  new, CRL       the same under `revocation-check crl` with the two CRLs as `crl file`;
  seen           W chains asked four more times with the verdict cache off: each is evaluated
                 afresh without any signature check (the links are remembered);
  seen, CRL      the same under `revocation-check crl`: the difference is a CRL check's cost.

The counters are zeroed after the warm-up and read after the scenario. A signature check is
the inclusive count of gnutls_pubkey_verify_data2 in the same profile.

usage: verify_instructions.py [--leaves N] [--warmup W] [--crl-entries M] CERTVALD [CERTVALD]
       (two daemons: before and after, side by side; exit 77 when valgrind is absent)
"""

import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "support"))
import testpki  # noqa: E402

SIGNATURE = "gnutls_pubkey_verify_data2"


def make_pki(directory, leaves, crl_entries):
    """The PKI and the request lines; returns (root pem, root crl, sub crl, lines)."""
    pki = testpki.TestPKI(directory)
    root = pki.ca("Bench Root")
    sub = pki.ca("Bench Sub", issuer=root, pathlen=0)
    root_crl = pki.crl(root)
    sub_crl = os.path.join(directory, "sub.crl")
    testpki.crl_with_entries(pki.crl(sub), sub, crl_entries, sub_crl)
    lines = []
    for i in range(leaves):
        leaf = pki.leaf("peer-%d.bench.example" % i, issuer=sub,
                        dns=["peer-%d.bench.example" % i])
        lines.append(('{"id":%d,"op":"verify","trustpoint":"BENCH","detail":"verdict",'
                      '"chain":["%s","%s"]}\n' % (i, leaf.b64, sub.b64)).encode())
    return root.cert_path, root_crl, sub_crl, lines


class Profiled:
    """A certvald under callgrind on a socket of its own."""

    def __init__(self, certvald, directory, config_body):
        self.dir = directory
        os.makedirs(directory)
        self.sock = os.path.join(directory, "certvald.sock")
        conf = os.path.join(directory, "certvald.conf")
        with open(conf, "w") as f:
            f.write("socket %s\nsocket-mode 0600\nrequest-timeout 600\n%s" % (self.sock,
                                                                               config_body))
        self.out = os.path.join(directory, "callgrind.out")
        self.log = open(os.path.join(directory, "valgrind.log"), "w")
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + self.out, certvald,
             "-f", "-c", conf], stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(1200):
            if os.path.exists(self.sock) or self.proc.poll() is not None:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        self.conn = socket.socket(socket.AF_UNIX)
        self.conn.connect(self.sock)
        self.reader = self.conn.makefile("rb")

    def ask(self, lines):
        """Each line in turn, its reply awaited; every verdict must be ACCEPT."""
        for line in lines:
            self.conn.sendall(line)
            reply = self.reader.readline()
            if b'"decision":"ACCEPT"' not in reply:
                raise RuntimeError("not an ACCEPT: %r" % reply[:300])

    def control(self, command):
        time.sleep(0.3)  # the last reply written, the loop idle again
        subprocess.run(["callgrind_control", command, str(self.proc.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()
        self.log.close()

    def counts(self):
        """(all instructions, the signature checks' inclusive instructions) of the dump."""
        total = signature = 0
        for path in glob.glob(self.out + ".*"):
            with open(path) as f:
                total += sum(int(m.group(1)) for m in
                             (re.match(r"summary: (\d+)", line) for line in f) if m)
            res = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                                  "--auto=no", path], capture_output=True, text=True)
            for line in res.stdout.splitlines():
                if (":" + SIGNATURE + " [") in line:
                    signature += int(line.split()[0].replace(",", ""))
        return total, signature


def run_scenario(certvald, directory, config_body, warmup, work):
    """Instructions per verdict of work after warmup, and of its signature checks."""
    d = Profiled(certvald, directory, config_body)
    try:
        d.ask(warmup)
        d.control("-z")
        d.ask(work)
        d.control("-d")
    finally:
        d.stop()
    total, signature = d.counts()
    return total / len(work), signature / len(work)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--leaves", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--crl-entries", type=int, default=20000)
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    ap.add_argument("certvald", nargs="+")
    args = ap.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        print("SKIP: valgrind (callgrind) is not installed")
        return 77
    if args.leaves <= args.warmup or len(args.certvald) > 2:
        ap.error("--leaves must exceed --warmup; one or two certvald")
    top = tempfile.mkdtemp(prefix="certval-instr-")
    try:
        root, root_crl, sub_crl, lines = make_pki(os.path.join(top, "pki"), args.leaves,
                                                  args.crl_entries)
        none = "crypto pki trustpoint BENCH\n ca-certificate %s\n revocation-check none\n" % root
        crl = ("crypto pki trustpoint BENCH\n ca-certificate %s\n revocation-check crl\n"
               " crl file %s\n crl file %s\n" % (root, root_crl, sub_crl))
        warm, new = lines[:args.warmup], lines[args.warmup:]
        scenarios = [("new", "", none, new), ("new, CRL", "", crl, new),
                     ("seen", "verdict-cache entries 0\n", none, warm * 4),
                     ("seen, CRL", "verdict-cache entries 0\n", crl, warm * 4)]
        print("instructions per verdict (callgrind), %d new leaves, %d seen chains x 4, "
              "CRL of %d entries" % (len(new), len(warm), args.crl_entries))
        print("(\"beyond it\": all but the signature checks; \"x sig\": that in signature "
              "checks, one being the \"new\" row's signature count)")
        print("%-9s %-10s %12s %12s %12s %8s" % ("certvald", "scenario", "all", "signature",
                                                 "beyond it", "x sig"))
        results = []
        for k, certvald in enumerate(args.certvald):
            res, one_sig = {}, 0
            who = ("before", "after")[k] if len(args.certvald) == 2 else "certvald"
            for name, glob_lines, body, work in scenarios:
                wd = os.path.join(top, "d%d-%s" % (k, name.replace(", ", "-")))
                total, sig = run_scenario(certvald, wd, glob_lines + body, warm, work)
                res[name] = total
                one_sig = one_sig or sig
                print("%-9s %-10s %12.0f %12.0f %12.0f %8.3f" % (
                    who, name, total, sig, total - sig,
                    (total - sig) / one_sig if one_sig > 0 else 0))
            print("  a CRL check per verdict: %.0f instructions (seen), %.0f (new)" % (
                res["seen, CRL"] - res["seen"], res["new, CRL"] - res["new"]))
            results.append(res)
        if len(results) == 2:
            print("after / before:", ", ".join("%s %.3f" % (name, results[1][name] /
                                                            results[0][name])
                                               for name, _, _, _ in scenarios))
        return 0
    finally:
        if args.keep:
            print("kept", top)
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
