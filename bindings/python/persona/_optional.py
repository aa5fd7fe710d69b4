"""numpy and pandas are optional: imported lazily, at the point of use, every time (so a
test can hide them through sys.modules)."""


def numpy():
    try:
        import numpy as np
    except ImportError:
        return None
    return np


def pandas():
    try:
        import pandas as pd
    except ImportError:
        return None
    return pd


def require_pandas(what):
    pd = pandas()
    if pd is None:
        raise ImportError(f"{what} needs pandas, which is not installed "
                          "(pip install pandas, or use the list/str variants)")
    return pd
