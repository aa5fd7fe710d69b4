#!/usr/bin/python3
"""Bad-input catalogue runner (TESTING §1 "batches keep the good", §11).

    run_bad_cases.py PERSONA_CLI CATALOGUE_DIR [-v] [-k SUBSTRING] [--line N]

(-v lists passing rows too; -k runs the rows whose file name contains SUBSTRING; --line
runs the row on line N of cases.tsv.)

CATALOGUE_DIR/cases.tsv has one row per input file, tab-separated:

    file  format  flags  expected  [extra]

  file      a file in CATALOGUE_DIR
  format    csv or jsonl (passed as --input-format, whatever the file is named)
  flags     command-line flags of `persona stats` (mapping, --delimiter, --strict), split
            like a shell would (shlex); '-' for none
  expected  either a whole-file error: `exit=N key phrase` (the exit status and a phrase
            that must appear in stderr), or per-reason counts: `accepted=N reason=N ...`
            (every reason not listed must be 0; `rows=N` is rows_read, by default
            accepted + the listed rejects)
  extra     optional space-separated tokens:
              bad_lines=3,5   the physical lines (1-based, header = line 1) of the rejected
                              rows; needed when a count row has rejects
              bug=NAME        a known library bug: `expected` is what the documentation
                              says, the library does otherwise. Still checked: while it
                              differs the row is reported as KNOWN BUG and does not fail
                              the run; once it matches, the row fails as FIXED so that the
                              mark gets removed.

For every row `persona stats FILE FLAGS --input-format F --format json` is run and compared
exactly: the exit status, and either the stderr phrase or rows_read, events_accepted and the
count of every reject reason. For count rows with rejects, the mixed-batch rule is checked
too: FILE without its bad lines (written to a temp dir as NAME.good) must give a
byte-identical `persona profiles --format json` output.

Prints one line per mismatch and ends with `N passed, N failed` (plus known bugs); exits 1
if anything failed. Python 3 standard library only."""
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile

REASONS = ['missing_user', 'bad_time', 'bad_number', 'bad_utf8', 'field_count',
           'duplicate_id', 'too_long', 'missing_event', 'bad_quote', 'bad_json',
           'wrong_type', 'nul_byte']


class Case:
    def __init__(self, lineno, fields):
        self.lineno = lineno
        self.file, self.format, flags, self.expected = fields[:4]
        self.flags = [] if flags.strip() in ('', '-') else shlex.split(flags)
        self.bad_lines = []
        self.bug = None
        for tok in (fields[4].split() if len(fields) > 4 else []):
            key, _, val = tok.partition('=')
            if key == 'bad_lines':
                self.bad_lines = [int(x) for x in val.split(',') if x]
            elif key == 'bug':
                self.bug = val
            else:
                raise ValueError('unknown token %r' % tok)
        if self.format not in ('csv', 'jsonl'):
            raise ValueError('format must be csv or jsonl, got %r' % self.format)
        exp = self.expected.split()
        if exp and exp[0].startswith('exit='):
            self.exit = int(exp[0][5:])
            self.phrase = self.expected.split(None, 1)[1] if len(exp) > 1 else ''
            self.counts = None
        else:
            self.exit = 0
            self.phrase = None
            self.counts = {}
            for tok in exp:
                key, eq, val = tok.partition('=')
                if not eq or key not in ['accepted', 'rows'] + REASONS:
                    raise ValueError('bad expected token %r' % tok)
                self.counts[key] = int(val)
            if 'accepted' not in self.counts:
                raise ValueError('count rows need accepted=N')


def load_cases(path):
    cases = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            fields = line.split('\t')
            if len(fields) < 4:
                raise ValueError('%s:%d: want 4 or 5 tab-separated columns' % (path, n))
            try:
                cases.append(Case(n, fields))
            except ValueError as e:
                raise ValueError('%s:%d: %s' % (path, n, e))
    return cases


def run(cli, args):
    p = subprocess.run([cli] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode('utf-8', 'replace')


def check_case(cli, root, tmp, c):
    """Mismatches of one case (empty list = pass)."""
    path = os.path.join(root, c.file)
    if not os.path.isfile(path):
        return ['missing file']
    common = c.flags + ['--input-format', c.format]
    code, out, err = run(cli, ['stats', path] + common + ['--format', 'json'])
    problems = []
    if c.counts is None:
        if code != c.exit:
            problems.append('exit %d, want %d (stderr: %s)' % (code, c.exit, err.strip()[:200]))
        if c.phrase and c.phrase not in err:
            problems.append('stderr lacks %r: %s' % (c.phrase, err.strip()[:200]))
        return problems
    if code != 0:
        return ['exit %d, want 0 (stderr: %s)' % (code, err.strip()[:200])]
    try:
        got = json.loads(out)
    except ValueError:
        return ['stats output is not JSON: %r' % out[:200]]
    want = {r: c.counts.get(r, 0) for r in REASONS}
    rejected = sum(want.values())
    want_rows = c.counts.get('rows', c.counts['accepted'] + rejected)
    checks = [('rows_read', want_rows), ('events_accepted', c.counts['accepted']),
              ('events_rejected', rejected)] + [('rejected_' + r, want[r]) for r in REASONS]
    diffs = ['%s=%s want %s' % (k, got.get(k), v) for k, v in checks if got.get(k) != v]
    if diffs:
        problems.append('counts: ' + ', '.join(diffs))
    if rejected and not c.bad_lines:
        problems.append('count row with rejects needs bad_lines=')
    if c.bad_lines and not problems:
        problems += check_mixed_batch(cli, path, tmp, c, common)
    return problems


def check_mixed_batch(cli, path, tmp, c, common):
    """The file minus its bad lines gives the same profiles as the whole file."""
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')
    drop = set(c.bad_lines)
    if max(drop) > len(lines) or min(drop) < 1:
        return ['bad_lines outside the file (%d lines)' % len(lines)]
    if c.format == 'csv' and 1 in drop:
        return ['bad_lines must not name the header (line 1)']
    good = b'\n'.join(l for i, l in enumerate(lines, 1) if i not in drop)
    os.makedirs(tmp, exist_ok=True)
    good_path = os.path.join(tmp, os.path.basename(c.file) + '.good')
    with open(good_path, 'wb') as f:
        f.write(good)
    code_a, out_a, err_a = run(cli, ['profiles', path] + common + ['--format', 'json'])
    code_b, out_b, err_b = run(cli, ['profiles', good_path] + common + ['--format', 'json'])
    if code_a or code_b:
        return ['profiles failed: exit %d / %d (%s%s)' % (code_a, code_b, err_a.strip()[:100],
                                                         err_b.strip()[:100])]
    code_s, out_s, _ = run(cli, ['stats', good_path] + common + ['--format', 'json'])
    problems = []
    if code_s == 0:
        st = json.loads(out_s)
        if st.get('events_rejected') != 0:
            problems.append('mixed batch: the .good file still has %s rejects'
                            % st.get('events_rejected'))
        if st.get('events_accepted') != c.counts['accepted']:
            problems.append('mixed batch: the .good file has %s events, want %d'
                            % (st.get('events_accepted'), c.counts['accepted']))
    if out_a != out_b:
        a, b = out_a.decode('utf-8', 'replace').splitlines(), out_b.decode('utf-8', 'replace').splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        problems.append('mixed batch: profiles differ from the file without lines %s '
                        '(first difference at output line %d: %r vs %r)'
                        % (','.join(map(str, c.bad_lines)), first + 1,
                           a[first][:120] if first < len(a) else None,
                           b[first][:120] if first < len(b) else None))
    return problems


def main(argv):
    verbose = '-v' in argv
    argv = [a for a in argv if a != '-v']
    only = None
    only_line = None
    if '-k' in argv:
        i = argv.index('-k')
        only = argv[i + 1]
        del argv[i:i + 2]
    if '--line' in argv:
        i = argv.index('--line')
        only_line = int(argv[i + 1])
        del argv[i:i + 2]
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    cli, root = argv[1], argv[2]
    cases = load_cases(os.path.join(root, 'cases.tsv'))
    passed = failed = known = 0
    cases = [c for c in cases
             if not (only and only not in c.file) and not (only_line and c.lineno != only_line)]
    with tempfile.TemporaryDirectory(prefix='persona-bad-') as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        # Each case gets its own temp dir: cases may share a file name.
        results = pool.map(lambda ic: check_case(cli, root, os.path.join(tmp, str(ic[0])), ic[1]),
                           enumerate(cases))
        for c, problems in zip(cases, results):
            where = '%s (cases.tsv:%d, %s %s)' % (c.file, c.lineno, c.format,
                                                  ' '.join(c.flags) or '-')
            if c.bug:
                if problems:
                    known += 1
                    print('KNOWN BUG %s: %s: %s' % (c.bug, where, '; '.join(problems)))
                else:
                    failed += 1
                    print('FIXED? %s: %s now gives the documented result: remove bug=%s'
                          % (c.bug, where, c.bug))
            elif problems:
                failed += 1
                print('FAIL %s: %s' % (where, '; '.join(problems)))
            else:
                passed += 1
                if verbose:
                    print('ok   %s' % where)
    print('%d passed, %d failed, %d known bugs (rows marked bug=, not counted as failures)'
          % (passed, failed, known))
    if passed + failed + known == 0:
        print('no case was run')
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
