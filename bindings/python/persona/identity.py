"""Identifiers of a person, their normalization and the identity graph (identity.h).

The graph itself is reached through persona.Store (alias, unmerge, resolve, merge_log,
identity_limit, identity_priority, identity_block, identity_country); this module holds
what those share: identifier types, link outcomes, the identifier array and the result.
"""
import ctypes
import dataclasses
import numbers

from ._capi import encode, lib, read_string
from ._structs import persona_identifier

#: Identifier types (PERSONA_ID_*).
ID_KEY = 0         # a store's user key as such
ID_COOKIE = 1      # an anonymous cookie or device id
ID_EMAIL = 2       # an email address
ID_PHONE = 3       # a phone number
ID_CUSTOMER = 4    # a customer or account id of the host
ID_HOST = 100      # first host-defined type (normalized like a cookie id)

#: Identifier types by name (PERSONA_ID_*); host-defined types are ints from 100 up.
ID_TYPES = {"key": ID_KEY, "cookie": ID_COOKIE, "email": ID_EMAIL, "phone": ID_PHONE,
            "customer": ID_CUSTOMER}

#: Outcomes of one link (PERSONA_LINK_*), as persona_alias_result::outcome.
LINK_MERGED = 1          # two profiles became one
LINK_ADDED = 2           # a new identifier joined a profile
LINK_SAME = 3            # both identifiers already were one profile
LINK_BLOCKED_VALUE = 4   # an identifier is on the blocked-values list
LINK_BLOCKED_LIMIT = 5   # the merged profile would exceed a per-type limit

#: Outcome names by value, as the merge log spells them.
LINK_OUTCOMES = {LINK_MERGED: "merged", LINK_ADDED: "added", LINK_SAME: "same",
                 LINK_BLOCKED_VALUE: "blocked-value", LINK_BLOCKED_LIMIT: "blocked-limit"}

_INT32 = range(-2 ** 31, 2 ** 31)


def normalize_identifier(value, kind="key", country_code=None):
    """The one spelling of an identifier (persona_identifier_normalize): emails trimmed and
    lower-cased, phone numbers as E.164 (``country_code`` such as "33" for national
    numbers), other kinds trimmed. ``kind`` is a name of ID_TYPES or an int. Raises
    InvalidArgumentError, with the reason, for what is not an email / a phone number."""
    type_id = ID_TYPES[kind] if isinstance(kind, str) else int(kind)
    cc = None if country_code is None else encode(country_code, "country_code")
    return read_string(lib.persona_identifier_normalize, type_id, encode(value, "value"), cc,
                       capacity=64)


def id_type(kind):
    """The PERSONA_ID_* value of a type given as a name of ID_TYPES or an int (host types
    from ID_HOST up). ValueError for an unknown name, TypeError for other values; the
    library itself refuses negative types (InvalidArgumentError)."""
    if isinstance(kind, str):
        try:
            return ID_TYPES[kind]
        except KeyError:
            raise ValueError(f"unknown identifier type {kind!r}; expected one of "
                             f"{', '.join(ID_TYPES)} or an int") from None
    if isinstance(kind, numbers.Integral) and not isinstance(kind, bool):
        if int(kind) not in _INT32:
            raise OverflowError(f"identifier type {kind} does not fit in int32")
        return int(kind)
    raise TypeError(f"an identifier type must be a name or an int, not {type(kind).__name__}")


def id_type_name(type_id):
    """The merge log's name of a type: "key", "cookie", ... or the int of a host type."""
    for name, value in ID_TYPES.items():
        if value == type_id:
            return name
    return type_id


def _identifier_parts(identifier):
    """(type, value) of an identifier given as a ``(type, value)`` pair or as a plain
    str / bytes (a user key, PERSONA_ID_KEY)."""
    if isinstance(identifier, (str, bytes)):
        return ID_KEY, identifier
    try:
        kind, value = identifier
    except (TypeError, ValueError):
        raise TypeError("an identifier is a (type, value) pair or a str key, not "
                        f"{identifier!r}") from None
    return id_type(kind), value


def identifier_array(identifiers):
    """A ctypes array of persona_identifier (struct_size set) for ``identifiers``; the
    encoded values are referenced by the array, so they live as long as it does."""
    parts = [_identifier_parts(i) for i in identifiers]
    array = (persona_identifier * len(parts))()
    for slot, (kind, value) in zip(array, parts):
        slot.struct_size = ctypes.sizeof(persona_identifier)
        slot.type = kind
        slot.value = encode(value, "identifier")
    return array


@dataclasses.dataclass(frozen=True)
class AliasResult:
    """What Store.alias() did (persona_alias_result): one count per outcome of its links.

    ``outcome``: "merged", "added", "same", "blocked-value" or "blocked-limit": the outcome
    of the last link that was not "same" ("same" when all were). ``blocked_type`` is the
    identifier type of the last blocked link, named as in the merge log ("email", ..., or
    the int of a host type), None when nothing was blocked. ``events_replayed``: events
    whose traits were recomputed."""

    outcome: str
    merged: int = 0
    added: int = 0
    same: int = 0
    blocked: int = 0
    blocked_type: object = None
    events_replayed: int = 0

    @classmethod
    def from_struct(cls, result):
        outcome = LINK_OUTCOMES.get(result.outcome, f"outcome_{result.outcome}")
        return cls(outcome=outcome, merged=result.merged, added=result.added,
                   same=result.same, blocked=result.blocked,
                   blocked_type=id_type_name(result.blocked_type) if result.blocked else None,
                   events_replayed=result.events_replayed)
