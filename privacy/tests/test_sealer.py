"""The sealer: durable writes to a pending table, chained later in one place (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

import privacy
from privacy.models import PrivacyLogEntry
from privacy.services import privacy_log_pending_count, privacy_log_seal
from privacy.tasks import seal_log
from privacy.tests.helpers import PSEUDONYM, postgres_only, write
from privacy.verification import privacy_log_verify

pytestmark = [postgres_only, pytest.mark.django_db]


@pytest.fixture
def sealer(settings):
    settings.PRIVACY_LOG_SEALER = True


def test_it_writes_pending_entries_and_seals_them_in_order(sealer):
    """Written: pending, no number yet. Sealed: numbered in writing order, one valid chain."""
    entries = write(3, details={"kind": "identified"})
    assert [entry.sequence for entry in entries] == [None, None, None]
    assert (PrivacyLogEntry.objects.count(), privacy_log_pending_count()) == (0, 3)
    assert privacy_log_seal() == 3
    assert (PrivacyLogEntry.objects.count(), privacy_log_pending_count()) == (3, 0)
    stored = PrivacyLogEntry.objects.order_by("sequence").first()
    assert (stored.sequence, stored.actor, stored.details) == (
        1,
        f"pupil:{PSEUDONYM}",
        {"kind": "identified"},
    )
    assert privacy_log_verify().ok


def test_it_continues_the_chain_of_entries_written_without_it(settings):
    """Entries chained at once and sealed ones make one chain, whatever the order."""
    write(2)
    settings.PRIVACY_LOG_SEALER = True
    write(2)
    settings.PRIVACY_LOG_SEALER = False
    write(1)
    settings.PRIVACY_LOG_SEALER = True
    privacy_log_seal(batch_size=1)
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 5)


def test_it_runs_as_a_task(sealer):
    """privacy.seal_log is the beat task; run in-process here, it seals at once."""
    write(2)
    assert seal_log.apply().get() == 2
    assert privacy_log_pending_count() == 0


def test_it_needs_one_statement_per_write(sealer, django_assert_num_queries):
    """A write is one INSERT: the login path's statement count does not grow."""
    with django_assert_num_queries(1):
        write(1)


@pytest.mark.django_db(transaction=True)
def test_it_seals_what_concurrent_writers_commit_while_it_runs(sealer):
    """8 writers and a sealer at work together: every entry sealed once, one valid chain."""
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for _ in range(200):
                privacy.log(
                    "authn_login_success",
                    actor=f"pupil:{PSEUDONYM}",
                    subject=PSEUDONYM,
                    details={"writer": index},
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def seal_until_done() -> None:
        try:
            while not done.is_set():
                privacy_log_seal(batch_size=50)
        finally:
            connections.close_all()

    sealer_thread = threading.Thread(target=seal_until_done)
    sealer_thread.start()
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    sealer_thread.join()
    privacy_log_seal()
    assert errors == []
    assert privacy_log_pending_count() == 0
    result = privacy_log_verify()
    assert (result.ok, result.count) == (True, 1600)


@pytest.mark.django_db(transaction=True)
def test_it_leaves_an_entry_committed_late_for_the_next_round(sealer):
    """A pending row still uncommitted when the sealer runs is neither sealed nor lost."""
    write(1)
    inserted, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                write(1, details={"slow": True})
                inserted.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    inserted.wait(timeout=30)
    write(1, details={"fast": True})
    assert privacy_log_seal() == 2
    release.set()
    thread.join()
    assert privacy_log_seal() == 1
    details = list(PrivacyLogEntry.objects.order_by("sequence").values_list("details", flat=True))
    assert details[1:] == [{"fast": True}, {"slow": True}]
    assert privacy_log_verify().ok
    assert connection.vendor == "postgresql"
