#!/usr/bin/env python3
"""Independent reference for ingesting the raw UCI Online Retail file (pandas, not libpersona).

usage: make_uci_reference.py ONLINE_RETAIL.csv.gz OUT_DIR

Mapping under test: --user CustomerID --time InvoiceDate --item StockCode --basket InvoiceNo
--value Quantity*UnitPrice --prop country=Country (no event column: every event is "event").
Writes:
  uci_retail_summary.json   rows, users, events, rejected by reason (rows without CustomerID
                            are the only bad rows in this file: missing_user)
  uci_retail_profiles.csv   user_id,events,value_sum,orders,first_ts,last_ts,country
                            per customer, sorted numerically; value_sum = sum of
                            Quantity*UnitPrice rounded to 2 decimals, orders = distinct
                            InvoiceNo, country = Country of the customer's latest row (on equal
                            times the later row in the file).
"""
import json
import sys

import pandas as pd


def main():
    src, out = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src, dtype=str, keep_default_na=False, encoding="utf-8")
    rows = len(df)
    has = df["CustomerID"] != ""
    ev = df[has].copy()
    ev["value"] = ev["Quantity"].astype(float) * ev["UnitPrice"].astype(float)
    ev["ts"] = pd.to_datetime(ev["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    ev["order"] = range(len(ev))
    g = ev.groupby(ev["CustomerID"].astype("int64"))
    last = ev.sort_values(["ts", "order"]).groupby(ev["CustomerID"].astype("int64")).tail(1)
    prof = pd.DataFrame({
        "events": g.size(),
        "value_sum": g["value"].sum().round(2),
        "orders": g["InvoiceNo"].nunique(),
        "first_ts": g["ts"].min().dt.strftime("%Y-%m-%d %H:%M:%S"),
        "last_ts": g["ts"].max().dt.strftime("%Y-%m-%d %H:%M:%S"),
    })
    prof["country"] = last.set_index(last["CustomerID"].astype("int64"))["Country"]
    prof.index.name = "user_id"
    prof.sort_index().to_csv(f"{out}/uci_retail_profiles.csv", float_format="%.2f")
    summary = {"rows_read": rows, "users": int(prof.shape[0]), "events_accepted": int(len(ev)),
               "events_rejected": int((~has).sum()),
               "rejected": {"missing_user": int((~has).sum())}}
    with open(f"{out}/uci_retail_summary.json", "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
