"""Pruning the privacy log itself: whole old entries go, a checkpoint keeps the chain whole.

Pruning only ever removes a prefix of the chain (the oldest entries, in sequence order), in
batches of short transactions. Each batch, in one transaction: takes the head lock, sets the
transaction-local flag the append-only trigger lets DELETE through with, deletes, records a
``PrivacyLogCheckpoint`` (sequence and hash of the last removed entry) and writes a
``privacy_log_prune`` entry carrying that checkpoint, so a forged checkpoint stands out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection, transaction

from privacy import actions, chain
from privacy.models import PrivacyLogCheckpoint, PrivacyLogEntry
from privacy.services import lock_head, privacy_log_head, privacy_log_write


def privacy_log_prune(*, older_than: datetime, batch_size: int = 5_000) -> int:
    """Remove entries created before ``older_than``; return how many were removed."""
    # Entries written from here on (our own prune entries among them) are never candidates.
    upto = privacy_log_head().sequence
    removed = 0
    while True:
        batch = _prune_batch(older_than=older_than, upto=upto, batch_size=batch_size)
        removed += batch
        if batch < batch_size:
            return removed


def _prune_batch(*, older_than: datetime, upto: int, batch_size: int) -> int:
    with transaction.atomic():
        lock_head()
        oldest = list(
            PrivacyLogEntry.objects.filter(sequence__lte=upto)
            .order_by("sequence")
            .values_list("sequence", "created_at", "hash")[:batch_size]
        )
        # Stop at the first young entry even if older ones follow (a clock step back):
        # only a prefix can go, or the rest would no longer verify.
        due = []
        for sequence, created_at, entry_hash in oldest:
            if created_at >= older_than:
                break
            due.append((sequence, entry_hash))
        if not due:
            return 0
        through_sequence, through_hash = due[-1]
        _allow_prune(True)
        PrivacyLogEntry.objects.filter(sequence__lte=through_sequence).delete()
        PrivacyLogCheckpoint.objects.create(
            sequence=through_sequence,
            hash=through_hash,
            pruned_at=datetime.now(UTC),
            entries_removed=len(due),
        )
        _allow_prune(False)
        privacy_log_write(
            action=actions.PRIVACY_LOG_PRUNE,
            actor="system",
            reason="retention",
            details={
                "through_sequence": through_sequence,
                "through_hash": through_hash,
                "removed": len(due),
                "older_than": chain.timestamp(older_than),
            },
        )
        return len(due)


def _allow_prune(on: bool) -> None:
    """Set the flag the append-only trigger checks; SET LOCAL dies with the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('ilearn.privacy_prune', %s, true)", ["on" if on else "off"]
            )
