"""Reads of the privacy log that other apps need, so they never query its models directly
(the DPO's daily rollup, the evidence bundle, retention's counts). The log's storage can change
underneath (issue 15) without them noticing.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import connection
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform

from privacy import storage
from privacy.models import PrivacyLogEntry, PrivacyLogVerification
from privacy.services import Head, privacy_log_pending_state

__all__ = ["privacy_log_pending_state"]  # re-exported: the sealer's lag, read by /metrics


def privacy_log_count_prunable(*, older_than: datetime) -> int:
    """How many entries ``privacy_log_prune(older_than=...)`` would remove now. PostgreSQL: the
    entries of the monthly partitions before ``older_than``'s month (pruning drops whole
    partitions). SQLite: the chain's prefix created before ``older_than``, up to the first
    younger entry (an older entry after a younger one, from a clock step back, stays)."""
    if connection.vendor == "postgresql":
        return PrivacyLogEntry.objects.filter(period__lt=storage.period_of(older_than)).count()
    first_young = (
        PrivacyLogEntry.objects.filter(created_at__gte=older_than)
        .order_by("sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    entries = PrivacyLogEntry.objects.all()
    if first_young is not None:
        entries = entries.filter(sequence__lt=first_young)
    return entries.count()


# Entries of a login that did not let the pupil in (privacy.actions; written by the login).
REFUSAL_ACTIONS = ("authz_fail", "authn_login_fail")


def privacy_log_refusals(*, subject: str, limit: int = 20) -> list[PrivacyLogEntry]:
    """The newest refused logins of one pupil (by pseudonym), newest first."""
    return list(
        PrivacyLogEntry.objects.filter(
            subject=subject, action__in=REFUSAL_ACTIONS, outcome="failure"
        ).order_by("-sequence")[:limit]
    )


def privacy_log_entry(sequence: int) -> PrivacyLogEntry | None:
    return PrivacyLogEntry.objects.filter(sequence=sequence).first()


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


def privacy_log_last_verified_head() -> Head | None:
    """The newest head a chain check found whole (``PrivacyLogVerification``: the DPO's button,
    the daily self-check and ``verify_privacy_log`` all record theirs), to verify from; None
    before the first."""
    row = PrivacyLogVerification.objects.values_list("sequence", "hash").first()
    return Head(*row) if row else None
