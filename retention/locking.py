"""One retention run at a time, across processes and machines.

On PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a connection of its
own. The lock lives exactly as long as that connection, so a killed process releases it at
once, and it is independent of the batches' transactions on the main connection.
Elsewhere (the SQLite demo): an entry added to the cache (Redis when configured), which expires
after ``LOCK_TTL`` in case the holder died.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterator

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

LOCK_NAME = "ilearn_auth.retention"
# Advisory locks take a signed 64-bit key: derived from the name so it is stable and unlikely
# to collide with another application's lock in the same database.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
LOCK_TTL = 2 * 3600


@contextlib.contextmanager
def retention_lock(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """Yield True when this process holds the retention lock, False when another does."""
    if connections[using].vendor == "postgresql":
        with _advisory_lock(using) as acquired:
            yield acquired
    else:
        with _cache_lock() as acquired:
            yield acquired


@contextlib.contextmanager
def _advisory_lock(using: str) -> Iterator[bool]:
    conn = connections.create_connection(using)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with conn.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
    finally:
        # Closing the session releases the lock even if the unlock above failed.
        conn.close()


@contextlib.contextmanager
def _cache_lock() -> Iterator[bool]:
    token = secrets.token_hex(8)
    acquired = cache.add(LOCK_NAME, token, timeout=LOCK_TTL)
    try:
        yield acquired
    finally:
        # Not atomic, but only the holder's own token is removed: good enough for the demo.
        if acquired and cache.get(LOCK_NAME) == token:
            cache.delete(LOCK_NAME)
