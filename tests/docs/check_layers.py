#!/usr/bin/env python3
"""check_layers.py: the folders of the source tree are the layers README.md's "How it is built"
states, and no include crosses them upwards:

    common <- validator (with crl/, ocsp/, fetch/) <- cache <- policy <- ipc <- daemon, ctl
    client (libcertval) stands alone; ctl uses it.

It also keeps validator/x509int.h private to the validator's own top-level files, and
gnutls_x509_crt_t (the GnuTLS certificate object) inside validator/.

Usage: check_layers.py [--root DIR]   (default: the source tree above tests/docs)
       check_layers.py --self-test    (the checker accepts a downward include and refuses an
                                       upward one, a private header and a GnuTLS certificate)
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

# What each layer may include, itself included.
BELOW = {
    "common": set(),
    "validator": {"common"},
    "cache": {"common", "validator"},
    "policy": {"common", "validator", "cache"},
    "ipc": {"common", "validator", "cache", "policy"},
    "daemon": {"common", "validator", "cache", "policy", "ipc"},
    "ctl": {"common", "validator", "cache", "policy", "ipc", "client"},
    "client": set(),
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
CRT = re.compile(r"\bgnutls_x509_crt_t\b")
PRIVATE = os.path.join("validator", "x509int.h")


def sources(root):
    """(path relative to root, layer) of every C file of the layers."""
    for layer in sorted(BELOW):
        top = os.path.join(root, layer)
        for dirpath, _, files in os.walk(top):
            for name in sorted(files):
                if name.endswith((".c", ".h")):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    yield rel, layer


def problems(root):
    """The violations, one message each."""
    out = []
    for rel, layer in sources(root):
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), inc))
            if target.startswith(".."):
                out.append(f"{rel}: includes {inc}, outside the tree")
                continue
            to = target.split(os.sep)[0]
            if to in BELOW and to != layer and to not in BELOW[layer]:
                out.append(f"{rel}: includes {inc}: {layer}/ may not include from {to}/")
            if target == PRIVATE and os.path.dirname(rel) != "validator":
                out.append(f"{rel}: includes {inc}: x509int.h is private to validator/'s "
                           "own files (validator/crl and validator/ocsp use cert_crt.h)")
        if layer != "validator" and CRT.search(text):
            out.append(f"{rel}: uses gnutls_x509_crt_t outside validator/")
    return out


def self_test():
    """A tree with one file per case: the good one passes, each bad one is reported."""
    cases = {
        "policy/good.c": '#include "../validator/cert.h"\n#include "../common/util.h"\n',
        "validator/crl/good.c": '#include "../cert_crt.h"\n#include "../../common/error.h"\n',
        "validator/up.c": '#include "../cache/crl_store.h"\n',
        "validator/ocsp/private.c": '#include "../x509int.h"\n',
        "daemon/ctl.c": '#include "../ctl/ctl.h"\n',
        "ipc/crt.c": "gnutls_x509_crt_t crt;\n",
    }
    bad = {"validator/up.c", "validator/ocsp/private.c", "daemon/ctl.c", "ipc/crt.c"}
    tmp = tempfile.mkdtemp()
    try:
        for rel, text in cases.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w", encoding="utf-8") as f:
                f.write(text)
        found = {p.split(":")[0] for p in problems(tmp)}
    finally:
        shutil.rmtree(tmp)
    if found != bad:
        print(f"self-test: reported {sorted(found)}, expected {sorted(bad)}")
        return 1
    print("self-test: the downward includes pass, the 4 violations are reported")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    found = problems(os.path.abspath(args.root))
    for p in found:
        print(p)
    if found:
        print(f"{len(found)} layering violations (README.md, How it is built)")
        return 1
    print("layering: no include crosses a layer upwards")
    return 0


if __name__ == "__main__":
    sys.exit(main())
