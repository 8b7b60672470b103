"""A task sent twice (two beats) runs once per period; a killed run's batches are accounted."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from privacy.models import PrivacyLogEntry
from retention import policy
from retention.models import RetentionRun
from retention.services import retention_run
from retention.tasks import purge_snapshots
from retention.tests.factories import make_pupil

pytestmark = pytest.mark.django_db


def test_a_second_send_within_the_period_skips_and_says_why(caplog):
    """The copy a second beat sends finds the rule done and leaves: one run, one skip."""
    make_pupil(login_at=timezone.now() - timedelta(days=400))
    first = purge_snapshots.apply().get()
    second = purge_snapshots.apply().get()
    assert (first["status"], second["status"]) == ("success", "skipped")
    assert first["counts"] == {"snapshots": 1}
    assert "already ran since" in caplog.text


def test_the_next_period_runs_again(time_machine):
    """The next day's send runs again; a late copy the same day does not."""
    time_machine.move_to("2026-12-07 05:00:00+00:00")
    purge_snapshots.apply().get()
    time_machine.move_to("2026-12-07 23:59:00+00:00")
    assert purge_snapshots.apply().get()["status"] == "skipped"
    time_machine.move_to("2026-12-08 05:00:00+00:00")
    assert purge_snapshots.apply().get()["status"] == "success"


def test_on_the_short_schedule_a_period_starts_on_the_clock(settings):
    """With RETENTION_SCHEDULE_SECONDS the period starts on its multiples, as beat fires."""
    from datetime import UTC, datetime

    settings.RETENTION_SCHEDULE_SECONDS = 4
    moment = datetime(2026, 12, 7, 5, 0, 7, 500000, tzinfo=UTC)
    assert policy.period_start(moment) == datetime(2026, 12, 7, 5, 0, 4, tzinfo=UTC)


def test_a_manual_run_is_never_skipped_for_freshness():
    """run_retention by hand runs whatever ran before (only the lock stops it)."""
    for _ in range(2):
        call_command("run_retention", "--rule", policy.SNAPSHOTS, stdout=StringIO())
    runs = RetentionRun.objects.filter(trigger="command").values_list("status", flat=True)
    assert list(runs) == [RetentionRun.Status.SUCCESS] * 2


def test_counts_are_saved_after_every_batch():
    """A run killed mid-rule has saved the rows of each committed batch."""
    for _ in range(5):
        make_pupil(login_at=timezone.now() - timedelta(days=400))
    seen = []

    def watch(rule, rows, seconds):
        seen.append(RetentionRun.objects.get(status="running").counts.get(rule, 0))

    from retention import services

    original = services.PURGES[policy.SNAPSHOTS]
    services.PURGES[policy.SNAPSHOTS] = lambda **kw: original(scan_size=2, **kw)
    try:
        run = retention_run(rules=[policy.SNAPSHOTS], progress=watch)
    finally:
        services.PURGES[policy.SNAPSHOTS] = original
    assert run.counts == {"snapshots": 5}
    assert seen[-1] == 5
    assert len(seen) >= 3


def test_an_interrupted_run_is_logged_with_what_it_did():
    """A run left 'running' by a dead worker is logged, counts included, by the next run."""
    dead = RetentionRun.objects.create(
        started_at=timezone.now() - timedelta(minutes=5),
        status=RetentionRun.Status.RUNNING,
        rules=["snapshots"],
        counts={"snapshots": 4},
    )
    retention_run(rules=[policy.SNAPSHOTS])
    dead.refresh_from_db()
    assert dead.status == RetentionRun.Status.INTERRUPTED
    entry = PrivacyLogEntry.objects.filter(action="retention_purge", details__run=dead.pk).get()
    assert entry.details["counts"] == {"snapshots": 4}
    assert entry.reason == "interrupted"


class _Task:
    """Stands in for the bound Celery task: records how it was asked to retry."""

    def retry(self, **options):
        self.options = options
        return RuntimeError("retry")


def test_a_task_that_finds_the_lock_held_tries_again_in_minutes(db):
    """Another rule's run holds the lock: the task is retried shortly, not dropped for a day."""
    from retention import tasks
    from retention.locking import retention_lock

    task = _Task()
    with retention_lock() as acquired, pytest.raises(RuntimeError):
        assert acquired
        tasks._run(task, policy.SNAPSHOTS)
    assert task.options["countdown"] == 300
    skipped = RetentionRun.objects.get()
    assert (skipped.status, skipped.error) == ("skipped", "another run holds the lock")


def test_a_run_that_dies_after_a_batch_counts_exactly_that_batch(settings):
    """The run's counts commit with each batch: a death right after one leaves them equal."""
    settings.RETENTION_SCAN_SIZE = 2
    for _ in range(5):
        make_pupil(login_at=timezone.now() - timedelta(days=400))

    def die(rule, rows, seconds):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        retention_run(rules=[policy.SNAPSHOTS], progress=die)
    from pupils.models import IdentitySnapshot

    deleted = 5 - IdentitySnapshot.objects.count()
    assert RetentionRun.objects.get().counts == {"snapshots": deleted}
    assert deleted == 2
