"""retention_run: dry runs, the run's record and log entry, reruns, interruptions and the lock
(the purges of each rule: ``test_services.py``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

import privacy
from pupils.models import IdentitySnapshot, Pupil
from retention import policy, services
from retention.locking import retention_lock
from retention.models import RetentionRun
from retention.tests.factories import BOTH, NOW, SECOND, YEAR, make_pupil

pytestmark = pytest.mark.django_db


def test_it_counts_without_deleting_in_a_dry_run(clock):
    """A dry run counts exactly what a real run deletes, and deletes nothing."""
    for _ in range(2):
        make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    for _ in range(3):
        make_pupil(login_at=NOW - YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR)

    dry = services.retention_run(rules=BOTH, dry_run=True)
    assert dry.dry_run
    # The two old accounts' snapshots go with their accounts: not counted twice.
    assert dry.counts == {policy.ACCOUNTS: 2, policy.SNAPSHOTS: 3}
    assert Pupil.objects.count() == 6
    assert IdentitySnapshot.objects.count() == 6

    real = services.retention_run(rules=BOTH)
    assert real.counts == dry.counts
    assert Pupil.objects.count() == 4
    assert IdentitySnapshot.objects.count() == 1


def test_it_counts_in_a_dry_run_what_each_rule_alone_would_delete(clock):
    """Without the accounts rule in the run, the snapshot rule would delete old accounts'
    snapshots too, and the dry run says so."""
    make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR - SECOND)
    dry = services.retention_run(rules=[policy.SNAPSHOTS], dry_run=True)
    real = services.retention_run(rules=[policy.SNAPSHOTS])
    assert dry.counts == real.counts == {policy.SNAPSHOTS: 2}


def test_it_predicts_every_rule_exactly_with_overlapping_rules():
    """Accounts, snapshots and log entries that several rules reach (and a log entry older
    than the one before it, from a clock step back): the dry run's counts are the real run's."""
    start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        privacy.log("authn_login_success", actor="system")
        make_pupil(login_at=start)  # accounts rule (its snapshot goes with it)
    with time_machine.travel(start + timedelta(days=600), tick=False):
        privacy.log("authn_login_success", actor="system")  # young: stops the prune here
        make_pupil(login_at=start + timedelta(days=600))  # snapshots rule only
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        privacy.log("authn_login_success", actor="system")  # old, but after a young one
    # Forty days past the log's period, so that on PostgreSQL January 2023's partition is due.
    run_at = start + timedelta(days=1096 + 40)
    with time_machine.travel(run_at, tick=False):
        make_pupil(login_at=run_at - timedelta(days=1))  # nothing
        dry = services.retention_run(dry_run=True)
        real = services.retention_run()
    # The log: only the first entry (the one after the young one stays, on SQLite because
    # only a prefix can go, on PostgreSQL because it is filed under the young one's month).
    assert (
        dry.counts[policy.ACCOUNTS],
        dry.counts[policy.SNAPSHOTS],
        dry.counts[policy.PRIVACY_LOG],
    ) == (1, 1, 1)
    assert real.counts == dry.counts


def test_it_announces_each_rule_with_its_count_before_its_batches(clock):
    """``expected`` hears what a rule finds expired before ``progress`` hears its batches."""
    for _ in range(2):
        make_pupil(login_at=NOW - YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR)
    heard: list[tuple] = []
    run = services.retention_run(
        rules=[policy.SNAPSHOTS],
        progress=lambda rule, rows, seconds: heard.append(("batch", rule, rows)),
        expected=lambda rule, expired: heard.append(("expected", rule, expired)),
    )
    assert heard[0] == ("expected", policy.SNAPSHOTS, 2)
    assert sum(rows for kind, _rule, rows in heard[1:] if kind == "batch") == 2
    assert run.counts == {policy.SNAPSHOTS: 2}


def test_it_records_the_run_and_logs_the_counts_but_not_who(clock):
    """Every run leaves a RetentionRun and one retention_purge privacy-log entry with counts."""
    from privacy.models import PrivacyLogEntry

    pupil = make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    run = services.retention_run(rules=BOTH, trigger="command")

    run.refresh_from_db()
    assert run.status == RetentionRun.Status.SUCCESS
    assert run.started_at == NOW and run.finished_at == NOW
    assert run.counts == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0}
    assert run.rules == BOTH and run.trigger == "command" and not run.dry_run
    entry = PrivacyLogEntry.objects.get(action="retention_purge")
    assert entry.outcome == "success"
    assert entry.actor == "system"
    assert entry.details["counts"] == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0}
    assert entry.subject == ""
    assert pupil.pseudonym not in str(entry.details)


def test_it_applies_every_rule_by_default():
    """A full run applies the three rules, the privacy log's through the privacy app."""
    start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        privacy.log("authn_login_success", actor="system")
        make_pupil(login_at=start)
    # A month later than the period: on PostgreSQL entries go with their whole month.
    with time_machine.travel(start + timedelta(days=1097 + 31), tick=False):
        dry = services.retention_run(dry_run=True)
        run = services.retention_run()
    assert run.status == RetentionRun.Status.SUCCESS
    assert run.counts == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0, policy.PRIVACY_LOG: 1}
    assert dry.counts == run.counts


class Killed(Exception):
    pass


def test_it_finishes_on_a_rerun_after_being_killed_between_batches(settings, clock):
    """A run that dies after its first batch keeps that batch; the rerun does the rest."""
    settings.RETENTION_SCAN_SIZE = 2
    for _ in range(5):
        make_pupil(login_at=NOW - YEAR - SECOND)
    keep = make_pupil(login_at=NOW - YEAR)

    def die(rule, rows, seconds):
        raise Killed

    with pytest.raises(Killed):
        services.retention_run(rules=[policy.SNAPSHOTS], progress=die)
    failed = RetentionRun.objects.get()
    assert failed.status == RetentionRun.Status.FAILED
    assert failed.error == "snapshots: Killed"
    assert IdentitySnapshot.objects.count() == 4

    rerun = services.retention_run(rules=[policy.SNAPSHOTS])
    assert rerun.status == RetentionRun.Status.SUCCESS
    assert rerun.counts == {policy.SNAPSHOTS: 3}
    assert list(IdentitySnapshot.objects.values_list("pupil_id", flat=True)) == [keep.pk]


def test_it_marks_a_run_whose_process_died_as_interrupted(clock):
    """A run left "running" by a killed process is marked interrupted by the next run."""
    dead = RetentionRun.objects.create(
        started_at=NOW - timedelta(hours=1), status=RetentionRun.Status.RUNNING
    )
    services.retention_run(rules=[policy.SNAPSHOTS])
    dead.refresh_from_db()
    assert dead.status == RetentionRun.Status.INTERRUPTED


def test_it_skips_while_another_run_holds_the_lock(clock):
    """A second run at the same time leaves at once, deletes nothing and records the skip."""
    make_pupil(login_at=NOW - YEAR - SECOND)
    with retention_lock() as held:
        assert held
        run = services.retention_run(rules=BOTH)
    assert run.status == RetentionRun.Status.SKIPPED
    assert run.counts == {}
    assert IdentitySnapshot.objects.count() == 1
    assert services.retention_run(rules=BOTH).status == RetentionRun.Status.SUCCESS
    assert IdentitySnapshot.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_second_run_while_the_first_is_between_batches():
    """Two real runs on two connections: the one that starts second is skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("two connections at once need PostgreSQL (SQLite serialises writers)")
    for _ in range(3):
        make_pupil(login_at=datetime(2020, 1, 1, tzinfo=UTC))
    inside, release = threading.Event(), threading.Event()
    results: list[RetentionRun] = []

    def first():
        def pause(rule, rows, seconds):
            inside.set()
            release.wait(timeout=30)

        try:
            results.append(services.retention_run(rules=[policy.SNAPSHOTS], progress=pause))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        second = services.retention_run(rules=[policy.SNAPSHOTS])
    finally:
        release.set()
        thread.join(timeout=30)
    assert second.status == RetentionRun.Status.SKIPPED
    assert results[0].status == RetentionRun.Status.SUCCESS
    assert results[0].counts == {policy.SNAPSHOTS: 3}


def test_it_refuses_an_unknown_rule():
    """An unknown rule name is refused before anything runs."""
    with pytest.raises(ValueError, match="unknown retention rule"):
        services.retention_run(rules=["everything"])
    assert not RetentionRun.objects.exists()
