"""Reads of the privacy log that other apps need, so they never query its models directly."""

from __future__ import annotations

from datetime import datetime

from privacy.models import PrivacyLogEntry


def privacy_log_count_prunable(*, older_than: datetime) -> int:
    """How many entries ``privacy_log_prune(older_than=...)`` would remove now: the chain's
    prefix created before ``older_than``, up to the first younger entry (an older entry after
    a younger one, from a clock step back, stays until the younger one goes)."""
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
