"""Pruning the privacy log itself: whole old entries go, a checkpoint keeps the chain whole.

Pruning only ever removes a prefix of the chain (the oldest entries, in sequence order). Every
step, in one transaction, takes the head lock, records a ``PrivacyLogCheckpoint`` (sequence and
hash of the last removed entry) under the transaction-local flag the append-only triggers let it
through with, removes the entries, and writes a ``privacy_log_prune`` entry carrying that
checkpoint, so a forged checkpoint stands out.

- PostgreSQL: whole monthly partitions are dropped, one per step: a partition goes when every
  entry it holds is older than ``older_than`` (its month, and any entry filed under it, ended
  before), so entries go up to a month later than their day and a prune costs the same whatever
  the table's size. A due partition goes even when it holds the head; the next entry then
  makes its month's partition again.
  The drop waits at most ``lock_timeout`` for readers (a verification holds its snapshot): on a
  timeout the step fails and the next run tries again.
- SQLite: a plain DELETE of the oldest entries in batches of ``batch_size``, stopping at the
  first entry that is not old enough.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, transaction

from privacy import actions, chain, storage
from privacy.models import PrivacyLogCheckpoint, PrivacyLogRecord
from privacy.services import lock_head, privacy_log_head, privacy_log_write

DROP_LOCK_TIMEOUT = "5s"


def privacy_log_prune(*, older_than: datetime, batch_size: int = 5_000) -> int:
    """Remove entries created before ``older_than``; return how many were removed."""
    if connection.vendor == "postgresql":
        return _prune_partitions(older_than=older_than)
    # Entries written from here on (our own prune entries among them) are never candidates.
    upto = privacy_log_head().sequence
    removed = 0
    while True:
        batch = _prune_batch(older_than=older_than, upto=upto, batch_size=batch_size)
        removed += batch
        if batch < batch_size:
            return removed


def privacy_log_partitions(*, ahead: int = 2) -> list[str]:
    """PostgreSQL: make the partitions of this month and the next ``ahead`` ones, if missing.

    ``privacy_log_append`` makes a missing one itself, but that takes a lock on the whole log
    for a moment in the middle of the morning rush; the daily prune makes them in advance.
    """
    now = storage.period_of(datetime.now(UTC))
    names = [storage.partition_name(period) for period in range(now, now + ahead + 1)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) name WHERE to_regclass(name) IS NULL", [names]
        )
        missing = {row[0] for row in cursor.fetchall()}
        for period, name in zip(range(now, now + ahead + 1), names, strict=True):
            if name in missing:
                cursor.execute("SELECT privacy_log_partition(%s::smallint)", [period])
    return names


def _prune_partitions(*, older_than: datetime) -> int:
    removed, more = 0, True
    while more:
        step, more = _drop_oldest_partition(older_than=older_than)
        removed += step
    privacy_log_partitions()
    return removed


# What a step needs to know, read once the head lock is held: a statement of its own after
# lock_head(), because a statement that waited for the lock would still read with the snapshot
# it took before waiting (READ COMMITTED), and miss what the previous holder committed.
_STEP_STATE = """
SELECT set_config('lock_timeout', %s, true),
       (SELECT period FROM privacy_log_head WHERE id = 1),
       (SELECT coalesce(max(sequence), 0) FROM privacy_privacylogcheckpoint),
       ARRAY(SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'privacy_log'::regclass)
"""
# The checkpoint, under the flag the append-only trigger lets it through with, and the drop:
# one call of several statements (Django's cursor binds on the client, which allows that).
_CHECKPOINT = (
    "SELECT set_config('ilearn.privacy_prune', 'on', true);"
    " INSERT INTO privacy_privacylogcheckpoint (sequence, hash, pruned_at, entries_removed)"
    " VALUES (%s, %s, %s, %s);"
    " SELECT set_config('ilearn.privacy_prune', 'off', true);"
)


def _drop_oldest_partition(*, older_than: datetime) -> tuple[int, bool]:
    """Drop the oldest partition if it is due. Returns the entries removed and whether the next
    partition is due too (then the caller takes another step, under the lock again).

    Five round trips, whatever the partition's size: the head lock, the state, the partition's
    last entry, the checkpoint with the drop, and the prune's own entry. The lock timeout is
    set after the head lock is held: only the DROP's wait for readers is bounded.
    """
    due_before = storage.period_of(older_than)
    with transaction.atomic(), connection.cursor() as cursor:
        lock_head()
        cursor.execute(_STEP_STATE, [DROP_LOCK_TIMEOUT])
        _, head_period, start, names = cursor.fetchone()
        due = sorted(
            (period, name) for name in names if (period := _period_of_name(name)) < due_before
        )
        if not due:
            return 0, False
        period, name = due[0]
        table = connection.ops.quote_name(name)
        cursor.execute(
            f"SELECT sequence, hash FROM {table} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
        )
        last = cursor.fetchone()
        drop = f"DROP TABLE {table};"
        if period == head_period:
            # The next entry makes its month's partition again (privacy_log_append).
            drop += " UPDATE privacy_log_head SET period = -1 WHERE id = 1;"
        if last is None:  # an empty partition has nothing to anchor
            cursor.execute(drop)
            return 0, len(due) > 1
        through_sequence, through_hash = last[0], bytes(last[1]).hex()
        removed = through_sequence - start
        cursor.execute(
            _CHECKPOINT + " " + drop,
            [through_sequence, through_hash, datetime.now(UTC), removed],
        )
        _log_prune(through_sequence, through_hash, removed, older_than)
        return removed, len(due) > 1


def _period_of_name(name: str) -> int:
    year, month = name.removeprefix("privacy_log_").split("_")
    return (int(year) - storage.EPOCH_YEAR) * 12 + int(month) - 1


def _prune_batch(*, older_than: datetime, upto: int, batch_size: int) -> int:
    with transaction.atomic():
        lock_head()
        oldest = list(
            PrivacyLogRecord.objects.filter(sequence__lte=upto)
            .order_by("sequence")
            .values_list("sequence", "created_at", "hash")[:batch_size]
        )
        # Stop at the first young entry even if older ones follow (a clock step back):
        # only a prefix can go, or the rest would no longer verify.
        due = []
        for sequence, created_at, entry_hash in oldest:
            if created_at >= older_than:
                break
            due.append((sequence, bytes(entry_hash).hex()))
        if not due:
            return 0
        through_sequence, through_hash = due[-1]
        # SQLite: no append-only trigger to let through (the PostgreSQL path sets its flag).
        PrivacyLogCheckpoint.objects.create(
            sequence=through_sequence,
            hash=through_hash,
            pruned_at=datetime.now(UTC),
            entries_removed=len(due),
        )
        PrivacyLogRecord.objects.filter(sequence__lte=through_sequence).delete()
        _log_prune(through_sequence, through_hash, len(due), older_than)
        return len(due)


def _log_prune(sequence: int, entry_hash: str, removed: int, older_than: datetime) -> None:
    # Chained at once, under the head lock this step holds: the verifier checks the checkpoint
    # against the newest prune entry, which must not wait for the sealer.
    privacy_log_write(
        chained=True,
        action=actions.PRIVACY_LOG_PRUNE,
        actor="system",
        reason="retention",
        details={
            "through_sequence": sequence,
            "through_hash": entry_hash,
            "removed": removed,
            "older_than": chain.timestamp(older_than),
        },
    )
