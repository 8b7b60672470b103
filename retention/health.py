"""Readiness: every retention rule has had a successful (not dry) run in the last two days.

A brand-new install has had no chance to run yet: it counts as healthy until two days after
the retention app's tables were created (the ``0001_initial`` migration's timestamp), then
fails like any other install whose runs stopped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from django.db import DatabaseError
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from retention import policy
from retention.models import RetentionRun

MAX_AGE = timedelta(days=2)


class Check(NamedTuple):
    """A readiness result in the shape ``/readyz`` reads (``settings.READINESS_CHECKS`` lists
    ``check_retention``); defined here so the app does not import the project."""

    name: str
    ok: bool
    detail: str = "ok"


def stale_rules() -> list[str]:
    """Rules without a successful run that finished within ``MAX_AGE``, in policy order."""
    since = timezone.now() - MAX_AGE
    recent = RetentionRun.objects.filter(
        status=RetentionRun.Status.SUCCESS, dry_run=False, finished_at__gte=since
    ).values_list("counts", flat=True)
    # A handful of rows: one per rule per day, plus manual runs.
    done = {name for counts in recent for name in counts}
    return [name for name in policy.RULE_ORDER if name not in done]


def _installed_at():
    record = MigrationRecorder.Migration.objects.filter(app="retention").order_by("applied").first()
    return record.applied if record else None


def check_retention() -> Check:
    try:
        return _check_retention()
    except DatabaseError:
        # The database check already names the outage; this one cannot tell, so it says so.
        return Check("retention", False, "unknown: database unreachable")


def _check_retention() -> Check:
    stale = stale_rules()
    if not stale:
        return Check("retention", True)
    installed = _installed_at()
    ever_ran = RetentionRun.objects.filter(
        status=RetentionRun.Status.SUCCESS, dry_run=False
    ).exists()
    if not ever_ran and installed and timezone.now() - installed < MAX_AGE:
        return Check("retention", True, "no run yet")
    return Check("retention", False, "stale: " + ", ".join(stale))
