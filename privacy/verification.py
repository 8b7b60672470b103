"""Walking the chain: every link, every hash, every sequence number, in bounded memory.

The walk reads entries in sequence order with keyset pagination (``sequence > last`` ... LIMIT),
so memory stays flat however long the log is, inside one REPEATABLE READ transaction on
PostgreSQL so that writers and the pruner cannot move rows under it.

What a broken link means, when it is classified:
- a sequence number skipped: the entry with that number is **missing**;
- an entry whose own hash does not match its content: it was **changed**;
- an entry that links to the entry two places back: the one in between was **inserted**;
- an entry that links to an entry further along the chain: entries were **reordered**;
- an intact entry that links to a hash found nowhere: the entry before it was **changed**;
- ``--expect-head`` not found anywhere: the tail after the current head is **missing**.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from django.db import connection, transaction

from privacy import actions, chain
from privacy.metrics import verification_finished
from privacy.models import PrivacyLogCheckpoint, PrivacyLogEntry
from privacy.services import Head

Kind = Literal["changed", "missing", "reordered", "inserted"]
# The order of chain.encode_fields, then the two hashes.
_FIELDS = (
    "sequence",
    "created_at",
    "actor",
    "action",
    "subject",
    "outcome",
    "reason",
    "request_id",
    "details",
    "prev_hash",
    "hash",
)
_PAGE_SQL = """
    SELECT sequence,
           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
           actor, action, subject, outcome, reason, request_id, details::text, prev_hash, hash
      FROM privacy_privacylogentry
     WHERE sequence > %s
     ORDER BY sequence
     LIMIT %s
"""


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


def privacy_log_verify(*, expect_head: str | None = None, chunk_size: int = 5_000) -> Verification:
    # One snapshot for the whole walk, unless the caller already holds a transaction.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        result = _walk(expect_head=expect_head, chunk_size=chunk_size)
    verification_finished(ok=result.ok, entries=result.count)
    return result


def _walk(*, expect_head: str | None, chunk_size: int) -> Verification:
    start = _start()
    if problem := _check_checkpoint(start):
        return Verification(0, start, problem)

    expected_sequence, prev, prev_prev = start.sequence + 1, start.hash, None
    count, found_expected = 0, expect_head == start.hash
    for row in _rows(after=start.sequence, chunk_size=chunk_size):
        sequence, prev_hash, stored_hash = row[0], row[9], row[10]
        if sequence != expected_sequence:
            return _fail(count, prev, expected_sequence, "missing", "sequence number absent")
        intact = chain.entry_hash(prev_hash, chain.encode_fields(*row[:9])) == stored_hash
        if prev_hash != prev:
            return _broken_link(count, prev, sequence, prev_hash, prev_prev, intact)
        if not intact:
            return _fail(count, prev, sequence, "changed", "hash does not match the content")
        prev_prev, prev = prev, stored_hash
        found_expected = found_expected or stored_hash == expect_head
        expected_sequence += 1
        count += 1

    head = Head(expected_sequence - 1, prev)
    if expect_head and not found_expected:
        return Verification(
            count,
            head,
            Problem(
                expected_sequence,
                "missing",
                "the expected head is not in the log: entries after the current head are gone",
            ),
        )
    return Verification(count, head)


def _rows(*, after: int, chunk_size: int) -> Iterator[tuple]:
    """Entries in sequence order, fields in the order of ``chain.encode_fields``, as text.

    Keyset pages (``sequence > last``), never OFFSET and never the whole table in memory. On
    PostgreSQL the time is formatted by the server (parsing and re-formatting a million
    timestamps in Python was a quarter of the walk) and the ORM's per-row converters skipped.
    """
    last = after
    while True:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_PAGE_SQL, [last, chunk_size])
                page = cursor.fetchall()
            rows = [(*row[:8], _canonical_details(row[8]), *row[9:]) for row in page]
        else:
            page = list(
                PrivacyLogEntry.objects.filter(sequence__gt=last)
                .order_by("sequence")
                .values_list(*_FIELDS)[:chunk_size]
            )
            rows = [
                (row[0], chain.timestamp(row[1]), *row[2:8], chain.dumps(row[8]), *row[9:])
                for row in page
            ]
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


@functools.lru_cache(maxsize=4096)
def _canonical_details(text: str) -> str:
    # Cached: most entries repeat a handful of details. jsonb prints '{"a": 1}' with spaces
    # and its own key order, so each distinct text is re-encoded canonically once.
    return "{}" if text == "{}" else chain.dumps(json.loads(text))


def _start() -> Head:
    row = PrivacyLogCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return Head(*row) if row else Head(0, chain.GENESIS_HASH)


def _check_checkpoint(start: Head) -> Problem | None:
    """Entries at or below the checkpoint must be gone; the checkpoint must match its entry."""
    below = (
        PrivacyLogEntry.objects.filter(sequence__lte=start.sequence)
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if below is not None:
        return Problem(below, "inserted", "entry at or below the pruning checkpoint")
    if start.sequence == 0:
        return None
    # Each prune writes the checkpoint it made into the chain, in the same transaction.
    details = (
        PrivacyLogEntry.objects.filter(action=actions.PRIVACY_LOG_PRUNE)
        .order_by("-sequence")
        .values_list("details", flat=True)
        .first()
    )
    if not details or (details.get("through_sequence"), details.get("through_hash")) != (
        start.sequence,
        start.hash,
    ):
        return Problem(
            start.sequence, "changed", "the checkpoint does not match the last prune entry"
        )
    return None


def _broken_link(
    count: int, prev: str, sequence: int, prev_hash: str, prev_prev: str | None, intact: bool
) -> Verification:
    if prev_prev is not None and prev_hash == prev_prev:
        return _fail(count, prev, sequence - 1, "inserted", "not linked from the next entry")
    if PrivacyLogEntry.objects.filter(sequence__gt=sequence, hash=prev_hash).exists():
        return _fail(count, prev, sequence, "reordered", "links to a later entry")
    if intact:
        return _fail(
            count, prev, sequence - 1, "changed", "does not match the hash the next entry recorded"
        )
    return _fail(count, prev, sequence, "changed", "link to the previous entry altered")


def _fail(count: int, prev: str, sequence: int, kind: Kind, detail: str) -> Verification:
    return Verification(count, Head(sequence - 1, prev), Problem(sequence, kind, detail))
