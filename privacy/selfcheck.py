"""The log checks itself: the one call the daily self-check (``dpo.services``) makes.

The incremental verification of issue 15: from the head the previous check stored to the
current head, after checking that the stored head's entry is still there with the same hash (a
truncated tail or a rewritten chain since the last check fails there). Entries changed before
that head are the full verification's to find (``verify_privacy_log``, weekly).
"""

from __future__ import annotations

from privacy.services import Head
from privacy.verification import Verification, privacy_log_verify_incremental


def privacy_log_verify_since(since: Head | None) -> Verification:
    """Verify the log from ``since`` (the last verified head; None: the whole log) to its head."""
    return privacy_log_verify_incremental(since=since)
