#!/usr/bin/env bash
# `meson install` works: install into a scratch DESTDIR, then build the README's example
# against the installed header, library and persona.pc only, and run it.
# usage: check_install.sh BUILD_DIR SOURCE_DIR CC
set -euo pipefail
build=$1 src=$2 cc=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
pc=$(find "$dest" -name persona.pc | head -1)
[ -n "$pc" ] || { echo "persona.pc not installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pc")")
incdir=$(find "$dest" -name persona.h -printf '%h\n' | head -1)
[ -f "$incdir/persona/store.h" ] || { echo "public headers not installed" >&2; exit 1; }
grep -q '^Libs: .*-lpersona' "$pc" || { echo "persona.pc has no -lpersona" >&2; exit 1; }
[ -e "$libdir/libpersona.so.1" ] || { echo "libpersona.so.1 (SONAME link) not installed" >&2; exit 1; }
"$cc" -std=c11 -I"$incdir" "$src/examples/quickstart/quickstart.c" -L"$libdir" -lpersona -o "$dest/quickstart"
out=$(LD_LIBRARY_PATH="$libdir" "$dest/quickstart")
[ "$out" = "u42: 1 events, value 19.90" ] || { echo "unexpected output: $out" >&2; exit 1; }
echo "1 passed, 0 failed"
