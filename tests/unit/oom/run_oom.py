#!/usr/bin/env python3
"""Run test_oom and report how many allocation call sites of lib/ the scenarios reached.

usage: run_oom.py TEST_OOM LIB_DIR
A call site is a line of lib/**/*.c (other than the allocator wrappers themselves) that calls
persona__alloc / _calloc / _realloc / _realloc_array / _strndup / _grow; test_oom records the
file:line of every allocation it sees."""
import os
import re
import subprocess
import sys
import tempfile

CALL = re.compile(r"\bpersona__(alloc|calloc|realloc|realloc_array|strndup|grow)\s*\(")


def sites(lib):
    found = set()
    for root, _, files in os.walk(lib):
        for name in files:
            if not name.endswith(".c") or name == "alloc.c":
                continue
            path = os.path.join(root, name)
            for n, line in enumerate(open(path, encoding="utf-8"), 1):
                if CALL.search(line):
                    found.add((os.path.relpath(path, lib), n))
    return found


def main():
    exe, lib = sys.argv[1], sys.argv[2]
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as dump:
        rc = subprocess.run([exe, dump.name]).returncode
        reached = set()
        for line in open(dump.name):
            path, _, n = line.strip().rpartition(":")
            if "lib/" in path:
                reached.add((path.split("lib/", 1)[1], int(n)))
    total = sites(lib)
    hit = total & reached
    print(f"allocation call sites reached: {len(hit)}/{len(total)} "
          f"({100.0 * len(hit) / max(1, len(total)):.0f}%)", file=sys.stderr)
    for path, n in sorted(total - reached):
        print(f"  not reached: lib/{path}:{n}", file=sys.stderr)
    sys.exit(rc)


if __name__ == "__main__":
    main()
