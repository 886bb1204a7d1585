#!/usr/bin/env python3
"""run_pkits.py: NIST PKITS through the real engine, `certvalctl verify --offline --ca ...`.

Every row of pkits-expected.tsv becomes one ad-hoc validation (trust anchor, intermediates as
--untrusted, the row's CRLs as --crl, its RFC 5280 policy inputs, its validation time). Prints
the pass count per section and fails when a row of a required section disagrees.

  run_pkits.py --revocation none --require 4.1,4.2   rows that fail only through a CRL are
                                                      left out of the required set
  run_pkits.py --revocation crl --require 4.4,...     PKITS semantics: every certificate's
                                                      status must come from the CRLs

PKITS is read from $CERTVAL_PKITS_DIR or ../shared/pkits beside the source tree; where it is
absent the run is skipped (exit 77) with a message.
"""
import argparse
import collections
import concurrent.futures
import csv
import os
import subprocess
import sys

# Rows of the path-level sections whose expected "invalid" comes from revocation alone.
REVOCATION_ONLY = {
    "4.5.2": "the intermediate CA is revoked on a CRL signed by the old key",
    "4.5.5": "the intermediate CA is revoked on a CRL signed by the new key",
    "4.5.7": "the EE is revoked on a CRL signed by the self-issued CRL-signing key",
    "4.7.4": "the CA's keyUsage lacks cRLSign, so its CRL is unusable",
    "4.7.5": "the CA's keyUsage lacks cRLSign (not critical), so its CRL is unusable",
}

# Rows that fail for a reason we know and have not fixed yet, by revocation mode. A listed row
# that starts to pass fails the run, so that this list cannot go stale.
KNOWN_GAPS = {
    "crl": {},
    "none": {},
}


def pkits_dir():
    explicit = os.environ.get("CERTVAL_PKITS_DIR")
    if explicit:
        return explicit
    source = os.environ.get("CERTVAL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    return os.path.join(source, "..", "shared", "pkits")


def certvalctl():
    build = os.environ.get("CERTVAL_BUILD_DIR", "build")
    return os.path.join(build, "ctl", "certvalctl")


def command_for(row, base, revocation):
    cmd = [certvalctl(), "verify", "--offline", "--json",
           "--ca", os.path.join(base, "certs", row["trust_anchor"] + ".crt"),
           "--at", row["validation_time"], "--revocation", revocation,
           # PKITS (2011) has DSA keys and DSA-with-SHA-1 signatures (4.1.4-4.1.6), which
           # the key and signature policies refuse by default. Its RSA keys are 2048 bits:
           # rsa-1024 is not needed (checked on the copy in ../shared/pkits).
           "--allow-weak", "sha1,dsa"]
    for name in filter(None, row["intermediates"].split(",")):
        if name != "-":
            cmd += ["--untrusted", os.path.join(base, "certs", name + ".crt")]
    if revocation != "none":
        for name in filter(None, row["crls"].split(",")):
            if name != "-":
                cmd += ["--crl", os.path.join(base, "crls", name + ".crl")]
    for oid in filter(None, row["initial_policy_set"].split(",")):
        if oid not in ("-", "2.5.29.32.0"):
            cmd += ["--policy", oid]
    if row["initial_explicit_policy"] == "1":
        cmd.append("--explicit-policy")
    if row["initial_policy_mapping_inhibit"] == "1":
        cmd.append("--inhibit-mapping")
    if row["initial_inhibit_any_policy"] == "1":
        cmd.append("--inhibit-any")
    cmd.append(os.path.join(base, "certs", row["ee"] + ".crt"))
    return cmd


def run_row(row, base, revocation):
    proc = subprocess.run(command_for(row, base, revocation), capture_output=True, text=True,
                          timeout=120, check=False)
    if proc.returncode == 0:
        got = "valid"
    elif proc.returncode == 1:
        got = "invalid"
    else:
        got = "error(%d): %s" % (proc.returncode, proc.stderr.strip()[:200])
    return row, got


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--revocation", default="none", choices=["none", "crl"])
    parser.add_argument("--require", default="", help="comma-separated sections that must pass")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()

    base = pkits_dir()
    tsv = os.path.join(base, "pkits-expected.tsv")
    if not os.path.exists(tsv):
        print("SKIP: PKITS data not found at %s (set CERTVAL_PKITS_DIR)" % base)
        return 77
    with open(tsv, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))

    required = set(filter(None, args.require.split(",")))
    totals = collections.OrderedDict()
    failures = []
    known = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda r: run_row(r, base, args.revocation), rows))
    for row, got in results:
        key = (row["section"], row["section_name"])
        total = totals.setdefault(key, [0, 0, 0])  # passed, counted, left out
        left_out = args.revocation == "none" and row["id"] in REVOCATION_ONLY
        if left_out:
            total[2] += 1
            continue
        total[1] += 1
        gap = KNOWN_GAPS[args.revocation].get(row["id"])
        if got == row["expected"]:
            total[0] += 1
            if gap is not None:
                failures.append("%s %s: passes now: remove it from KNOWN_GAPS" %
                                (row["id"], row["name"]))
        elif gap is not None:
            known.append("%s %s: %s" % (row["id"], row["name"], gap))
        elif row["section"] in required:
            failures.append("%s %s: expected %s, got %s" % (row["id"], row["name"],
                                                           row["expected"], got))

    print("PKITS with --revocation %s" % args.revocation)
    for (section, name), (passed, counted, left_out) in sorted(
            totals.items(), key=lambda kv: [int(x) for x in kv[0][0].split(".")]):
        mark = "required" if section in required else "informational"
        extra = ", %d need revocation" % left_out if left_out else ""
        print("  %-5s %-42s %3d/%-3d %s%s" % (section, name, passed, counted, mark, extra))
    if args.revocation == "none":
        for rid, why in sorted(REVOCATION_ONLY.items()):
            print("  left out %s: %s" % (rid, why))
    for line in known:
        print("known gap " + line)
    for line in failures:
        print("FAIL " + line)
    counted = sum(t[1] for (s, _), t in totals.items() if s in required)
    print("%d passed, %d failed, %d known gaps" % (counted - len(failures) - len(known),
                                                  len(failures), len(known)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
