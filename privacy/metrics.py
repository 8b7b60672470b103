"""The privacy log's Prometheus metrics: writes counted where they happen, the last
verification kept in the cache (Redis in production), so that ``/metrics`` on any web process
shows it whichever process verified. Imports nothing of ours (privacy depends on no app).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from prometheus_client import Counter

LOG_WRITES = Counter(
    "ilearn_privacy_log_writes",
    "Privacy-log entries written, by action and outcome (per web process group).",
    ["action", "outcome"],
)
LAST_VERIFICATION_KEY = "privacy:last_verification"


def log_written(*, action: str, outcome: str) -> None:
    LOG_WRITES.labels(action=action, outcome=outcome).inc()


def verification_finished(*, ok: bool, entries: int) -> None:
    """Remember when the chain was last walked and whether it held (never expires)."""
    cache.set(LAST_VERIFICATION_KEY, {"at": time.time(), "ok": ok, "entries": entries}, None)


def last_verification() -> dict | None:
    return cache.get(LAST_VERIFICATION_KEY)
