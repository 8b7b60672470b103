"""The log checks itself: the one call the daily self-check (``dpo.services``) makes.

Thin on purpose, so it can be swapped for the incremental verification of issue 15 (from the
last verified checkpoint to the head) without touching its caller. Until then it walks the
whole chain and, given the head the previous check stored, also insists that this head is still
in the chain: a truncated tail or a rewritten chain since the last check is caught either way.
"""

from __future__ import annotations

from privacy.services import Head
from privacy.verification import Verification, privacy_log_verify


def privacy_log_verify_since(since: Head | None) -> Verification:
    """Verify the log up to its head; ``since`` is the last verified head (None: the first)."""
    return privacy_log_verify(expect_head=since.hash if since else None)
