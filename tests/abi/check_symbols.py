#!/usr/bin/python3
"""Exported symbols, version script and header declarations must agree (CONVENTIONS §9-§12).

usage: check_symbols.py [--nm NM] LIBRARY MAP INCLUDE_DIR

Checks, each reported by file:line and all reported before failing:
  (a) `nm -D --defined-only LIBRARY` exports exactly the names listed in MAP (the version
      node symbols that nm shows with type A are ignored), each tagged with the map node
      that lists it (name@@PERSONA_X.Y), and MAP lists each name once;
  (b) every PERSONA_API declaration in INCLUDE_DIR/persona/*.h and INCLUDE_DIR/*.h is in
      MAP and every name in MAP is declared with PERSONA_API;
  (c) every PERSONA_API declaration has a /** */ block right before it (only white space
      in between) containing `@since X.Y` and, unless it returns void, `@return`; the
      @since version is the map node that lists the symbol (PERSONA_X.Y).
Exit 0 when everything agrees, 1 otherwise, 77 when nm is not installed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
IDENT = re.compile(r'[A-Za-z_]\w*')


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


def blank_comments(text):
    """Replace comments (and string/char literals' contents) by spaces, keeping offsets and
    newlines, so code can be searched without matching words inside comments."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != '\n':
                    out[k] = ' '
            i = j
        elif text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = ' '
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            for k in range(i + 1, min(j, n)):
                out[k] = ' '
            i = j + 1
        else:
            i += 1
    return ''.join(out)


def parse_map(path):
    """Return {symbol: (node, line)} and a list of problems."""
    text = open(path, encoding='utf-8').read()
    code = blank_comments(text)
    symbols, problems = {}, []
    for node in re.finditer(r'([A-Za-z_][\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;', code, re.S):
        name, body = node.group(1), node.group(2)
        body_start = node.start(2)
        section = None
        for tok in re.finditer(r'(global|local)\s*:|([^\s;:]+)\s*;', body):
            if tok.group(1):
                section = tok.group(1)
                continue
            sym = tok.group(2)
            where = '%s:%d' % (path, line_of(text, body_start + tok.start(2)))
            if section != 'global':
                if sym != '*':
                    problems.append('%s: %s is listed outside a global: section' % (where, sym))
                continue
            if sym in symbols:
                problems.append('%s: %s is listed twice (first in %s)' % (where, sym, symbols[sym][0]))
                continue
            if not sym.startswith('persona_'):
                problems.append('%s: %s does not start with persona_ (CONVENTIONS §1)' % (where, sym))
            symbols[sym] = (name, line_of(text, body_start + tok.start(2)))
    if not symbols:
        problems.append('%s: no global symbols found' % path)
    return symbols, problems


def exported_symbols(nm, lib):
    """Return {name: version} of the defined dynamic symbols, without type-A version nodes."""
    res = subprocess.run([nm, '-D', '--defined-only', lib], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    if res.returncode != 0:
        sys.exit('check_symbols: %s -D --defined-only %s failed (%d): %s'
                 % (nm, lib, res.returncode, res.stderr.strip()))
    out = {}
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        kind, name = parts[-2], parts[-1]
        if kind == 'A':  # version node (PERSONA_1.0), not a symbol
            continue
        version = ''
        if '@' in name:
            name, _, version = name.partition('@')
            version = version.lstrip('@')
        out[name] = version
    return out


def header_files(include_dir):
    files = []
    for sub in ('', 'persona'):
        d = os.path.join(include_dir, sub)
        if os.path.isdir(d):
            files += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.h'))
    return files


def parse_declarations(path):
    """Yield dicts for each PERSONA_API declaration: name, line, returns_void, doc (the
    /** */ block right before it or None)."""
    text = open(path, encoding='utf-8').read()
    code = blank_comments(text)
    for m in re.finditer(r'\bPERSONA_API\b', code):
        line_start = code.rfind('\n', 0, m.start()) + 1
        if code[line_start:m.start()].strip().startswith('#'):
            continue  # the #define PERSONA_API lines
        end = code.find(';', m.end())
        brace = code.find('{', m.end())
        if end < 0 or (0 <= brace < end):
            end = brace if brace >= 0 else len(code)
        decl = code[m.end():end]
        paren = decl.find('(')
        if paren < 0:
            yield {'name': None, 'line': line_of(text, m.start()), 'file': path,
                   'returns_void': False, 'doc': None,
                   'text': ' '.join(decl.split())}
            continue
        head = decl[:paren]
        names = IDENT.findall(head)
        name = names[-1] if names else None
        ret = head[:head.rfind(name)] if name else head
        ret_tokens = ret.replace('*', ' * ').split()
        ret_tokens = [t for t in ret_tokens if not t.startswith('PERSONA_DEPRECATED')]
        returns_void = ret_tokens == ['void']
        # The doc block: the text right before PERSONA_API (ignoring white space) must be
        # the end of a comment that starts with /**.
        # A PERSONA_DEPRECATED("...") written before PERSONA_API may sit in between.
        before = re.sub(r'(?:\bPERSONA_DEPRECATED\s*\([^()]*\)\s*)+$', '',
                        text[:m.start()].rstrip()).rstrip()
        doc = None
        if before.endswith('*/'):
            start = before.rfind('/*')
            if start >= 0 and before.startswith('/**', start) and not before.startswith('/**/', start):
                doc = before[start:]
        yield {'name': name, 'line': line_of(text, m.start()), 'file': path,
               'returns_void': returns_void, 'doc': doc, 'text': ' '.join(decl.split())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--nm', default=None, help='nm program (default: nm on PATH)')
    ap.add_argument('library')
    ap.add_argument('map')
    ap.add_argument('include_dir')
    args = ap.parse_args()

    nm = args.nm or shutil.which('nm')
    if not nm:
        print('check_symbols: nm not found, skipping', file=sys.stderr)
        return SKIP

    problems = []
    mapped, map_problems = parse_map(args.map)
    problems += map_problems

    # (a) exported == map
    exported = exported_symbols(nm, args.library)
    for sym in sorted(set(exported) - set(mapped)):
        problems.append('%s: exports %s, which %s does not list' % (args.library, sym, args.map))
    for sym in sorted(set(mapped) - set(exported)):
        problems.append('%s:%d: %s is listed but %s does not export it'
                        % (args.map, mapped[sym][1], sym, args.library))
    for sym in sorted(set(mapped) & set(exported)):
        if exported[sym] != mapped[sym][0]:
            problems.append('%s: %s has version %r, but %s:%d lists it in node %s'
                            % (args.library, sym, exported[sym] or '(none)', args.map,
                               mapped[sym][1], mapped[sym][0]))

    # (b) declarations == map, (c) docs
    declared = {}
    headers = header_files(args.include_dir)
    if not headers:
        problems.append('%s: no public headers found' % args.include_dir)
    for hdr in headers:
        for d in parse_declarations(hdr):
            where = '%s:%d' % (d['file'], d['line'])
            if d['name'] is None:
                problems.append('%s: PERSONA_API on something that is not a function: %s'
                                % (where, d['text']))
                continue
            if d['name'] in declared:
                problems.append('%s: %s declared again (first at %s)'
                                % (where, d['name'], declared[d['name']]))
                continue
            declared[d['name']] = where
            if d['name'] not in mapped:
                problems.append('%s: PERSONA_API %s is not in %s' % (where, d['name'], args.map))
            doc = d['doc']
            if doc is None:
                problems.append('%s: %s has no /** */ block right before it (CONVENTIONS §12)'
                                % (where, d['name']))
                continue
            since = re.search(r'@since\s+(\d+)\.(\d+)\b', doc)
            if not since:
                problems.append('%s: %s: doc block lacks @since X.Y (CONVENTIONS §12)'
                                % (where, d['name']))
            elif d['name'] in mapped:
                node = 'PERSONA_%s.%s' % (since.group(1), since.group(2))
                if mapped[d['name']][0] != node:
                    problems.append('%s: %s says @since %s.%s but %s:%d lists it in %s'
                                    % (where, d['name'], since.group(1), since.group(2),
                                       args.map, mapped[d['name']][1], mapped[d['name']][0]))
            if not d['returns_void'] and not re.search(r'@returns?\b', doc):
                problems.append('%s: %s returns a value but its doc block lacks @return '
                                '(CONVENTIONS §12)' % (where, d['name']))
    for sym in sorted(set(mapped) - set(declared)):
        problems.append('%s:%d: %s is in the map but no public header declares it with PERSONA_API'
                        % (args.map, mapped[sym][1], sym))

    print('check_symbols: %d exported, %d in the map, %d PERSONA_API declarations in %d headers'
          % (len(exported), len(mapped), len(declared), len(headers)))
    for p in problems:
        print('FAIL ' + p, file=sys.stderr)
    if problems:
        print('check_symbols: %d problem(s)' % len(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
