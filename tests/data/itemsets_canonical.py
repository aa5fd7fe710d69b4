#!/usr/bin/env python3
"""`persona itemsets` output -> the benchmark anchors' canonical itemset file
(../shared/bench/anchors/itemsets_common.py: items joined by one space, rows sorted,
support %.17g), on stdout; its sha256 identifies the anchor's answer.
usage: itemsets_canonical.py OUT.csv [ITEM_SEP]  (ITEM_SEP default ' | ')"""
import csv
import sys


def main():
    sep = sys.argv[2] if len(sys.argv) > 2 else " | "
    rows = []
    with open(sys.argv[1], newline="") as f:
        r = csv.reader(f)
        next(r)
        for items, count, support in r:
            rows.append((" ".join(items.split(sep)), int(count), support))
    rows.sort()
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["items", "count", "support"])
    for its, c, s in rows:
        w.writerow([its, c, s])


if __name__ == "__main__":
    main()
