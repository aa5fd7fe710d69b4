"""Multi-touch attribution (attribution.h): channel journeys to a conversion, the Markov
removal effect of order 1 ... 4 and the heuristic models first, last, linear, position
(U-shaped) and time decay; conversions and conversion value credited side by side.

    store.attribution("campaign", "purchase", model="markov", order=2)
    # DataFrame channel, conversions, value, share, removal_effect, removal_effect_value

    journeys = Attribution.build(store, "campaign", "purchase")   # the journeys, once
    journeys.compute("linear")                                     # any model on them
    journeys.paths()                  # DataFrame path (list of channels), conversions, value, nulls
    Attribution.from_journeys([["A", "B"], ["C"]], conversions=[1, 0], nulls=[0, 1])

Tables are pandas DataFrames when pandas is installed, else lists of dicts. An Attribution
is immutable: any number of threads may query it (the GIL is released during calls).
docs/attribution.md has the definitions and a worked example.
"""
from ctypes import byref, c_char_p, c_double, c_int64, c_size_t, c_uint32, c_uint64

from ._capi import AttributionHandle, BufferTooSmallError, encode, lib, new_struct, read_string
from ._handle import Handle
from ._structs import (persona_attribution_info, persona_attribution_journeys,
                       persona_attribution_model_options, persona_attribution_options)
from .affinity import _table
from .cohort import window_ms

MODELS = {"markov": 0, "first": 1, "last": 2, "linear": 3, "position": 4, "decay": 5}
COLUMNS = ("channel", "conversions", "value", "share", "removal_effect", "removal_effect_value")


def _strings(values, what):
    if isinstance(values, (str, bytes)):
        values = [values]
    values = [encode(v, what) for v in values]
    return (c_char_p * max(1, len(values)))(*values), len(values)


def _model_options(model, order, weights):
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, not {model!r}")
    if not isinstance(order, int) or isinstance(order, bool) or not 1 <= order <= 4:
        raise ValueError(f"order must be an int from 1 to 4, not {order!r}")
    o = new_struct(persona_attribution_model_options)
    o.model = MODELS[model]
    o.order = order
    if weights is not None:
        first, middle, last = (float(w) for w in weights)
        if (first, middle, last) == (0.0, 0.0, 0.0):
            raise ValueError("position weights must sum to 1, not all be 0")
        o.position_first, o.position_middle, o.position_last = first, middle, last
    return o


class Attribution(Handle):
    """A set of aggregated journeys (persona_attribution). Made by Attribution.build(),
    Attribution.from_journeys(), Attribution.load() or merge(); does not depend on the
    store it was built from."""

    _kind = "attribution set"

    def __init__(self, handle):
        self._adopt(handle, lib.persona_attribution_free)

    @classmethod
    def build(cls, store, channel, conversion, *, touch_events=None, lookback=None,
              half_life=None, consent=None):
        """persona_attribution_build: ``channel`` the property whose value is the channel;
        ``conversion`` an event type or a list of them; ``touch_events``: event types that
        are touchpoints (channel "(none)" when they lack the property; default every
        other event carrying the property); ``lookback``: only touchpoints at most this
        long before the journey's end ("30d", ms or a timedelta); ``half_life`` of the
        decay model (default 7 days); ``consent``: only users who granted this purpose."""
        o = new_struct(persona_attribution_options)
        keep = [encode(channel, "channel property")]
        o.channel_prop = keep[0]
        arr, n = _strings(conversion, "conversion event type")
        keep.append(arr)
        o.conversion_types, o.n_conversion_types = arr, n
        if touch_events is not None:
            arr, n = _strings(touch_events, "touch event type")
            keep.append(arr)
            o.touch_types, o.n_touch_types = arr, n
        if lookback is not None:
            o.lookback_ms = window_ms(lookback, "lookback")
        if half_life is not None:
            o.half_life_ms = window_ms(half_life, "half_life")
        if consent is not None:
            keep.append(encode(consent, "consent purpose"))
            o.consent_purpose = keep[-1]
        handle = AttributionHandle()
        lib.persona_attribution_build(byref(handle), store._live(), byref(o))
        del keep
        return cls(handle)

    @classmethod
    def from_journeys(cls, paths, conversions, values=None, nulls=None, *, ages=None,
                      half_life=None):
        """persona_attribution_from_journeys: ``paths`` a list of journeys, each a list of
        channel names; per journey ``conversions``, ``values`` (default 0) and ``nulls``
        (non-converting occurrences, default 0); ``ages``: per journey a list of each
        touchpoint's time before the conversion in ms (for time decay)."""
        paths = [list(p) for p in paths]
        names = sorted({c for p in paths for c in p})
        index = {c: i for i, c in enumerate(names)}
        n = len(paths)
        for what, seq in (("conversions", conversions), ("values", values), ("nulls", nulls),
                          ("ages", ages)):
            if seq is not None and len(seq) != n:
                raise ValueError(f"{what} has {len(seq)} entries for {n} journeys")
        offsets = [0]
        touch = []
        for p in paths:
            touch.extend(index[c] for c in p)
            offsets.append(len(touch))
        j = new_struct(persona_attribution_journeys)
        chan, _ = _strings(names, "channel")
        keep = [chan, (c_uint64 * (n + 1))(*offsets),
                (c_uint32 * max(1, len(touch)))(*touch),
                (c_uint64 * max(1, n))(*[int(c) for c in conversions])]
        j.channels, j.n_channels, j.n_journeys = chan, len(names), n
        j.offsets, j.touch_channels, j.conversions = keep[1], keep[2], keep[3]
        if values is not None:
            keep.append((c_double * max(1, n))(*[float(v) for v in values]))
            j.values = keep[-1]
        if nulls is not None:
            keep.append((c_uint64 * max(1, n))(*[int(v) for v in nulls]))
            j.nulls = keep[-1]
        if ages is not None:
            flat = [int(a) for p, row in zip(paths, ages) for a in row]
            if len(flat) != len(touch):
                raise ValueError("ages must give one age per touchpoint")
            keep.append((c_int64 * max(1, len(flat)))(*flat))
            j.touch_ages_ms = keep[-1]
        if half_life is not None:
            j.half_life_ms = window_ms(half_life, "half_life")
        handle = AttributionHandle()
        lib.persona_attribution_from_journeys(byref(handle), byref(j))
        del keep
        return cls(handle)

    @classmethod
    def load(cls, path):
        """A set saved with save() (persona_attribution_load)."""
        handle = AttributionHandle()
        lib.persona_attribution_load(byref(handle), encode(str(path), "path"))
        return cls(handle)

    def save(self, path):
        """Save as a snapshot file (persona_attribution_save; replaced atomically)."""
        lib.persona_attribution_save(self._live(), encode(str(path), "path"))

    def merge(self, other):
        """A new set of both partitions (persona_attribution_merge): equal to one built on
        all their users."""
        handle = AttributionHandle()
        lib.persona_attribution_merge(byref(handle), self._live(), other._live())
        return Attribution(handle)

    @property
    def info(self):
        """dict: channels, paths, conversions, nulls, touchpoints, value,
        conversions_without_touch, value_without_touch, half_life_ms."""
        i = new_struct(persona_attribution_info)
        lib.persona_attribution_info_get(byref(i), self._live())
        return {k: getattr(i, k) for k, _ in persona_attribution_info._fields_
                if k not in ("struct_size", "reserved")}

    @property
    def channels(self):
        """Every channel name, in bytewise order (index = channel number)."""
        return [read_string(lib.persona_attribution_channel_name, self._live(), i)
                for i in range(self.info["channels"])]

    def paths(self):
        """Table: path (list of channel names), conversions, value, nulls; in canonical
        order."""
        names = self.channels
        rows = []
        buf = (c_uint32 * 64)()
        n, conv, nulls, value = c_size_t(), c_uint64(), c_uint64(), c_double()
        for p in range(self.info["paths"]):
            while True:
                try:
                    lib.persona_attribution_path(buf, len(buf), byref(n), byref(conv),
                                                 byref(value), byref(nulls), self._live(), p)
                    break
                except BufferTooSmallError:
                    buf = (c_uint32 * n.value)()
            rows.append(([names[buf[i]] for i in range(n.value)], conv.value, value.value,
                         nulls.value))
        return _table(("path", "conversions", "value", "nulls"), rows)

    def compute(self, model="markov", order=1, *, weights=None):
        """Credit per channel (persona_attribution_compute): table channel, conversions,
        value, share (of the conversions credited), removal_effect, removal_effect_value
        (Markov only; NaN otherwise). ``order``: Markov order 1 ... 4; ``weights``:
        position-based (first, middle, last) summing to 1 (default 0.4, 0.2, 0.4)."""
        o = _model_options(model, order, weights)
        names = self.channels
        k = max(1, len(names))
        conv, value, re, rev = ((c_double * k)() for _ in range(4))
        n = c_size_t()
        lib.persona_attribution_compute(conv, value, re, rev, k, byref(n), self._live(), byref(o))
        total = sum(conv[i] for i in range(n.value))
        rows = [(names[i], conv[i], value[i], conv[i] / total if total else 0.0, re[i], rev[i])
                for i in range(n.value)]
        return _table(COLUMNS, rows)
