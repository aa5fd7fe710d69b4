"""Reference pair counts and measures of Online Retail baskets, computed with pandas
independently of libpersona (tests/cli/test_cli_affinity.py checks `persona similar`
against them).

usage: /usr/bin/python3 tests/data/make_affinity_reference.py \
           /tmp/persona-bench/retail.baskets.csv tests/data

Writes
  affinity_retail_baskets.csv  the first 300 baskets of the input (basket,item; one row
                               per line of the invoice, repeats kept)
  affinity_retail_pandas.csv   item_a,item_b,count,count_a,count_b,lift,jaccard,cosine for
                               every ordered pair seen together in at least 6 baskets, where
                               count_x = baskets holding x (an item once per basket),
                               lift = count * N / (count_a * count_b), N = baskets
"""
import os
import sys

import numpy as np
import pandas as pd


def main(src, out_dir):
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    first = df["basket"].drop_duplicates().head(300)
    df = df[df["basket"].isin(set(first))]
    df.to_csv(os.path.join(out_dir, "affinity_retail_baskets.csv"), index=False)
    u = df.drop_duplicates(["basket", "item"])
    n = u["basket"].nunique()
    counts = u.groupby("item")["basket"].nunique()
    pairs = u.merge(u, on="basket", suffixes=("_a", "_b"))
    pairs = pairs[pairs["item_a"] != pairs["item_b"]]
    pc = pairs.groupby(["item_a", "item_b"]).size().rename("count").reset_index()
    pc = pc[pc["count"] >= 6].copy()
    pc["count_a"] = pc["item_a"].map(counts)
    pc["count_b"] = pc["item_b"].map(counts)
    ca, cb, c = (pc[k].astype(np.float64) for k in ("count_a", "count_b", "count"))
    pc["lift"] = c * n / (ca * cb)
    pc["jaccard"] = c / (ca + cb - c)
    pc["cosine"] = c / np.sqrt(ca * cb)
    pc = pc.sort_values(["item_a", "item_b"])
    pc.to_csv(os.path.join(out_dir, "affinity_retail_pandas.csv"), index=False,
              float_format="%.17g")
    print(f"{n} baskets, {len(counts)} items, {len(pc)} ordered pairs with count >= 6")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
