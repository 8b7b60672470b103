from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from retention import policy

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def test_it_reads_the_periods_from_settings():
    """The defaults are the protocol's: 365 days for snapshots, 1,095 days for accounts."""
    rules = policy.rules()
    assert rules[policy.SNAPSHOTS].cutoff(NOW) == NOW - timedelta(days=365)
    assert rules[policy.ACCOUNTS].cutoff(NOW) == NOW - timedelta(days=1095)
    assert list(rules) == list(policy.RULE_ORDER)


@override_settings(RETENTION_SNAPSHOT_DAYS=30)
def test_it_follows_a_changed_setting():
    """Changing a period is a settings change only."""
    assert policy.rule(policy.SNAPSHOTS).cutoff(NOW) == NOW - timedelta(days=30)


def test_it_refuses_an_unknown_rule():
    """An unknown rule name is a clear error naming the known ones."""
    with pytest.raises(ValueError, match="snapshots"):
        policy.rule("everything")


def test_it_dates_a_removal_at_the_first_scheduled_run_after_expiry():
    """A snapshot of 10:00 UTC expires 365 days later (29 February 2028) at 10:00, after that
    day's 05:00 UTC run: the next morning's run removes it. One of 04:00 UTC expires before
    that day's run, which removes it."""
    assert policy.removed_at(policy.SNAPSHOTS, NOW) == datetime(2028, 3, 1, 5, 0, tzinfo=UTC)
    early = NOW.replace(hour=4)
    assert policy.removed_at(policy.SNAPSHOTS, early) == datetime(2028, 2, 29, 5, 0, tzinfo=UTC)


def test_it_dates_a_removal_at_expiry_without_a_schedule(settings):
    """Without a beat entry for the rule (another scheduler), the moment the row expires."""
    settings.CELERY_BEAT_SCHEDULE = {}
    assert policy.removed_at(policy.ACCOUNTS, NOW) == NOW + timedelta(days=1095)


def test_it_honours_a_weekly_schedule(settings):
    """A crontab on Sundays only: the first Sunday run after expiry."""
    from celery.schedules import crontab

    settings.CELERY_BEAT_SCHEDULE = {
        "weekly": {
            "task": "retention.purge_snapshots",
            "schedule": crontab(minute=0, hour=5, day_of_week=0),
        }
    }
    # Expires Tuesday 29 February 2028 at 10:00 UTC; the next Sunday is 5 March.
    assert policy.removed_at(policy.SNAPSHOTS, NOW) == datetime(2028, 3, 5, 5, 0, tzinfo=UTC)
