"""The demo pupils of `make run`: fictitious, generated here, one per login outcome.

Each pupil is a user of the stand-in LeerID (``demo/leerid.py``), chosen by ``sub`` on its
login form. Keys are stable UUIDs derived from the pupil's handle, so a second `make run`
finds the same pupils. Claim names are the defaults of ``LEERID_CLAIM_*``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

# A fixed namespace: the same handle always gives the same (fictitious) LeerID keys.
_NAMESPACE = uuid.UUID("5b0e6a1c-8a43-4f1e-9d7e-1c2b3a4d5e6f")


def demo_uuid(handle: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, handle))


@dataclass(frozen=True)
class DemoPupil:
    sub: str
    description: Any
    expected: Any
    claims: dict[str, Any] = field(default_factory=dict)

    def leerid_claims(self) -> dict[str, Any]:
        """What the stand-in LeerID releases for this pupil (``sub`` excluded)."""
        return dict(self.claims)


def _pupil(
    sub: str,
    description: Any,
    expected: Any,
    *,
    given: str,
    family: str,
    enrollments: list[Any],
    identified: bool = True,
    account: str | None = None,
    historiek: list[str] | None = None,
) -> DemoPupil:
    claims: dict[str, Any] = {
        "given_name": given,
        "family_name": family,
        "ov_account_uuid": demo_uuid(account or f"{sub}/account"),
        "ov_leerid_uuid": [demo_uuid(f"{sub}/leerid")] if identified else [],
        "ov_inschrijvingen": enrollments,
    }
    if historiek:
        claims["ov_historiek_account_uuid"] = historiek
    return DemoPupil(sub=sub, description=description, expected=expected, claims=claims)


DEMO_PUPILS: list[DemoPupil] = [
    _pupil(
        "geidentificeerd",
        _("geïdentificeerde leerling in school 012345 (met afspraak)"),
        _("welkom, toegang via 012345"),
        given="Demo Amira",
        family="Voorbeeld-Een",
        enrollments=["012345"],
    ),
    _pupil(
        "tijdelijk",
        _("tijdelijk account (nog geen LeerID-sleutel) in school 012345"),
        _("welkom als tijdelijk account"),
        given="Demo Bram",
        family="Voorbeeld-Twee",
        enrollments=["012345"],
        identified=False,
    ),
    _pupil(
        "later-geidentificeerd",
        _("dezelfde leerling als 'tijdelijk', nu geïdentificeerd (eerst 'tijdelijk' proberen)"),
        _("welkom; het tijdelijke account wordt samengevoegd"),
        given="Demo Bram",
        family="Voorbeeld-Twee",
        enrollments=["012345"],
        account="later-geidentificeerd/account",
        historiek=[demo_uuid("tijdelijk/account")],
    ),
    _pupil(
        "school-zonder-afspraak",
        _("ingeschreven in school 031004, die geen afspraak heeft"),
        _("geweigerd: je school werkt (nog) niet met i-Learn"),
        given="Demo Chloé",
        family="Voorbeeld-Drie",
        enrollments=["031004"],
    ),
    _pupil(
        "niet-ingeschreven",
        _("geen inschrijving in een school"),
        _("geweigerd: je bent niet (meer) ingeschreven"),
        given="Demo Daan",
        family="Voorbeeld-Vier",
        enrollments=[],
    ),
    _pupil(
        "nummer-als-getal",
        _("schoolnummer als getal zonder voorloopnul (12345)"),
        _("welkom, toegang via 012345"),
        given="Demo Elif",
        family="Voorbeeld-Vijf",
        enrollments=[12345],
    ),
    _pupil(
        "twee-scholen",
        _("ingeschreven in 031004 (geen afspraak) en 047001 (afspraak)"),
        _("welkom, toegang via 047001"),
        given="Demo Finn",
        family="Voorbeeld-Zes",
        enrollments=[31004, "047001"],
    ),
]
