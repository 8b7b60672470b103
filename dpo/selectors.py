"""What the DPO dashboard shows, read from the daily rollup and the (small) registers.

Every query is bounded by the window shown (90 days of ``DailyCount`` rows, open breaches,
agreements ending within 30 days, the newest verification), so the page costs the same with
three years of log and a million pupils as with none (bench/dashboard.py measures it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from dpo.models import Alert, DailyCount, LogVerification, ProtocolEnd
from privacy.models import Breach, ProcessingActivity, Processor, RetentionTerm
from schools.selectors import agreements_expiring

LOGIN_DAYS = 90
AGREEMENT_DAYS = 30
# Refusal reasons drawn one by one; the rest are summed as "other".
TOP_REASONS = 6


@dataclass
class DailySeries:
    days: list[date]
    values: dict[str, list[int]]


def daily_series(metrics: list[str], *, today: date, days: int = LOGIN_DAYS) -> DailySeries:
    """Counts per ``metric:key`` for the ``days`` complete days before ``today``."""
    first = today - timedelta(days=days)
    span = [first + timedelta(days=n) for n in range(days)]
    index = {day: n for n, day in enumerate(span)}
    values: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    rows = DailyCount.objects.filter(metric__in=metrics, day__gte=first, day__lt=today)
    for day, metric, key, count in rows.values_list("day", "metric", "key", "count"):
        values[f"{metric}:{key}"][index[day]] += count
    return DailySeries(span, dict(values))


def open_breaches() -> list[Breach]:
    return list(Breach.objects.exclude(status=Breach.Status.CLOSED).order_by("found_at")[:20])


def agreements_ending(*, today: date):
    return agreements_expiring(on=today, days=AGREEMENT_DAYS)


def last_verification() -> LogVerification | None:
    return LogVerification.objects.order_by("-checked_at", "-pk").first()


def pending_alerts() -> list[Alert]:
    return list(Alert.objects.filter(mailed_at__isnull=True).order_by("created_at"))


def register_flags() -> dict[str, list]:
    """Register entries that need the DPO: retention terms longer than enforced, processors
    whose overview DOV has not seen since their last change."""
    terms = [t for t in RetentionTerm.objects.select_related("activity") if t.longer_than_enforced]
    processors = [p for p in Processor.objects.filter(active=True) if p.dov_overview_outdated]
    return {
        "terms": terms,
        "processors": processors,
        "activities": ProcessingActivity.objects.count(),
    }


def protocol_end() -> ProtocolEnd | None:
    return ProtocolEnd.objects.filter(pk=1).first()
