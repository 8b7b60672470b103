"""The walk over the chain's stored rows: pages of consecutive sequence numbers, each row
rebuilt as text, every link checked; a broken link is classified as ``privacy.verification``'s
docstring describes. Bounded memory: one page of rows and a capped cache of dictionary values.

``privacy.verification`` runs it in a snapshot, over the whole chain or a range of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from django.db import connection

from privacy import chain, storage
from privacy.models import PrivacyLogRecord, PrivacyLogText
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
class Range:
    """One walk's result: entries checked, the last good head, and whether it saw ``expect``."""

    count: int
    head: Head
    problem: Problem | None
    saw_expected: bool


def walk(
    start: Head, last: int, expect: str | None, chunk_size: int, texts: Texts | None = None
) -> Range:
    """Check entries ``start.sequence + 1 .. last``, the first linking to ``start.hash``.

    ``texts``: dictionary values already read in this snapshot (a parallel worker walks several
    ranges and keeps them between ranges; the dictionary is append-only).
    """
    texts = Texts() if texts is None else texts
    expected, prev, prev_prev = start.sequence + 1, start.hash, None
    count, saw_expected = 0, expect == start.hash
    for page in _pages(start.sequence, last, chunk_size, texts):
        for index, row in enumerate(page):
            sequence = row["sequence"]
            if sequence != expected:
                return failed(count, prev, expected, "missing", "sequence number absent")
            if _hash(prev, row) != row["hash"]:
                kind, at, detail = _classify(prev, prev_prev, row, page[index + 1 :])
                return failed(count, prev, at, kind, detail)
            prev_prev, prev = prev, row["hash"]
            saw_expected = saw_expected or prev == expect
            expected += 1
            count += 1
    if expected <= last:
        return failed(count, prev, expected, "missing", "sequence number absent")
    return Range(count, Head(expected - 1, prev), None, saw_expected)


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


def failed(count: int, prev: str, sequence: int, kind: Kind, detail: str) -> Range:
    return Range(count, Head(sequence - 1, prev), Problem(sequence, kind, detail), False)


def _pages(after: int, last: int, chunk_size: int, texts: Texts) -> Iterator[list[dict]]:
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


def _as_text(row: dict, texts: Texts) -> dict:
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


class Texts(dict):
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


def stored_hash(sequence: int) -> str | None:
    stored = PrivacyLogRecord.objects.filter(sequence=sequence).values_list("hash", flat=True)
    found = stored.first()
    return None if found is None else bytes(found).hex()
