#!/usr/bin/python3
"""Writes the bad-input catalogue: the input files of this directory and cases.tsv.

    /usr/bin/python3 tests/data/bad/make_cases.py        # from anywhere

Every case below is written by hand: the input (a list of lines; rows wrapped in Bad(...)
are the ones that must be rejected), the `persona stats` flags, and the expected result
worked out from the documented rules, not from running the library:

  include/persona/source.h   column mapping; CSV per RFC 4180 (quotes, CRLF or LF, BOM);
                             JSONL: one object per line, strings and numbers accepted for
                             every field, null = absent, a JSON number time is unix s / ms
  include/persona/event.h    reject reasons; PERSONA_MAX_KEY_LEN 4096
  include/persona/common.h   persona_time_parse() formats and range (years 0001-9999)
  lib/source/csv_reader.h, lib/source/jsonl_reader.h   the reader rules (a lone CR is
                             data, line numbers are physical, reject reason order)
  The split of checks: the source rejects field count, quoting, NUL bytes, time, number,
  JSON syntax and types (in that order, before the store sees the row); the store then
  rejects an empty user, an empty event type, invalid UTF-8 and keys over 4096 bytes (in
  the order user, type, item, basket, event id, properties), then duplicate event ids.
  Blank lines are skipped and not counted (CSV: empty lines; JSONL: only whitespace).

The generator only turns the Bad(...) markers into physical line numbers (bad_lines=, used
by the mixed-batch check) and checks that their number equals the rejects written in the
expected column. A case marked bug= is a known library bug: the expected column holds the
documented result (see the comment at the case and run_bad_cases.py)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = []


class Bad:
    """A row (possibly spanning several physical lines) that must be rejected."""

    def __init__(self, text):
        self.text = text


def add(name, fmt, lines, expected, flags='-', bug=None, eol=b'\n', final_eol=True,
        raw=None, note=''):
    """lines: the physical content (bytes or Bad); raw: the exact bytes instead."""
    bad_lines = []
    if raw is None:
        out = []
        line = 1
        for item in lines:
            text = item.text if isinstance(item, Bad) else item
            n_lf = text.count(b'\n') + 1
            if isinstance(item, Bad):
                bad_lines.extend(range(line, line + n_lf))
            line += n_lf
            out.append(text)
        data = eol.join(out) + (eol if final_eol and out else b'')
    else:
        data = raw
    n_bad = sum(isinstance(i, Bad) for i in lines)
    if not expected.startswith('exit='):
        rejects = sum(int(t.split('=')[1]) for t in expected.split()
                      if not t.startswith(('accepted=', 'rows=')))
        assert rejects == n_bad, '%s: %d rejects expected, %d Bad rows' % (name, rejects, n_bad)
    CASES.append((name + ('.csv' if fmt == 'csv' else '.jsonl'), fmt, flags, expected,
                  bad_lines, bug, data, note))


# ----------------------------------------------------------------------------- CSV
H = b'user_id,timestamp,event,value'
T = b'2021-03-04T10:00:00Z'


def g(i):
    """A good CSV row of user u<i>."""
    return b'u%d,2021-03-04T10:%02d:00Z,view,%d' % (i, i % 60, i)


def r(user=b'u9', time=T, event=b'view', value=b'1', extra=()):
    return b','.join([user, time, event, value] + list(extra))


def one(name, row, reason, flags='-', header=H, bug=None, good=g, note=''):
    """Header, a good row, the bad row (line 3), another good row."""
    add(name, 'csv', [header, good(1), Bad(row), good(2)], 'accepted=2 %s=1' % reason,
        flags, bug, note=note)


def ok(name, rows, flags='-', header=H, note=''):
    """Rows that must all be accepted."""
    add(name, 'csv', [header] + rows, 'accepted=%d' % len(rows), flags, note=note)


def err(name, data, exit_code, phrase, flags='-', fmt='csv', note=''):
    add(name, fmt, [], 'exit=%d %s' % (exit_code, phrase), flags, raw=data, note=note)


# RFC 4180 quoting
one('csv_stray_quote_user', b'u"3,' + T + b',view,1', 'bad_quote')
one('csv_stray_quote_event', r(event=b'vi"ew'), 'bad_quote')
one('csv_stray_quote_field_end', r(value=b'1"'), 'bad_quote')
one('csv_text_after_closing_quote', r(user=b'"u3"x'), 'bad_quote')
one('csv_space_after_closing_quote', r(user=b'"u3" '), 'bad_quote')
one('csv_space_before_opening_quote', r(user=b' "u3"'), 'bad_quote')
add('csv_quote_after_quoted_field', 'csv', [H, g(1), Bad(r(event=b'"view""') + b'\n' + g(2))],
    'accepted=1 bad_quote=1',
    note='"view"" opens a quoted field, "" is a quote, and nothing closes it: the rest of the '
         'input is one broken record')
add('csv_unterminated_quote_last_row', 'csv', [H, g(1), g(2), Bad(r(event=b'"view'))],
    'accepted=2 bad_quote=1')
add('csv_unterminated_quote_eats_rest', 'csv',
    [H, g(1), Bad(b'"u3,' + T + b',view,1\n' + g(4) + b'\n' + g(5))],
    'accepted=1 bad_quote=1', note='an unterminated quote makes the rest one broken record')
ok('csv_doubled_quotes', [b'"u""1",' + T + b',"say ""hi""",1', b'"u2","' + T + b'","view","2"'])
ok('csv_quoted_delimiters', [b'"u,1",' + T + b',"a,b",1', b'u2,' + T + b',"x,y,z",2'])
ok('csv_quoted_newline_user', [b'"u\n1",' + T + b',view,1', g(2), g(3)])
add('csv_quoted_newline_then_bad_row', 'csv',
    [H, b'"u\n1",' + T + b',view,1', Bad(r(time=b'not-a-time')), g(2)],
    'accepted=2 bad_time=1', note='line numbers are physical: the bad row is line 4')
add('csv_quoted_crlf_in_field_crlf_file', 'csv',
    [H, b'"u1","' + T + b'","multi\r\nline",1', Bad(r(value=b'x')), g(2)],
    'accepted=2 bad_number=1', eol=b'\r\n')
ok('csv_quoted_empty_value', [r(user=b'u1', value=b'""'), g(2)],
   note='"" is an empty value cell: no value')
one('csv_quoted_empty_user', r(user=b'""'), 'missing_user')

# field counts, blank and odd lines
one('csv_too_few_fields', b'u3,' + T + b',view', 'field_count')
one('csv_too_many_fields', r(extra=[b'extra']), 'field_count')
one('csv_trailing_delimiter', r() + b',', 'field_count')
one('csv_single_word_line', b'justtext', 'field_count')
one('csv_whitespace_only_line', b'   ', 'field_count', note='spaces are data: not a blank line')
one('csv_tab_only_line', b'\t', 'field_count')
one('csv_only_delimiters', b',,,', 'bad_time', note='4 empty fields: time is checked first')
add('csv_empty_lines_skipped', 'csv', [H, b'', g(1), b'', b'', g(2), b''], 'accepted=2 rows=2')
add('csv_crlf_empty_lines_skipped', 'csv', [H, b'', g(1), b'', g(2)], 'accepted=2 rows=2',
    eol=b'\r\n')
add('csv_mixed_line_endings', 'csv', [], 'accepted=3',
    raw=H + b'\r\n' + g(1) + b'\n' + g(2) + b'\r\n' + g(3))
add('csv_cr_only_line_ends', 'csv', [], 'accepted=0 rows=0',
    raw=H + b'\r' + g(1) + b'\r' + g(2) + b'\r',
    note='a lone CR is data: the whole file is the header row, no data rows')
one('csv_cr_inside_row', g(3) + b'\r' + g(4), 'field_count',
    note='a lone CR is data: one record of 7 fields')
one('csv_cr_before_crlf', r(value=b'1\r\r'), 'bad_number',
    note='"1<CR><CR><LF>": the first CR is data, so the value is "1<CR>"')
ok('csv_no_final_newline', [g(1), g(2)])
add('csv_no_final_newline_bad_last', 'csv', [H, g(1), Bad(r(time=b'x'))], 'accepted=1 bad_time=1',
    final_eol=False)

# BOM
add('csv_bom_at_start', 'csv', [], 'accepted=2', raw=b'\xef\xbb\xbf' + H + b'\n' + g(1) + b'\n' + g(2) + b'\n')
ok('csv_bom_in_middle_user', [g(1), b'\xef\xbb\xbfu2,' + T + b',view,1', g(3)],
   note='a BOM inside the data is the character U+FEFF: user "\\ufeffu2" is valid UTF-8')
one('csv_bom_in_middle_time', r(time=b'\xef\xbb\xbf' + T), 'bad_time')
err('csv_double_bom', b'\xef\xbb\xbf\xef\xbb\xbf' + H + b'\n' + g(1) + b'\n', 2,
    "user column 'user_id' is not in the header",
    note='only the first BOM is skipped; the second is part of the first column name')

# NUL bytes
one('csv_nul_in_user', b'u\x003,' + T + b',view,1', 'nul_byte')
one('csv_nul_in_quoted_user', b'"u\x003",' + T + b',view,1', 'nul_byte')
one('csv_nul_in_time', r(time=b'2021-03-04\x00T10:00:00Z'), 'nul_byte')
one('csv_nul_alone', b'\x00', 'nul_byte')
one('csv_nul_in_unmapped_column', r(extra=[b'no\x00te']), 'nul_byte',
    header=H + b',note', good=lambda i: g(i) + b',n')

# header problems (whole-file errors)
err('csv_empty_file', b'', 1, 'the input is empty')
err('csv_bom_only', b'\xef\xbb\xbf', 1, 'the input is empty')
err('csv_header_unterminated_quote', b'user_id,"timestamp,event,value\n' + g(1) + b'\n', 1,
    'header: the first row is not valid CSV (bad_quote)')
err('csv_header_stray_quote', b'user_id,time"stamp,event,value\n' + g(1) + b'\n', 1,
    'header: the first row is not valid CSV (bad_quote)')
err('csv_header_nul', b'user_id,timestamp\x00,event,value\n' + g(1) + b'\n', 1,
    'header: the first row is not valid CSV (nul_byte)')
err('csv_header_bad_utf8', b'user_id,timestamp,ev\xffent,value\n' + g(1) + b'\n', 1,
    'header: column 3 is not valid UTF-8')
err('csv_header_missing_user', b'uid,timestamp,event,value\n' + g(1) + b'\n', 2,
    "user column 'user_id' is not in the header")
err('csv_header_missing_time', b'user_id,time,event,value\n' + g(1) + b'\n', 2,
    "time column 'timestamp' is not in the header")
err('csv_header_trailing_space', b'user_id ,timestamp,event,value\n' + g(1) + b'\n', 2,
    "user column 'user_id' is not in the header")
err('csv_header_wrong_case', b'User_Id,timestamp,event,value\n' + g(1) + b'\n', 2,
    "user column 'user_id' is not in the header")
add('csv_header_only', 'csv', [H], 'accepted=0 rows=0')
add('csv_header_only_no_newline', 'csv', [H], 'accepted=0 rows=0', final_eol=False)
add('csv_header_then_blank_lines', 'csv', [H, b'', b'', b''], 'accepted=0 rows=0')
add('csv_no_event_no_value_columns', 'csv', [b'user_id,timestamp', b'u1,' + T, Bad(b',' + T), b'u2,' + T],
    'accepted=2 missing_user=1', note='event defaults to the constant "event", value absent')

# mapping problems (whole-file errors, CLI exit 2 = usage)
MAPH = b'user_id,timestamp,event,value,item\n' + g(1) + b',i1\n'
err('csv_map_user_missing', MAPH, 2, "user column 'CustomerID' is not in the header",
    '--user CustomerID')
err('csv_map_event_missing', MAPH, 2, "event column 'ev' is not in the header", '--event ev')
err('csv_map_id_missing', MAPH, 2, "event id column 'id' is not in the header", '--id id')
err('csv_map_basket_missing', MAPH, 2, "basket column 'order' is not in the header",
    '--basket order')
err('csv_map_item_missing', MAPH, 2, "item column 'sku' is not in the header", '--item sku')
err('csv_map_value_factor_missing', MAPH, 2, "value column 'price' is not in the header",
    '--value value*price')
err('csv_map_prop_missing', MAPH, 2, "category column 'cat' is not in the header",
    '--prop category=cat')
err('csv_map_value_bad_product', MAPH, 2, 'write one column or COLUMN*COLUMN', "--value 'value*'")
err('csv_map_value_triple_product', MAPH, 2, 'write one column or COLUMN*COLUMN',
    "--value 'a*b*c'")
err('csv_map_time_format_unknown_field', MAPH, 2, 'unknown field %q', "--time-format '%Y-%q'")
err('csv_map_time_format_no_date', MAPH, 2, 'needs %Y, %m and %d', "--time-format '%H:%M'")
err('csv_map_delimiter_quote', MAPH, 2, 'CSV delimiter must be one byte', "--delimiter '\"'")
err('csv_map_delimiter_two_chars', MAPH, 2, '--delimiter wants one character', '--delimiter ab')
err('csv_map_wrong_delimiter', MAPH, 2, "user column 'user_id' is not in the header",
    '--delimiter tab', note='a comma file read with TAB: one column')

# other delimiters
add('csv_semicolon_decimal_comma', 'csv',
    [b'user_id;timestamp;event;value', b'u1;' + T + b';view;1.5', Bad(b'u2;' + T + b';view;1,5'),
     b'u3;' + T + b';view;2'], 'accepted=2 bad_number=1', "--delimiter ';'")
add('csv_semicolon_comma_in_user', 'csv',
    [b'user_id;timestamp;event;value', b'u,1;' + T + b';view;1', b'u2;' + T + b';view;2'],
    'accepted=2', "--delimiter ';'")
add('csv_tab_too_few_fields', 'csv',
    [b'user_id\ttimestamp\tevent\tvalue', b'u1\t' + T + b'\tview\t1', Bad(b'u2\t' + T + b' view\t2'),
     b'u3\t' + T + b'\tview\t3'], 'accepted=2 field_count=1', '--delimiter tab')
add('csv_pipe_stray_quote', 'csv',
    [b'user_id|timestamp|event|value', b'u1|' + T + b'|view|1', Bad(b'u2|' + T + b'|vi"ew|2'),
     b'u3|"' + T + b'"|"a|b"|3'], 'accepted=2 bad_quote=1', "--delimiter '|'")

# invalid UTF-8, each kind, in the user field (store: bad_utf8)
UTF8_BAD = [
    ('overlong', b'\xc0\xaf'), ('overlong3', b'\xe0\x80\xaf'), ('surrogate', b'\xed\xa0\x80'),
    ('truncated2', b'\xc3'), ('truncated3', b'\xe2\x82'), ('truncated4', b'\xf0\x9f\x98'),
    ('above_max', b'\xf4\x90\x80\x80'), ('f5_lead', b'\xf5\x80\x80\x80'),
    ('lone_continuation', b'\x80'), ('ff_byte', b'\xff'), ('fe_byte', b'\xfe'),
]
for kind, seq in UTF8_BAD:
    one('csv_utf8_user_' + kind, r(user=b'u' + seq), 'bad_utf8')
for kind, seq in UTF8_BAD[:6]:
    one('csv_utf8_event_' + kind, r(event=b'v' + seq), 'bad_utf8')


def utf8_file(name, col, flags, header, make_row):
    rows = [header, make_row(b'ok1')] + [Bad(make_row(b'x' + seq)) for _, seq in UTF8_BAD[:5]]
    rows.append(make_row(b'ok2'))
    add(name, 'csv', rows, 'accepted=2 bad_utf8=5', flags,
        note='overlong, overlong3, surrogate, truncated2, truncated3 in the ' + col)


HI = H + b',item,basket,id,category'


def rowx(item=b'i', basket=b'b', eid=b'', cat=b'c', user=b'u9'):
    return r(user=user, extra=[item, basket, eid, cat])


FULL = '--item item --basket basket --id id --prop category=category'
utf8_file('csv_utf8_item', 'item', FULL, HI, lambda v: rowx(item=v))
utf8_file('csv_utf8_basket', 'basket', FULL, HI, lambda v: rowx(basket=v))
utf8_file('csv_utf8_event_id', 'event id', FULL, HI, lambda v: rowx(eid=b'id-' + v))
utf8_file('csv_utf8_property', 'category property', FULL, HI, lambda v: rowx(cat=v))
one('csv_utf8_in_time', r(time=b'2021-03-04T10:00:00\xff'), 'bad_time',
    note='not a time (UTF-8 is not checked before parsing)')
one('csv_utf8_in_value', r(value=b'1\xc3'), 'bad_number')
ok('csv_utf8_in_unmapped_column', [r(user=b'u1', extra=[b'\xff\xfe']), r(user=b'u2', extra=[b'ok'])],
   header=H + b',note', note='only mapped fields are checked')
ok('csv_utf8_valid_edges', [r(user=b'u\xf4\x8f\xbf\xbf'), r(user=b'u\xef\xbf\xbf'),
                            r(user=b'\xe2\x82\xac'), r(user=b'\xf0\x9f\x98\x80', event=b'caf\xc3\xa9')],
   note='U+10FFFF, U+FFFF, euro sign, emoji: all valid')

# key lengths (PERSONA_MAX_KEY_LEN = 4096 bytes: the limit is accepted, limit + 1 is too_long)
ok('csv_user_4096_bytes', [r(user=b'u' * 4096), g(1)])
one('csv_user_4097_bytes', r(user=b'u' * 4097), 'too_long')
ok('csv_user_4096_bytes_multibyte', [r(user=b'\xc3\xa9' * 2048), g(1)])
one('csv_user_4097_bytes_multibyte', r(user=b'\xc3\xa9' * 2048 + b'x'), 'too_long')
one('csv_event_4097_bytes', r(event=b'e' * 4097), 'too_long')
one('csv_item_4097_bytes', rowx(item=b'i' * 4097), 'too_long', FULL, header=HI,
    good=lambda i: rowx(user=b'u%d' % i))
one('csv_basket_4097_bytes', rowx(basket=b'b' * 4097), 'too_long', FULL, header=HI,
    good=lambda i: rowx(user=b'u%d' % i))
one('csv_event_id_4097_bytes', rowx(eid=b'd' * 4097), 'too_long', FULL, header=HI,
    good=lambda i: rowx(user=b'u%d' % i))
one('csv_property_4097_bytes', rowx(cat=b'c' * 4097), 'too_long', FULL, header=HI,
    good=lambda i: rowx(user=b'u%d' % i))
ok('csv_property_4096_bytes', [rowx(cat=b'c' * 4096), rowx(user=b'u2')], FULL, header=HI)
ok('csv_unmapped_5000_bytes', [r(user=b'u1', extra=[b'n' * 5000]), r(user=b'u2', extra=[b'n'])],
   header=H + b',note')
one('csv_time_5000_bytes', r(time=b'2' * 5000), 'bad_time')
one('csv_value_5000_digits', r(value=b'9' * 5000), 'bad_number')

# times (auto format unless flags say otherwise)
BAD_TIMES = [
    ('month_13', b'2021-13-01'), ('month_00', b'2021-00-10'), ('feb_30', b'2021-02-30'),
    ('feb_29_non_leap', b'2021-02-29'), ('feb_29_1900', b'1900-02-29'), ('apr_31', b'2021-04-31'),
    ('day_00', b'2021-03-00'), ('ambiguous_slash', b'03/04/2021'), ('ambiguous_dot', b'3.4.2021'),
    ('ambiguous_dash', b'04-03-21'), ('trailing_garbage', b'2021-03-04x'),
    ('trailing_garbage_after_time', b'2021-03-04T10:00:00Zjunk'), ('empty', b''),
    ('year_10000', b'10000-01-01'), ('year_0000', b'0000-01-01'), ('hour_24', b'2021-03-04T24:00:00'),
    ('minute_60', b'2021-03-04T23:60'), ('leap_second', b'2021-12-31T23:59:60Z'),
    ('zone_hour_24', b'2021-03-04T10:00:00+24:00'), ('zone_minute_60', b'2021-03-04T10:00:00+01:60'),
    ('one_digit_month', b'2021-3-04'), ('slash_iso', b'2021/03/04'), ('hour_only', b'2021-03-04T10'),
    ('word', b'yesterday'), ('null_word', b'null'), ('nan', b'NaN'), ('exponent', b'1e9'),
    ('hex', b'0x5F5E100'), ('fraction_10_digits', b'2021-03-04T10:00:00.1234567891Z'),
    ('fraction_no_digits', b'2021-03-04T10:00:00.Z'), ('fraction_without_seconds', b'2021-03-04T10:00.5'),
    ('above_max_by_zone', b'9999-12-31T23:59:59-01:00'), ('below_min_by_zone', b'0001-01-01T00:00:00+01:00'),
    ('unix_s_below_min', b'-62135596801'), ('unix_ms_above_max', b'253402300800000'),
    ('unix_huge', b'99999999999999999999'), ('unix_fraction_10_digits', b'1614834367.1234567891'),
    ('two_spaces', b'2021-03-04  10:00:00'), ('only_minus', b'-'),
]
for kind, t in BAD_TIMES:
    one('csv_time_' + kind, r(time=t), 'bad_time')
ok('csv_time_valid_edges', [
    r(user=b'u1', time=b'9999-12-31T23:59:59.999Z'), r(user=b'u2', time=b'0001-01-01T00:00:00Z'),
    r(user=b'u3', time=b'2020-02-29'), r(user=b'u4', time=b'2000-02-29T12:00'),
    r(user=b'u5', time=b'2021-03-04 10:00:00.5+05:30'), r(user=b'u6', time=b'2021-03-04t10:00z'),
    r(user=b'u7', time=b'1614834367'), r(user=b'u8', time=b'1614834367123'),
    r(user=b'u9', time=b'-1'), r(user=b'u10', time=b'2021-03-04T10:00:00-0800')])
add('csv_time_pattern_dmy', 'csv',
    [H, r(user=b'u1', time=b'04/03/2021'), Bad(r(time=b'31/02/2021')), Bad(r(time=b'2021-03-04')),
     r(user=b'u2', time=b'4/3/2021')], 'accepted=2 bad_time=2', "--time-format '%d/%m/%Y'")
add('csv_time_iso_only', 'csv',
    [H, r(user=b'u1', time=b'2021-03-04'), Bad(r(time=b'1614834367')), r(user=b'u2')],
    'accepted=2 bad_time=1', '--time-format iso')
add('csv_time_unix_ms_fraction', 'csv',
    [H, r(user=b'u1', time=b'1614834367123'), Bad(r(time=b'1614834367.5')),
     Bad(r(time=b'2021-03-04')), r(user=b'u2', time=b'0')], 'accepted=2 bad_time=2',
    '--time-format unix_ms')
add('csv_time_unix_s_decimal', 'csv',
    [H, r(user=b'u1', time=b'1614834367.5'), Bad(r(time=b'253402300800')), r(user=b'u2', time=b'0')],
    'accepted=2 bad_time=1', '--time-format unix_s', note='253402300800 s is year 10000')

# numbers (value column)
BAD_NUMBERS = [
    ('decimal_comma', b'"1,5"'), ('word', b'abc'), ('inf', b'inf'), ('minus_inf', b'-inf'),
    ('infinity', b'Infinity'), ('nan', b'nan'), ('nan_upper', b'NaN'), ('overflow', b'1e999'),
    ('minus_overflow', b'-1e999'), ('hex', b'0x10'), ('two_points', b'1.5.2'),
    ('inner_space', b'"1 000"'), ('exponent_without_digits', b'5e'), ('currency', b'\xe2\x82\xac5'),
    ('double_minus', b'--5'), ('true', b'TRUE'), ('percent', b'5%'), ('only_point', b'.'),
]
for kind, v in BAD_NUMBERS:
    one('csv_value_' + kind, r(value=v), 'bad_number')
ok('csv_value_valid_edges', [r(user=b'u1', value=b''), r(user=b'u2', value=b'-0'),
                             r(user=b'u3', value=b'1e-400'), r(user=b'u4', value=b'1E5'),
                             r(user=b'u5', value=b'-12.5e-3'), r(user=b'u6', value=b'1e308')],
   note='empty = no value; an underflow rounds to 0, which is finite')
HP = b'user_id,timestamp,event,qty,price'


def rp(q, p, user=b'u9'):
    return b','.join([user, T, b'buy', q, p])


add('csv_product_values', 'csv',
    [HP, rp(b'2', b'3.5', b'u1'), rp(b'', b'3.5', b'u2'), rp(b'2', b'', b'u3'),
     Bad(rp(b'abc', b'1')), Bad(rp(b'1', b'nan')), Bad(rp(b'1e200', b'1e200')),
     Bad(rp(b'1e999', b'0')), rp(b'-1', b'2', b'u4')],
    'accepted=4 bad_number=4', '--value qty*price',
    note='an empty factor means no value; a product that overflows is not finite')

# missing users and event types; several problems in one row (source checks first)
one('csv_empty_user', r(user=b''), 'missing_user')
one('csv_empty_event', r(event=b''), 'missing_event')
one('csv_quoted_empty_event', r(event=b'""'), 'missing_event')
ok('csv_event_const_without_column', [b'u1,' + T + b',1', b'u2,' + T + b',2'],
   '--event-const purchase', header=b'user_id,timestamp,value')
one('csv_empty_user_and_bad_time', r(user=b'', time=b'x'), 'bad_time')
one('csv_empty_user_and_bad_number', r(user=b'', value=b'x'), 'bad_number')
one('csv_empty_user_and_field_count', b',' + T + b',view', 'field_count')
one('csv_empty_user_and_nul', b',' + T + b',vi\x00ew,1', 'nul_byte')
one('csv_bad_time_and_bad_number', r(time=b'x', value=b'y'), 'bad_time')
one('csv_empty_user_and_empty_event', r(user=b'', event=b''), 'missing_user')
one('csv_bad_utf8_user_and_empty_event', r(user=b'\xff', event=b''), 'missing_event',
    note='empty type is checked before the UTF-8 of the keys')
add('csv_all_rows_bad', 'csv', [H, Bad(r(user=b'')), Bad(r(time=b'')), Bad(r(value=b'z')), Bad(b'x')],
    'accepted=0 missing_user=1 bad_time=1 bad_number=1 field_count=1')

# duplicate event ids (--id)
HD = b'user_id,timestamp,event,id'


def rd(eid, user=b'u9'):
    return b','.join([user, T, b'view', eid])


add('csv_duplicate_id', 'csv', [HD, rd(b'e1', b'u1'), rd(b'e2', b'u2'), Bad(rd(b'e1'))],
    'accepted=2 duplicate_id=1', '--id id')
add('csv_duplicate_id_three_times', 'csv',
    [HD, rd(b'e1', b'u1'), Bad(rd(b'e1')), rd(b'e2', b'u2'), Bad(rd(b'e1', b'u3'))],
    'accepted=2 duplicate_id=2', '--id id')
add('csv_duplicate_id_quoted', 'csv', [HD, rd(b'e1', b'u1'), Bad(rd(b'"e1"'))],
    'accepted=1 duplicate_id=1', '--id id')
ok('csv_empty_ids_not_deduplicated', [rd(b'', b'u1'), rd(b'', b'u1'), rd(b'""', b'u2')], '--id id',
   header=HD)
ok('csv_ids_case_and_space_differ', [rd(b'e1', b'u1'), rd(b'E1', b'u1'), rd(b'e1 ', b'u2')],
   '--id id', header=HD)
add('csv_rejected_row_id_not_kept', 'csv',
    [HD, Bad(b'u1,bad-time,view,e1'), rd(b'e1', b'u1'), Bad(rd(b'e1', b'u2'))],
    'accepted=1 bad_time=1 duplicate_id=1', '--id id',
    note='an id of a rejected row is not remembered')
add('csv_duplicate_id_empty_user_first', 'csv', [HD, Bad(rd(b'e1', b'')), rd(b'e1', b'u1')],
    'accepted=1 missing_user=1', '--id id')

# strict mode (the first bad row is an error naming its line)
add('csv_strict_clean', 'csv', [H, g(1), g(2), g(3)], 'accepted=3', '--strict')
err('csv_strict_bad_time_line_3', H + b'\n' + g(1) + b'\n' + r(time=b'x') + b'\n' + g(2) + b'\n', 1,
    "line 3: time 'x'", '--strict')
err('csv_strict_missing_user_line_4', H + b'\n' + g(1) + b'\n' + g(2) + b'\n' + r(user=b'') + b'\n',
    1, 'line 4: user is missing', '--strict')
err('csv_strict_bad_quote_line_3', H + b'\n' + g(1) + b'\n' + r(user=b'u"x') + b'\n', 1,
    'line 3: the row is not valid CSV (bad_quote)', '--strict')
err('csv_strict_duplicate_id_line_4', HD + b'\n' + rd(b'e1', b'u1') + b'\n' + rd(b'e2') + b'\n'
    + rd(b'e1') + b'\n', 1, 'line 4: event id was seen before', '--strict --id id')
err('csv_strict_store_reject_line_2', H + b'\n' + r(event=b'') + b'\n' + g(1) + b'\n', 1,
    'line 2: type is empty', '--strict')
CASES.append(('csv_strict_bad_time_line_2.csv', 'csv', '--strict', "exit=1 line 2: time 'x'",
              [], None, H + b'\n' + r(time=b'x') + b'\n' + g(1) + b'\n',
              'the first data row is bad (once loaded nothing and exited 0)'))
CASES.append(('csv_strict_field_count_line_2.csv', 'csv', '--strict',
              'exit=1 line 2: 3 fields where the header has 4', [], None,
              H + b'\n' + b'u1,' + T + b',view\n' + g(1) + b'\n', ''))

# ----------------------------------------------------------------------------- JSONL
JT = b'"2021-03-04T10:00:00Z"'


def j(user=b'"u9"', time=JT, event=b'"view"', value=b'1', extra=b''):
    """One JSON line; arguments are raw JSON text (None leaves the member out)."""
    parts = []
    for k, v in ((b'user_id', user), (b'timestamp', time), (b'event', event), (b'value', value)):
        if v is not None:
            parts.append(b'"' + k + b'":' + v)
    if extra:
        parts.append(extra)
    return b'{' + b','.join(parts) + b'}'


def gj(i):
    return j(user=b'"u%d"' % i, time=b'"2021-03-04T10:%02d:00Z"' % (i % 60), value=b'%d' % i)


def jone(name, line, reason, flags='-', bug=None, note=''):
    """A good line, the bad line (line 2), another good line."""
    add(name, 'jsonl', [gj(1), Bad(line), gj(2)], 'accepted=2 %s=1' % reason, flags, bug,
        note=note)


def jok(name, lines, flags='-', note=''):
    add(name, 'jsonl', lines, 'accepted=%d' % len(lines), flags, note=note)


# syntax errors: each kind is one line that is not one JSON object
BAD_JSON = [
    ('trailing_comma', b'{"user_id":"u3","timestamp":"2021-03-04",}'),
    ('missing_comma', b'{"user_id":"u3" "timestamp":"2021-03-04"}'),
    ('missing_colon', b'{"user_id" "u3","timestamp":"2021-03-04"}'),
    ('unquoted_key', b'{user_id:"u3","timestamp":"2021-03-04"}'),
    ('single_quotes', b"{'user_id':'u3','timestamp':'2021-03-04'}"),
    ('trailing_garbage', j() + b' x'),
    ('two_objects', j() + j()),
    ('top_level_array', b'[' + j() + b']'),
    ('top_level_empty_array', b'[]'),
    ('top_level_string', b'"u3"'),
    ('top_level_number', b'42'),
    ('top_level_null', b'null'),
    ('top_level_true', b'true'),
    ('unterminated_string', b'{"user_id":"u3'),
    ('unterminated_object', b'{"user_id":"u3","timestamp":"2021-03-04"'),
    ('missing_value', b'{"user_id":,"timestamp":"2021-03-04"}'),
    ('bad_escape', j(user=b'"u\\x41"')),
    ('short_unicode_escape', j(user=b'"u\\u12"')),
    ('unicode_escape_non_hex', j(user=b'"u\\u12G4"')),
    ('raw_control_char', j(user=b'"u\x01"')),
    ('raw_tab_in_string', j(user=b'"u\tx"')),
    ('raw_del_is_fine_but_escape_bad', j(user=b'"u\x7f\\q"')),
    ('leading_zero', j(value=b'01')),
    ('point_without_digits', j(value=b'1.')),
    ('leading_point', j(value=b'.5')),
    ('lone_minus', j(value=b'-')),
    ('exponent_without_digits', j(value=b'1e')),
    ('plus_sign', j(value=b'+1')),
    ('nan_literal', j(value=b'NaN')),
    ('infinity_literal', j(value=b'Infinity')),
    ('hex_number', j(value=b'0x10')),
    ('truncated_literal', j(value=b'tru')),
    ('capitalized_literal', j(value=b'True')),
    ('line_comment', j() + b' // note'),
    ('block_comment', b'{/* c */"user_id":"u3","timestamp":"2021-03-04"}'),
    ('extra_closing_brace', j() + b'}'),
    ('nested_trailing_comma', j(extra=b'"x":[1,]')),
    ('nested_missing_value', j(extra=b'"x":{"a":}')),
    ('nested_unclosed', j(extra=b'"x":[1,2')),
    ('nested_mismatched', j(extra=b'"x":[1,2}')),
    ('form_feed_line', b'\x0c'),
    ('bom_at_line_2', b'\xef\xbb\xbf' + j()),
    ('nul_between_tokens', b'{"user_id":"u3",\x00"timestamp":"2021-03-04"}'),
    ('depth_65', j(extra=b'"x":' + b'[' * 64 + b']' * 64)),
    ('key_not_string', b'{1:"u3"}'),
    ('colon_in_array', j(extra=b'"x":["a":1]')),
]
for kind, line in BAD_JSON:
    jone('jsonl_syntax_' + kind, line, 'bad_json')
jok('jsonl_depth_64', [j(user=b'"u1"', extra=b'"x":' + b'[' * 63 + b']' * 63), gj(2)],
    note='the top-level object is depth 1: 63 arrays inside reach depth 64')
jok('jsonl_nested_members_ignored', [j(user=b'"u1"', extra=b'"ctx":{"a":[1,{"b":null}],"c":"\\u00e9"}'),
                                     j(user=b'"u2"', extra=b'"tags":[],"o":{}')])
jone('jsonl_empty_object', b'{}', 'bad_time', note='valid JSON, but no timestamp member')
jone('jsonl_object_without_user', j(user=None), 'missing_user')
add('jsonl_cr_only_line_ends', 'jsonl', [Bad(gj(1) + b'\r' + gj(2) + b'\r')], 'accepted=0 bad_json=1',
    final_eol=False, note='one line: CR is whitespace, the second object is trailing text')

# blank lines, CRLF, BOM, empty input
add('jsonl_blank_lines_skipped', 'jsonl', [b'', gj(1), b'   ', b'\t', b'\r', gj(2), b''],
    'accepted=2 rows=2')
add('jsonl_crlf', 'jsonl', [gj(1), gj(2), b''], 'accepted=2', eol=b'\r\n')
add('jsonl_bom_at_start', 'jsonl', [], 'accepted=2', raw=b'\xef\xbb\xbf' + gj(1) + b'\n' + gj(2) + b'\n')
add('jsonl_empty_file', 'jsonl', [], 'accepted=0 rows=0', raw=b'')
add('jsonl_only_blank_lines', 'jsonl', [], 'accepted=0 rows=0', raw=b'\n \n\t\r\n\n')
add('jsonl_no_final_newline', 'jsonl', [gj(1), Bad(j(time=b'"x"'))], 'accepted=1 bad_time=1',
    final_eol=False)

# invalid UTF-8 (raw bytes): anywhere in the line -> bad_utf8
for kind, seq in UTF8_BAD:
    jone('jsonl_utf8_user_' + kind, j(user=b'"u' + seq + b'"'), 'bad_utf8')
jone('jsonl_utf8_event', j(event=b'"v\xed\xa0\x80"'), 'bad_utf8')
jone('jsonl_utf8_unmapped_member', j(extra=b'"note":"\xc0\xaf"'), 'bad_utf8',
     note='the whole line must be UTF-8 (RFC 8259), not only mapped members')
jone('jsonl_utf8_in_key', j(extra=b'"n\xffte":1'), 'bad_utf8')
jone('jsonl_utf8_outside_string', j() + b' \xff', 'bad_utf8')
# \u escapes
jone('jsonl_lone_high_surrogate', j(user=b'"u\\ud800"'), 'bad_utf8')
jone('jsonl_lone_low_surrogate', j(user=b'"u\\udc00"'), 'bad_utf8')
jone('jsonl_high_surrogate_then_letter', j(user=b'"\\ud800\\u0041"'), 'bad_utf8')
jone('jsonl_high_surrogate_at_end', j(user=b'"u\\ud83d"'), 'bad_utf8')
jone('jsonl_surrogates_reversed', j(user=b'"\\ude00\\ud83d"'), 'bad_utf8')
jok('jsonl_unicode_escapes_valid', [j(user=b'"\\u00e9\\u20ac"'), j(user=b'"\\ud83d\\ude00"'),
                                    j(user=b'"\\uDBFF\\uDFFF"'), j(user=b'"tab\\tnl\\nq\\"s\\\\/\\/"')])

# NUL
jone('jsonl_nul_escape_user', j(user=b'"u\\u0000"'), 'nul_byte')
jone('jsonl_nul_escape_event', j(event=b'"\\u0000"'), 'nul_byte')
jone('jsonl_nul_escape_unmapped', j(extra=b'"note":"a\\u0000b"'), 'nul_byte')
jone('jsonl_nul_escape_nested', j(extra=b'"ctx":{"a":["\\u0000"]}'), 'nul_byte')
jone('jsonl_nul_escape_in_key', j(extra=b'"k\\u0000":1'), 'nul_byte')
jone('jsonl_raw_nul_in_string', j(user=b'"u\x00"'), 'nul_byte')

# wrong types of mapped members
for kind, v in (('object', b'{"id":1}'), ('array', b'["u1"]'), ('true', b'true'),
                ('false', b'false')):
    jone('jsonl_user_' + kind, j(user=v), 'wrong_type')
jone('jsonl_event_object', j(event=b'{"name":"view"}'), 'wrong_type')
jone('jsonl_event_bool', j(event=b'true'), 'wrong_type')
JF = '--item item --basket basket --id id --prop category=category'
jone('jsonl_item_object', j(extra=b'"item":{"sku":1}'), 'wrong_type', JF)
jone('jsonl_basket_array', j(extra=b'"basket":["b1"]'), 'wrong_type', JF)
jone('jsonl_event_id_bool', j(extra=b'"id":false'), 'wrong_type', JF)
jone('jsonl_property_object', j(extra=b'"category":{"c":1}'), 'wrong_type', JF)
jone('jsonl_property_array', j(extra=b'"category":["shoes"]'), 'wrong_type', JF)
# Documented: strings and numbers are accepted for every field; a member of another type
# is wrong_type ("a JSON member has a type that cannot be used"), for time and value too.
for kind, v in (('object', b'{"t":1}'), ('array', b'[1614834367]'), ('true', b'true')):
    jone('jsonl_time_' + kind, j(time=v), 'wrong_type')
for kind, v in (('object', b'{"v":1}'), ('array', b'[1]'), ('true', b'true')):
    jone('jsonl_value_' + kind, j(value=v), 'wrong_type')

# types that are accepted: numbers as keys (used as written), strings as numbers
jok('jsonl_numbers_as_keys', [j(user=b'12'), j(user=b'1.50'), j(user=b'-3e2'), j(user=b'"12"')],
    note='12 and "12" are the same user; 1.50 and -3e2 are used as written')
jok('jsonl_string_values', [j(user=b'"u1"', value=b'"3.5"'), j(user=b'"u2"', value=b'""'),
                            j(user=b'"u3"', value=b'null'), j(user=b'"u4"', value=None)])
jok('jsonl_number_times', [j(user=b'"u1"', time=b'1614834367'), j(user=b'"u2"', time=b'1614834367123'),
                           j(user=b'"u3"', time=b'"1614834367"'), j(user=b'"u4"', time=b'1614834367.5'),
                           j(user=b'"u5"', time=b'0'), j(user=b'"u6"', time=b'-1')])
# Documented: "A time given as a JSON number is unix seconds or milliseconds per the time
# format (auto: by magnitude)": 1.614834367e9 is the number 1614834367 (seconds).
add('jsonl_number_time_exponent', 'jsonl', [gj(1), j(time=b'1.614834367e9'), gj(2)], 'accepted=3',
    )
add('jsonl_duplicate_id_number_and_string', 'jsonl',
    [j(user=b'"u1"', extra=b'"id":7'), Bad(j(user=b'"u2"', extra=b'"id":"7"')),
     j(user=b'"u3"', extra=b'"id":7.0')], 'accepted=2 duplicate_id=1', JF,
    note='7 and "7" are the same id (numbers are used as written); 7.0 is another')

# null / empty / missing members
jone('jsonl_user_null', j(user=b'null'), 'missing_user')
jone('jsonl_user_empty', j(user=b'""'), 'missing_user')
jone('jsonl_time_null', j(time=b'null'), 'bad_time')
jone('jsonl_time_empty', j(time=b'""'), 'bad_time')
jone('jsonl_time_missing', j(time=None), 'bad_time')
jone('jsonl_event_empty', j(event=b'""'), 'missing_event')
jok('jsonl_event_missing_uses_constant', [j(user=b'"u1"', event=None), j(user=b'"u2"')])
# null means absent, and an absent default event member means the constant "event"
add('jsonl_event_null', 'jsonl', [gj(1), j(event=b'null'), gj(2)], 'accepted=3')
jok('jsonl_optional_nulls', [j(user=b'"u1"', extra=b'"item":null,"basket":null,"id":null,"category":null'),
                             j(user=b'"u2"', extra=b'"item":"","basket":"","id":"","category":""')], JF)
add('jsonl_named_event_member_missing', 'jsonl',
    [j(user=b'"u1"', event=None, extra=b'"type":"view"'), Bad(j(event=None)),
     j(user=b'"u2"', event=None, extra=b'"type":"buy"')], 'accepted=2 missing_event=1',
    '--event type', note='a member named with --event must be there')
add('jsonl_named_user_member', 'jsonl',
    [j(user=None, extra=b'"uid":"a"'), Bad(j(user=b'"u9"')), j(user=None, extra=b'"uid":7')],
    'accepted=2 missing_user=1', '--user uid')

# times
for kind, t in (('month_13', b'"2021-13-01"'), ('feb_30', b'"2021-02-30"'),
                ('ambiguous', b'"03/04/2021"'), ('trailing_garbage', b'"2021-03-04 junk"'),
                ('year_10000', b'"10000-01-01"'), ('leap_second', b'"2021-12-31T23:59:60Z"'),
                ('ms_above_max', b'253402300800000'), ('s_below_min', b'-62135596801'),
                ('number_with_exponent_garbage', b'"1e9x"'), ('word', b'"now"')):
    jone('jsonl_time_' + kind, j(time=t), 'bad_time')
add('jsonl_time_pattern', 'jsonl',
    [j(user=b'"u1"', time=b'"04/03/2021 10:00"'), Bad(j(time=b'"2021-03-04T10:00"')),
     j(user=b'"u2"', time=b'"4/3/2021 9:05"')], 'accepted=2 bad_time=1',
    "--time-format '%d/%m/%Y %H:%M'")
add('jsonl_time_unix_ms_number', 'jsonl',
    [j(user=b'"u1"', time=b'1614834367123'), Bad(j(time=b'1614834367.5')), j(user=b'"u2"', time=b'5')],
    'accepted=2 bad_time=1', '--time-format unix_ms')

# numbers
for kind, v in (('word', b'"abc"'), ('decimal_comma', b'"1,5"'), ('overflow', b'1e999'),
                ('minus_overflow', b'-1e999'), ('inf_string', b'"inf"'), ('nan_string', b'"NaN"'),
                ('hex_string', b'"0x10"'), ('overflow_string', b'"1e999"')):
    jone('jsonl_value_' + kind, j(value=v), 'bad_number')
add('jsonl_product_values', 'jsonl',
    [j(user=b'"u1"', value=None, extra=b'"qty":2,"price":"3.5"'),
     Bad(j(value=None, extra=b'"qty":1e200,"price":1e200')),
     Bad(j(value=None, extra=b'"qty":"x","price":1')),
     j(user=b'"u2"', value=None, extra=b'"qty":null,"price":1')],
    'accepted=2 bad_number=2', '--value qty*price')

# key lengths
jok('jsonl_user_4096_bytes', [j(user=b'"' + b'u' * 4096 + b'"'), gj(1)])
jone('jsonl_user_4097_bytes', j(user=b'"' + b'u' * 4097 + b'"'), 'too_long')
jone('jsonl_user_4097_bytes_escaped', j(user=b'"' + b'u' * 4091 + b'\\u00e9\\u00e9\\u00e9"'), 'too_long',
     note='4091 + 3 x 2 bytes after unescaping = 4097')
jone('jsonl_event_4097_bytes', j(event=b'"' + b'e' * 4097 + b'"'), 'too_long')
jone('jsonl_property_4097_bytes', j(extra=b'"category":"' + b'c' * 4097 + b'"'), 'too_long', JF)
jok('jsonl_unmapped_5000_bytes', [j(user=b'"u1"', extra=b'"note":"' + b'n' * 5000 + b'"'), gj(2)])

# duplicate members: the last one counts
jok('jsonl_duplicate_members_last_wins', [
    b'{"user_id":"a","user_id":"u1","timestamp":"bad","timestamp":"2021-03-04"}', gj(2)])
jone('jsonl_duplicate_members_last_bad', b'{"user_id":"u3","timestamp":"2021-03-04","timestamp":"bad"}',
     'bad_time')
jone('jsonl_duplicate_members_last_null_user', b'{"user_id":"u3","user_id":null,"timestamp":"2021-03-04"}',
     'missing_user')

# several problems in one line: the reader's checks, then the source's, then the store's
jone('jsonl_bad_utf8_and_bad_json', b'{"user_id":"\xff"', 'bad_utf8')
jone('jsonl_bad_time_and_wrong_type_user', j(user=b'{}', time=b'"x"'), 'bad_time')
jone('jsonl_empty_user_and_bad_number', j(user=b'""', value=b'"x"'), 'bad_number')
add('jsonl_all_lines_bad', 'jsonl', [Bad(b'{'), Bad(j(user=b'[]')), Bad(j(time=b'"x"')),
                                     Bad(j(user=b'"\\u0000"')), Bad(j(user=b'""'))],
    'accepted=0 bad_json=1 wrong_type=1 bad_time=1 nul_byte=1 missing_user=1')

# duplicate ids
add('jsonl_duplicate_id', 'jsonl',
    [j(user=b'"u1"', extra=b'"id":"e1"'), j(user=b'"u2"', extra=b'"id":"e2"'),
     Bad(j(extra=b'"id":"e1"')), Bad(j(extra=b'"id":"e2"'))], 'accepted=2 duplicate_id=2', JF)

# strict mode
add('jsonl_strict_clean', 'jsonl', [gj(1), gj(2)], 'accepted=2', '--strict')
err('jsonl_strict_bad_json_line_2', gj(1) + b'\n{\n' + gj(2) + b'\n', 1,
    'line 2: the line is not one JSON object (bad_json)', '--strict', 'jsonl')
err('jsonl_strict_wrong_type_line_3', gj(1) + b'\n' + gj(2) + b'\n' + j(user=b'[]') + b'\n', 1,
    "line 3: member 'user_id' is not a string or number (wrong_type)", '--strict', 'jsonl')
err('jsonl_strict_missing_user_line_1', j(user=b'""') + b'\n' + gj(1) + b'\n', 1,
    'line 1: user is missing (missing_user)', '--strict', 'jsonl')
CASES.append(('jsonl_strict_bad_json_line_1.jsonl', 'jsonl', '--strict',
              'exit=1 line 1: the line is not one JSON object (bad_json)', [],
              None, b'{"user_id":\n' + gj(1) + b'\n',
              'the first line is bad (once loaded nothing and exited 0)'))


def main():
    names = [c[0] for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, 'duplicate case names: %s' % sorted(dup)
    for f in os.listdir(HERE):
        if f.endswith(('.csv', '.jsonl')):
            os.remove(os.path.join(HERE, f))
    rows = []
    for name, fmt, flags, expected, bad_lines, bug, data, note in CASES:
        with open(os.path.join(HERE, name), 'wb') as f:
            f.write(data)
        extra = []
        if bad_lines:
            extra.append('bad_lines=' + ','.join(map(str, bad_lines)))
        if bug:
            extra.append('bug=' + bug)
        row = [name, fmt, flags, expected] + ([' '.join(extra)] if extra else [])
        assert all('\t' not in x and '\n' not in x for x in row), name
        rows.append('\t'.join(row))
    with open(os.path.join(HERE, 'cases.tsv'), 'w', encoding='utf-8') as f:
        f.write('# Bad-input catalogue: file, format, persona flags, expected, [bad_lines= bug=].\n'
                '# Generated by make_cases.py (edit the cases there); checked by\n'
                '# tests/bad/run_bad_cases.py, whose docstring describes the columns.\n')
        f.write('\n'.join(rows) + '\n')
    print('%d cases (%d csv, %d jsonl, %d marked bug=)' % (
        len(CASES), sum(c[1] == 'csv' for c in CASES), sum(c[1] == 'jsonl' for c in CASES),
        sum(1 for c in CASES if c[5])))
    return 0


if __name__ == '__main__':
    sys.exit(main())
