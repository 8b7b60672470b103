"""Shared helpers for the privacy tests: writing entries and tampering with rows as an attacker."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection

import privacy
from privacy.models import PrivacyLogEntry

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
    """Valid entries dated ``moment``, one second apart, written through ``privacy.log``."""
    entries = []
    for offset in range(count):
        with time_machine.travel(moment + timedelta(seconds=offset), tick=False):
            entries.append(
                privacy.log("retention_purge", actor="system", details={"pupils": offset})
            )
    return entries


def text_id(value: str) -> int:
    """The dictionary id of ``value``, added (as an attacker could) when missing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM privacy_log_text WHERE value = %s", [value])
        row = cursor.fetchone()
    if row is None:
        tamper("INSERT INTO privacy_log_text (value) VALUES (%s)", [value])
        return text_id(value)
    return row[0]


def tamper(sql: str, params: list | None = None) -> None:
    """Run raw SQL as someone with database access would: past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Replica mode skips ordinary triggers; needs superuser, as an attacker would.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
