"""Keyed pseudonyms: the only form in which a LeerID key is stored or logged."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

# A key as staff type it into a search form: any case, hyphens optional.
_TYPED_KEY = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")


def pseudonymize(value: str) -> str:
    """HMAC-SHA256 of a normalised LeerID key (lower-case, trimmed), as 64 hex characters."""
    normalized = value.strip().lower().encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), normalized, hashlib.sha256).hexdigest()


def short(pseudonym: str) -> str:
    """The first 12 hex characters: enough to follow one pupil through log lines."""
    return pseudonym[:12]


def typed_key_pseudonym(text: str) -> str | None:
    """The pseudonym of a LeerID or account key typed by staff, or None if it is not a key.

    The key is put in the form LeerID sends (lower-case, hyphenated) before hashing, so a key
    copied without hyphens finds the same pupil.
    """
    text = text.strip().lower()
    if not _TYPED_KEY.match(text):
        return None
    digits = text.replace("-", "")
    return pseudonymize(
        "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))
    )
