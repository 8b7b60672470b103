"""pupils.claims: parse never raises on any JSON and normalises what it accepts; the names of
claims outside the allowlist are counted, never their values."""

from __future__ import annotations

import json
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pupils.claims import (
    MAX_NAME_LENGTH,
    OTHER_CLAIM_NAME,
    LeerIDClaims,
    Refusal,
    parse,
    unexpected_claim_names,
)
from pupils.tests.claims_samples import ACCOUNT, LEERID, TODAY, claims

# --- Totality -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from([LEERID, ACCOUNT, LEERID.upper(), "12345", "012345", "2026-01-01"]),
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["instellingsnummer", "einddatum", "begindatum"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
claim_keys = st.sampled_from(
    [
        "sub",
        "given_name",
        "family_name",
        "ov_leerid_uuid",
        "ov_account_uuid",
        "ov_historiek_account_uuid",
        "ov_inschrijvingen",
    ]
)
# Mostly objects that carry our claims with arbitrary values, so the deep paths are reached.
raw_claims = json_values | st.dictionaries(claim_keys | st.text(max_size=5), json_values)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_claims)
def test_it_never_raises_on_arbitrary_json(raw):
    """Whatever JSON arrives, parse returns LeerIDClaims or a Refusal and raises nothing."""
    result = parse(raw, today=TODAY)
    assert isinstance(result, LeerIDClaims | Refusal)
    if isinstance(result, LeerIDClaims):
        json.dumps(result.enrollments)
        assert all(len(number) == 6 and number.isascii() for number in result.enrollments)
        assert result.account_uuid == result.account_uuid.lower()
        assert len(result.family_name) <= MAX_NAME_LENGTH
        assert result.family_name or result.given_name


@settings(max_examples=200, deadline=None)
@given(
    given_name=st.text(max_size=300),
    family_name=st.text(max_size=300),
    enrollments=st.lists(st.integers(0, 999_999) | st.from_regex(r"\A[0-9]{1,6}\Z"), max_size=8),
)
def test_it_normalises_any_valid_looking_claims(given_name, family_name, enrollments):
    """Names come out NFC, printable and bounded; numbers come out six digits."""

    result = parse(
        claims(given_name=given_name, family_name=family_name, ov_inschrijvingen=enrollments),
        today=TODAY,
    )
    if isinstance(result, Refusal):
        assert result in {Refusal.MISSING_NAME}
        return
    for name in (result.given_name, result.family_name):
        assert unicodedata.is_normalized("NFC", name)
        assert len(name) <= MAX_NAME_LENGTH
        assert name == name.strip()
        assert not any(unicodedata.category(char) == "Cc" for char in name)
    assert len(result.enrollments) == len({str(int(number)) for number in enrollments})


# --- Claim names outside the allowlist (the DPO's data-quality count) --------------------------


def test_it_names_claims_outside_the_allowlist_never_their_values():
    raw = {
        "sub": "s",
        "iss": "i",
        "given_name": "Testa",
        "ov_inschrijvingen": ["012345"],
        "ov_geboortedatum": "2012-01-01",
        "birthdate": "2012-01-01",
        "3f2b8c1e-1111-4222-8333-944444444444": "x",
        "x": "y",
    }
    assert unexpected_claim_names(raw, allowed=frozenset({"x"})) == [
        OTHER_CLAIM_NAME,
        "birthdate",
        "ov_geboortedatum",
    ]
    assert unexpected_claim_names(["not", "a", "mapping"]) == []


@given(st.dictionaries(st.text(max_size=80), st.integers(), max_size=60))
def test_it_never_raises_and_never_returns_something_that_looks_like_a_key(raw):
    names = unexpected_claim_names(raw)
    assert len(names) <= 20
    for name in names:
        assert not re.search(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-", name)
        assert len(name) <= 64
