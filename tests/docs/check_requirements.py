#!/usr/bin/env python3
"""check_requirements.py: every requirement identifier the tree cites resolves in
docs/requirements.md, so that the list of what R12, O-11 or D-3 mean cannot drift.

Cited forms: Rn with an optional letter (R11c), O-n, D-n, "scenario n", and "section n" after
SPEC or before docs/requirements.md.
Tables in docs/requirements.md list one identifier per row, in the first column.

Usage: check_requirements.py [--root DIR]   (default: the source tree above tests/docs)
       check_requirements.py --self-test    (the checker accepts a listed id and refuses one
                                             that is not)
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

DOC = os.path.join("docs", "requirements.md")
SELF = os.path.join("tests", "docs", "check_requirements.py")  # its self-test cites unknown ids
ID = re.compile(r"\b(R\d+[a-z]?|O-\d+|D-\d+)\b")
OTHER = re.compile(r"\b(scenario \d+)\b", re.IGNORECASE)
SECTION = re.compile(r"\bSPEC(?:\.md)?,? (section \d+)\b"
                     r"|\b(section \d+)(?: of| in)? \(?docs/requirements\.md", re.IGNORECASE)
ROW = re.compile(r"^\|\s*([^|]+?)\s*\|")
SKIP_DIRS = {".git", "corpus", "__pycache__"}


def listed_ids(doc_path):
    """The identifiers in the first column of the document's tables."""
    ids = set()
    with open(doc_path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line)
            if m and not set(m.group(1)) <= set("-: "):
                ids.add(m.group(1).lower())
    return ids


def tree_files(root):
    """The tracked and untracked-but-not-ignored files, or a walk without build directories."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True)
        names = [n for n in out.stdout.decode().split("\0") if n]
        if names:
            return [n for n in names if not set(n.split("/")) & SKIP_DIRS]
    except (OSError, subprocess.CalledProcessError):
        pass
    names = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")
                   and not os.path.exists(os.path.join(d, x, "meson-private"))]
        names += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return names


def cited_ids(root, names):
    """(file, line number, id) for each citation outside the document itself."""
    for name in names:
        if name in (DOC, SELF):
            continue
        try:
            with open(os.path.join(root, name), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError):
            continue  # binary files (DER, corpora) cite nothing
        for n, line in enumerate(lines, 1):
            for m in ID.finditer(line):
                yield name, n, m.group(1)
            for m in OTHER.finditer(line):
                yield name, n, m.group(1)
            for m in SECTION.finditer(line):
                yield name, n, m.group(1) or m.group(2)


def check(root):
    doc = os.path.join(root, DOC)
    if not os.path.exists(doc):
        print("%s is missing" % DOC)
        return 1
    known = listed_ids(doc)
    unknown = [(f, n, i) for f, n, i in cited_ids(root, tree_files(root))
               if i.lower() not in known]
    for f, n, i in unknown:
        print("%s:%d: %s is not explained in %s" % (f, n, i, DOC))
    if unknown:
        print("%d citations do not resolve: add the identifiers to %s" % (len(unknown), DOC))
        return 1
    print("every cited requirement identifier is in %s (%d listed)" % (DOC, len(known)))
    return 0


def self_test():
    """The checker passes a tree whose citations are listed, and fails one that cites an
    unlisted id of each form."""
    results = []
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "docs"))
        with open(os.path.join(d, DOC), "w") as f:
            f.write("| id | meaning |\n|---|---|\n| R12 | x |\n| R11c | y |\n| O-3 | z |\n"
                    "| scenario 2 | s |\n| section 5 | t |\n")
        with open(os.path.join(d, "a.c"), "w") as f:
            f.write("/* SPEC R12, R11c, O-3, scenario 2, SPEC section 5, RFC 5280 section 6 */\n")
        results.append(check(d))
        for text in ("/* D-9 */", "# R11d", "R13", "scenario 7", "(SPEC section 4)",
                     "section 3 of docs/requirements.md"):
            with open(os.path.join(d, "b.c"), "w") as f:
                f.write(text + "\n")
            results.append(check(d))
    if results != [0] + [1] * 6:
        print("self-test failed: %r" % (results,))
        return 1
    print("self-test passed")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", ".."))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    return self_test() if args.self_test else check(os.path.abspath(args.root))


if __name__ == "__main__":
    sys.exit(main())
