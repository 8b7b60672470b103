"""Reads of the privacy log that other apps need, so they never query its models directly."""

from __future__ import annotations

from datetime import datetime

from privacy.models import PrivacyLogEntry


def privacy_log_count_before(*, cutoff: datetime) -> int:
    """How many entries were created before ``cutoff`` (an upper bound on what a prune with
    that cutoff removes: it removes only the chain's prefix older than the cutoff)."""
    return PrivacyLogEntry.objects.filter(created_at__lt=cutoff).count()
