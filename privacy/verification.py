"""Walking the chain: every link, every hash, every sequence number, in bounded memory.

The walk reads entries in sequence order, a page of consecutive sequence numbers at a time, so
memory stays flat however long the log is, inside one REPEATABLE READ transaction on PostgreSQL
so that writers and the pruner cannot move rows under it. Three ways to run it:

- ``privacy_log_verify()``: the whole chain, from the pruning checkpoint (or the genesis) to
  the head; ``workers=N`` splits it into ranges walked by N processes that share one exported
  snapshot. A range starts from the stored hash of the entry before it; the range before
  checks that very hash, so the ranges together check every link.
- ``privacy_log_verify_incremental()``: only what was added since the last verified head
  (``PrivacyLogVerification``), which it then records. The daily check; a change to entries
  verified earlier is found by the next full verification, not by this one.

Rows store their own hash, not the previous one (``privacy/storage.py``). An entry whose hash
does not follow from the previous hash and its content is classified:
- a sequence number skipped: the entry with that number is **missing**;
- it follows from the hash two places back, numbered one lower: an entry was **inserted**
  before it (and the ones after renumbered);
- a later entry of the same page follows from the previous hash at this number: entries were
  **reordered**;
- otherwise it was **changed** (its content, its hash, or the previous entry's hash: an entry
  rewritten with a valid new hash is reported at its successor);
- ``expect_head`` not found anywhere: the tail after the current head is **missing**.

This module holds the snapshot, the ranges and the verdict; the walk over the rows and the
classification above are in ``privacy/verification_walk.py``.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

from privacy import actions, chain, verification_walk, verification_worker
from privacy.metrics import verification_finished
from privacy.models import (
    PrivacyLogCheckpoint,
    PrivacyLogEntry,
    PrivacyLogRecord,
    PrivacyLogText,
    PrivacyLogVerification,
)
from privacy.services import Head
from privacy.verification_walk import Kind, Problem, Range


@dataclass(frozen=True)
class Verification:
    count: int
    head: Head
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def privacy_log_verify(
    *,
    expect_head: str | None = None,
    chunk_size: int = 5_000,
    workers: int = 1,
    record: bool = False,
) -> Verification:
    """The whole chain (see ``_verify_whole``); the outcome also goes to ``/metrics``."""
    return _reported(
        _verify_whole(
            expect_head=expect_head, chunk_size=chunk_size, workers=workers, record=record
        )
    )


def _reported(result: Verification) -> Verification:
    verification_finished(ok=result.ok, entries=result.count)
    return result


def _verify_whole(
    *,
    expect_head: str | None = None,
    chunk_size: int = 5_000,
    workers: int = 1,
    record: bool = False,
) -> Verification:
    """The whole chain; ``record`` stores a verified head for the incremental check."""
    with _snapshot() as snapshot_id:
        start = _start()
        if problem := _check_checkpoint(start):
            return Verification(0, start, problem)
        last = _last_sequence(start)
        if workers > 1 and snapshot_id and last - start.sequence > workers * chunk_size:
            walked = _walk_parallel(start, last, expect_head, chunk_size, workers, snapshot_id)
        else:
            walked = verification_walk.walk(start, last, expect_head, chunk_size)
        result = _verdict(walked, expect_head)
        if record and result.ok:
            _record(result, full=True)
    return result


def privacy_log_verify_incremental(
    *, since: Head | None = None, chunk_size: int = 5_000
) -> Verification:
    """From the last verified head (``_verify_since``); the outcome also goes to ``/metrics``."""
    return _reported(_verify_since(since=since, chunk_size=chunk_size))


def _verify_since(*, since: Head | None = None, chunk_size: int = 5_000) -> Verification:
    """From the last verified head to the current one; records the new head when whole.

    ``since`` is that head when the caller keeps it (the DPO's daily self-check does);
    otherwise the last one this function recorded (``PrivacyLogVerification``). Its entry must
    still be there with the same hash (a truncated tail or a rewritten chain fails here).
    ``count`` is the number of entries checked in this run; a first run walks the whole chain.
    """
    with _snapshot():
        start = _start()
        if problem := _check_checkpoint(start):
            return Verification(0, start, problem)
        if since is None:
            verified = PrivacyLogVerification.objects.filter(sequence__gt=start.sequence).first()
            since = Head(verified.sequence, verified.hash) if verified else None
        if since is not None and since.sequence > start.sequence:
            stored = verification_walk.stored_hash(since.sequence)
            if stored != since.hash:
                kind: Kind = "missing" if stored is None else "changed"
                problem = Problem(
                    since.sequence, kind, "the last verified entry is not as verified"
                )
                return Verification(0, start, problem)
            start = since
        walked = verification_walk.walk(start, _last_sequence(start), None, chunk_size)
        result = _verdict(walked, None)
        if result.ok:
            _record(result, full=False)
    return result


# --- One snapshot for the whole check ------------------------------------------------------------


class _snapshot:
    """An atomic block; on PostgreSQL REPEATABLE READ, yielding a snapshot id workers can share."""

    def __enter__(self) -> str | None:
        self._outermost = not connection.in_atomic_block
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        if connection.vendor != "postgresql":
            return None
        if not self._outermost:
            return None
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            return cursor.fetchone()[0]

    def __exit__(self, *exc) -> None:
        self._atomic.__exit__(*exc)


def _record(result: Verification, *, full: bool) -> None:
    PrivacyLogVerification.objects.update_or_create(
        sequence=result.head.sequence,
        defaults={
            "hash": result.head.hash,
            "verified_at": datetime.now(UTC),
            "entries": result.count,
            "full": full,
        },
    )


def _verdict(walked: Range, expect: str | None) -> Verification:
    if walked.problem is None and expect and not walked.saw_expected:
        problem = Problem(
            walked.head.sequence + 1,
            "missing",
            "the expected head is not in the log: entries after the current head are gone",
        )
        return Verification(walked.count, walked.head, problem)
    return Verification(walked.count, walked.head, walked.problem)


# --- In parallel: ranges over one exported snapshot ----------------------------------------------


def _walk_parallel(
    start: Head, last: int, expect: str | None, chunk_size: int, workers: int, snapshot_id: str
) -> Range:
    """Ranges of about ``chunk_size * 20`` entries, handed to ``workers`` spawned processes."""
    # Many ranges per worker: the last one to finish leaves the other cores idle meanwhile.
    step = max(chunk_size * 20, (last - start.sequence) // (workers * 32) + 1)
    bounds = [(a, min(a + step, last)) for a in range(start.sequence, last, step)]
    first_hashes = {start.sequence: start.hash}
    jobs = [(snapshot_id, a, b, first_hashes.get(a), expect, chunk_size) for a, b in bounds]
    context = multiprocessing.get_context("spawn")
    database = connection.settings_dict["NAME"]  # the test database in tests
    with context.Pool(workers, initializer=verification_worker.setup, initargs=(database,)) as pool:
        results = pool.map(verification_worker.walk_range, jobs, chunksize=1)
    count, saw_expected = 0, expect == start.hash
    for walked in results:
        count += walked.count
        saw_expected = saw_expected or walked.saw_expected
        if walked.problem is not None:
            return Range(count, walked.head, walked.problem, False)
    return Range(count, results[-1].head, None, saw_expected)


def walk_range(job: tuple) -> Range:
    """One range of a parallel verification, in the snapshot the parent exported."""
    snapshot_id, after, last, first_hash, expect, chunk_size = job
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
        start_hash = first_hash or verification_walk.stored_hash(after)
        if start_hash is None:
            return verification_walk.failed(0, "", after, "missing", "sequence number absent")
        return verification_walk.walk(
            Head(after, start_hash), last, expect, chunk_size, _worker_texts(snapshot_id)
        )


_worker_cache: dict[str, verification_walk.Texts] = {}


def _worker_texts(snapshot_id: str) -> verification_walk.Texts:
    """One worker's dictionary values, kept across its ranges of one snapshot only."""
    if snapshot_id not in _worker_cache:
        _worker_cache.clear()
        _worker_cache[snapshot_id] = verification_walk.Texts()
    return _worker_cache[snapshot_id]


# --- Where the chain starts, and where it ends ---------------------------------------------------


def _start() -> Head:
    row = PrivacyLogCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return Head(*row) if row else Head(0, chain.GENESIS_HASH)


def _last_sequence(start: Head) -> int:
    last = PrivacyLogRecord.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    return max(last or 0, start.sequence)


def _check_checkpoint(start: Head) -> Problem | None:
    """Entries at or below the checkpoint must be gone; the checkpoint must match its entry."""
    below = (
        PrivacyLogRecord.objects.filter(sequence__lte=start.sequence)
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if below is not None:
        return Problem(below, "inserted", "entry at or below the pruning checkpoint")
    if start.sequence == 0:
        return None
    # Each prune writes the checkpoint it made into the chain, in the same transaction.
    prune = PrivacyLogText.objects.filter(value=actions.PRIVACY_LOG_PRUNE).first()
    details = (
        PrivacyLogEntry.objects.filter(action_code=prune.id)
        .order_by("-sequence")
        .values_list("details", flat=True)
        .first()
        if prune
        else None
    )
    if not details or (details.get("through_sequence"), details.get("through_hash")) != (
        start.sequence,
        start.hash,
    ):
        return Problem(
            start.sequence, "changed", "the checkpoint does not match the last prune entry"
        )
    return None
