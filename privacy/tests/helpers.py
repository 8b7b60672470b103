"""Shared helpers for the privacy tests: writing entries and tampering with rows as an attacker."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection

import privacy
from privacy import chain
from privacy.models import PrivacyLogEntry
from privacy.services import Head, encode, privacy_log_head

PSEUDONYM = "ab" * 32
OTHER_PSEUDONYM = "cd" * 32
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only (triggers, advisory locks, concurrent writers): set DATABASE_URL",
)


def write(count: int, **overrides) -> list:
    fields = {
        "actor": f"pupil:{PSEUDONYM}",
        "subject": PSEUDONYM,
        "details": {"schools": ["012345"]},
    }
    fields.update(overrides)
    return [privacy.log("authn_login_success", **fields) for _ in range(count)]


def append_at(moment: datetime, count: int) -> list[PrivacyLogEntry]:
    """Valid entries dated ``moment`` (the database clock cannot be moved), chained in Python."""
    head = privacy_log_head()
    entries = []
    for offset in range(count):
        entry = PrivacyLogEntry(
            sequence=head.sequence + 1,
            created_at=moment + timedelta(seconds=offset),
            actor="system",
            action="retention_purge",
            details={"pupils": offset},
            prev_hash=head.hash,
        )
        entry.hash = chain.entry_hash(head.hash, encode(entry))
        entries.append(entry)
        head = Head(entry.sequence, entry.hash)
    return PrivacyLogEntry.objects.bulk_create(entries)


def tamper(sql: str, params: list | None = None) -> None:
    """Run raw SQL as someone with database access would: past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Replica mode skips ordinary triggers; needs superuser, as an attacker would.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
