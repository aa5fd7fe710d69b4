"""Reference first-order transition counts of the UCI e-shop clothing 2008 clickstream,
computed with pandas independently of libpersona (tests/cli/test_cli_paths.py and
bindings/python/tests/test_paths.py check `persona paths` and `store.paths()` against it).

usage: /usr/bin/python3 tests/data/make_eshop_transitions.py \
           ../shared/data/eshop_clothing_2008.csv.gz tests/data/eshop_transitions_pandas.csv

A session is one `session ID`, its clicks in `order(sells)` order; a click's state is its
`page 1 (main category)` (1 to 4). Each session is the path (start), s1, ..., sn, (end);
every pair of neighbours is a transition. Writes from,to,count sorted by from, then to
(the state names as strings, bytewise).
"""
import sys

import pandas as pd


def main(src, out):
    df = pd.read_csv(src, sep=";")
    df = df.sort_values(["session ID", "order(sells)"], kind="mergesort")
    state = df["page 1 (main category)"].astype(str)
    session = df["session ID"]
    prev = state.groupby(session).shift(1).fillna("(start)")
    nxt = state.groupby(session).shift(-1).fillna("(end)")
    inner = pd.DataFrame({"from": prev, "to": state})
    # the last click of each session also leads to (end)
    last = pd.DataFrame({"from": state[nxt == "(end)"], "to": "(end)"})
    pairs = pd.concat([inner, last], ignore_index=True)
    counts = pairs.groupby(["from", "to"]).size().rename("count").reset_index()
    counts = counts.sort_values(["from", "to"], key=lambda c: c.str.encode("utf-8"))
    counts.to_csv(out, index=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
