#!/usr/bin/env python3
"""Independent references for RFM and the adjusted Rand index (pandas / scikit-learn, not
libpersona).

usage: make_rfm_reference.py ONLINE_RETAIL.csv.gz SAMPLE.csv OUT_DIR
(../shared/data/online_retail.csv.gz, examples/data/online_retail_sample.csv, tests/data)

Writes into OUT_DIR:

rfm_online_retail.csv, rfm_online_retail_summary.csv (the full file)
rfm_retail_sample.csv, rfm_retail_sample_summary.csv (the bundled sample)
    RFM of the UCI Online Retail file (or its bundled sample) ingested as
        --user CustomerID --time InvoiceDate --basket InvoiceNo --value Quantity*UnitPrice
        --event-const purchase
    Rules (docs/rfm.md):
    * rows without CustomerID are not events; every other row is an event of type
      "purchase" with value Quantity * UnitPrice (a product of two doubles);
    * a row with a negative value is a return (all of them are the "C" cancellation
      invoices in this file): its value is added to monetary, it is not an order and not a
      purchase; every other row (value >= 0, including value 0) is a purchase;
    * users: customers with at least one purchase, in order of their first row in the file
      (any row with their CustomerID, returns included: the store's user order);
    * reference = the latest InvoiceDate of any row with a CustomerID + 1 day;
      recency_days = (reference - latest purchase).days (whole days, floor);
      frequency = distinct InvoiceNo among the purchases;
      monetary = math.fsum of all the customer's values (purchases and returns): the exact
      sum rounded once;
    * scores: in user order, x.rank(method="first") then pd.qcut(ranks, 5, labels=1..5) for
      frequency and monetary; for recency the labels are reversed (5..1: most recent = 5);
    * segment: the point (5R/bins, 5(F+M)/(2 bins)) on Putler's [0,5] x [0,5] chart of R
      against the mean of F and M, whose regions x0 < x <= x1, y0 < y <= y1 are
          Champions (4,5]x(4,5]   Loyal (2,5]x(3,5]   Potential loyalist (3,5]x(1,3]
          New (4,5]x(0,1]         Promising (3,4]x(0,1]   Need attention (2,3]x(2,3]
          About to sleep (2,3]x(0,2]   At risk (0,2]x(2,5]   Can't lose them (0,1]x(4,5]
          Hibernating (1,2]x(1,2]      Lost (0,2]x(0,2]
      the three small regions inside bigger ones (Champions in Loyal, Can't lose them in
      At risk, Hibernating in Lost) taking precedence.
    The summary is segment,users,share in the order above, share = users / scored users.

rfm_qcut_bins.csv
    bins,n,sizes: for bins 2..10 and n = 2..200 ranks, the number of ranks 1..n that
    pd.qcut(pd.Series(1.0..n), bins, labels=False) puts in each bin (space-separated).

rfm_ari_sklearn.csv
    n,ka,kb,keep,seed,ari: sklearn.metrics.adjusted_rand_score(a, b) (repr, round-trip) of
    labelings made by the 64-bit LCG x <- x * 6364136223846793005 + 1442695040888963407
    (mod 2^64) from x = seed: for each item i, draw r1, then a[i] = (r1 >> 33) % ka; draw
    r2; if (r2 >> 33) % 100 < keep: b[i] = a[i] % kb, else draw r3 and b[i] = (r3 >> 33) % kb.

Made with pandas 1.5.3, numpy 1.24.2 and scikit-learn 1.2.1 (Debian 12 packages).
"""
import math
import sys

import numpy as np
import pandas as pd

SEGMENTS = ["Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
            "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost"]
# name: (x0, x1, y0, y1) on the [0,5] x [0,5] chart; x = R, y = mean of F and M
REGIONS = {
    "Champions": (4, 5, 4, 5), "Loyal": (2, 5, 3, 5), "Potential loyalist": (3, 5, 1, 3),
    "New": (4, 5, 0, 1), "Promising": (3, 4, 0, 1), "Need attention": (2, 3, 2, 3),
    "About to sleep": (2, 3, 0, 2), "At risk": (0, 2, 2, 5), "Can't lose them": (0, 1, 4, 5),
    "Hibernating": (1, 2, 1, 2), "Lost": (0, 2, 0, 2),
}
PRECEDENCE = ["Champions", "Can't lose them", "Hibernating"] + [
    s for s in SEGMENTS if s not in ("Champions", "Can't lose them", "Hibernating")]


def segment(r, f, m, bins):
    from fractions import Fraction
    x = Fraction(5 * r, bins)
    y = Fraction(5 * (f + m), 2 * bins)
    hits = [s for s in PRECEDENCE
            if REGIONS[s][0] < x <= REGIONS[s][1] and REGIONS[s][2] < y <= REGIONS[s][3]]
    return hits[0]


def scores(series, bins, reverse=False):
    labels = list(range(bins, 0, -1)) if reverse else list(range(1, bins + 1))
    return pd.qcut(series.rank(method="first"), bins, labels=labels).astype(int)


def rfm_online_retail(src, out, name):
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
    ev = df[df["CustomerID"] != ""].copy()
    ev["value"] = ev["Quantity"].astype(float) * ev["UnitPrice"].astype(float)
    ev["ts"] = pd.to_datetime(ev["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    reference = ev["ts"].max() + pd.Timedelta(days=1)
    order = list(dict.fromkeys(ev["CustomerID"]))  # first appearance
    buy = ev[ev["value"] >= 0]
    g = buy.groupby("CustomerID")
    rfm = pd.DataFrame({
        "last": g["ts"].max(),
        "frequency": g["InvoiceNo"].nunique(),
    })
    rfm["monetary"] = ev.groupby("CustomerID")["value"].apply(lambda v: math.fsum(v))
    rfm = rfm.reindex([u for u in order if u in rfm.index])
    rfm["recency_days"] = (reference - rfm["last"]).dt.days
    rfm["r"] = scores(rfm["recency_days"], 5, reverse=True)
    rfm["f"] = scores(rfm["frequency"], 5)
    rfm["m"] = scores(rfm["monetary"], 5)
    rfm["segment"] = [segment(r, f, m, 5) for r, f, m in zip(rfm["r"], rfm["f"], rfm["m"])]
    rfm.index.name = "user"
    rfm["monetary"] = [repr(float(v)) for v in rfm["monetary"]]
    rfm[["recency_days", "frequency", "monetary", "r", "f", "m", "segment"]].to_csv(
        f"{out}/{name}.csv")
    n = len(rfm)
    counts = rfm["segment"].value_counts()
    with open(f"{out}/{name}_summary.csv", "w") as f:
        f.write("segment,users,share\n")
        for s in SEGMENTS:
            c = int(counts.get(s, 0))
            f.write(f"{s},{c},{repr(c / n)}\n")


def qcut_bins(out):
    with open(f"{out}/rfm_qcut_bins.csv", "w") as f:
        f.write("bins,n,sizes\n")
        for bins in range(2, 11):
            for n in range(2, 201):
                ranks = pd.Series(np.arange(1, n + 1, dtype=float))
                b = pd.qcut(ranks, bins, labels=False)
                sizes = np.bincount(b.astype(int), minlength=bins)
                f.write(f"{bins},{n},{' '.join(str(int(s)) for s in sizes)}\n")


MASK = (1 << 64) - 1


def labelings(n, ka, kb, keep, seed):
    x = seed
    a, b = [], []

    def draw():
        nonlocal x
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        return x >> 33
    for _ in range(n):
        ai = draw() % ka
        if draw() % 100 < keep:
            bi = ai % kb
        else:
            bi = draw() % kb
        a.append(ai)
        b.append(bi)
    return a, b


def ari_cases(out):
    from sklearn.metrics import adjusted_rand_score
    cases = [(10, 3, 3, 50, 1), (100, 5, 4, 70, 2), (1000, 11, 11, 90, 3),
             (1000, 2, 2, 0, 4), (5000, 50, 7, 30, 5), (20000, 1000, 1000, 95, 6),
             (100000, 11, 11, 60, 7), (100000, 3, 100000, 0, 8), (200000, 5, 5, 99, 9),
             (50, 50, 1, 0, 10), (3, 1, 1, 0, 11), (7, 7, 7, 100, 12)]
    with open(f"{out}/rfm_ari_sklearn.csv", "w") as f:
        f.write("n,ka,kb,keep,seed,ari\n")
        for n, ka, kb, keep, seed in cases:
            a, b = labelings(n, ka, kb, keep, seed)
            f.write(f"{n},{ka},{kb},{keep},{seed},{repr(float(adjusted_rand_score(a, b)))}\n")


def main():
    src, sample, out = sys.argv[1], sys.argv[2], sys.argv[3]
    rfm_online_retail(src, out, "rfm_online_retail")
    rfm_online_retail(sample, out, "rfm_retail_sample")
    qcut_bins(out)
    ari_cases(out)


if __name__ == "__main__":
    main()
