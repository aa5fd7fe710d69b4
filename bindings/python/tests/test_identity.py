"""persona.normalize_identifier against hand-written expectations."""
import pytest

import persona


@pytest.mark.parametrize("value,kind,cc,want", [
    ("  Ann.Lee@Example.COM ", "email", None, "ann.lee@example.com"),
    ("06 12 34 56 78", "phone", "33", "+33612345678"),
    ("+33 (6) 12-34-56-78", "phone", None, "+33612345678"),
    ("0033 612345678", "phone", None, "+33612345678"),
    ("  c0ffee ", "cookie", None, "c0ffee"),
    (" loyalty:9 ", 100, None, "loyalty:9"),
])
def test_normalize(value, kind, cc, want):
    assert persona.normalize_identifier(value, kind, cc) == want


@pytest.mark.parametrize("value,kind,why", [
    ("ann@@example.com", "email", "more than one '@'"),
    ("06 12 34 56 78", "phone", "country code"),
    ("+12", "phone", "digits"),
    ("   ", "cookie", "empty"),
])
def test_refusals_say_why(value, kind, why):
    with pytest.raises(persona.InvalidArgumentError, match=why):
        persona.normalize_identifier(value, kind)
