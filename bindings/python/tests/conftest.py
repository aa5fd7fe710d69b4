"""Shared fixtures. The package is imported from the source tree (bindings/python), and the
library from $PERSONA_LIBRARY or the build tree (see persona._capi)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import persona  # noqa: E402

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
D0 = 1_614_556_800_000  # 2021-03-01 00:00:00 UTC
D1 = D0 + DAY

# u1: two days of activity; u2: three views arriving out of order around the 30-min gap.
SCENARIO = [
    {"user": "u1", "time": D0 + 10 * HOUR, "type": "view", "item": "sku1",
     "props": {"referrer": "google", "category": "shoes"}},
    {"user": "u1", "time": D0 + 10 * HOUR + 10 * MINUTE, "type": "view", "item": "sku2"},
    {"user": "u1", "time": D0 + 10 * HOUR + 20 * MINUTE, "type": "purchase", "value": 30.0,
     "basket": "o1", "event_id": "e3", "props": {"referrer": "newsletter"}},
    {"user": "u1", "time": D1 + 10 * HOUR, "type": "view", "props": {"category": "shoes"}},
    {"user": "u1", "time": D1 + 10 * HOUR + 25 * MINUTE, "type": "purchase", "value": 12.5,
     "basket": "o2", "props": {"category": "bags"}},
    {"user": "u2", "time": D0 + 61 * MINUTE, "type": "view"},
    {"user": "u2", "time": D0, "type": "view"},
    {"user": "u2", "time": D0 + 30 * MINUTE, "type": "view"},
]

SCENARIO_CSV = (
    "user_id,events,purchase,view,value_sum,first_ts,last_ts\n"
    "u1,5,2,3,42.5,2021-03-01 10:00:00,2021-03-02 10:25:00\n"
    "u2,3,0,3,0,2021-03-01 00:00:00,2021-03-01 01:01:00\n"
)


@pytest.fixture
def store():
    with persona.Store(half_life=DAY, seed=7) as s:
        yield s


@pytest.fixture
def scenario_store(store):
    store.ingest(SCENARIO)
    return store


@pytest.fixture
def hide_numpy(monkeypatch):
    """Make `import numpy` (and pandas) fail, as on a machine without them."""
    monkeypatch.setitem(sys.modules, "numpy", None)
    monkeypatch.setitem(sys.modules, "pandas", None)
