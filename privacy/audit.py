"""Logging each view of a pupil's personal data, for the admin pages that show it."""

from __future__ import annotations

from django.http import HttpRequest

from privacy import actions
from privacy.exceptions import PrivacyLogError
from privacy.models import PrivacyLogEntry
from privacy.services import privacy_log_write


def staff_actor(user) -> str:
    """The privacy-log actor for a signed-in staff member: their pk, never their name."""
    if not getattr(user, "is_authenticated", False):
        raise PrivacyLogError("Only a signed-in staff member can be the actor of this entry.")
    return f"staff:{user.pk}"


def log_sensitive_read(request: HttpRequest, *, subject: str, page: str) -> PrivacyLogEntry:
    """Record that ``request.user`` saw the personal data of ``subject`` (a pseudonym) on ``page``.

    ``page`` names the view, e.g. ``"admin:pupils_pupil_change"``; never a URL with a key in it.
    """
    return privacy_log_write(
        action=actions.SENSITIVE_READ,
        actor=staff_actor(request.user),
        subject=subject,
        details={"page": page},
    )
