"""The retention purges rule by rule: snapshots, accounts and what hangs on them, batches, and
logins during a purge (the run around them: ``test_run.py``)."""

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

from pupils.claims import LeerIDClaims
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.services import pupil_record_login
from retention import policy, services
from retention.signals import pupils_purging
from retention.tests.factories import BOTH, NOW, SECOND, YEAR, make_pupil

pytestmark = pytest.mark.django_db


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
