"""Demo schools for `make run`: one of each case the login path must handle. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from schools.access import BRUSSELS
from schools.models import Agreement, School

# Fictitious schools; the numbers are the ones the other apps' demos and tests rely on.
DEMO_SCHOOLS = {
    "012345": ("Demoschool De Regenboog", "Voorbeeldstad", School.EducationLevel.BASIC),
    "047001": ("Demo-atheneum Zonnedal", "Proefgem", School.EducationLevel.SECONDARY),
    "031002": ("Demo-instituut Verlopen", "Testdorp", School.EducationLevel.SECONDARY),
    "031003": ("Demoschool Morgenrood", "Testdorp", School.EducationLevel.BASIC),
    "031004": ("Demoschool Zonder Akkoord", "Nergenshoven", School.EducationLevel.BASIC),
    "031005": ("Demo-college Opgeschort", "Pauzegem", School.EducationLevel.SPECIAL_SECONDARY),
}


def _demo_agreements(today: dt.date) -> dict[str, tuple[dt.date, dt.date | None, str]]:
    active, suspended = Agreement.Status.ACTIVE, Agreement.Status.SUSPENDED
    year = today.year
    return {
        "012345": (dt.date(year - 1, 9, 1), None, active),
        "047001": (dt.date(year - 1, 9, 1), dt.date(year + 1, 8, 31), active),
        "031002": (dt.date(year - 2, 9, 1), dt.date(year - 1, 8, 31), active),
        "031003": (dt.date(year + 1, 9, 1), None, active),
        "031005": (dt.date(year - 1, 9, 1), None, suspended),
    }


@transaction.atomic
def seed_demo_schools() -> None:
    """Create the demo schools and agreements; a second run changes nothing."""
    today = timezone.localdate(timezone=BRUSSELS)
    for number, (name, town, level) in DEMO_SCHOOLS.items():
        school, _ = School.objects.get_or_create(
            instellingsnummer=number,
            defaults={"name": name, "town": town, "education_level": level},
        )
    for number, (start, end, status) in _demo_agreements(today).items():
        school = School.objects.get(instellingsnummer=number)
        # Keyed by school only: a re-seed next year keeps the first agreement, not a second one.
        if not school.agreements.exists():
            Agreement.objects.create(
                school=school,
                valid_from=start,
                valid_until=end,
                status=status,
                contract_reference=f"DEMO-{number}",
                notes="Demo-overeenkomst voor make run.",
            )
