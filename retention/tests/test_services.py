from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import connection

import privacy
from pupils.claims import LeerIDClaims
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.services import pupil_record_login
from retention import policy, services
from retention.locking import retention_lock
from retention.models import RetentionRun
from retention.signals import pupils_purging
from retention.tests.factories import make_pupil

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 6, 15, 10, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SECOND = timedelta(seconds=1)
BOTH = [policy.ACCOUNTS, policy.SNAPSHOTS]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_it_keeps_a_snapshot_exactly_365_days_old(clock):
    """A snapshot written exactly 365 days ago is kept: the period has not yet passed."""
    pupil = make_pupil(login_at=NOW - YEAR)
    assert services.snapshot_purge_expired() == 0
    assert IdentitySnapshot.objects.filter(pupil=pupil).exists()


def test_it_deletes_a_snapshot_365_days_and_a_second_old(clock):
    """One second past the period the snapshot row is deleted, the account is not."""
    pupil = make_pupil(login_at=NOW - YEAR - SECOND)
    assert services.snapshot_purge_expired() == 1
    assert not IdentitySnapshot.objects.filter(pupil=pupil).exists()
    assert Pupil.objects.filter(pk=pupil.pk).exists()
    assert AccountAlias.objects.filter(pupil=pupil).exists()


def test_it_counts_three_years_as_1095_days_across_a_leap_day():
    """Three years that contain 29 February 2024 are 1,096 calendar days; the rule deletes the
    account after 1,095 days, keeping it exactly at 1,095 days."""
    login = datetime(2024, 2, 1, 12, 0, tzinfo=UTC)
    assert (datetime(2027, 2, 1, 12, 0, tzinfo=UTC) - login).days == 1096
    pupil = make_pupil(login_at=login)
    with time_machine.travel(login + timedelta(days=1095), tick=False):
        assert services.account_purge_inactive() == 0
    assert Pupil.objects.filter(pk=pupil.pk).exists()
    with time_machine.travel(login + timedelta(days=1095) + SECOND, tick=False):
        assert services.account_purge_inactive() == 1
    assert not Pupil.objects.filter(pk=pupil.pk).exists()
    assert not get_user_model().objects.filter(pk=pupil.user_id).exists()


def _login(at: datetime, *, leer_id: str | None, account: str, historiek=()) -> Pupil:
    """A granted login through the real login service, at a moved clock."""
    claims = LeerIDClaims(
        sub=None,
        leer_id_uuid=leer_id,
        account_uuid=account,
        historiek_account_uuids=tuple(historiek),
        family_name="Fictief",
        given_name=f"Testleerling {at:%Y%m%d}",
        enrollments=("012345",),
    )
    with time_machine.travel(at, tick=False):
        return pupil_record_login(claims=claims, granted_schools=["012345"])


def test_it_gives_a_returning_pupil_the_same_account_with_a_fresh_snapshot():
    """In year 2 the snapshot is gone but the account is not: the next login finds it and
    writes a new snapshot, which the next runs keep."""
    first = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)
    leer_id, account = str(uuid.uuid4()), str(uuid.uuid4())
    pupil = _login(first, leer_id=leer_id, account=account)
    with time_machine.travel(first + YEAR + timedelta(days=1), tick=False):
        services.retention_run(rules=BOTH)
    assert not IdentitySnapshot.objects.filter(pupil=pupil).exists()
    assert Pupil.objects.filter(pk=pupil.pk).exists()

    again = first + YEAR + timedelta(days=40)
    returned = _login(again, leer_id=leer_id, account=account)
    with time_machine.travel(again + timedelta(days=1), tick=False):
        run = services.retention_run(rules=BOTH)
    assert run.counts == {policy.ACCOUNTS: 0, policy.SNAPSHOTS: 0}
    assert returned.pk == pupil.pk and returned.public_id == pupil.public_id
    snapshot = IdentitySnapshot.objects.get(pupil=pupil)
    assert snapshot.login_at == again
    assert snapshot.given_name == f"Testleerling {again:%Y%m%d}"


def test_it_keeps_a_merged_temporary_account_with_the_pupil_it_was_merged_into():
    """A temporary account merged into an identified pupil lives on as that pupil's alias:
    three years after the temporary login nothing goes while the pupil is active, and it goes
    with the pupil three years after the pupil's own last login."""
    start = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
    leer_id, account, temporary_account = (str(uuid.uuid4()) for _ in range(3))
    identified = _login(start, leer_id=leer_id, account=account)
    temporary = _login(start + timedelta(days=100), leer_id=None, account=temporary_account)
    assert temporary.pk != identified.pk
    merged_at = start + timedelta(days=200)
    survivor = _login(merged_at, leer_id=leer_id, account=account, historiek=[temporary_account])
    assert survivor.pk == identified.pk
    assert not Pupil.objects.filter(pk=temporary.pk).exists()
    aliases = set(AccountAlias.objects.filter(pupil=survivor).values_list("pseudonym", flat=True))
    assert len(aliases) == 2

    with time_machine.travel(start + timedelta(days=100 + 1095) + SECOND, tick=False):
        assert services.account_purge_inactive() == 0
    assert set(survivor.aliases.values_list("pseudonym", flat=True)) == aliases

    with time_machine.travel(merged_at + timedelta(days=1095) + SECOND, tick=False):
        assert services.account_purge_inactive() == 1
    assert not AccountAlias.objects.filter(pseudonym__in=aliases).exists()
    assert not get_user_model().objects.filter(pk=survivor.user_id).exists()


@pytest.mark.urls("retention.tests.urls")
@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "ilearn_auth.session_store",
    ],
)
def test_it_ends_the_open_session_of_a_deleted_account(client, clock, settings, engine):
    """A pupil logged in when the account is deleted is anonymous at the next request,
    whether sessions live in the database or in the cache (Redis)."""
    settings.SESSION_ENGINE = engine
    pupil = make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    client.force_login(pupil.user)
    assert client.get("/whoami/").content.decode() == str(pupil.user_id)

    services.account_purge_inactive()

    assert client.get("/whoami/").content.decode() == "anonymous"


def test_it_deletes_the_user_and_everything_hanging_on_it(clock):
    """Alias, snapshot, pupil, user, group memberships and admin log entries all go; other
    pupils and staff stay."""
    expired = make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    active = make_pupil(login_at=NOW - 2 * YEAR)
    group = Group.objects.create(name="fictieve groep")
    expired.user.groups.add(group)
    LogEntry.objects.create(user=expired.user, object_repr="x", action_flag=ADDITION)
    staff = get_user_model().objects.create_user(username="staff-fictief", is_staff=True)

    assert services.account_purge_inactive() == 1

    assert not get_user_model().objects.filter(pk=expired.user_id).exists()
    assert not AccountAlias.objects.filter(pupil_id=expired.pk).exists()
    assert not IdentitySnapshot.objects.filter(pupil_id=expired.pk).exists()
    assert not LogEntry.objects.filter(user_id=expired.user_id).exists()
    assert not get_user_model().groups.through.objects.filter(user_id=expired.user_id).exists()
    assert Group.objects.filter(pk=group.pk).exists()
    assert Pupil.objects.filter(pk=active.pk).exists()
    assert IdentitySnapshot.objects.filter(pupil=active).exists()
    assert get_user_model().objects.filter(pk=staff.pk).exists()


def test_it_deletes_the_admin_log_rows_about_an_expired_pupil(clock):
    """django_admin_log rows about the pupil or its user (no foreign key to either) go with
    the account; those about an active pupil stay."""
    from django.contrib.admin.models import CHANGE
    from django.contrib.contenttypes.models import ContentType

    expired = make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    active = make_pupil(login_at=NOW - 2 * YEAR)
    staff = get_user_model().objects.create_user(username="staff-fictief", is_staff=True)
    for obj in (expired, expired.user, active):
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
        )

    assert services.account_purge_inactive() == 1

    assert list(LogEntry.objects.values_list("object_repr", flat=True)) == [str(active)]


def test_it_tells_other_apps_which_pupils_go_inside_the_batch(clock):
    """pupils_purging carries the public ids of each batch, sent inside its transaction."""
    expired = [make_pupil(login_at=NOW - 3 * YEAR - SECOND) for _ in range(3)]
    make_pupil(login_at=NOW)
    seen: list[uuid.UUID] = []

    def receiver(sender, *, public_ids, **kwargs):
        assert connection.in_atomic_block
        assert Pupil.objects.filter(public_id__in=public_ids).count() == len(public_ids)
        seen.extend(public_ids)

    pupils_purging.connect(receiver)
    try:
        services.account_purge_inactive(batch_size=2)
    finally:
        pupils_purging.disconnect(receiver)
    assert sorted(seen) == sorted(pupil.public_id for pupil in expired)


def test_it_rolls_back_the_batch_when_a_receiver_fails(clock):
    """A failing hook leaves the batch's pupils whole: nothing is half-deleted."""
    pupil = make_pupil(login_at=NOW - 3 * YEAR - SECOND)

    def receiver(sender, **kwargs):
        raise RuntimeError("fictitious failure")

    pupils_purging.connect(receiver)
    try:
        with pytest.raises(RuntimeError):
            services.account_purge_inactive()
    finally:
        pupils_purging.disconnect(receiver)
    assert IdentitySnapshot.objects.filter(pupil=pupil).exists()
    assert get_user_model().objects.filter(pk=pupil.user_id).exists()


def test_it_drops_expired_sessions(clock, settings):
    """With sessions in the database, the account rule also clears expired ones, as
    clearsessions would (Redis expires its sessions by itself)."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=NOW - SECOND)
    Session.objects.create(session_key="y" * 32, session_data="", expire_date=NOW + YEAR)
    services.account_purge_inactive()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]


def test_it_works_in_batches(clock):
    """Seven expired snapshots, three keys per batch: three batches, seven rows."""
    for _ in range(7):
        make_pupil(login_at=NOW - YEAR - SECOND)
    make_pupil(login_at=NOW)
    batches: list[int] = []
    deleted = services.snapshot_purge_expired(
        scan_size=3, progress=lambda rule, rows, seconds: batches.append(rows)
    )
    assert deleted == 7
    assert batches == [3, 3, 1]
    assert IdentitySnapshot.objects.count() == 1


@pytest.mark.parametrize(("batch_size", "scan_size"), [(1, 2), (2, 3), (3, 1), (100, 100)])
def test_it_finds_every_expired_account_whatever_the_batch_shape(clock, batch_size, scan_size):
    """Expired and active pupils interleaved: every expired one goes, every active one stays,
    with batches capped by rows taken, by keys examined, or by neither."""
    pupils = [
        make_pupil(login_at=NOW - 3 * YEAR - SECOND if n % 3 else NOW - YEAR) for n in range(10)
    ]
    expired = {pupil.pk for n, pupil in enumerate(pupils) if n % 3}
    batches: list[int] = []

    deleted = services.account_purge_inactive(
        batch_size=batch_size,
        scan_size=scan_size,
        progress=lambda rule, rows, seconds: batches.append(rows),
    )

    assert deleted == len(expired) == sum(batches)
    assert max(batches) <= batch_size
    assert set(Pupil.objects.values_list("pk", flat=True)) == {p.pk for p in pupils} - expired


def test_it_counts_without_deleting_in_a_dry_run(clock):
    """A dry run counts exactly what a real run deletes, and deletes nothing."""
    for _ in range(2):
        make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    for _ in range(3):
        make_pupil(login_at=NOW - YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR)

    dry = services.retention_run(rules=BOTH, dry_run=True)
    assert dry.dry_run
    # The two old accounts' snapshots go with their accounts: not counted twice.
    assert dry.counts == {policy.ACCOUNTS: 2, policy.SNAPSHOTS: 3}
    assert Pupil.objects.count() == 6
    assert IdentitySnapshot.objects.count() == 6

    real = services.retention_run(rules=BOTH)
    assert real.counts == dry.counts
    assert Pupil.objects.count() == 4
    assert IdentitySnapshot.objects.count() == 1


def test_it_counts_in_a_dry_run_what_each_rule_alone_would_delete(clock):
    """Without the accounts rule in the run, the snapshot rule would delete old accounts'
    snapshots too, and the dry run says so."""
    make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR - SECOND)
    dry = services.retention_run(rules=[policy.SNAPSHOTS], dry_run=True)
    real = services.retention_run(rules=[policy.SNAPSHOTS])
    assert dry.counts == real.counts == {policy.SNAPSHOTS: 2}


def test_it_predicts_every_rule_exactly_with_overlapping_rules():
    """Accounts, snapshots and log entries that several rules reach (and a log entry older
    than the one before it, from a clock step back): the dry run's counts are the real run's."""
    start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        privacy.log("authn_login_success", actor="system")
        make_pupil(login_at=start)  # accounts rule (its snapshot goes with it)
    with time_machine.travel(start + timedelta(days=600), tick=False):
        privacy.log("authn_login_success", actor="system")  # young: stops the prune here
        make_pupil(login_at=start + timedelta(days=600))  # snapshots rule only
    with time_machine.travel(start + timedelta(days=1), tick=False):
        privacy.log("authn_login_success", actor="system")  # old, but after a young one
    with time_machine.travel(start + timedelta(days=1097), tick=False):
        make_pupil(login_at=start + timedelta(days=1096))  # nothing
        dry = services.retention_run(dry_run=True)
        real = services.retention_run()
    assert (dry.counts[policy.ACCOUNTS], dry.counts[policy.SNAPSHOTS]) == (1, 1)
    assert real.counts == dry.counts


def test_it_announces_each_rule_with_its_count_before_its_batches(clock):
    """``expected`` hears what a rule finds expired before ``progress`` hears its batches."""
    for _ in range(2):
        make_pupil(login_at=NOW - YEAR - SECOND)
    make_pupil(login_at=NOW - YEAR)
    heard: list[tuple] = []
    run = services.retention_run(
        rules=[policy.SNAPSHOTS],
        progress=lambda rule, rows, seconds: heard.append(("batch", rule, rows)),
        expected=lambda rule, expired: heard.append(("expected", rule, expired)),
    )
    assert heard[0] == ("expected", policy.SNAPSHOTS, 2)
    assert sum(rows for kind, _rule, rows in heard[1:] if kind == "batch") == 2
    assert run.counts == {policy.SNAPSHOTS: 2}


def test_it_records_the_run_and_logs_the_counts_but_not_who(clock):
    """Every run leaves a RetentionRun and one retention_purge privacy-log entry with counts."""
    from privacy.models import PrivacyLogEntry

    pupil = make_pupil(login_at=NOW - 3 * YEAR - SECOND)
    run = services.retention_run(rules=BOTH, trigger="command")

    run.refresh_from_db()
    assert run.status == RetentionRun.Status.SUCCESS
    assert run.started_at == NOW and run.finished_at == NOW
    assert run.counts == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0}
    assert run.rules == BOTH and run.trigger == "command" and not run.dry_run
    entry = PrivacyLogEntry.objects.get(action="retention_purge")
    assert entry.outcome == "success"
    assert entry.actor == "system"
    assert entry.details["counts"] == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0}
    assert entry.subject == ""
    assert pupil.pseudonym not in str(entry.details)


def test_it_applies_every_rule_by_default():
    """A full run applies the three rules, the privacy log's through the privacy app."""
    start = datetime(2023, 1, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        privacy.log("authn_login_success", actor="system")
        make_pupil(login_at=start)
    # A month later than the period: on PostgreSQL entries go with their whole month.
    with time_machine.travel(start + timedelta(days=1097 + 31), tick=False):
        dry = services.retention_run(dry_run=True)
        run = services.retention_run()
    assert run.status == RetentionRun.Status.SUCCESS
    assert run.counts == {policy.ACCOUNTS: 1, policy.SNAPSHOTS: 0, policy.PRIVACY_LOG: 1}
    assert dry.counts == run.counts


class Killed(Exception):
    pass


def test_it_finishes_on_a_rerun_after_being_killed_between_batches(settings, clock):
    """A run that dies after its first batch keeps that batch; the rerun does the rest."""
    settings.RETENTION_SCAN_SIZE = 2
    for _ in range(5):
        make_pupil(login_at=NOW - YEAR - SECOND)
    keep = make_pupil(login_at=NOW - YEAR)

    def die(rule, rows, seconds):
        raise Killed

    with pytest.raises(Killed):
        services.retention_run(rules=[policy.SNAPSHOTS], progress=die)
    failed = RetentionRun.objects.get()
    assert failed.status == RetentionRun.Status.FAILED
    assert failed.error == "snapshots: Killed"
    assert IdentitySnapshot.objects.count() == 4

    rerun = services.retention_run(rules=[policy.SNAPSHOTS])
    assert rerun.status == RetentionRun.Status.SUCCESS
    assert rerun.counts == {policy.SNAPSHOTS: 3}
    assert list(IdentitySnapshot.objects.values_list("pupil_id", flat=True)) == [keep.pk]


def test_it_marks_a_run_whose_process_died_as_interrupted(clock):
    """A run left "running" by a killed process is marked interrupted by the next run."""
    dead = RetentionRun.objects.create(
        started_at=NOW - timedelta(hours=1), status=RetentionRun.Status.RUNNING
    )
    services.retention_run(rules=[policy.SNAPSHOTS])
    dead.refresh_from_db()
    assert dead.status == RetentionRun.Status.INTERRUPTED


def test_it_skips_while_another_run_holds_the_lock(clock):
    """A second run at the same time leaves at once, deletes nothing and records the skip."""
    make_pupil(login_at=NOW - YEAR - SECOND)
    with retention_lock() as held:
        assert held
        run = services.retention_run(rules=BOTH)
    assert run.status == RetentionRun.Status.SKIPPED
    assert run.counts == {}
    assert IdentitySnapshot.objects.count() == 1
    assert services.retention_run(rules=BOTH).status == RetentionRun.Status.SUCCESS
    assert IdentitySnapshot.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_skips_a_second_run_while_the_first_is_between_batches():
    """Two real runs on two connections: the one that starts second is skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("two connections at once need PostgreSQL (SQLite serialises writers)")
    for _ in range(3):
        make_pupil(login_at=datetime(2020, 1, 1, tzinfo=UTC))
    inside, release = threading.Event(), threading.Event()
    results: list[RetentionRun] = []

    def first():
        def pause(rule, rows, seconds):
            inside.set()
            release.wait(timeout=30)

        try:
            results.append(services.retention_run(rules=[policy.SNAPSHOTS], progress=pause))
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        second = services.retention_run(rules=[policy.SNAPSHOTS])
    finally:
        release.set()
        thread.join(timeout=30)
    assert second.status == RetentionRun.Status.SKIPPED
    assert results[0].status == RetentionRun.Status.SUCCESS
    assert results[0].counts == {policy.SNAPSHOTS: 3}


def test_it_refuses_an_unknown_rule():
    """An unknown rule name is refused before anything runs."""
    with pytest.raises(ValueError, match="unknown retention rule"):
        services.retention_run(rules=["everything"])
    assert not RetentionRun.objects.exists()


def _other_connection():
    """A second database session, as a concurrent login would have."""
    from django.db import connections

    other = connections.create_connection("default")
    other.set_autocommit(False)
    return other


@pytest.mark.django_db(transaction=True)
def test_it_keeps_a_snapshot_that_a_login_refreshes_during_the_purge():
    """The purge meets a snapshot a login is rewriting: it waits for the login, sees the
    fresh moment, and keeps it."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sessions need PostgreSQL (SQLite serialises writers)")
    pupil = make_pupil(login_at=datetime(2020, 1, 1, tzinfo=UTC))
    login = _other_connection()
    with login.cursor() as cursor:
        cursor.execute(
            "UPDATE pupils_identitysnapshot SET login_at = now() WHERE pupil_id = %s", [pupil.pk]
        )
    results: list[int] = []

    def purge():
        try:
            results.append(services.snapshot_purge_expired())
        finally:
            connection.close()

    thread = threading.Thread(target=purge)
    thread.start()
    try:
        # Deterministic, not timed: go on once the purge is seen waiting on the login's lock.
        with connection.cursor() as cursor:
            for _ in range(300):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.05)
            else:
                pytest.fail("the purge never waited for the login's row")
    finally:
        login.commit()
        login.close()
        thread.join(timeout=30)
    assert results == [0]
    assert IdentitySnapshot.objects.filter(pupil=pupil).exists()


@pytest.mark.django_db(transaction=True)
def test_it_leaves_alone_an_account_a_login_holds():
    """An expired account whose pupil is logging in right now (row locked) is skipped, not
    waited for and not deleted."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sessions need PostgreSQL (SQLite serialises writers)")
    held = make_pupil(login_at=datetime(2020, 1, 1, tzinfo=UTC))
    free = make_pupil(login_at=datetime(2020, 1, 1, tzinfo=UTC))
    login = _other_connection()
    try:
        with login.cursor() as cursor:
            cursor.execute("SELECT id FROM pupils_pupil WHERE id = %s FOR UPDATE", [held.pk])
        assert services.account_purge_inactive() == 1
    finally:
        login.rollback()
        login.close()
    assert Pupil.objects.filter(pk=held.pk).exists()
    assert not Pupil.objects.filter(pk=free.pk).exists()
