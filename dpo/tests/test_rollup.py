"""The daily rollup counts logins and data-quality signals from the privacy log (codes and
claim names, never values), and the monthly draft report for DOV is made from it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

import privacy
from dpo import services, tasks
from dpo.models import DailyCount
from privacy.models import DataQualityReport
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from retention.models import RetentionRun

pytestmark = pytest.mark.django_db
PSEUDONYM = "ab" * 32
DAY = date(2026, 11, 3)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=services.BRUSSELS)


def log_day(day: date) -> None:
    with time_machine.travel(at_noon(day), tick=False):
        for _ in range(3):
            privacy.log("authn_login_success", actor=f"pupil:{PSEUDONYM}", subject=PSEUDONYM)
        privacy.log("authz_fail", actor="system", outcome="failure", reason="no_agreement")
        for code in ("ambiguous_leerid_uuid", "ambiguous_leerid_uuid", "missing_name"):
            privacy.log(
                "authn_login_fail",
                actor="system",
                outcome="failure",
                reason="claims_unusable",
                details={"detail": code},
            )
        privacy.log(
            "authn_login_success",
            actor=f"pupil:{PSEUDONYM}",
            subject=PSEUDONYM,
            details={"unexpected_claims": ["ov_geboortedatum", "email"]},
        )
        RetentionRun.objects.create(
            started_at=timezone.now(), status="success", counts={"accounts": 4, "snapshots": 9}
        )


def counts(day: date) -> dict[tuple[str, str], int]:
    return {(c.metric, c.key): c.count for c in DailyCount.objects.filter(day=day)}


def test_it_counts_a_day_from_the_privacy_log():
    log_day(DAY)
    log_day(DAY + timedelta(days=1))  # another day: not counted in DAY
    services.rollup_day(DAY)
    assert counts(DAY) == {
        ("login_granted", ""): 4,
        ("login_refused", "no_agreement"): 1,
        ("login_refused", "claims_unusable"): 3,
        ("dq_refusal", "ambiguous_leerid_uuid"): 2,
        ("dq_refusal", "missing_name"): 1,
        ("dq_claim", "ov_geboortedatum"): 1,
        ("dq_claim", "email"): 1,
        ("purged_accounts", ""): 4,
        ("purged_snapshots", ""): 9,
    }


def test_a_second_rollup_replaces_the_day_and_keeps_the_pupil_count():
    log_day(DAY)
    with time_machine.travel(at_noon(DAY + timedelta(days=1)), tick=False):
        pupil_record_login(claims=leerid_claims(leer_id_uuid=new_key()), granted_schools=["012345"])
        services.rollup_day(DAY)
    assert counts(DAY)[("pupils", "")] == 1
    with time_machine.travel(at_noon(DAY + timedelta(days=20)), tick=False):
        services.rollup_day(DAY)
    assert counts(DAY)[("pupils", "")] == 1
    assert counts(DAY)[("login_granted", "")] == 4


def test_the_task_rolls_up_the_last_three_complete_days():
    with time_machine.travel(at_noon(DAY), tick=False):
        assert tasks.rollup.delay().get() == ["2026-10-31", "2026-11-01", "2026-11-02"]


def test_the_monthly_draft_says_what_how_often_and_since_when():
    log_day(date(2026, 9, 20))
    log_day(date(2026, 10, 5))
    log_day(date(2026, 10, 6))
    for day in (date(2026, 9, 20), date(2026, 10, 5), date(2026, 10, 6)):
        services.rollup_day(day)
    with time_machine.travel(at_noon(date(2026, 11, 1)), tick=False):
        pk = tasks.data_quality_report.delay().get()
    report = DataQualityReport.objects.get(pk=pk)
    assert report.status == "draft"
    assert report.month == date(2026, 10, 1)
    assert report.counts["refusals"][0] == {
        "code": "ambiguous_leerid_uuid",
        "count": 4,
        "since": "2026-09-20",
    }
    assert {"code": "email", "count": 2, "since": "2026-09-20"} in report.counts["claims"]
    assert "ambiguous_leerid_uuid: 4" in report.description


def test_a_report_that_was_sent_is_kept_as_it_was():
    log_day(date(2026, 10, 5))
    services.rollup_day(date(2026, 10, 5))
    report = services.data_quality_report_draft(month=date(2026, 10, 1))
    privacy.registers.data_quality_report_mark_sent(report)
    services.rollup_day(date(2026, 10, 5))
    assert services.data_quality_report_draft(month=date(2026, 10, 1)) is None
    report.refresh_from_db()
    assert report.status == "reported"
