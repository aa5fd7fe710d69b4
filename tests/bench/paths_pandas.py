"""The first-order transition table of the synthetic events file in pandas: the anchor of
compare_paths.sh. Sessions per user by a 30-minute inactivity gap (a gap longer than 30
minutes starts a new session), events in time order (ties in file order), state = the
event type, each session the path (start), s1, ..., sn, (end).

usage: /usr/bin/python3 tests/bench/paths_pandas.py EVENTS.csv OUT.csv [REPEATS [SORT]]
SORT: lexsort (default: the anchor of compare_paths.sh) or sort_values (the same table with
the stable DataFrame.sort_values(["user", "t"]) most pandas code writes: for context).
Prints one JSON line: rows, load_s (read_csv, timestamps parsed, types categorical: the
loaded table, not compared), compute_s (median of REPEATS: sort, sessions, transitions,
counts). Writes from,to,count.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

GAP = pd.Timedelta(minutes=30)


def load(src):
    """The events as a loaded table: timestamps parsed, event types categorical (as the
    store holds them: times parsed, types interned)."""
    df = pd.read_csv(src, dtype={"user_id": "int64", "timestamp": str, "event": str},
                     usecols=["user_id", "timestamp", "event"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="%Y-%m-%d %H:%M:%S")
    df["event"] = df["event"].astype("category")
    return df


def transitions(df, sort="lexsort"):
    """from,to,count; states as categorical codes (what a careful pandas user writes)."""
    names = list(df["event"].cat.categories) + ["(start)", "(end)"]
    start, end, k = len(names) - 2, len(names) - 1, len(names)
    d = pd.DataFrame({"user": df["user_id"].to_numpy(), "t": df["timestamp"].to_numpy(),
                      "s": df["event"].cat.codes.astype("int64").to_numpy()})
    # numpy's lexsort is stable (ties keep file order) and 6x faster here than
    # sort_values(["user", "t"])
    if sort == "sort_values":
        d = d.sort_values(["user", "t"], kind="stable")
    else:
        d = d.iloc[np.lexsort((d["t"].to_numpy(), d["user"].to_numpy()))]
    same_user = d["user"].eq(d["user"].shift())
    new_session = ~same_user | (d["t"] - d["t"].shift() > GAP)
    prev = d["s"].shift(fill_value=start).where(~new_session, start)
    last = new_session.shift(-1, fill_value=True)
    pair = pd.concat([prev * k + d["s"], d["s"][last] * k + end], ignore_index=True)
    counts = pair.value_counts(sort=False)
    return pd.DataFrame({"from": [names[c // k] for c in counts.index],
                         "to": [names[c % k] for c in counts.index],
                         "count": counts.to_numpy()})


def main(src, out, repeats=3, sort="lexsort"):
    a = time.perf_counter()
    df = load(src)
    load_s = time.perf_counter() - a
    times = []
    for _ in range(repeats):
        a = time.perf_counter()
        counts = transitions(df, sort)
        times.append(time.perf_counter() - a)
    counts = counts.sort_values(["from", "to"], key=lambda c: c.str.encode("utf-8"))
    counts.to_csv(out, index=False)
    times.sort()
    print(json.dumps({"rows": len(df), "load_s": round(load_s, 2),
                      "compute_s": round(times[len(times) // 2], 3)}))


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[4] not in ("lexsort", "sort_values"):
        sys.exit("paths_pandas.py: SORT is lexsort or sort_values")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3,
         sys.argv[4] if len(sys.argv) > 4 else "lexsort")
