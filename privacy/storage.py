"""How an entry is stored, as pure functions: compact columns to and from the text that is hashed.

One entry is one row of ``privacy_log`` (a partitioned table on PostgreSQL, by month):

- ``actor_id``, ``subject_id``, ``action_id``: ids in ``privacy_log_text``, a dictionary of the
  distinct values (a pseudonym is stored once, not once per login). ``actor_id`` 0 means "the
  pupil the entry is about" (``pupil:<subject>``), which is what most entries say.
- ``failed``: the outcome; ``reason``: as written; ``details``: the canonical JSON that was
  hashed, ``""`` for ``{}``.
- ``request_id``: 32 lower-case hex characters (what the middleware makes) as 16 raw bytes,
  anything else as its UTF-8 (with a trailing NUL when that would be 16 bytes too).
- ``hash``: 32 raw bytes. The previous hash is not stored: it is the previous row's hash.
- ``period``: the month (UTC) the row is filed under, the partition key: the entry's own month
  or the previous row's, whichever is later, so that every partition holds one run of
  sequence numbers and dropping the oldest ones removes a prefix of the chain.

The view ``privacy_privacylogentry`` (the ``PrivacyLogEntry`` model) shows rows as text again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Seeded into the dictionary first (ids 1 and 2): the actions of almost every entry. The
# rare-action index leaves them out; a filter on them reads the newest entries and skips.
BULK_ACTIONS = ("authn_login_success", "authn_logout")
RARE_ACTION_MIN_ID = len(BULK_ACTIONS) + 1
SELF_ACTOR = 0
EPOCH_YEAR = 2000
_HEX_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def period_of(moment: datetime) -> int:
    """Months since January 2000 (UTC): 2026-12 is 323."""
    utc = moment.astimezone(UTC)
    return (utc.year - EPOCH_YEAR) * 12 + utc.month - 1


def period_start(period: int) -> datetime:
    return datetime(EPOCH_YEAR + period // 12, period % 12 + 1, 1, tzinfo=UTC)


def partition_name(period: int) -> str:
    start = period_start(period)
    return f"privacy_log_{start.year}_{start.month:02d}"


def request_id_bytes(text: str) -> bytes:
    if _HEX_REQUEST_ID.match(text):
        return bytes.fromhex(text)
    raw = text.encode()
    return raw + b"\0" if len(raw) == 16 else raw


def request_id_text(raw: bytes) -> str:
    if len(raw) == 16:
        return raw.hex()
    return raw.rstrip(b"\0").decode()


def actor_code(actor: str, subject: str) -> str | None:
    """None when the actor is the pupil the entry is about (stored as ``SELF_ACTOR``)."""
    return None if subject and actor == f"pupil:{subject}" else actor


def details_text(details: str) -> str:
    return "" if details == "{}" else details
