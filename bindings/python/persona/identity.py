"""Identifiers of a person and their normalization (identity.h)."""
from ._capi import encode, lib, read_string

#: Identifier types by name (PERSONA_ID_*); host-defined types are ints from 100 up.
ID_TYPES = {"key": 0, "cookie": 1, "email": 2, "phone": 3, "customer": 4}


def normalize_identifier(value, kind="key", country_code=None):
    """The one spelling of an identifier (persona_identifier_normalize): emails trimmed and
    lower-cased, phone numbers as E.164 (``country_code`` such as "33" for national
    numbers), other kinds trimmed. ``kind`` is a name of ID_TYPES or an int. Raises
    InvalidArgumentError, with the reason, for what is not an email / a phone number."""
    type_id = ID_TYPES[kind] if isinstance(kind, str) else int(kind)
    cc = None if country_code is None else encode(country_code, "country_code")
    return read_string(lib.persona_identifier_normalize, type_id, encode(value, "value"), cc,
                       capacity=64)
