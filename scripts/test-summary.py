#!/usr/bin/env python3
"""test-summary.py: adds up meson's test logs (testlog.json of each build) into one closing
line "N passed, N failed, N skipped", counted per suite and build. Before it, it names every
suite that failed or was skipped, with the reason a skipped one printed ("SKIP: ..."), and the
single test cases that were skipped inside suites that passed (e.g. a case that needs root).

usage: test-summary.py BUILD/meson-logs/testlog.json...
"""
import json
import os
import re
import sys

SKIPPED_CASE = re.compile(r"\.\.\. skipped '(.*)'$")
SKIPPED_COUNT = re.compile(r"^OK \(.*skipped=(\d+)")
CASE_NAME = re.compile(r"^(test\w*) \(")


def build_name(path):
    """build-asan/meson-logs/testlog.json -> build-asan"""
    return os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(path))))


def output(test):
    return (test.get("stdout") or "") + (test.get("stderr") or "")


def skip_reason(test):
    """The line the suite printed to say why it skipped, else its last line."""
    lines = [line.strip() for line in output(test).splitlines() if line.strip()]
    for line in lines:
        if line.upper().startswith("SKIP"):
            return line
    return lines[-1] if lines else "(no reason printed)"


def skipped_cases(test):
    """(what, reason) of the unittest cases reported as skipped in a suite's output."""
    found, name = [], "?"
    for line in output(test).splitlines():
        m = CASE_NAME.match(line)
        if m:
            name = m.group(1)
        m = SKIPPED_CASE.search(line)
        if m:
            found.append(("case " + name, m.group(1)))
        m = SKIPPED_COUNT.match(line)
        if m and not found:  # a runner that does not name its cases
            found.append(("%s case(s)" % m.group(1), "reason not printed"))
    return found


def main(paths):
    passed = failed = skipped = 0
    notes = []
    for path in paths:
        build = build_name(path)
        with open(path, encoding="utf-8") as log:
            for line in log:
                test = json.loads(line)
                name, result = test.get("name", "?"), test.get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                    for case, reason in skipped_cases(test):
                        notes.append("%s: %s: %s skipped: %s" % (build, name, case, reason))
                elif result == "SKIP":
                    skipped += 1
                    notes.append("%s: %s: skipped: %s" % (build, name, skip_reason(test)))
                else:
                    failed += 1
                    notes.append("%s: %s: %s" % (build, name, result))
    for note in notes:
        print(note)
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
