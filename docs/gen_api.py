#!/usr/bin/env python3
"""Write docs/api.md from the public headers' doc comments (the headers are the reference;
this page is their index). usage: gen_api.py INCLUDE_DIR > docs/api.md
tests check that the committed docs/api.md equals this script's output."""
import os
import re
import sys

DECL = re.compile(r"/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*(?P<decl>PERSONA_API[^;]*;)", re.S)
FILE_DOC = re.compile(r"/\*\*\s*\n\s*\*\s*@file.*?\*/", re.S)


def clean(doc):
    lines = [re.sub(r"^\s*\*\s?", "", l) for l in doc.strip().splitlines()]
    return "\n".join(l.rstrip() for l in lines).strip()


def main():
    inc = sys.argv[1]
    out = ["# API reference", "",
           "Generated from the doc comments of `include/persona/*.h` by `docs/gen_api.py`;",
           "the headers are the authoritative reference. Every function returns `PERSONA_OK`",
           "(0) or a negative `PERSONA_E*` code unless it says otherwise; details of a failure",
           "are in `persona_errmsg()` on the same thread.", ""]
    # Every header the umbrella includes, in its order, so a new one cannot be left out.
    umbrella = open(os.path.join(inc, "persona.h"), encoding="utf-8").read()
    for name in re.findall(r'#include "persona/(\w+\.h)"', umbrella):
        text = open(os.path.join(inc, "persona", name), encoding="utf-8").read()
        out.append(f"## `persona/{name}`")
        out.append("")
        m = FILE_DOC.search(text)
        if m:
            body = clean(m.group(0)[3:-2])
            body = re.sub(r"^@file.*\n?", "", body)
            body = re.sub(r"^@brief\s*", "", body, flags=re.M)
            out += [body, ""]
        for d in DECL.finditer(text):
            decl = " ".join(d.group("decl").replace("PERSONA_API ", "").split())
            fname = re.search(r"(persona_\w+)\s*\(", decl).group(1)
            out += [f"### `{fname}`", "", "```c", decl, "```", "", clean(d.group("doc")), ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
