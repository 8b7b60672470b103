"""Keyed pseudonyms: the only form in which a LeerID key is stored or logged."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def pseudonymize(value: str) -> str:
    """HMAC-SHA256 of a normalised LeerID key (lower-case, trimmed), as 64 hex characters."""
    normalized = value.strip().lower().encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), normalized, hashlib.sha256).hexdigest()


def short(pseudonym: str) -> str:
    """The first 12 hex characters: enough to follow one pupil through log lines."""
    return pseudonym[:12]
