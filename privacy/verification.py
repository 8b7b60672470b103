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
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from django.db import connection, transaction

from privacy import actions, chain, storage, verification_worker
from privacy.metrics import verification_finished
from privacy.models import (
    PrivacyLogCheckpoint,
    PrivacyLogEntry,
    PrivacyLogRecord,
    PrivacyLogText,
    PrivacyLogVerification,
)
from privacy.services import Head

Kind = Literal["changed", "missing", "reordered", "inserted"]
# The stored columns a page reads, by name; PostgreSQL formats the time itself (parsing and
# re-formatting timestamps in Python was a quarter of the walk).
_STORED = (
    "sequence",
    "created_at",
    "actor_id",
    "subject_id",
    "action_id",
    "failed",
    "reason",
    "request_id",
    "details",
    "hash",
)
_AS_TEXT = {
    "created_at": """to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
}
# Built from constants only (no input), hence the noqa.
_PAGE_SQL = f"""
    SELECT {", ".join(_AS_TEXT.get(name, name) for name in _STORED)}
      FROM privacy_log
     WHERE sequence > %s AND sequence <= %s
     ORDER BY sequence
"""  # noqa: S608
_TEXT_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Problem:
    sequence: int
    kind: Kind
    detail: str


@dataclass(frozen=True)
class Verification:
    count: int
    head: Head
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class _Range:
    """One walk's result: entries checked, the last good head, and whether it saw ``expect``."""

    count: int
    head: Head
    problem: Problem | None
    saw_expected: bool


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
            walked = _walk(start, last, expect_head, chunk_size)
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
            stored = _stored_hash(since.sequence)
            if stored != since.hash:
                kind: Kind = "missing" if stored is None else "changed"
                problem = Problem(
                    since.sequence, kind, "the last verified entry is not as verified"
                )
                return Verification(0, start, problem)
            start = since
        walked = _walk(start, _last_sequence(start), None, chunk_size)
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


# --- The walk ------------------------------------------------------------------------------------


def _walk(start: Head, last: int, expect: str | None, chunk_size: int) -> _Range:
    """Check entries ``start.sequence + 1 .. last``, the first linking to ``start.hash``."""
    texts = _Texts()
    expected, prev, prev_prev = start.sequence + 1, start.hash, None
    count, saw_expected = 0, expect == start.hash
    for page in _pages(start.sequence, last, chunk_size, texts):
        for index, row in enumerate(page):
            sequence = row["sequence"]
            if sequence != expected:
                return _failed(count, prev, expected, "missing", "sequence number absent")
            if _hash(prev, row) != row["hash"]:
                kind, at, detail = _classify(prev, prev_prev, row, page[index + 1 :])
                return _failed(count, prev, at, kind, detail)
            prev_prev, prev = prev, row["hash"]
            saw_expected = saw_expected or prev == expect
            expected += 1
            count += 1
    if expected <= last:
        return _failed(count, prev, expected, "missing", "sequence number absent")
    return _Range(count, Head(expected - 1, prev), None, saw_expected)


def _classify(
    prev: str, prev_prev: str | None, row: dict, later: list[dict]
) -> tuple[Kind, int, str]:
    sequence = row["sequence"]
    if prev_prev is not None and _hash(prev_prev, {**row, "sequence": sequence - 1}) == row["hash"]:
        return "inserted", sequence - 1, "an entry was slipped in before this one"
    if any(_hash(prev, {**other, "sequence": sequence}) == other["hash"] for other in later):
        return "reordered", sequence, "a later entry belongs here"
    return "changed", sequence, "does not follow from the previous hash and its content"


def _hash(prev: str, row: dict) -> str:
    return chain.entry_hash(prev, chain.encode_text(row))


def _failed(count: int, prev: str, sequence: int, kind: Kind, detail: str) -> _Range:
    return _Range(count, Head(sequence - 1, prev), Problem(sequence, kind, detail), False)


def _verdict(walked: _Range, expect: str | None) -> Verification:
    if walked.problem is None and expect and not walked.saw_expected:
        problem = Problem(
            walked.head.sequence + 1,
            "missing",
            "the expected head is not in the log: entries after the current head are gone",
        )
        return Verification(walked.count, walked.head, problem)
    return Verification(walked.count, walked.head, walked.problem)


def _pages(after: int, last: int, chunk_size: int, texts: _Texts) -> Iterator[list[dict]]:
    """Pages of consecutive sequence numbers, each row as text by ``chain.FIELDS`` name."""
    while after < last:
        upto = min(after + chunk_size, last)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_PAGE_SQL, [after, upto])
                stored = [dict(zip(_STORED, values, strict=True)) for values in cursor.fetchall()]
        else:
            stored = list(
                PrivacyLogRecord.objects.filter(sequence__gt=after, sequence__lte=upto)
                .order_by("sequence")
                .values(*_STORED)
            )
            for row in stored:
                row["created_at"] = chain.timestamp(row["created_at"])
        texts.load(
            {row[name] for row in stored for name in ("actor_id", "subject_id", "action_id")}
        )
        yield [_as_text(row, texts) for row in stored]
        after = upto


def _as_text(row: dict, texts: _Texts) -> dict:
    subject = texts[row["subject_id"]]
    actor_id = row["actor_id"]
    return {
        "sequence": row["sequence"],
        "created_at": row["created_at"],
        "actor": f"pupil:{subject}" if actor_id == storage.SELF_ACTOR else texts[actor_id],
        "action": texts[row["action_id"]],
        "subject": subject,
        "outcome": "failure" if row["failed"] else "success",
        "reason": row["reason"],
        "request_id": storage.request_id_text(bytes(row["request_id"])),
        "details": row["details"] or "{}",
        "hash": bytes(row["hash"]).hex(),
    }


class _Texts(dict):
    """Dictionary values by id, loaded a page at a time; emptied now and then (flat memory)."""

    def load(self, ids: set[int]) -> None:
        missing = [i for i in ids if i not in self and i != storage.SELF_ACTOR]
        if not missing:
            return
        if len(self) + len(missing) > _TEXT_CACHE_LIMIT:
            self.clear()
            missing = [i for i in ids if i != storage.SELF_ACTOR]
        self.update(PrivacyLogText.objects.filter(id__in=missing).values_list("id", "value"))

    def __missing__(self, key: int) -> str:
        # A dangling id (a dictionary row deleted by hand): the hash will not match.
        return f"<missing text {key}>"


# --- In parallel: ranges over one exported snapshot ----------------------------------------------


def _walk_parallel(
    start: Head, last: int, expect: str | None, chunk_size: int, workers: int, snapshot_id: str
) -> _Range:
    """Ranges of about ``chunk_size * 20`` entries, handed to ``workers`` spawned processes."""
    step = max(chunk_size * 20, (last - start.sequence) // (workers * 8) + 1)
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
            return _Range(count, walked.head, walked.problem, False)
    return _Range(count, results[-1].head, None, saw_expected)


def walk_range(job: tuple) -> _Range:
    """One range of a parallel verification, in the snapshot the parent exported."""
    snapshot_id, after, last, first_hash, expect, chunk_size = job
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot_id])
        start_hash = first_hash or _stored_hash(after)
        if start_hash is None:
            return _failed(0, "", after, "missing", "sequence number absent")
        return _walk(Head(after, start_hash), last, expect, chunk_size)


# --- Where the chain starts, and where it ends ---------------------------------------------------


def _start() -> Head:
    row = PrivacyLogCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return Head(*row) if row else Head(0, chain.GENESIS_HASH)


def _last_sequence(start: Head) -> int:
    last = PrivacyLogRecord.objects.order_by("-sequence").values_list("sequence", flat=True).first()
    return max(last or 0, start.sequence)


def _stored_hash(sequence: int) -> str | None:
    stored = PrivacyLogRecord.objects.filter(sequence=sequence).values_list("hash", flat=True)
    found = stored.first()
    return None if found is None else bytes(found).hex()


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
