"""Reads of the privacy log that other apps need, so they never query its models directly
(the DPO's daily rollup, the evidence bundle, retention's counts). The log's storage can change
underneath (issue 15) without them noticing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform

from privacy.models import PrivacyLogEntry


def privacy_log_count_before(*, cutoff: datetime) -> int:
    """How many entries were created before ``cutoff`` (an upper bound on what a prune with
    that cutoff removes: it removes only the chain's prefix older than the cutoff)."""
    return PrivacyLogEntry.objects.filter(created_at__lt=cutoff).count()


# Details key under which the login path lists claim names LeerID sent outside the allowlist.
UNEXPECTED_CLAIMS_KEY = "unexpected_claims"


def log_counts(*, start: datetime, end: datetime) -> list[tuple[str, str, str, str, int]]:
    """(action, outcome, reason, details.detail, count) for entries in [start, end)."""
    rows = (
        PrivacyLogEntry.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(detail=KeyTextTransform("detail", "details"))
        .values_list("action", "outcome", "reason", "detail")
        .annotate(count=Count("sequence"))
        .order_by()
    )
    return [(a, o, r, d or "", n) for a, o, r, d, n in rows]


def log_unexpected_claim_names(*, start: datetime, end: datetime) -> Counter[str]:
    """How often each claim name outside the allowlist came in [start, end) (names only)."""
    counter: Counter[str] = Counter()
    names = (
        PrivacyLogEntry.objects.filter(
            created_at__gte=start, created_at__lt=end, details__has_key=UNEXPECTED_CLAIMS_KEY
        )
        .values_list(f"details__{UNEXPECTED_CLAIMS_KEY}", flat=True)
        .iterator(chunk_size=2000)
    )
    for listed in names:
        if isinstance(listed, list):
            counter.update(name for name in listed if isinstance(name, str))
    return counter


def log_entries(*, action: str, limit: int = 100) -> list[dict]:
    """The newest entries of one action, newest first, as plain dicts (for reports)."""
    return list(
        PrivacyLogEntry.objects.filter(action=action)
        .order_by("-sequence")
        .values(
            "sequence", "created_at", "actor", "action", "subject", "outcome", "reason", "details"
        )[:limit]
    )
