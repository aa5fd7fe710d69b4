"""Binary classification metrics (metrics.h): how well scores separate two classes
(persona.metrics and persona.deciles).

    persona.metrics(y, scores)            # dict: roc_auc, pr_auc, log_loss, brier, f1, ...
    persona.metrics(y, scores, threshold=0.3)
    persona.deciles(y, scores)            # DataFrame bin, rows, positives, rate, mean_score,
                                          #   min_score, max_score, lift, cumulative_gain

``y``: labels 0/1 (or booleans); ``scores``: finite numbers, higher = more likely positive
(probabilities for log-loss and Brier). Lists, numpy arrays or pandas Series; numpy
arrays go to C without a per-element loop. The definitions follow scikit-learn's
roc_auc_score (ties count one half) and average_precision_score; docs/metrics.md has them.
"""
from ctypes import byref, c_double, c_uint64

from . import _optional
from ._capi import lib, new_struct
from ._columns import value_column
from ._structs import persona_metrics

_FIELDS = ("rows", "positives", "roc_auc", "pr_auc", "log_loss", "brier", "threshold",
           "accuracy", "precision", "recall", "f1", "best_f1", "best_f1_threshold")


def _columns(y, scores):
    """(labels pointer, scores pointer, n, owners): both as C doubles, of equal length."""
    yp, yo = value_column(y)
    sp, so = value_column(scores)
    if len(yo) != len(so):
        raise ValueError(f"y has {len(yo)} rows and scores {len(so)}")
    return yp, sp, len(yo), (yo, so)


def metrics(y, scores, threshold=0.5):
    """persona_metrics_compute: a dict of ``rows``, ``positives``, ``roc_auc``, ``pr_auc``
    (average precision), ``log_loss``, ``brier``, and at ``threshold`` (a row is predicted
    positive when its score is at least it) ``accuracy``, ``precision``, ``recall``,
    ``f1``; ``best_f1`` and ``best_f1_threshold``. NaN where a measure is undefined (one
    class only; log-loss and Brier of scores outside [0, 1]). ValueError for a label other
    than 0/1 or a score that is not finite (the message gives the row)."""
    yp, sp, n, keep = _columns(y, scores)
    out = new_struct(persona_metrics)
    lib.persona_metrics_compute(byref(out), yp, sp, n, float(threshold))
    del keep
    return {name: getattr(out, name) for name in _FIELDS}


def deciles(y, scores, bins=10):
    """persona_metrics_bins: the rows by score, highest first (ties in row order), in
    ``bins`` bins of equal size (±1 row). Columns: ``bin`` (0 = highest scores), ``rows``,
    ``positives``, ``rate`` (positives / rows), ``mean_score`` (against ``rate``: the
    calibration), ``min_score``, ``max_score``, ``lift`` (rate over the overall rate) and
    ``cumulative_gain`` (share of all positives in this bin and those above). A DataFrame
    with pandas installed, else a list of dicts."""
    if isinstance(bins, bool) or not isinstance(bins, int):
        raise TypeError("bins must be an int")
    yp, sp, n, keep = _columns(y, scores)
    k = max(1, bins)
    rows, pos = (c_uint64 * k)(), (c_uint64 * k)()
    mean, lo, hi = (c_double * k)(), (c_double * k)(), (c_double * k)()
    lib.persona_metrics_bins(rows, pos, mean, lo, hi, bins, yp, sp, n)
    del keep
    total = sum(pos)
    base = total / n if n else float("nan")
    table, cum = [], 0
    for b in range(bins):
        cum += pos[b]
        rate = pos[b] / rows[b] if rows[b] else float("nan")
        table.append({"bin": b, "rows": rows[b], "positives": pos[b], "rate": rate,
                      "mean_score": mean[b], "min_score": lo[b], "max_score": hi[b],
                      "lift": rate / base if base else float("nan"),
                      "cumulative_gain": cum / total if total else float("nan")})
    pd = _optional.pandas()
    return pd.DataFrame(table) if pd is not None else table
