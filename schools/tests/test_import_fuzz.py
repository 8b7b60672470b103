from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schools.agreement_import import agreements_import
from schools.models import School
from schools.numbers import is_instellingsnummer, restore_leading_zeros

pytestmark = pytest.mark.django_db

HEADER = "instellingsnummer;name;valid_from;valid_until\n"
# Characters that reach every branch of the parser: digits, delimiters, quotes, dates, NUL.
CSV_ALPHABET = st.sampled_from([*"0123456789;,-\"\n\r aé\x00\t'=", "2026-09-01"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.lists(CSV_ALPHABET, max_size=80).map("".join))
def test_it_never_crashes_on_odd_files(body):
    """Whatever the file holds, the import answers with a result, never an exception."""
    for raw in ((HEADER + body).encode(), body.encode(), (HEADER + body).encode("utf-16")):
        result = agreements_import(file=raw, actor=None, dry_run=True)
        assert result.ok or result.errors
        assert all(problem.message for problem in result.errors)
    assert not School.objects.exists()


@given(st.text(max_size=8))
def test_only_six_ascii_digits_are_a_number(value):
    """A number is exactly six ASCII digits; zeros are restored only for one to five digits."""
    assert is_instellingsnummer(value) == (
        len(value) == 6 and all(c in "0123456789" for c in value)
    )
    restored = restore_leading_zeros(value)
    if restored is not None:
        assert is_instellingsnummer(restored) and restored.endswith(value) and len(value) < 6
