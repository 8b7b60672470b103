"""Sample claims for the tests of ``pupils.claims.parse`` (made-up keys, no real pupil)."""

from __future__ import annotations

import datetime as dt

from pupils.claims import LeerIDClaims, Refusal, parse

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
