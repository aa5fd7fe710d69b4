#!/usr/bin/env python3
"""Docs that must not drift from the code:
* docs/api.md equals what docs/gen_api.py makes from the headers;
* the C example in README.md is examples/quickstart/quickstart.c, byte for byte (that file
  is compiled and run as a test);
* every reject reason the library names appears in docs/ingest.md.
usage: check_docs.py SOURCE_ROOT"""
import re
import subprocess
import sys


def main():
    root = sys.argv[1]
    bad = []
    gen = subprocess.run([sys.executable, f"{root}/docs/gen_api.py", f"{root}/include"],
                         capture_output=True, text=True, check=True).stdout
    if gen != open(f"{root}/docs/api.md", encoding="utf-8").read():
        bad.append("docs/api.md is stale: run /usr/bin/python3 docs/gen_api.py include > docs/api.md")
    readme = open(f"{root}/README.md", encoding="utf-8").read()
    m = re.search(r"```c\n(.*?)```", readme, re.S)
    quick = open(f"{root}/examples/quickstart/quickstart.c", encoding="utf-8").read()
    if not m or m.group(1) != quick:
        bad.append("README.md's C example differs from examples/quickstart/quickstart.c")
    event_h = open(f"{root}/include/persona/event.h", encoding="utf-8").read()
    ingest = open(f"{root}/docs/ingest.md", encoding="utf-8").read()
    reasons = [r for r in re.findall(r"#define PERSONA_REJECT_([A-Z_0-9]+) \d+\s+/\*\*<", event_h)
               if r not in ("COUNT", "SLOTS", "EXAMPLES")]
    if len(reasons) < 12:
        bad.append(f"found only {len(reasons)} reject reasons in event.h: the pattern is stale")
    for r in reasons:
        if f"`{r.lower()}`" not in ingest:
            bad.append(f"docs/ingest.md does not describe the reject reason {r.lower()}")
    for b in bad:
        print(b, file=sys.stderr)
    checks = 2 + len(reasons) + 1
    print(f"{checks - len(bad)} passed, {len(bad)} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
