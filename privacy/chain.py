"""The hash chain, as pure functions: no database here, so the benchmark and the verifier share it.

Each entry's hash is ``SHA-256(prev_hash || canonical encoding)`` where ``prev_hash`` is the
previous entry's hash as 64 lower-case hex characters and the canonical encoding is the UTF-8 of

    1|<sequence>|<created_at as 2026-01-31T12:00:00.000000Z>|<actor>|<action>|<subject>|
    <outcome>|<reason>|<request_id>|<details as JSON: sorted keys, no spaces, no \\u escapes>

(one line). No field but the last can contain ``|`` (``privacy.services`` validates their
alphabets) and the details come last, so the encoding is unambiguous. PostgreSQL prepends
``1|<sequence>`` to ``encode_rest`` once the number is assigned (``privacy_log_append``,
``privacy_log_seal``), so the order of the fields is written here only (``FIELDS``). The first
entry links to ``GENESIS_HASH``; after pruning, the first remaining entry links to the
checkpoint's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# Part of every encoding: if the encoding ever changes, old entries keep their version.
ENCODING_VERSION = "1"


def timestamp(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: the same string whether the database hands back UTC or not."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 as is, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# The fields of an entry in the order the encoding joins them: the one place this order is written.
# The sequence comes first: the rest of the encoding is known before the entry has a number.
FIELDS = (
    "sequence",
    "created_at",
    "actor",
    "action",
    "subject",
    "outcome",
    "reason",
    "request_id",
    "details",
)


def canonical(
    *,
    sequence: int,
    created_at: datetime,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    reason: str,
    details: dict[str, Any] | str,
    request_id: str,
) -> bytes:
    return encode_text(
        {
            "sequence": sequence,
            "created_at": timestamp(created_at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "outcome": outcome,
            "reason": reason,
            "request_id": request_id,
            "details": details if isinstance(details, str) else dumps(details),
        }
    )


def encode_text(fields: Mapping[str, object]) -> bytes:
    """The encoding from fields already in text form (the verifier's fast path), by name."""
    return f"{ENCODING_VERSION}|{fields['sequence']}{encode_rest(fields)}".encode()


def encode_rest(fields: Mapping[str, object]) -> str:
    """Everything after the sequence number, from ``|``: known before the entry has a number.

    The database puts ``<version>|<sequence>`` in front of it once the chain position is
    assigned (``privacy_log_append``, ``privacy_log_seal``). The sealer also reads the fields
    back out of it by position (migration 0011's ``privacy_log_batch``, and the month from the
    leading timestamp); ``test_sealer.py`` stores varied entries both ways and compares, so a
    change of order here must change that SQL too.
    """
    return "".join(f"|{fields[name]}" for name in FIELDS[1:])


def entry_hash(prev_hash: str, encoded: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + encoded).hexdigest()
