"""The hash chain, as pure functions: no database here, so the benchmark and the verifier share it.

Each entry's hash is ``SHA-256(prev_hash || canonical encoding)`` where ``prev_hash`` is the
previous entry's hash as 64 lower-case hex characters and the canonical encoding is the UTF-8 of

    1|<sequence>|<created_at as 2026-01-31T12:00:00.000000Z>|<actor>|<action>|<subject>|
    <outcome>|<reason>|<request_id>|<details as JSON: sorted keys, no spaces, no \\u escapes>

(one line). No field but the last can contain ``|`` (``privacy.services`` validates their
alphabets) and the details come last, so the encoding is unambiguous. It is this simple so that
PostgreSQL computes the very same bytes in ``privacy_log_append`` (migration 0003). The first
entry links to ``GENESIS_HASH``; after pruning, the first remaining entry links to the
checkpoint's hash.
"""

from __future__ import annotations

import hashlib
import json
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
    return encode_fields(
        sequence,
        timestamp(created_at),
        actor,
        action,
        subject,
        outcome,
        reason,
        request_id,
        details if isinstance(details, str) else dumps(details),
    )


def encode_fields(
    sequence: int,
    created_at: str,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    reason: str,
    request_id: str,
    details: str,
) -> bytes:
    """The encoding from fields already in text form (the verifier's fast path)."""
    return (
        f"{ENCODING_VERSION}|{sequence}|{created_at}|{actor}|{action}|{subject}|{outcome}"
        f"|{reason}|{request_id}|{details}"
    ).encode()


def entry_hash(prev_hash: str, encoded: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + encoded).hexdigest()
