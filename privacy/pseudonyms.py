"""Keyed pseudonyms: the only form in which a LeerID key is stored or logged."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

# A key as staff type or paste it into a search form: any case, hyphens optional, and whatever
# came with it when copied (urn:uuid:, braces, quotes, a trailing dot), but not inside a longer
# run of hex digits (a pseudonym).
_TYPED_KEY = re.compile(
    r"(?<![0-9a-f])([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})"
    r"(?![0-9a-f])"
)


def pseudonymize(value: str) -> str:
    """HMAC-SHA256 of a normalised LeerID key (lower-case, trimmed), as 64 hex characters."""
    normalized = value.strip().lower().encode()
    return hmac.new(settings.PSEUDONYM_KEY.encode(), normalized, hashlib.sha256).hexdigest()


def short(pseudonym: str) -> str:
    """The first 12 hex characters: enough to follow one pupil through log lines."""
    return pseudonym[:12]


def fingerprint(key: str) -> str:
    """A key as staff see it on a page: the start of its pseudonym, the same for both
    spellings; enough to match a key, never the key."""
    return short(pseudonymize(key))


def typed_key(text: str) -> str | None:
    """The LeerID or account key in what staff typed, in the form LeerID sends it (lower-case,
    hyphenated), so a key copied without hyphens, with spaces or with its wrapping finds the
    same pupil; None if the text holds no key."""
    match = _TYPED_KEY.search(re.sub(r"\s+", "", text.lower()))
    return "-".join(match.groups()) if match else None


def typed_key_pseudonym(text: str) -> str | None:
    """The pseudonym of a LeerID or account key typed by staff (``typed_key``), or None."""
    key = typed_key(text)
    return pseudonymize(key) if key else None
