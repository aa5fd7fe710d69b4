#!/usr/bin/python3
"""A public header must compile alone (CONVENTIONS §11, §13; TESTING §9).

usage: check_header.py --lang c|c++ --include-dir DIR --header persona/store.h -- COMPILER...

Writes a translation unit that includes only HEADER (twice, to exercise its include guard)
and uses every PERSONA_*_INIT macro the header defines (so the initializers compile
warning-free too), then compiles it with
    C:   COMPILER -std=c11   -pedantic -Werror -Wall -Wextra -c
    C++: COMPILER -std=c++11 -pedantic -Werror -Wall -Wextra -c
Exit 0 when it compiles, 1 when not (compiler output on stderr), 77 when no compiler
was given (e.g. no C++ compiler installed).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77
FLAGS = {
    'c': ['-std=c11', '-pedantic', '-Werror', '-Wall', '-Wextra', '-x', 'c'],
    'c++': ['-std=c++11', '-pedantic', '-Werror', '-Wall', '-Wextra', '-x', 'c++'],
}


def init_macros(path):
    """PERSONA_<TYPE>_INIT macros defined in the header, with the type they initialize."""
    text = open(path, encoding='utf-8').read()
    return [(m.group(1), 'persona_' + m.group(2).lower())
            for m in re.finditer(r'^\s*#\s*define\s+(PERSONA_(\w+)_INIT)\s*\{', text, re.M)]


def main():
    argv = sys.argv[1:]
    if '--' not in argv:
        sys.exit('usage: check_header.py --lang c|c++ --include-dir DIR --header H -- COMPILER...')
    split = argv.index('--')
    ap = argparse.ArgumentParser()
    ap.add_argument('--lang', choices=sorted(FLAGS), required=True)
    ap.add_argument('--include-dir', required=True)
    ap.add_argument('--header', required=True, help='path relative to the include dir')
    args = ap.parse_args(argv[:split])
    compiler = argv[split + 1:]
    if not compiler:
        print('check_header: no %s compiler, skipping' % args.lang, file=sys.stderr)
        return SKIP

    header_path = os.path.join(args.include_dir, args.header)
    if not os.path.isfile(header_path):
        print('check_header: %s does not exist' % header_path, file=sys.stderr)
        return 1
    lines = ['#include <%s>' % args.header, '#include <%s>' % args.header, '']
    macros = init_macros(header_path)
    if macros:
        lines.append('void persona_header_check(void);')
        lines.append('void persona_header_check(void)')
        lines.append('{')
        for i, (macro, typ) in enumerate(macros):
            lines.append('    %s v%d = %s;' % (typ, i, macro))
            lines.append('    (void)v%d;' % i)
        lines.append('}')
    else:
        # Keep the unit non-empty in ISO C even if the header declared nothing.
        lines.append('typedef int persona_header_check_unit;')
    source = '\n'.join(lines) + '\n'

    with tempfile.TemporaryDirectory(prefix='persona-header-') as tmp:
        ext = '.c' if args.lang == 'c' else '.cpp'
        tu = os.path.join(tmp, 'only_' + re.sub(r'\W', '_', args.header) + ext)
        with open(tu, 'w', encoding='utf-8') as f:
            f.write(source)
        cmd = compiler + FLAGS[args.lang] + ['-I', args.include_dir, '-c', tu,
                                             '-o', os.path.join(tmp, 'tu.o')]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True)
    print(' '.join(cmd))
    if res.returncode != 0:
        print('FAIL %s does not compile alone as %s:' % (header_path, args.lang.upper()),
              file=sys.stderr)
        print(source, file=sys.stderr)
        print(res.stdout, file=sys.stderr)
        return 1
    print('%s compiles alone as %s (%d _INIT macro(s) used)'
          % (header_path, args.lang.upper(), len(macros)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
