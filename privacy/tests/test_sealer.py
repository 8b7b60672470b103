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


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_its_write_is_prepared_once_per_connection(sealer):
    """After a few writes the INSERT runs as a prepared statement; the ORM's queries, however
    often they run, are never prepared (Django's cursors bind on the client)."""
    write(4)
    assert _prepared_statements() == []
    for _ in range(10):
        list(PrivacyLogEntry.objects.filter(action="authn_login_success")[:1])
    write(10)
    assert _prepared_statements() == ["INSERT INTO privacy_log_pending (rest) VALUES ($1)"]
    assert privacy_log_seal() == 14


def test_its_write_is_prepared_again_after_psycopg_let_it_go(sealer):
    """psycopg deallocates everything it prepared after a ROLLBACK, DROP or ALTER on the
    connection (a prune step drops a month): the next writes prepare the INSERT again."""
    write(6)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE gone (id integer)")
        cursor.execute("DROP TABLE gone")
    write(1)
    assert _prepared_statements() == []
    write(6)
    assert len(_prepared_statements()) == 1
    assert privacy_log_seal() == 13


def test_a_write_the_database_refuses_raises_djangos_error(sealer):
    """The login turns django.db's DatabaseError into its page: the prepared write's errors
    must come out as that, not as the driver's own."""
    from django.db import DatabaseError

    with pytest.raises(DatabaseError) as raised, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE privacy_log_pending RENAME TO privacy_log_pending_gone")
        write(1)
    assert type(raised.value).__module__ == "django.db.utils"
    write(1)
    assert privacy_log_pending_count() == 1


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


VARIED = [
    # actor, action, subject, outcome, reason, request id, details
    (f"pupil:{PSEUDONYM}", "authn_login_success", PSEUDONYM, "success", "", "ab" * 16, {}),
    ("system", "authn_login_fail", "", "failure", "state_expired", "", {"step": "callback"}),
    ("staff:3", "sensitive_read", PSEUDONYM, "success", "", "abcdefghijklmnop", {"n": 1}),
    ("staff:3", "agreement_changed", "school:012345", "success", "", "req-1", {"to": "a|b é"}),
    (f"pupil:{'e' * 64}", "authz_fail", PSEUDONYM, "failure", "not_enrolled", "AB" * 16, {}),
]


def test_it_stores_what_the_direct_path_stores(sealer, settings):
    """The sealer derives the stored columns from the encoding: the same as chaining at once.

    Kinds that take a special path: a pupil acting on their own entry (actor 0), no subject,
    hex and other request ids (16 characters get a NUL), details with a "|" and non-ASCII, empty
    details, failures with a reason.
    """
    stored = {}
    for sealed in (True, False):
        settings.PRIVACY_LOG_SEALER = sealed
        written = [
            privacy.log(
                action,
                actor=actor,
                subject=subject,
                outcome=outcome,
                reason=reason,
                request_id=request_id,
                details=details,
            )
            for actor, action, subject, outcome, reason, request_id, details in VARIED
        ]
        privacy_log_seal()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT created_at, actor_id, subject_id, action_id, period, failed, reason,"
                " request_id, details FROM privacy_log ORDER BY sequence DESC LIMIT %s",
                [len(VARIED)],
            )
            rows = cursor.fetchall()[::-1]
        assert [row[0] for row in rows] == [entry.created_at for entry in written]
        stored[sealed] = [(*row[1:7], bytes(row[7]), row[8]) for row in rows]
    assert stored[True] == stored[False]
    assert stored[True][0][0] == 0  # the pupil about whom the entry is
    assert stored[True][2][6] == b"abcdefghijklmnop\0"
    views = PrivacyLogEntry.objects.order_by("sequence")
    expected = [(*row[:4], row[4], row[5], row[6]) for row in VARIED]
    for half in (views[: len(VARIED)], views[len(VARIED) :]):
        assert [
            (e.actor, e.action, e.subject, e.outcome, e.reason, e.request_id, e.details)
            for e in half
        ] == expected
    assert privacy_log_verify().ok


def test_it_files_entries_under_their_month_across_a_boundary(sealer):
    """The month comes from the encoding's UTC time; a late-committed older entry keeps the
    newer month (a partition holds one run of sequence numbers)."""
    from datetime import UTC, datetime

    import time_machine

    for moment in ("2026-10-31T23:59:59.999999", "2026-11-01T00:00:00", "2026-10-15T12:00:00"):
        with time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=UTC), tick=False):
            write(1)
    assert privacy_log_seal() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT period, tableoid::regclass::text FROM privacy_log ORDER BY sequence")
        filed = cursor.fetchall()
    assert filed == [
        (321, "privacy_log_2026_10"),
        (322, "privacy_log_2026_11"),
        (322, "privacy_log_2026_11"),
    ]
    assert privacy_log_verify().ok


def test_it_seals_what_a_writer_of_the_previous_release_sent(sealer):
    """During a rolling deploy an old web process still fills every pending column (0010)."""
    from datetime import UTC, datetime

    from privacy import chain, storage

    now = datetime.now(UTC)
    text = {
        "created_at": chain.timestamp(now),
        "actor": "system",
        "action": "authn_logout",
        "subject": "",
        "outcome": "success",
        "reason": "",
        "request_id": "",
        "details": '{"release":"previous"}',
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_log_pending (created_at, period, actor, action, subject, failed,"
            " reason, request_id, details, rest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                now,
                storage.period_of(now),
                "system",
                "authn_logout",
                "",
                False,
                "",
                b"",
                text["details"],
                chain.encode_rest(text),
            ],
        )
    write(1)
    assert privacy_log_seal() == 2
    first = PrivacyLogEntry.objects.order_by("sequence").first()
    assert (first.actor, first.details) == ("system", {"release": "previous"})
    assert privacy_log_verify().ok
