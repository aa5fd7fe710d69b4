#!/usr/bin/python3
"""Write the hand-made seed inputs of the CSV and JSONL event fuzz targets.

    /usr/bin/python3 tests/fuzz/make_seeds.py            # from the repository root

Writes tests/fuzz/corpus/csv_events/seed-* and tests/fuzz/corpus/jsonl_events/seed-*
(existing seed-* files are replaced; inputs found by fuzzing, named by their SHA-1, are
kept). Each file is two option bytes followed by the text; the option bytes are described
at the top of fuzz_csv_events.c and fuzz_jsonl_events.c. The seeds cover the grammar: quotes,
CRLF, BOM, embedded newlines, every reject reason, long fields, JSON escapes, nesting,
numbers; plus a 200-row slice of examples/data/online_retail_sample.csv with the Online
Retail mapping."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, 'tests', 'fuzz', 'corpus')

DELIM = {',': 0, ';': 1, '\t': 2, '|': 3}
# Byte 1 bits 5-7: run the determinism and reader-stream checks too, so the corpus replay
# in every build runs every check (fuzz_csv_events runs the reader check with bits 6 and 7).
ALL_CHECKS = 0xE0


def csv_opt(delim=',', strict=False, variant=0, tfmt=0, offset=False, block=0, maxrow=0):
    b0 = DELIM[delim] | (4 if strict else 0) | variant << 3 | tfmt << 5 | (0x80 if offset else 0)
    return bytes([b0, block | maxrow << 3 | ALL_CHECKS])


def jsonl_opt(variant=0, strict=False, tfmt=0, offset=False, block=0, maxline=0):
    b0 = variant | (4 if strict else 0) | tfmt << 3 | (0x20 if offset else 0)
    return bytes([b0, block | maxline << 3 | ALL_CHECKS])


H = b'user_id,timestamp,event,value\n'
CSV = [
    ('basic', csv_opt(), H + b'u1,2021-03-04T05:06:07Z,view,\nu1,2021-03-04 05:10:00,buy,12.5\nu2,2021-03-05,view,0\n'),
    ('crlf', csv_opt(block=1), b'user_id,timestamp,event,value\r\nu1,2021-03-04,view,1\r\nu2,2021-03-04,buy,2\r\n'),
    ('bom', csv_opt(block=2), b'\xef\xbb\xbf' + H + b'u1,2021-03-04,view,1\n'),
    ('bom-mid', csv_opt(), H + b'u1,2021-03-04,view,1\n\xef\xbb\xbfu2,2021-03-04,view,1\n'),
    ('quoted', csv_opt(block=3), H + b'"u,1","2021-03-04","view ""x""","1.5"\n"",2021-03-04,view,1\n'),
    ('embedded-newline', csv_opt(block=4), H + b'"u\n1",2021-03-04,view,1\n"u2","2021-03-04","a\r\nb",2\n'),
    ('stray-quote', csv_opt(), H + b'u"1,2021-03-04,view,1\nu2,2021-03-04,view,1\n'),
    ('after-quote', csv_opt(), H + b'"u1"x,2021-03-04,view,1\nu2,2021-03-04,view,1\n'),
    ('unterminated', csv_opt(), H + b'u1,2021-03-04,view,1\n"u2,2021-03-04,view,1\nu3,2021-03-04,view,1\n'),
    ('field-count', csv_opt(), H + b'u1,2021-03-04,view\nu2,2021-03-04,view,1,extra\nu3,2021-03-04,view,1\n'),
    ('blank-lines', csv_opt(), H + b'\nu1,2021-03-04,view,1\n\r\n\nu2,2021-03-04,view,1\n\n'),
    ('cr-only', csv_opt(), b'user_id,timestamp,event,value\ru1,2021-03-04,view,1\ru2,2021-03-04,view,1\r'),
    ('nul', csv_opt(), H + b'u\x001,2021-03-04,view,1\nu2,2021-03-04,view,1\n'),
    ('bad-utf8', csv_opt(), H + b'u\xff,2021-03-04,view,1\nu\xc0\xaf,2021-03-04,view,1\nu\xed\xa0\x80,2021-03-04,v\xf4\x90\x80\x80,1\nu4,2021-03-04,\xe2\x82,1\n'),
    ('missing', csv_opt(), H + b',2021-03-04,view,1\nu1,,view,1\nu2,2021-03-04,,1\nu3,2021-03-04,view,\n'),
    ('bad-times', csv_opt(), H + b'u1,2021-13-01,v,1\nu1,2021-02-30,v,1\nu1,03/04/2021,v,1\nu1,2021-03-04x,v,1\nu1,10000-01-01,v,1\nu1,1614834367,v,1\nu1,1614834367123,v,1\nu1,2021-03-04T05:06:07.123456+05:30,v,1\nu1,2021-03-04T25:00,v,1\n'),
    ('bad-numbers', csv_opt(), H + b'u1,2021-03-04,v,"1,5"\nu1,2021-03-04,v,abc\nu1,2021-03-04,v,inf\nu1,2021-03-04,v,nan\nu1,2021-03-04,v,1e999\nu1,2021-03-04,v,0x10\nu1,2021-03-04,v, 7 \nu1,2021-03-04,v,-0.000000000000000000000001\nu1,2021-03-04,v,12345678901234567890123\n'),
    ('long-key', csv_opt(), H + b'u' * 4097 + b',2021-03-04,view,1\n' + b'u' * 4096 + b',2021-03-04,view,1\n'),
    ('long-row', csv_opt(maxrow=1, block=5), H + b'u1,2021-03-04,view,1\nu2,2021-03-04,' + b'x' * 60 + b',1\nu3,2021-03-04,view,1\n'),
    ('long-quoted-row', csv_opt(maxrow=1), H + b'u1,2021-03-04,"' + b'y' * 50 + b'",1\nu3,2021-03-04,view,1\n'),
    ('semicolon', csv_opt(delim=';', block=6), b'user_id;timestamp;event;value\nu1;2021-03-04;view;1,5\nu2;"2021-03-04";"a;b";2\n'),
    ('tab', csv_opt(delim='\t', block=7), b'user_id\ttimestamp\tevent\tvalue\nu1\t2021-03-04\tview\t1\nu2\t2021-03-04\t"t\tx"\t2\n'),
    ('pipe', csv_opt(delim='|'), b'user_id|timestamp|event|value\nu1|2021-03-04|view|1\n'),
    ('product-props', csv_opt(variant=1), b'user_id,timestamp,event,qty,price,category,country\nu1,2021-03-04,buy,2,3.5,shoes,FR\nu1,2021-03-05,buy,,3.5,,\nu2,2021-03-05,buy,x,1,hats,DE\nu2,2021-03-06,buy,1e308,1e308,hats,DE\n'),
    ('dedup', csv_opt(variant=2), b'user_id,timestamp,event,item,basket,id\nu1,2021-03-04,buy,i1,b1,e1\nu1,2021-03-04,buy,i2,b1,e2\nu2,2021-03-04,buy,i1,b2,e1\nu2,2021-03-04,buy,i1,b2,\n'),
    ('missing-column', csv_opt(variant=2), b'user_id,timestamp,event\nu1,2021-03-04,view\n'),
    ('no-event-column', csv_opt(), b'user_id,timestamp\nu1,2021-03-04\nu2,2021-03-04\n'),
    ('header-only', csv_opt(), H),
    ('empty', csv_opt(), b''),
    ('bad-header', csv_opt(), b'user_id,"timestamp\n'),
    ('bad-header-utf8', csv_opt(), b'user_id,timestamp,\xff\nu1,2021-03-04,1\n'),
    ('dup-header', csv_opt(), b'user_id,timestamp,user_id\nu1,2021-03-04,u2\n'),
    ('strict-clean', csv_opt(strict=True), H + b'u1,2021-03-04,view,1\nu2,2021-03-04,view,2\n'),
    ('strict-bad', csv_opt(strict=True), H + b'u1,2021-03-04,view,1\nu2,bad,view,2\nu3,2021-03-04,view,1\n'),
    ('strict-store', csv_opt(strict=True), H + b'u1,2021-03-04,view,1\n,2021-03-04,view,2\n'),
    ('pattern-time', csv_opt(tfmt=3, offset=True), H + b'u1,04/03/2021 05:06,view,1\nu2,4/3/2021 5:6,view,1\nu3,2021-03-04,view,1\n'),
    ('unix-s', csv_opt(tfmt=2), H + b'u1,1614834367.5,view,1\nu2,-1,view,1\nu3,253402300800,view,1\n'),
    ('iso-only', csv_opt(tfmt=1), H + b'u1,2021-03-04T05:06:07+0100,view,1\nu2,1614834367,view,1\nu3,2021-03-04t05:06z,view,1\n'),
    ('int-users', csv_opt(), H + b'10,2021-03-04,v,1\n9,2021-03-04,v,1\n010,2021-03-04,v,1\n-1,2021-03-04,v,1\n=cmd,2021-03-04,v,1\n'),
    ('sessions', csv_opt(), H + b'u1,2021-03-04T00:00,v,1\nu1,2021-03-04T00:29,v,1\nu1,2021-03-04T01:30,v,1\nu1,2021-03-03T23:00,v,1\n'),
    ('no-trailing-newline', csv_opt(), H + b'u1,2021-03-04,view,1'),
    ('quote-at-end', csv_opt(), H + b'u1,2021-03-04,view,"1"'),
    ('cr-at-end', csv_opt(), H + b'u1,2021-03-04,view,1\r'),
]

J = []


def jl(name, opt, text):
    J.append((name, opt, text))


jl('basic', jsonl_opt(), b'{"user_id":"u1","timestamp":"2021-03-04T05:06:07Z","event":"view"}\n{"user_id":"u1","timestamp":1614834367,"event":"buy","value":12.5}\n')
jl('crlf-bom', jsonl_opt(block=1), b'\xef\xbb\xbf{"user_id":"u1","timestamp":"2021-03-04"}\r\n{"user_id":"u2","timestamp":"2021-03-04"}\r\n')
jl('blank-lines', jsonl_opt(block=2), b'\n  \t\r\n{"user_id":"u1","timestamp":"2021-03-04"}\n\n')
jl('escapes', jsonl_opt(block=3), b'{"user_id":"u\\"1\\\\\\/\\b\\f\\n\\r\\t","timestamp":"2021-03-04","event":"\\u00e9\\u20ac\\ud83d\\ude00"}\n')
jl('nul-escape', jsonl_opt(), b'{"user_id":"u\\u0000","timestamp":"2021-03-04"}\n{"user_id":"u2","timestamp":"2021-03-04","x":"\\u0000"}\n{"user_id":"u\x00","timestamp":"2021-03-04"}\n')
jl('lone-surrogates', jsonl_opt(), b'{"user_id":"\\ud800","timestamp":"2021-03-04"}\n{"user_id":"\\udc00x","timestamp":"2021-03-04"}\n{"user_id":"\\ud800\\u0041","timestamp":"2021-03-04"}\n')
jl('bad-utf8', jsonl_opt(), b'{"user_id":"\xff","timestamp":"2021-03-04"}\n{"user_id":"\xc0\xaf","timestamp":"2021-03-04"}\n{"user_id":"\xed\xa0\x80","timestamp":"2021-03-04"}\n{"user_id":"\xf4\x90\x80\x80","timestamp":"2021-03-04"}\n{"user_id":"\xe2\x82","timestamp":"2021-03-04"}\n')
jl('syntax', jsonl_opt(), b'{"user_id":"u1","timestamp":"2021-03-04",}\n{"user_id":"u1" "timestamp":"2021-03-04"}\n{user_id:"u1"}\n{"user_id":\'u1\'}\n{"user_id":"u1","timestamp":"2021-03-04"} x\n["u1"]\n"u1"\n{"a":01}\n{"a":1.}\n{"a":-}\n{"a":1e}\n{"a":tru}\n{"a":"\\x"}\n{"a":"\\u12"}\n{"a":"tab\there"}\n{"a":[1,]}\n{"a":{"b":}}\n{\n')
jl('nesting', jsonl_opt(block=4), b'{"user_id":"u1","timestamp":"2021-03-04","x":{"a":[1,2,{"b":null}],"c":"d"},"y":[]}\n{"user_id":"u2","timestamp":"2021-03-04","x":' + b'[' * 70 + b']' * 70 + b'}\n{"user_id":"u3","timestamp":"2021-03-04","x":' + b'[' * 62 + b']' * 62 + b'}\n')
jl('wrong-types', jsonl_opt(), b'{"user_id":{"a":1},"timestamp":"2021-03-04"}\n{"user_id":["u"],"timestamp":"2021-03-04"}\n{"user_id":true,"timestamp":"2021-03-04"}\n{"user_id":"u","timestamp":{"t":1}}\n{"user_id":"u","timestamp":"2021-03-04","value":[1]}\n{"user_id":"u","timestamp":"2021-03-04","event":false}\n')
jl('numbers', jsonl_opt(), b'{"user_id":12,"timestamp":1614834367123,"value":-0.5e-3}\n{"user_id":1.5e2,"timestamp":"2021-03-04","value":"3.25"}\n{"user_id":"u","timestamp":"2021-03-04","value":1e999}\n{"user_id":"u","timestamp":"2021-03-04","value":"abc"}\n{"user_id":"u","timestamp":"2021-03-04","value":""}\n')
jl('nulls', jsonl_opt(), b'{"user_id":null,"timestamp":"2021-03-04"}\n{"user_id":"u","timestamp":null}\n{"user_id":"u","timestamp":"2021-03-04","event":null,"value":null}\n{"user_id":"","timestamp":"2021-03-04"}\n{"user_id":"u","timestamp":"2021-03-04","event":""}\n')
jl('duplicate-keys', jsonl_opt(), b'{"user_id":"a","user_id":"b","timestamp":"bad","timestamp":"2021-03-04"}\n')
jl('bad-times', jsonl_opt(), b'{"user_id":"u","timestamp":"2021-13-01"}\n{"user_id":"u","timestamp":"2021-02-29"}\n{"user_id":"u","timestamp":"2020-02-29T23:59:59.999-23:59"}\n{"user_id":"u","timestamp":"03/04/2021"}\n{"user_id":"u","timestamp":253402300800000}\n{"user_id":"u","timestamp":-62135596800}\n{"user_id":"u","timestamp":1.5}\n')
jl('long-key', jsonl_opt(), b'{"user_id":"' + b'k' * 4097 + b'","timestamp":"2021-03-04"}\n{"user_id":"' + b'k' * 4096 + b'","timestamp":"2021-03-04"}\n')
jl('long-line-check', jsonl_opt(maxline=1, block=5), b'{"user_id":"u1","timestamp":"2021-03-04","event":"long event name here"}\n{"user_id":"u2","timestamp":"2021-03-04"}\n')
jl('product-props', jsonl_opt(variant=1), b'{"user_id":"u1","timestamp":"2021-03-04","qty":2,"price":"3.5","category":"shoes","country":"FR"}\n{"user_id":"u1","timestamp":"2021-03-05","qty":2,"category":{"x":1}}\n{"user_id":"u2","timestamp":"2021-03-05","qty":1e308,"price":1e308}\n')
jl('dedup', jsonl_opt(variant=2), b'{"user_id":"u1","timestamp":"2021-03-04","item":"i1","basket":"b1","id":"e1"}\n{"user_id":"u1","timestamp":"2021-03-04","item":"i2","basket":"b1","id":"e1"}\n{"user_id":"u2","timestamp":"2021-03-04","id":7}\n{"user_id":"u2","timestamp":"2021-03-04","id":"7"}\n')
jl('retail', jsonl_opt(variant=3), b'{"InvoiceNo":"536365","StockCode":"85123A","Quantity":6,"InvoiceDate":"2010-12-01 08:26:00","UnitPrice":2.55,"CustomerID":17850,"Country":"United Kingdom"}\n{"InvoiceNo":"C536379","StockCode":"D","Quantity":-1,"InvoiceDate":"2010-12-01 09:41:00","UnitPrice":27.5,"CustomerID":14527,"Country":"United Kingdom"}\n')
jl('strict-clean', jsonl_opt(strict=True), b'{"user_id":"u1","timestamp":"2021-03-04"}\n{"user_id":"u2","timestamp":"2021-03-04"}\n')
jl('strict-bad', jsonl_opt(strict=True), b'{"user_id":"u1","timestamp":"2021-03-04"}\n{"user_id":"u2","timestamp":"x"}\n')
jl('strict-store', jsonl_opt(strict=True), b'{"user_id":"u1","timestamp":"2021-03-04"}\n{"user_id":"","timestamp":"2021-03-04"}\n')
jl('iso-only', jsonl_opt(tfmt=1), b'{"user_id":"u1","timestamp":"2021-03-04T05:06"}\n{"user_id":"u1","timestamp":1614834367}\n')
jl('unix-ms', jsonl_opt(tfmt=2, offset=True), b'{"user_id":"u1","timestamp":1614834367123}\n{"user_id":"u1","timestamp":"1614834367.5"}\n{"user_id":"u1","timestamp":-1}\n')
jl('pattern', jsonl_opt(tfmt=3), b'{"user_id":"u1","timestamp":"04/03/2021 05:06"}\n{"user_id":"u1","timestamp":"2021-03-04"}\n')
jl('top-level', jsonl_opt(), b'[{"user_id":"u1","timestamp":"2021-03-04"}]\n1\nnull\n"str"\n{}\n{"user_id":"u1","timestamp":"2021-03-04"}{"x":1}\n')
jl('whitespace', jsonl_opt(block=6), b'  { "user_id" : "u1" , "timestamp" : "2021-03-04" }  \r\n\t{"user_id":"u2","timestamp":"2021-03-04"}\t\n')
jl('cr-only', jsonl_opt(), b'{"user_id":"u1","timestamp":"2021-03-04"}\r{"user_id":"u2","timestamp":"2021-03-04"}\r')
jl('no-trailing-newline', jsonl_opt(block=7), b'{"user_id":"u1","timestamp":"2021-03-04"}\n{"user_id":"u2","timestamp":"2021-03-04"}')
jl('empty', jsonl_opt(), b'')
jl('control-chars', jsonl_opt(), b'{"user_id":"u\x01","timestamp":"2021-03-04"}\n{"user_id":"u\x7f","timestamp":"2021-03-04"}\n\x00\n')
jl('unicode', jsonl_opt(), '{"user_id":"ユーザー","timestamp":"2021-03-04","event":"café"}\n'.encode())
jl('int-users', jsonl_opt(), b'{"user_id":10,"timestamp":"2021-03-04"}\n{"user_id":9,"timestamp":"2021-03-04"}\n{"user_id":-0,"timestamp":"2021-03-04"}\n{"user_id":"=1+1","timestamp":"2021-03-04"}\n')
jl('many-members', jsonl_opt(), b'{' + b','.join(b'"k%d":%d' % (i, i) for i in range(200)) + b',"user_id":"u","timestamp":"2021-03-04"}\n')


def retail_slice():
    path = os.path.join(ROOT, 'examples', 'data', 'online_retail_sample.csv')
    with open(path, 'rb') as f:
        lines = f.read().split(b'\n')
    return b'\n'.join(lines[:201]) + b'\n'


def write(dirname, items):
    d = os.path.join(CORPUS, dirname)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith('seed-'):
            os.remove(os.path.join(d, f))
    for i, (name, opt, text) in enumerate(items):
        with open(os.path.join(d, 'seed-%02d-%s' % (i, name)), 'wb') as f:
            f.write(opt + text)
    return len(items)


def main():
    items = CSV + [('retail-slice', csv_opt(variant=3), retail_slice())]
    n = write('csv_events', items)
    m = write('jsonl_events', J)
    print('csv_events: %d seeds, jsonl_events: %d seeds' % (n, m))
    return 0


if __name__ == '__main__':
    sys.exit(main())
