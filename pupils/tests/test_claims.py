"""pupils.claims.parse: every shape LeerID may send, every refusal, and totality."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pupils.claims import (
    MAX_LIST_LENGTH,
    MAX_NAME_LENGTH,
    OTHER_CLAIM_NAME,
    ClaimNames,
    LeerIDClaims,
    Refusal,
    parse,
    unexpected_claim_names,
)

LEERID = "5b0f6c1e-7a3d-4c2b-9e11-0a1b2c3d4e5f"
ACCOUNT = "d6a0e2f4-1b3c-4d5e-8f60-718293a4b5c6"
OLD_ACCOUNT = "0e1d2c3b-4a59-4687-a5b4-c3d2e1f00112"
TODAY = dt.date(2026, 11, 29)


def claims(**overrides) -> dict:
    base = {
        "sub": "demo-sub-1",
        "given_name": "Testa",
        "family_name": "Voorbeeldig",
        "ov_leerid_uuid": [LEERID],
        "ov_account_uuid": ACCOUNT,
        "ov_inschrijvingen": ["012345"],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not ...}


def ok(raw: object, **kwargs) -> LeerIDClaims:
    result = parse(raw, today=TODAY, **kwargs)
    assert isinstance(result, LeerIDClaims), result
    return result


def refused(raw: object, **kwargs) -> Refusal:
    result = parse(raw, today=TODAY, **kwargs)
    assert isinstance(result, Refusal), result
    return result


# --- Keys ---------------------------------------------------------------------------------


def test_it_takes_the_single_leerid_uuid_from_a_list():
    """ov_leerid_uuid as a one-value list gives an identified pupil keyed on that value."""
    result = ok(claims())
    assert result.leer_id_uuid == LEERID
    assert result.identified
    assert result.pseudonym_source == LEERID
    assert result.account_uuid == ACCOUNT


def test_it_accepts_the_leerid_uuid_as_a_plain_string():
    """ov_leerid_uuid as a string is accepted too."""
    assert ok(claims(ov_leerid_uuid=LEERID)).leer_id_uuid == LEERID


@pytest.mark.parametrize("value", [[], ..., None, "", [""], ["  "]])
def test_it_treats_an_empty_or_absent_leerid_uuid_as_temporary(value):
    """No LeerID key makes a temporary pupil, keyed on the account key."""
    result = ok(claims(ov_leerid_uuid=value))
    assert result.leer_id_uuid is None
    assert not result.identified
    assert result.pseudonym_source == ACCOUNT


def test_it_canonicalises_uuids_to_lower_case():
    """Upper-case and padded uuids come out canonical lower-case."""
    result = ok(claims(ov_leerid_uuid=[f" {LEERID.upper()} "], ov_account_uuid=ACCOUNT.upper()))
    assert result.leer_id_uuid == LEERID
    assert result.account_uuid == ACCOUNT


def test_it_collapses_repeated_leerid_uuids():
    """The same key twice (in any case) is one key, not an ambiguity."""
    assert ok(claims(ov_leerid_uuid=[LEERID, LEERID.upper()])).leer_id_uuid == LEERID


def test_it_refuses_several_distinct_leerid_uuids():
    """Two different LeerID keys: we cannot tell which pupil this is."""
    assert refused(claims(ov_leerid_uuid=[LEERID, ACCOUNT])) is Refusal.AMBIGUOUS_LEERID_UUID


def test_it_refuses_several_distinct_account_uuids():
    """The account key must be one value."""
    result = refused(claims(ov_account_uuid=[ACCOUNT, OLD_ACCOUNT]))
    assert result is Refusal.AMBIGUOUS_ACCOUNT_UUID


def test_it_tolerates_a_one_value_account_uuid_list():
    """A one-value list for the account key is read as that value."""
    assert ok(claims(ov_account_uuid=[ACCOUNT])).account_uuid == ACCOUNT


@pytest.mark.parametrize("value", [..., None, "", " ", []])
def test_it_refuses_a_missing_account_uuid(value):
    """Without an account key there is nothing to key even a temporary pupil on."""
    assert refused(claims(ov_account_uuid=value)) is Refusal.MISSING_ACCOUNT_UUID


@pytest.mark.parametrize(
    "value",
    [
        "not-a-uuid",
        "5b0f6c1e7a3d4c2b9e110a1b2c3d4e5f",
        "{5b0f6c1e-7a3d-4c2b-9e11-0a1b2c3d4e5f}",
        "urn:uuid:5b0f6c1e-7a3d-4c2b-9e11-0a1b2c3d4e5f",
        "00000000-0000-0000-0000-000000000000",
        "5b0f6c1e-7a3d-4c2b-9e11-0a1b2c3d4e5g",
    ],
)
def test_it_refuses_a_malformed_uuid(value):
    """Only the canonical hyphenated form is a LeerID key; the nil uuid is nobody."""
    assert refused(claims(ov_account_uuid=value)) is Refusal.MALFORMED_UUID
    assert refused(claims(ov_leerid_uuid=[value])) is Refusal.MALFORMED_UUID
    assert refused(claims(ov_historiek_account_uuid=value)) is Refusal.MALFORMED_UUID


@pytest.mark.parametrize("value", [12, 1.5, True, {"a": 1}, [1], [[LEERID]], [None]])
def test_it_refuses_uuid_claims_of_the_wrong_type(value):
    """A key claim that is not text is refused as malformed claims."""
    assert refused(claims(ov_leerid_uuid=value)) is Refusal.MALFORMED_CLAIMS
    assert refused(claims(ov_account_uuid=value)) is Refusal.MALFORMED_CLAIMS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (..., ()),
        (None, ()),
        ([], ()),
        (OLD_ACCOUNT, (OLD_ACCOUNT,)),
        ([OLD_ACCOUNT.upper()], (OLD_ACCOUNT,)),
        ([OLD_ACCOUNT, ACCOUNT, OLD_ACCOUNT], (OLD_ACCOUNT, ACCOUNT)),
    ],
)
def test_it_reads_historiek_as_a_string_a_list_or_nothing(value, expected):
    """Old account keys come as a string, a list or not at all; duplicates collapse."""
    assert ok(claims(ov_historiek_account_uuid=value)).historiek_account_uuids == expected


def test_it_refuses_lists_longer_than_the_cap():
    """A forged token with a huge list is refused, not processed."""
    many = [OLD_ACCOUNT] * (MAX_LIST_LENGTH + 1)
    assert refused(claims(ov_historiek_account_uuid=many)) is Refusal.MALFORMED_CLAIMS
    assert refused(claims(ov_inschrijvingen=["012345"] * (MAX_LIST_LENGTH + 1))) is (
        Refusal.MALFORMED_CLAIMS
    )


# --- sub ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(..., None), (None, None), ("", None), ("x", "x")])
def test_it_keeps_sub_when_present_and_none_otherwise(value, expected):
    """LeerID accounts may carry no sub: absent is fine, never a key."""
    assert ok(claims(sub=value)).sub == expected


@pytest.mark.parametrize("value", [1, ["x"], "a\x00b", "x" * 256])
def test_it_refuses_a_malformed_sub(value):
    """A sub that is not a short printable string is malformed."""
    assert refused(claims(sub=value)) is Refusal.MALFORMED_CLAIMS


# --- Names ----------------------------------------------------------------------------------


def test_it_normalises_names_to_nfc():
    """Decomposed accents are composed (NFC), so equal names compare equal."""
    result = ok(claims(given_name="Zoe\u0308", family_name="Hoe\u0308k"))
    assert result.given_name == "Zoë"
    assert result.family_name == "Hoëk"


def test_it_strips_control_and_bidi_characters_and_collapses_spaces():
    """Control characters and bidi overrides go; runs of whitespace become one space."""
    result = ok(claims(given_name=" Te\x00s\u202eta\t\n Maria ", family_name="Voor\u200bbeeld"))
    assert result.given_name == "Testa Maria"
    assert result.family_name == "Voorbeeld"


def test_it_bounds_name_length():
    """A long name is cut at MAX_NAME_LENGTH characters."""
    result = ok(claims(family_name="Lang" * 100))
    assert len(result.family_name) == MAX_NAME_LENGTH


def test_it_refuses_an_absurdly_long_name():
    """Kilobytes of 'name' are not a name."""
    assert refused(claims(family_name="x" * 5000)) is Refusal.MALFORMED_NAME


@pytest.mark.parametrize("value", [1, ["Testa"], {"nl": "Testa"}, True])
def test_it_refuses_a_name_that_is_not_text(value):
    """Names must be strings."""
    assert refused(claims(given_name=value)) is Refusal.MALFORMED_NAME


@pytest.mark.parametrize("claim", ["given_name", "family_name"])
def test_it_refuses_an_absent_name_claim(claim):
    """An absent name claim means LeerID or our claim-name setting is wrong."""
    assert refused(claims(**{claim: ...})) is Refusal.MISSING_NAME


def test_it_refuses_when_both_names_are_empty():
    """Nobody has no name at all."""
    assert refused(claims(given_name=" ", family_name="\x00")) is Refusal.MISSING_NAME


def test_it_accepts_a_pupil_with_only_one_name():
    """Some people officially have one name; they are still pupils."""
    result = ok(claims(given_name=None))
    assert result.given_name == ""
    assert result.family_name == "Voorbeeldig"


# --- Enrollments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("012345", ("012345",)),
        (12345, ("012345",)),
        ("12345", ("012345",)),
        (" 47001 ", ("047001",)),
        (["012345", 47001, "031002"], ("012345", "047001", "031002")),
        ([12345, "012345"], ("012345",)),
        ([{"instellingsnummer": 12345}], ("012345",)),
        ([{"Instellingsnummer": "047001", "naam": "Demo"}], ("047001",)),
        ({"instellingsnummer": "012345"}, ("012345",)),
        ([{"school_number": "12345"}], ("012345",)),
        (..., ()),
        (None, ()),
        ([], ()),
    ],
)
def test_it_reads_enrollments_in_every_shape(value, expected):
    """Strings, integers without leading zeros, lists and objects all give 6-digit strings."""
    assert ok(claims(ov_inschrijvingen=value)).enrollments == expected


def test_it_ignores_enrollments_that_ended_or_have_not_started():
    """Only enrollments that hold today count; ended and future ones are dropped."""
    value = [
        {"instellingsnummer": "012345", "begindatum": "2026-09-01", "einddatum": "2027-06-30"},
        {"instellingsnummer": "031002", "einddatum": "2026-06-30"},
        {"instellingsnummer": "031003", "begindatum": "2027-09-01"},
        {"instellingsnummer": "047001", "einddatum": "2026-11-29T00:00:00"},
        {"instellingsnummer": "031004", "begindatum": "2026-11-29", "einddatum": None},
    ]
    assert ok(claims(ov_inschrijvingen=value)).enrollments == ("012345", "047001", "031004")


def test_it_returns_no_enrollments_without_refusing_when_all_ended():
    """No current enrollment is the login decision's `not_enrolled`, not a parse refusal."""
    value = [{"instellingsnummer": "031002", "einddatum": "2020-06-30"}]
    assert ok(claims(ov_inschrijvingen=value)).enrollments == ()


@pytest.mark.parametrize(
    "value",
    [
        "1234567",
        "12a45",
        "",
        "-12345",
        "٠١٢٣٤٥",
        -1,
        1_000_000,
        1.0,
        True,
        [None],
        [["012345"]],
        [{"naam": "geen nummer"}],
        [{"instellingsnummer": "012345", "einddatum": "30/06/2027"}],
        [{"instellingsnummer": "012345", "einddatum": "2027-02-30"}],
        [{"instellingsnummer": "012345", "einddatum": 20270630}],
    ],
)
def test_it_refuses_a_malformed_enrollment(value):
    """An enrollment we cannot read is refused with a reason, never guessed."""
    assert refused(claims(ov_inschrijvingen=value)) is Refusal.MALFORMED_ENROLLMENT


# --- Whole claims ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], "claims", 42, b"{}", ["ov_account_uuid"]])
def test_it_refuses_claims_that_are_not_an_object(raw):
    """Anything but a JSON object is malformed claims."""
    assert refused(raw) is Refusal.MALFORMED_CLAIMS


def test_it_reads_claim_names_from_settings(settings):
    """Every claim name is a setting; parse uses the names it is given."""
    settings.LEERID_CLAIM_ENROLLMENTS = "scholen"
    settings.LEERID_CLAIM_LEERID_UUID = "leerid"
    names = ClaimNames.from_settings()
    assert names.enrollments == "scholen"
    raw = claims(ov_inschrijvingen=..., ov_leerid_uuid=..., scholen=[12345], leerid=[LEERID])
    result = ok(raw, names=names)
    assert result.enrollments == ("012345",)
    assert result.leer_id_uuid == LEERID


def test_it_keeps_personal_data_out_of_the_repr():
    """A repr in a traceback or log line shows neither names nor keys."""
    text = repr(ok(claims()))
    assert "Testa" not in text
    assert LEERID not in text
    assert ACCOUNT not in text


def test_it_defaults_today_to_brussels():
    """Without `today`, an enrollment ending yesterday (Brussels) is ignored."""
    yesterday = dt.date.today() - dt.timedelta(days=2)
    raw = claims(ov_inschrijvingen=[{"instellingsnummer": "1", "einddatum": str(yesterday)}])
    result = parse(raw)
    assert isinstance(result, LeerIDClaims)
    assert result.enrollments == ()


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
    import unicodedata

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
