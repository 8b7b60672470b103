"""What only PostgreSQL gives: the append-only trigger and many concurrent writers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

import privacy
from conftest import ROOT, database_url_for
from privacy.models import PrivacyLogEntry
from privacy.tests.helpers import PSEUDONYM, postgres_only, tamper, write
from privacy.verification import privacy_log_verify

pytestmark = postgres_only


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE privacy_log SET actor_id = subject_id WHERE sequence = 1",
        "UPDATE privacy_log SET hash = ''",
        "DELETE FROM privacy_log WHERE sequence = 2",
        "DELETE FROM privacy_log",
        "UPDATE privacy_log_text SET value = 'system'",
        "DELETE FROM privacy_log_text",
    ],
)
def test_it_rejects_raw_update_and_delete(sql):
    """Outside the pruning path the trigger refuses every UPDATE and DELETE."""
    write(3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql)
    assert PrivacyLogEntry.objects.count() == 3
    assert privacy_log_verify().ok


@pytest.mark.django_db
def test_it_rejects_update_even_on_the_pruning_path():
    """The pruning flag lets DELETE through, never UPDATE."""
    write(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw("SET LOCAL ilearn.privacy_prune = 'on'")
        raw("UPDATE privacy_log SET actor_id = subject_id")


@pytest.mark.django_db
def test_it_lets_delete_through_only_with_the_transaction_local_flag():
    """SET LOCAL ilearn.privacy_prune = 'on' allows DELETE, and only in that transaction."""
    write(2)
    with transaction.atomic():
        raw("SET LOCAL ilearn.privacy_prune = 'on'")
        raw("DELETE FROM privacy_log WHERE sequence = 1")
    assert PrivacyLogEntry.objects.count() == 1


@pytest.mark.django_db
def test_it_rejects_checkpoints_written_outside_pruning():
    """Checkpoints come from pruning only."""
    with pytest.raises(DatabaseError, match="pruning only"), transaction.atomic():
        raw(
            "INSERT INTO privacy_privacylogcheckpoint (sequence, hash, pruned_at, entries_removed)"
            " VALUES (5, %s, now(), 5)",
            ["0" * 64],
        )


def _run_threads(target, count: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrapped(index: int) -> None:
        try:
            target(index)
        except BaseException as exc:  # collected and re-raised in the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.django_db(transaction=True)
def test_it_chains_concurrent_writers_without_gaps():
    """8 threads x 500 entries: 4,000 entries, sequences 1..4000, one valid chain."""

    def writer(index: int) -> None:
        for _ in range(500):
            privacy.log(
                "authn_login_success",
                actor=f"pupil:{PSEUDONYM}",
                subject=PSEUDONYM,
                details={"writer": index},
            )

    assert _run_threads(writer, 8) == []
    sequences = list(
        PrivacyLogEntry.objects.order_by("sequence").values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, 4001))
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 4000)


@pytest.mark.django_db(transaction=True)
def test_it_hands_a_rolled_back_sequence_to_the_waiting_writer():
    """A writer waiting on the lock gets the number a rolled-back transaction had held."""
    write(2)
    holding, release = threading.Event(), threading.Event()
    held_sequence: list[int] = []

    def rolls_back(_: int) -> None:
        class Abort(Exception):
            pass

        try:
            with transaction.atomic():
                held_sequence.append(write(1)[0].sequence)
                holding.set()
                release.wait(timeout=30)
                raise Abort
        except Abort:
            pass

    def waits(_: int) -> None:
        holding.wait(timeout=30)
        write(1)

    def orchestrate(index: int) -> None:
        if index == 0:
            rolls_back(index)
        elif index == 1:
            waits(index)
        else:
            holding.wait(timeout=30)
            # Release only once the second writer is blocked on the advisory lock.
            try:
                with connection.cursor() as cursor:
                    for _ in range(100_000):
                        cursor.execute(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                            " AND NOT granted AND database = ("
                            "  SELECT oid FROM pg_database WHERE datname = current_database())"
                        )
                        if cursor.fetchone()[0]:
                            break
                    else:
                        raise AssertionError("the second writer never waited on the lock")
            finally:
                release.set()

    assert _run_threads(orchestrate, 3) == []
    assert held_sequence == [3]
    sequences = list(
        PrivacyLogEntry.objects.order_by("sequence").values_list("sequence", flat=True)
    )
    assert sequences == [1, 2, 3]
    assert privacy_log_verify().ok


@pytest.mark.django_db(transaction=True)
def test_it_exits_with_the_verdict_from_the_command_line():
    """`manage.py verify_privacy_log` exits 0 on a whole chain, 1 naming the changed entry."""
    entries = write(4)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": database_url_for(connection.settings_dict),
    }
    command = [sys.executable, "manage.py", "verify_privacy_log"]
    whole = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert whole.returncode == 0
    assert whole.stdout.strip() == f"4 entries verified, head {entries[-1].hash}"

    with transaction.atomic():
        tamper("UPDATE privacy_log SET reason = 'edited' WHERE sequence = 2")
    broken = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert broken.returncode == 1
    assert "sequence 2: changed" in broken.stderr
