"""LeerID claims in, a typed ``LeerIDClaims`` or a ``Refusal`` out. Pure: no database, no I/O.

``parse`` is total: whatever JSON the OpenID Provider sends (or an attacker forges), it returns
one of the two and raises nothing. It accepts every shape the design note lists, because the
enrollment claim is not public and public integrations disagree on the others:

- ``ov_leerid_uuid``: a list of strings (the single value is taken; empty or absent means the
  pupil is not identified; several distinct values are refused) or a plain string.
- ``ov_account_uuid``: a string (required); a one-value list is tolerated.
- ``ov_historiek_account_uuid``: a string, a list of strings, or absent.
- enrollments: a string or an integer (``12345`` -> ``012345``), a list of those, or a list
  of objects holding the number under a key such as ``instellingsnummer``, maybe with dates.
  An enrollment that ended before today or starts after today is ignored (the pupil is not
  enrolled there today). An empty result is NOT a refusal here: the login decision refuses it
  as ``not_enrolled`` so the pupil is told why.

Refusal codes name the claim that was wrong, never its value: they end up in the privacy log.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# Bounds: a forged token must not make us allocate or loop without limit.
MAX_LIST_LENGTH = 50
MAX_NAME_LENGTH = 200
# A raw name longer than this is not a name: refused rather than normalised.
MAX_RAW_NAME_LENGTH = 1000
MAX_SUB_LENGTH = 255

BRUSSELS = ZoneInfo("Europe/Brussels")

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NIL_UUID = "00000000-0000-0000-0000-000000000000"
# ASCII digits only: str.isdigit() would also accept "٣" and "²".
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ].*)?$")
_SPACES = re.compile(r"\s+")

# Keys under which an enrollment object may carry its instellingsnummer and dates, compared
# case-insensitively. The real claim is not public: these cover the spellings seen or likely.
_NUMBER_KEYS = (
    "instellingsnummer",
    "instellingnummer",
    "instellings_nummer",
    "institution_number",
    "institutionnumber",
    "schoolnummer",
    "school_number",
)
_START_KEYS = ("begindatum", "startdatum", "start_date", "startdate", "begin", "start", "van")
_END_KEYS = ("einddatum", "end_date", "enddate", "eind", "einde", "end", "tot")
# Format characters that change how text looks without being letters (bidi overrides,
# zero-width spaces) are dropped, except the joiners some scripts need inside names.
_KEPT_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})


class Refusal(enum.StrEnum):
    """Why claims cannot be used. The value is the reason code for logs and pages."""

    MALFORMED_CLAIMS = "malformed_claims"
    MISSING_ACCOUNT_UUID = "missing_account_uuid"
    MALFORMED_UUID = "malformed_uuid"
    AMBIGUOUS_LEERID_UUID = "ambiguous_leerid_uuid"
    AMBIGUOUS_ACCOUNT_UUID = "ambiguous_account_uuid"
    MISSING_NAME = "missing_name"
    MALFORMED_NAME = "malformed_name"
    MALFORMED_ENROLLMENT = "malformed_enrollment"


@dataclass(frozen=True)
class ClaimNames:
    """Which claim carries what; every name is a setting (``LEERID_CLAIM_*``)."""

    given_name: str = "given_name"
    family_name: str = "family_name"
    leerid_uuid: str = "ov_leerid_uuid"
    account_uuid: str = "ov_account_uuid"
    historiek: str = "ov_historiek_account_uuid"
    enrollments: str = "ov_inschrijvingen"

    @classmethod
    def from_settings(cls) -> ClaimNames:
        from django.conf import settings

        return cls(
            given_name=settings.LEERID_CLAIM_GIVEN_NAME,
            family_name=settings.LEERID_CLAIM_FAMILY_NAME,
            leerid_uuid=settings.LEERID_CLAIM_LEERID_UUID,
            account_uuid=settings.LEERID_CLAIM_ACCOUNT_UUID,
            historiek=settings.LEERID_CLAIM_HISTORIEK,
            enrollments=settings.LEERID_CLAIM_ENROLLMENTS,
        )


@dataclass(frozen=True)
class LeerIDClaims:
    sub: str | None
    leer_id_uuid: str | None
    account_uuid: str
    historiek_account_uuids: tuple[str, ...]
    family_name: str
    given_name: str
    enrollments: tuple[str, ...]

    def __repr__(self) -> str:
        # Keys and names are personal data: a repr must not carry them into a log or traceback.
        return (
            f"LeerIDClaims(identified={self.identified}, "
            f"historiek={len(self.historiek_account_uuids)}, enrollments={self.enrollments!r})"
        )

    @property
    def identified(self) -> bool:
        """A pupil with a LeerID key (INSZ known); otherwise a temporary account."""
        return self.leer_id_uuid is not None

    @property
    def pseudonym_source(self) -> str:
        """The key the pupil is known by: the LeerID key, or the account key when temporary."""
        return self.leer_id_uuid if self.leer_id_uuid is not None else self.account_uuid


# Internal control flow: never leaves this module.
class _Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        self.reason = reason


# Claims every OpenID Provider may send that say nothing about the pupil (OpenID Connect Core
# 2 and 5.1, RFC 7519, RFC 9068): not "excessive data" in the sense of protocol art. 7.
PROTOCOL_CLAIMS = frozenset(
    {
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "nonce", "azp", "auth_time", "acr",
        "amr", "sid", "at_hash", "c_hash", "s_hash", "scope", "client_id", "typ",
    }
)  # fmt: skip
MAX_UNEXPECTED_CLAIMS = 20
# A claim name fit for a report: short, plain, and never something that looks like a key.
_CLAIM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
_KEY_INSIDE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-|^eyJ", re.ASCII)
OTHER_CLAIM_NAME = "(andere naam)"


def unexpected_claim_names(
    raw: object, *, names: ClaimNames | None = None, allowed: frozenset[str] = frozenset()
) -> list[str]:
    """The names (never the values) of claims outside the allowlist: the protocol's claims
    (``names``), OpenID's own (``PROTOCOL_CLAIMS``) and ``allowed``. Sorted, at most
    ``MAX_UNEXPECTED_CLAIMS``; a name that could hide a key or token reads as ``OTHER_CLAIM_NAME``.
    Pure and total, like ``parse``: data-quality counting must never fail a login.
    """
    if not isinstance(raw, Mapping):
        return []
    names = names if names is not None else ClaimNames()
    expected = (
        PROTOCOL_CLAIMS
        | allowed
        | {
            names.given_name,
            names.family_name,
            names.leerid_uuid,
            names.account_uuid,
            names.historiek,
            names.enrollments,
        }
    )
    found = set()
    for key in raw:
        if key in expected:
            continue
        plain = isinstance(key, str) and _CLAIM_NAME.match(key) and not _KEY_INSIDE.search(key)
        found.add(key if plain else OTHER_CLAIM_NAME)
    return sorted(found)[:MAX_UNEXPECTED_CLAIMS]


def parse(
    raw: object, *, names: ClaimNames | None = None, today: dt.date | None = None
) -> LeerIDClaims | Refusal:
    """Validated claims, or the reason they cannot be used. Never raises.

    ``names`` defaults to ``ClaimNames()`` (the design note's claim names; the login path
    passes ``ClaimNames.from_settings()``). ``today`` (default: today in Europe/Brussels)
    decides which dated enrollments count.
    """
    names = names if names is not None else ClaimNames()
    if not isinstance(raw, Mapping):
        return Refusal.MALFORMED_CLAIMS
    try:
        return _parse(raw, names, today or dt.datetime.now(BRUSSELS).date())
    except _Refused as refused:
        return refused.reason


def _parse(raw: Mapping, names: ClaimNames, today: dt.date) -> LeerIDClaims:
    account_uuid = _single_uuid(raw.get(names.account_uuid), Refusal.AMBIGUOUS_ACCOUNT_UUID)
    if account_uuid is None:
        raise _Refused(Refusal.MISSING_ACCOUNT_UUID)
    return LeerIDClaims(
        sub=_sub(raw.get("sub")),
        leer_id_uuid=_single_uuid(raw.get(names.leerid_uuid), Refusal.AMBIGUOUS_LEERID_UUID),
        account_uuid=account_uuid,
        historiek_account_uuids=_uuids(raw.get(names.historiek)),
        **_names(raw, names),
        enrollments=_enrollments(raw.get(names.enrollments), today),
    )


def _sub(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_SUB_LENGTH:
        raise _Refused(Refusal.MALFORMED_CLAIMS)
    value = value.strip()
    if any(unicodedata.category(char)[0] == "C" for char in value):
        raise _Refused(Refusal.MALFORMED_CLAIMS)
    return value or None


# --- UUIDs ----------------------------------------------------------------------------------


def _uuid(value: object) -> str | None:
    """A canonical lower-case uuid, None for an empty string; refuses anything else."""
    if not isinstance(value, str):
        raise _Refused(Refusal.MALFORMED_CLAIMS)
    value = value.strip().lower()
    if not value:
        return None
    if not _UUID.match(value) or value == _NIL_UUID:
        raise _Refused(Refusal.MALFORMED_UUID)
    return value


def _uuids(value: object) -> tuple[str, ...]:
    """Distinct uuids, in the order sent, from a string, a list of strings or nothing."""
    if value is None:
        return ()
    items = _as_list(value)
    found: dict[str, None] = {}
    for item in items:
        canonical = _uuid(item)
        if canonical is not None:
            found[canonical] = None
    return tuple(found)


def _single_uuid(value: object, ambiguous: Refusal) -> str | None:
    found = _uuids(value)
    if len(found) > 1:
        raise _Refused(ambiguous)
    return found[0] if found else None


def _as_list(value: object) -> list:
    if isinstance(value, str | int | Mapping) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, list | tuple):
        raise _Refused(Refusal.MALFORMED_CLAIMS)
    if len(value) > MAX_LIST_LENGTH:
        raise _Refused(Refusal.MALFORMED_CLAIMS)
    return list(value)


# --- Names ----------------------------------------------------------------------------------


def _names(raw: Mapping, names: ClaimNames) -> dict[str, str]:
    # A claim that is absent means LeerID (or our claim-name setting) is wrong: refused. One
    # that is present but empty is accepted when the other name is not: some people officially
    # have only one name, and they are still pupils.
    if names.family_name not in raw or names.given_name not in raw:
        raise _Refused(Refusal.MISSING_NAME)
    family_name = _name(raw[names.family_name])
    given_name = _name(raw[names.given_name])
    if not family_name and not given_name:
        raise _Refused(Refusal.MISSING_NAME)
    return {"family_name": family_name, "given_name": given_name}


def _name(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_RAW_NAME_LENGTH:
        raise _Refused(Refusal.MALFORMED_NAME)
    value = unicodedata.normalize("NFC", value)
    kept = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or unicodedata.category(char)[0] != "C" or char in _KEPT_FORMAT_CHARACTERS
    )
    # Truncating could split a base letter from its combining mark: normalise again after.
    kept = _SPACES.sub(" ", kept).strip()[:MAX_NAME_LENGTH]
    return unicodedata.normalize("NFC", kept).strip()


# --- Enrollments ----------------------------------------------------------------------------


def _enrollments(value: object, today: dt.date) -> tuple[str, ...]:
    if value is None:
        return ()
    # A lone value of any type is one enrollment, so a float or a bool is refused as one.
    items = _as_list(value) if isinstance(value, list | tuple) else [value]
    found: dict[str, None] = {}
    for item in items:
        number = _enrollment(item, today)
        if number is not None:
            found[number] = None
    return tuple(found)


def _enrollment(item: object, today: dt.date) -> str | None:
    """The six-digit number of an enrollment that holds today, or None when it does not."""
    if not isinstance(item, Mapping):
        return _number(item)
    fields = {key.lower(): val for key, val in item.items() if isinstance(key, str)}
    number_key = next((key for key in _NUMBER_KEYS if key in fields), None)
    if number_key is None:
        raise _Refused(Refusal.MALFORMED_ENROLLMENT)
    number = _number(fields[number_key])
    start = _first_date(fields, _START_KEYS)
    end = _first_date(fields, _END_KEYS)
    if (start is not None and start > today) or (end is not None and end < today):
        return None
    return number


def _number(value: object) -> str:
    if isinstance(value, bool):
        raise _Refused(Refusal.MALFORMED_ENROLLMENT)
    if isinstance(value, int):
        value = str(value) if 0 <= value <= 999_999 else ""
    if not isinstance(value, str):
        raise _Refused(Refusal.MALFORMED_ENROLLMENT)
    value = value.strip()
    if not _NUMBER.match(value):
        raise _Refused(Refusal.MALFORMED_ENROLLMENT)
    return value.zfill(6)


def _first_date(fields: Mapping, keys: tuple[str, ...]) -> dt.date | None:
    key = next((key for key in keys if key in fields), None)
    if key is None or fields[key] is None or fields[key] == "":
        return None
    value = fields[key]
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise _Refused(Refusal.MALFORMED_ENROLLMENT)
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _Refused(Refusal.MALFORMED_ENROLLMENT) from None
