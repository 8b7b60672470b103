"""Fictitious pupils for tests: names and keys generated here, never real data."""

from __future__ import annotations

import uuid

from pupils.claims import LeerIDClaims


def new_key() -> str:
    return str(uuid.uuid4())


def leerid_claims(
    *,
    leer_id_uuid: str | None = None,
    account_uuid: str | None = None,
    historiek: tuple[str, ...] = (),
    given_name: str = "Testa",
    family_name: str = "Voorbeeldig",
    enrollments: tuple[str, ...] = ("012345",),
) -> LeerIDClaims:
    return LeerIDClaims(
        sub=None,
        leer_id_uuid=leer_id_uuid,
        account_uuid=account_uuid or new_key(),
        historiek_account_uuids=historiek,
        family_name=family_name,
        given_name=given_name,
        enrollments=enrollments,
    )
