"""Pruning the privacy log: old entries go, a checkpoint keeps the chain verifiable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction

import privacy
from privacy import actions
from privacy.models import PrivacyLogCheckpoint, PrivacyLogEntry
from privacy.pruning import privacy_log_prune
from privacy.services import privacy_log_seal
from privacy.tests.helpers import append_at, postgres_only, tamper, write
from privacy.verification import privacy_log_verify

pytestmark = pytest.mark.django_db
OLD = datetime(2022, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
def old_and_new():
    old = append_at(OLD, 10)
    new = write(4)
    return old, new


def test_it_prunes_old_entries_and_the_rest_still_verifies(old_and_new):
    """Entries before the cutoff go; the checkpoint anchors the rest; verify passes."""
    old, _new = old_and_new
    assert privacy_log_prune(older_than=CUTOFF, batch_size=100) == 10
    assert list(
        PrivacyLogEntry.objects.order_by("sequence").values_list("sequence", flat=True)
    ) == [
        11,
        12,
        13,
        14,
        15,
    ]
    checkpoint = PrivacyLogCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.hash) == (10, old[-1].hash)
    prune_entry = PrivacyLogEntry.objects.get(action=actions.PRIVACY_LOG_PRUNE)
    assert prune_entry.details["through_sequence"] == 10
    result = privacy_log_verify()
    assert result.ok
    assert result.count == 5


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL drops partitions")
def test_it_prunes_in_batches(old_and_new):
    """SQLite deletes in batches of 3: four checkpoints, four prune entries, one valid chain."""
    assert privacy_log_prune(older_than=CUTOFF, batch_size=3) == 10
    assert PrivacyLogCheckpoint.objects.count() == 4
    assert PrivacyLogEntry.objects.filter(action=actions.PRIVACY_LOG_PRUNE).count() == 4
    assert privacy_log_verify().ok


def test_it_prunes_nothing_when_nothing_is_old():
    """No entry before the cutoff: nothing removed, no checkpoint, no prune entry."""
    write(3)
    assert privacy_log_prune(older_than=CUTOFF, batch_size=100) == 0
    assert not PrivacyLogCheckpoint.objects.exists()
    assert PrivacyLogEntry.objects.count() == 3


def test_it_keeps_writing_after_pruning_everything():
    """When every entry was old, the next one links to the checkpoint."""
    append_at(OLD, 3)
    privacy_log_prune(older_than=datetime.now(UTC) + timedelta(days=1), batch_size=100)
    write(2)
    assert privacy_log_verify().ok


def test_it_detects_a_forged_checkpoint(old_and_new):
    """A checkpoint moved by hand no longer matches the prune entry: verify fails."""
    privacy_log_prune(older_than=CUTOFF, batch_size=100)
    tamper("DELETE FROM privacy_log WHERE sequence = 11")
    tamper("UPDATE privacy_privacylogcheckpoint SET sequence = 11, hash = %s", ["1" * 64])
    result = privacy_log_verify()
    assert result.problem is not None
    assert result.problem.kind == "changed"


def _partitions() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'privacy_log'::regclass ORDER BY c.relname"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def three_months():
    return [append_at(datetime(2022, month, 28, 23, 59, 58, tzinfo=UTC), 3) for month in (3, 4, 5)]


@postgres_only
def test_it_drops_whole_monthly_partitions(three_months):
    """Two months past: their partitions are dropped, one checkpoint each, the rest verifies."""
    _march, april, _may = three_months
    assert privacy_log_prune(older_than=datetime(2022, 5, 15, tzinfo=UTC)) == 6
    assert "privacy_log_2022_03" not in _partitions()
    assert "privacy_log_2022_04" not in _partitions()
    assert "privacy_log_2022_05" in _partitions()
    checkpoints = list(PrivacyLogCheckpoint.objects.order_by("sequence").values_list("sequence"))
    assert checkpoints == [(3,), (6,)]
    assert PrivacyLogCheckpoint.objects.get(sequence=6).hash == april[-1].hash
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 5)


@postgres_only
def test_it_drops_an_empty_month_without_a_checkpoint_and_goes_on():
    """An empty partition (made ahead, never written) has nothing to anchor; the step after
    it still drops the month that is due behind it."""
    from privacy import storage

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT privacy_log_partition(%s::smallint)",
            [storage.period_of(datetime(2022, 1, 15, tzinfo=UTC))],
        )
    march = append_at(OLD, 3)
    assert "privacy_log_2022_01" in _partitions()
    assert privacy_log_prune(older_than=datetime(2022, 4, 1, tzinfo=UTC)) == 3
    assert not {"privacy_log_2022_01", "privacy_log_2022_03"} & set(_partitions())
    checkpoints = list(PrivacyLogCheckpoint.objects.values_list("sequence", "hash"))
    assert checkpoints == [(3, march[-1].hash)]
    assert privacy_log_verify().ok


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_prune_that_waited_for_another_reads_what_that_one_dropped(three_months):
    """Two prunes at once: the second waits for the head lock, then must see the month the
    first dropped as gone (not read it with the snapshot it had before waiting)."""
    import threading

    from django.db import connections

    holding, release, errors = threading.Event(), threading.Event(), []

    def first() -> None:
        try:
            with transaction.atomic():  # holds the head lock until release
                privacy_log_prune(older_than=datetime(2022, 4, 15, tzinfo=UTC))
                holding.set()
                release.wait(10)
        except BaseException as exc:
            errors.append(exc)
            holding.set()
        finally:
            connections.close_all()

    def second() -> None:
        try:
            privacy_log_prune(older_than=datetime(2022, 5, 15, tzinfo=UTC))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first)]
    threads[0].start()
    holding.wait(10)
    threads.append(threading.Thread(target=second))
    threads[1].start()
    _wait_for_a_lock_wait()
    release.set()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert not {"privacy_log_2022_03", "privacy_log_2022_04"} & set(_partitions())
    assert list(PrivacyLogCheckpoint.objects.order_by("sequence").values_list("sequence")) == [
        (3,),
        (6,),
    ]
    assert privacy_log_verify().ok


def _wait_for_a_lock_wait() -> None:
    import time

    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.025)
    raise AssertionError("the second prune never waited for the first")


@postgres_only
def test_with_the_sealer_the_log_verifies_right_after_a_prune(three_months, settings):
    """The prune's entry is chained with its checkpoint, not left pending for the sealer:
    the verifier compares the checkpoint with the newest prune entry at once."""
    settings.PRIVACY_LOG_SEALER = True
    privacy.log("authn_logout", actor="system")  # pending, written before the prune
    assert privacy_log_prune(older_than=datetime(2022, 5, 15, tzinfo=UTC)) == 6
    assert privacy_log_verify().ok
    assert privacy_log_seal() == 1
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 6)


@postgres_only
def test_every_prune_makes_this_month_and_the_next_two_ahead():
    """So that no writer makes a partition (a lock on the whole log) in the morning rush."""
    from privacy import storage

    now = storage.period_of(datetime.now(UTC))
    ahead = [storage.partition_name(period) for period in range(now, now + 3)]
    with connection.cursor() as cursor:
        for name in ahead:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
    assert not set(ahead) & set(_partitions())
    privacy_log_prune(older_than=CUTOFF)
    assert set(ahead) <= set(_partitions())


@postgres_only
def test_it_keeps_a_month_that_is_not_wholly_past(three_months):
    """A cutoff in the middle of May keeps May: entries go with their whole month."""
    privacy_log_prune(older_than=datetime(2022, 5, 15, tzinfo=UTC))
    assert PrivacyLogEntry.objects.filter(created_at__month=5).count() == 3


@postgres_only
def test_it_files_a_late_entry_under_the_newer_month(three_months):
    """An entry dated before the head's month (a slow clock) goes to the head's partition."""
    late = append_at(datetime(2022, 4, 1, tzinfo=UTC), 1)[0]
    stored = PrivacyLogEntry.objects.get(sequence=late.sequence)
    assert stored.period == PrivacyLogEntry.objects.get(sequence=9).period
    privacy_log_prune(older_than=datetime(2022, 5, 15, tzinfo=UTC))
    assert PrivacyLogEntry.objects.filter(sequence=late.sequence).exists()
    assert privacy_log_verify().ok


@postgres_only
@pytest.mark.parametrize(
    ("sql", "kind", "sequence"),
    [
        ("DELETE FROM privacy_log WHERE sequence = 7", "missing", 7),
        ("UPDATE privacy_log SET reason = 'x' WHERE sequence = 7", "changed", 7),
        ("UPDATE privacy_log SET failed = true WHERE sequence = 6", "changed", 6),
    ],
)
@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.django_db(transaction=True)
def test_it_detects_tampering_at_a_partition_boundary(three_months, sql, kind, sequence, workers):
    """The last entry of April and the first of May are links like any other, in parallel too."""
    assert privacy_log_verify(workers=workers, chunk_size=2).ok
    with transaction.atomic():
        tamper(sql)
    result = privacy_log_verify(workers=workers, chunk_size=2)
    assert (result.problem.sequence, result.problem.kind) == (sequence, kind)


@postgres_only
def test_it_detects_tampering_after_a_prune(three_months):
    """After March is dropped, a change in April is still found, and a deleted checkpoint too."""
    privacy_log_prune(older_than=datetime(2022, 4, 15, tzinfo=UTC))
    assert privacy_log_verify().ok
    tamper("UPDATE privacy_log SET reason = 'x' WHERE sequence = 5")
    assert (privacy_log_verify().problem.sequence, privacy_log_verify().problem.kind) == (
        5,
        "changed",
    )
    tamper("UPDATE privacy_log SET reason = '' WHERE sequence = 5")
    tamper("DELETE FROM privacy_privacylogcheckpoint")
    assert privacy_log_verify().problem.kind == "missing"
