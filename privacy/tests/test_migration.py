"""Migration 0009 copies an old-layout log without losing or changing an entry."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from privacy import chain
from privacy.models import PrivacyLogEntry
from privacy.verification import privacy_log_verify

pytestmark = pytest.mark.django_db
migration = importlib.import_module("privacy.migrations.0009_i15_compact_partitioned_log")
OLD = "privacy_old_layout"
PUPILS = ["ab" * 32, "cd" * 32, "ef" * 32]


def _old_entries(count: int) -> list[dict]:
    """A valid chain in the layout before 0009 (hex text, previous hash on every row)."""
    entries, prev = [], chain.GENESIS_HASH
    start = datetime(2025, 12, 30, tzinfo=UTC)
    for sequence in range(1, count + 1):
        pupil = PUPILS[sequence % 3]
        fields = {
            "sequence": sequence,
            "created_at": start + timedelta(hours=sequence),
            "actor": "system" if sequence % 7 == 0 else f"pupil:{pupil}",
            "action": ["authn_login_success", "authn_login_fail", "authn_logout"][sequence % 3],
            "subject": "" if sequence % 7 == 0 else pupil,
            "outcome": "failure" if sequence % 3 == 1 else "success",
            "reason": "state_expired" if sequence % 3 == 1 else "",
            "request_id": [f"{sequence:032x}", "", "proxy-id-16chars"][sequence % 3],
            "details": {"kind": "identified", "n": sequence} if sequence % 2 else {},
        }
        entry_hash = chain.entry_hash(prev, chain.canonical(**fields))
        entries.append({**fields, "prev_hash": prev, "hash": entry_hash})
        prev = entry_hash
    return entries


def _create_old_table(entries: list[dict]) -> None:
    details_type = "jsonb" if connection.vendor == "postgresql" else "text"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {OLD} (sequence bigint PRIMARY KEY, created_at timestamp with time"
            " zone, actor varchar(80), action varchar(40), subject varchar(80), outcome"
            f" varchar(7), reason varchar(64), details {details_type}, request_id varchar(64),"
            " prev_hash varchar(64), hash varchar(64))"
        )
        for entry in entries:
            row = {**entry, "details": json.dumps(entry["details"], indent=1)}
            if connection.vendor != "postgresql":
                row["created_at"] = connection.ops.adapt_datetimefield_value(row["created_at"])
            columns = ", ".join(row)
            cursor.execute(
                f"INSERT INTO {OLD} ({columns}) VALUES ({', '.join(['%s'] * len(row))})",  # noqa: S608
                list(row.values()),
            )


def test_it_copies_every_entry_and_keeps_the_head():
    """The copied log verifies, with the same head hash and every field as it was."""
    entries = _old_entries(60)
    _create_old_table(entries)
    assert migration.copy_log(connection, OLD) == 60
    result = privacy_log_verify()
    assert (result.ok, result.count, result.head.hash) == (True, 60, entries[-1]["hash"])
    stored = {entry.sequence: entry for entry in PrivacyLogEntry.objects.all()}
    for entry in entries:
        copy = stored[entry["sequence"]]
        assert (copy.actor, copy.action, copy.subject, copy.outcome, copy.reason) == (
            entry["actor"],
            entry["action"],
            entry["subject"],
            entry["outcome"],
            entry["reason"],
        )
        assert (copy.request_id, copy.details, copy.hash) == (
            entry["request_id"],
            entry["details"],
            entry["hash"],
        )
        assert copy.created_at == entry["created_at"]


def test_it_continues_the_copied_chain():
    """The next entry written links to the copied head."""
    import privacy

    entries = _old_entries(5)
    _create_old_table(entries)
    migration.copy_log(connection, OLD)
    privacy.log("authn_logout", actor="system")
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 6)


def test_it_refuses_an_entry_it_could_not_store_as_it_is():
    """An outcome the new storage has no place for stops the migration instead of changing it."""
    entries = _old_entries(3)
    entries[1]["outcome"] = ""
    _create_old_table(entries)
    with pytest.raises(ValueError, match="outcome"):
        migration.copy_log(connection, OLD)
