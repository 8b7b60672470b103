"""The hash chain, as pure functions: no database here, so the benchmark and the verifier share it.

Each entry's hash is ``SHA-256(prev_hash || canonical encoding)`` where ``prev_hash`` is the
previous entry's hash as 64 lower-case hex characters (ASCII) and the canonical encoding is the
UTF-8 JSON array below, without spaces, keys of ``details`` sorted. The first entry links to
``GENESIS_HASH``; after pruning, the first remaining entry links to the checkpoint's hash.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# Bumped only if the encoding ever changes; it is part of every hash, so old entries keep theirs.
ENCODING_VERSION = 1


def timestamp(moment: datetime) -> str:
    """UTC, microseconds, ``Z``: the same string whether the database hands back UTC or not."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8, no NaN."""
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
    details: dict[str, Any],
    request_id: str,
) -> bytes:
    fields = [
        ENCODING_VERSION,
        sequence,
        timestamp(created_at),
        actor,
        action,
        subject,
        outcome,
        reason,
        details,
        request_id,
    ]
    return dumps(fields).encode()


def entry_hash(prev_hash: str, encoded: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + encoded).hexdigest()
