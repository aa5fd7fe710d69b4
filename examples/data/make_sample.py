#!/usr/bin/env python3
"""Rebuild online_retail_sample.csv from the UCI Online Retail file (gzip CSV).

usage: make_sample.py ../../../shared/data/online_retail.csv.gz > online_retail_sample.csv

Keeps every row of the customers whose CustomerID is a multiple of 20 (about 5 % of the
customers, their whole year, so cohorts and retention have something to show), plus about
1 % of the rows without a CustomerID (chosen by a hash of InvoiceNo and StockCode), so the
demo shows rejected rows. Rows keep their original order and values; CSV is rewritten with
minimal RFC 4180 quoting and LF line endings.
"""
import csv
import gzip
import hashlib
import sys


def main():
    src = sys.argv[1]
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(next(rows))
        for row in rows:
            cid = row[6]
            if cid:
                keep = int(cid) % 20 == 0
            else:
                digest = hashlib.sha256((row[0] + row[1]).encode()).hexdigest()
                keep = int(digest, 16) % 100 == 0
            if keep:
                out.writerow(row)


if __name__ == "__main__":
    main()
