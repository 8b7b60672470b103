"""Shared helpers for the privacy tests: writing entries and tampering with rows as an attacker."""

from __future__ import annotations

import pytest
from django.db import connection

import privacy

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


def tamper(sql: str, params: list | None = None) -> None:
    """Run raw SQL as someone with database access would: past the append-only trigger."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Replica mode skips ordinary triggers; needs superuser, as an attacker would.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
