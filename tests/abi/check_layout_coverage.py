#!/usr/bin/python3
"""test_layout.c must pin everything the public headers define (CONVENTIONS §5, §10).

usage: check_layout_coverage.py INCLUDE_DIR TEST_LAYOUT_C

Fails, naming file:line, when
  - a public struct has no SIZE(T, n) line in TEST_LAYOUT_C, or one of its fields no
    FIELD(T, field, ...) line, or TEST_LAYOUT_C names a struct or field that no longer exists;
  - a field has a type CONVENTIONS §5 forbids in public structs (only int32_t, uint32_t,
    int64_t, uint64_t, double, size_t and pointers, no bitfields);
  - a `#define PERSONA_<NAME> <value>` constant has no CONST(PERSONA_<NAME>, ...) line;
  - a PERSONA_<TYPE>_INIT macro is not compared in TEST_LAYOUT_C.
Macros that are not ABI values (PERSONA_API, PERSONA_DEPRECATED, include guards, the
release-dependent PERSONA_VERSION_MINOR/PATCH/STRING) are exempt.
"""
import os
import re
import sys

EXEMPT = {'PERSONA_API', 'PERSONA_DEPRECATED', 'PERSONA_VERSION_MINOR',
          'PERSONA_VERSION_PATCH', 'PERSONA_VERSION_STRING'}
ALLOWED_SCALARS = {'int32_t', 'uint32_t', 'int64_t', 'uint64_t', 'double', 'size_t'}


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


def blank_comments(text):
    return re.sub(r'/\*.*?\*/', lambda m: re.sub(r'[^\n]', ' ', m.group(0)), text, flags=re.S)


def headers(include_dir):
    out = []
    for sub in ('', 'persona'):
        d = os.path.join(include_dir, sub)
        if os.path.isdir(d):
            out += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.h'))
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    include_dir, layout_path = sys.argv[1], sys.argv[2]
    layout = blank_comments(open(layout_path, encoding='utf-8').read())
    sizes = set(re.findall(r'\bSIZE\(\s*(persona_\w+)\s*,', layout))
    fields = set(re.findall(r'\bFIELD\(\s*(persona_\w+)\s*,\s*(\w+)\s*,', layout))
    consts = set(re.findall(r'\b(?:STR)?CONST\(\s*(PERSONA_\w+)\s*,', layout))
    inits = set(re.findall(r'\bINIT_(?:FN_AND_MACRO|FN_AND_MACRO_DEFAULTS|MACRO_ONLY)\([^;]*?\b(PERSONA_\w+_INIT)\s*\)',
                           layout))

    problems = []
    seen_structs, seen_fields = set(), set()
    n_consts = 0
    hdrs = headers(include_dir)
    for path in hdrs:
        text = open(path, encoding='utf-8').read()
        code = blank_comments(text)
        for m in re.finditer(r'typedef\s+struct\s+(persona_\w+)\s*\{(.*?)\}\s*(\w+)\s*;', code, re.S):
            name = m.group(1)
            seen_structs.add(name)
            where = '%s:%d' % (path, line_of(text, m.start()))
            if name not in sizes:
                problems.append('%s: struct %s has no SIZE(%s, n) in %s'
                                % (where, name, name, layout_path))
            pos = m.start(2)
            for decl in m.group(2).split(';'):
                dpos = pos
                pos += len(decl) + 1
                d = ' '.join(decl.split())
                if not d:
                    continue
                fwhere = '%s:%d' % (path, line_of(text, dpos + len(decl) - len(decl.lstrip())))
                fp = re.search(r'\(\s*\*\s*(\w+)\s*\)', d)
                if fp:
                    field, pointer = fp.group(1), True
                else:
                    fm = re.search(r'(\w+)\s*(?:\[[^\]]*\]\s*)*$', d)
                    if not fm:
                        problems.append('%s: cannot parse field "%s" of %s' % (fwhere, d, name))
                        continue
                    field = fm.group(1)
                    type_part = d[:fm.start(1)]
                    pointer = '*' in type_part
                    if ':' in d:
                        problems.append('%s: %s.%s is a bitfield (CONVENTIONS §5)'
                                        % (fwhere, name, field))
                    words = [w for w in re.findall(r'\w+', type_part) if w != 'const']
                    if not pointer and not (len(words) == 1 and (words[0] in ALLOWED_SCALARS or
                                                                 words[0].endswith('_fn'))):
                        problems.append('%s: %s.%s has type "%s"; public struct fields are only '
                                        'int32_t uint32_t int64_t uint64_t double size_t and '
                                        'pointers (CONVENTIONS §5)'
                                        % (fwhere, name, field, type_part.strip()))
                seen_fields.add((name, field))
                if (name, field) not in fields:
                    problems.append('%s: %s.%s has no FIELD(%s, %s, offset, size) in %s'
                                    % (fwhere, name, field, name, field, layout_path))
        guards = set(re.findall(r'^[ \t]*#[ \t]*ifndef[ \t]+(PERSONA_\w+)', code, re.M))
        for m in re.finditer(r'^[ \t]*#[ \t]*define[ \t]+(PERSONA_\w+)(\(?)', code, re.M):
            macro, is_function_like = m.group(1), m.group(2) == '('
            where = '%s:%d' % (path, line_of(text, m.start()))
            if macro in EXEMPT or is_function_like or macro in guards:
                continue
            if macro.endswith('_INIT'):
                if macro not in inits:
                    problems.append('%s: %s is not compared with its init function (or checked '
                                    'as zero) in %s' % (where, macro, layout_path))
                continue
            n_consts += 1
            if macro not in consts:
                problems.append('%s: constant %s has no CONST(%s, value) in %s'
                                % (where, macro, macro, layout_path))
    for s in sorted(sizes - seen_structs):
        problems.append('%s: SIZE(%s, ...) names a struct no public header defines'
                        % (layout_path, s))
    for s, f in sorted(fields - seen_fields):
        problems.append('%s: FIELD(%s, %s, ...) names a field no public header defines'
                        % (layout_path, s, f))

    print('check_layout_coverage: %d structs, %d fields, %d constants in %d headers'
          % (len(seen_structs), len(seen_fields), n_consts, len(hdrs)))
    for p in problems:
        print('FAIL ' + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
