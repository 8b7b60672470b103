"""Demo data for the DPO's side of `make run`, so a newcomer sees the workbench filled.

Idempotent, and kept current on every `make run`: the demo breach is always found a few hours
ago (never overdue), the demo agreement always ends within 30 days, and the dashboard gets 90
days of invented counts (only when it has none of its own). Everything here is fictitious and
marked DEMO.
"""

from __future__ import annotations

import importlib
import pkgutil
import random
from datetime import timedelta

from django.apps import apps as django_apps
from django.db import transaction
from django.utils import timezone

from dpo import services
from dpo.models import DailyCount
from privacy.models import Breach, DataQualityReport, Processor
from schools.models import Agreement, School

DEMO = "DEMO"
DEMO_SCHOOL = ("031006", "Demo-lyceum Afscheid", "Eindhoven-aan-Zee")
REFUSALS = {
    "no_agreement": 30,
    "not_enrolled": 14,
    "claims_unusable": 4,
    "state_expired": 6,
    "op_access_denied": 5,
}
DQ_CODES = {"ambiguous_leerid_uuid": 1, "malformed_enrollment": 2, "missing_name": 1}


@transaction.atomic
def seed_demo_dpo() -> None:
    now = timezone.now()
    _processing_register()
    _processors(now)
    _breach(now)
    _agreement_ending()
    _rollup()
    if not DataQualityReport.objects.exists():
        last_month = services.month_start(services.brussels_today()) - timedelta(days=1)
        services.data_quality_report_draft(month=last_month)


def seed_demo_selfcheck() -> None:
    """A self-check of the log, as the nightly task does (outside the seeding transaction)."""
    services.privacy_log_selfcheck()


def _processing_register() -> None:
    """The entry privacy's data migration writes, again if it is gone (a flushed test
    database, a DPO who deleted it in the demo): the same function, so the same text."""
    import privacy.migrations

    # Found by its tag, not its number: the number changes when migrations are re-pointed.
    name = next(
        module.name
        for module in pkgutil.iter_modules(privacy.migrations.__path__)
        if module.name.endswith("_i12_processing_register")
    )
    migration = importlib.import_module(f"privacy.migrations.{name}")
    migration.fill_register(django_apps, None)


def _processors(now) -> None:
    Processor.objects.get_or_create(
        name=f"{DEMO} Hosting bv",
        defaults={
            "purpose": "Hosting van de servers en de databank (EU).",
            "location": "België",
            "agreement_reference": "VWO-2026-001",
            "agreement_signed_on": (now - timedelta(days=200)).date(),
            "overview_sent_to_dov_on": (now - timedelta(days=150)).date(),
            "changed_at": now - timedelta(days=200),
        },
    )
    Processor.objects.get_or_create(
        name=f"{DEMO} Mailrelais nv",
        defaults={
            "purpose": "Verzenden van meldingen aan de DPO (geen leerlinggegevens).",
            "location": "Nederland",
            "agreement_reference": "VWO-2026-007",
            "agreement_signed_on": (now - timedelta(days=20)).date(),
            # Changed after the last overview to DOV: the dashboard flags it.
            "overview_sent_to_dov_on": (now - timedelta(days=150)).date(),
            "changed_at": now - timedelta(days=20),
        },
    )


def _breach(now) -> None:
    found = now - timedelta(hours=6)
    breach, _created = Breach.objects.get_or_create(
        description=f"{DEMO}: een testexport met pseudoniemen stond een uur op een gedeelde map.",
        defaults={"found_at": found},
    )
    fields = {
        "found_at": found,
        "nature": "Vertrouwelijkheid: te ruime toegang tot een export.",
        "pupil_categories": "Leerlingen secundair onderwijs (demo)",
        "affected_count": 120,
        "record_categories": "Pseudoniemen en instellingsnummers",
        "records_count": 120,
        "consequences": "Geen identificatie zonder de sleutel; laag risico.",
        "measures": "Map afgeschermd, toegang nagekeken.",
        "reported_to_dov_at": found + timedelta(hours=2),
        "overdue_at": None,
    }
    if breach.reported_to_authority_at is None:
        Breach.objects.filter(pk=breach.pk).update(**fields)


def _agreement_ending() -> None:
    today = services.brussels_today()
    number, name, town = DEMO_SCHOOL
    school, _ = School.objects.get_or_create(
        instellingsnummer=number, defaults={"name": name, "town": town}
    )
    agreement = school.agreements.first() or Agreement(
        school=school, valid_from=today - timedelta(days=700)
    )
    if agreement.valid_until is None or not 5 <= (agreement.valid_until - today).days <= 30:
        agreement.valid_until = today + timedelta(days=20)
        agreement.notes = f"{DEMO}: loopt altijd binnen 30 dagen af (make run)."
        agreement.save()


def _rollup() -> None:
    today = services.brussels_today()
    first = today - timedelta(days=90)
    if DailyCount.objects.filter(day__gte=first).exists():
        return
    rng = random.Random(12)  # the same demo every time
    rows, pupils = [], 48_000
    for n in range(90):
        day = first + timedelta(days=n)
        school_day = day.weekday() < 5
        granted = rng.randint(2_500, 3_400) if school_day else rng.randint(150, 400)
        rows.append(DailyCount(day=day, metric="login_granted", key="", count=granted))
        for reason, mean in REFUSALS.items():
            count = max(0, int(rng.gauss(mean, mean / 3))) if school_day else rng.randint(0, 2)
            rows.append(DailyCount(day=day, metric="login_refused", key=reason, count=count))
        for code, mean in DQ_CODES.items():
            rows.append(
                DailyCount(day=day, metric="dq_refusal", key=code, count=rng.randint(0, mean))
            )
        if n % 7 == 3:
            rows.append(DailyCount(day=day, metric="dq_claim", key="ov_geboortedatum", count=1))
        purged = rng.randint(20, 90)
        pupils += rng.randint(60, 140) - purged
        rows += [
            DailyCount(day=day, metric="pupils", key="", count=pupils),
            DailyCount(day=day, metric="purged_accounts", key="", count=purged),
            DailyCount(day=day, metric="purged_snapshots", key="", count=rng.randint(100, 400)),
        ]
    DailyCount.objects.bulk_create(rows)
