from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from retention import policy
from retention.health import Check, check_retention
from retention.models import RetentionRun

pytestmark = pytest.mark.django_db


def _installed():
    return MigrationRecorder.Migration.objects.filter(app="retention").earliest("applied").applied


def _succeeded(at, *, rules=policy.RULE_ORDER, dry_run=False) -> RetentionRun:
    return RetentionRun.objects.create(
        started_at=at,
        finished_at=at,
        dry_run=dry_run,
        rules=list(rules),
        counts=dict.fromkeys(rules, 0),
        status=RetentionRun.Status.SUCCESS,
    )


def test_it_is_ok_on_a_new_install_that_has_not_run_yet():
    """Within two days of installing, no run yet is not a failure."""
    check = check_retention()
    assert check.ok and check.detail == "no run yet"


def test_it_fails_two_days_after_install_without_a_run():
    """Two days after installing with no successful run, readiness fails."""
    with time_machine.travel(_installed() + timedelta(days=2, seconds=1), tick=False):
        check = check_retention()
    assert not check.ok
    assert check.detail == "stale: accounts, snapshots, privacy_log"


def test_it_is_ok_after_a_recent_successful_run_of_every_rule():
    """One successful run per rule within two days is healthy."""
    now = timezone.now()
    _succeeded(now - timedelta(hours=30), rules=[policy.ACCOUNTS])
    _succeeded(now - timedelta(hours=20), rules=[policy.SNAPSHOTS, policy.PRIVACY_LOG])
    assert check_retention().ok


def test_it_fails_when_the_last_successful_run_is_older_than_two_days():
    """A success two days and a second ago, then only failures and dry runs: failing."""
    now = timezone.now()
    _succeeded(now - timedelta(days=2, seconds=1))
    _succeeded(now - timedelta(hours=1), dry_run=True)
    RetentionRun.objects.create(
        started_at=now, finished_at=now, rules=["snapshots"], status=RetentionRun.Status.FAILED
    )
    check = check_retention()
    assert not check.ok and check.detail == "stale: accounts, snapshots, privacy_log"


def test_it_names_only_the_rule_that_stopped():
    """When one rule keeps failing, the check names that rule."""
    now = timezone.now()
    _succeeded(now - timedelta(hours=3), rules=[policy.ACCOUNTS, policy.SNAPSHOTS])
    _succeeded(now - timedelta(days=3), rules=[policy.PRIVACY_LOG])
    check = check_retention()
    assert not check.ok and check.detail == "stale: privacy_log"


def test_it_is_part_of_readiness(client):
    """/readyz runs the retention check and answers 503 naming it and its stale rules."""
    _succeeded(_installed() + timedelta(days=2, hours=12), rules=[policy.ACCOUNTS])
    with time_machine.travel(_installed() + timedelta(days=3), tick=False):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert "retention" in body["failing"]
    stale = [rule for rule in policy.RULE_ORDER if rule != policy.ACCOUNTS]
    assert body["checks"]["retention"] == {"ok": False, "detail": "stale: " + ", ".join(stale)}


def test_it_fails_without_crashing_when_the_database_is_down():
    """With the database unreachable the check fails with a word, not an exception."""
    from unittest import mock

    from django.db import OperationalError

    with mock.patch("retention.health.stale_rules", side_effect=OperationalError("down")):
        assert check_retention() == Check("retention", False, "unknown: database unreachable")
