"""Columns of events as a persona_event_arrays, for persona_source_from_arrays().

The C source borrows every array until it is freed, so ``EventColumns.keepalive`` lists
all of them; the Source keeps that list for its whole life. With numpy installed, numpy
arrays and pandas Series of numbers or datetime64 go to C without a per-element loop
(converted once to C-contiguous int64 / float64); everything else, and everything without
numpy, goes through plain Python lists. Both give the same events.
"""
from ctypes import POINTER, c_char_p, c_double, c_int64, cast

from . import _optional
from ._capi import new_struct
from ._events import EVENT_FIELDS, event_time, event_value, string_array
from ._structs import persona_event_arrays

def _as_list(column):
    return column.tolist() if hasattr(column, "tolist") else list(column)


def _numpy_array(column):
    """The column as an ndarray when numpy is importable and it is array-like, else None."""
    np = _optional.numpy()
    if np is None or isinstance(column, (list, tuple)):
        return None
    if hasattr(column, "to_numpy"):          # pandas Series
        column = column.to_numpy()
    return column if isinstance(column, np.ndarray) else None


def time_column(column, time_format=None, utc_offset_minutes=0):
    """(int64_t * pointer, the object owning the memory)."""
    array = _numpy_array(column)
    if array is not None and array.dtype.kind in "Miu":
        np = _optional.numpy()
        if array.dtype.kind == "M":           # datetime64: NaT stays INT64_MIN = bad time
            array = array.astype("datetime64[ms]").view("int64")
        array = np.ascontiguousarray(array, dtype=np.int64)
        return array.ctypes.data_as(POINTER(c_int64)), array
    values = [event_time(v, time_format, utc_offset_minutes) for v in _as_list(column)]
    owner = (c_int64 * len(values))(*values)
    return cast(owner, POINTER(c_int64)), owner


def value_column(column):
    """(double * pointer, the object owning the memory); NaN means no value."""
    array = _numpy_array(column)
    if array is not None and array.dtype.kind in "fiub":
        np = _optional.numpy()
        array = np.ascontiguousarray(array, dtype=np.float64)
        return array.ctypes.data_as(POINTER(c_double)), array
    values = [event_value(v) for v in _as_list(column)]
    owner = (c_double * len(values))(*values)
    return cast(owner, POINTER(c_double)), owner


class EventColumns:
    """A persona_event_arrays over Python columns (``struct``), and what it borrows."""

    def __init__(self, user, time, type=None, item=None, value=None, event_id=None,
                 basket=None, props=None, time_format=None, utc_offset_minutes=0):
        if user is None or time is None:
            raise TypeError("the user and time columns are required")
        strings = {"user": user, "type": type, "item": item, "event_id": event_id,
                   "basket": basket}
        props = dict(props or {})
        lengths = {name: len(col) for name, col in
                   [*strings.items(), ("time", time), ("value", value), *props.items()]
                   if col is not None}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns differ in length: {lengths}")
        self.keepalive = []
        self.struct = arrays = new_struct(persona_event_arrays)
        arrays.count = lengths["user"]
        for field, column in strings.items():
            if column is not None:
                setattr(arrays, field, self._keep(string_array(_as_list(column), field)))
        arrays.time_ms = self._keep(*time_column(time, time_format, utc_offset_minutes))
        if value is not None:
            arrays.value = self._keep(*value_column(value))
        if props:
            names = self._keep(string_array(list(props), "property name"))
            values = [self._keep(string_array(_as_list(col), "property value"))
                      for col in props.values()]
            table = self._keep((POINTER(c_char_p) * len(values))(
                *[cast(v, POINTER(c_char_p)) for v in values]))
            arrays.n_props = len(props)
            arrays.prop_names = names
            arrays.prop_values = table

    def _keep(self, pointer, owner=None):
        self.keepalive.append(pointer if owner is None else owner)
        return pointer


def records_to_columns(records):
    """Event dicts (the keys of Store.ingest) as keyword arguments of EventColumns;
    optional fields no record has are left out (NULL arrays)."""
    records = list(records)
    for index, record in enumerate(records):
        unknown = set(record) - set(EVENT_FIELDS)
        if unknown:
            raise ValueError(f"record {index}: unknown field(s) {sorted(unknown)}")
    columns = {}
    for field in ("user", "time", "type", "item", "value", "event_id", "basket"):
        column = [record.get(field) for record in records]
        if field in ("user", "time") or any(v is not None for v in column):
            columns[field] = column
    names = list(dict.fromkeys(name for r in records for name in (r.get("props") or {})))
    columns["props"] = {name: [(r.get("props") or {}).get(name) for r in records]
                        for name in names}
    return columns
