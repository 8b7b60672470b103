"""pupils.services.pupil_record_login: finding, creating, merging and remembering pupils."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.models import PrivacyLogEntry
from privacy.pseudonyms import pseudonymize
from pupils.exceptions import PupilNotGranted
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.services import pupil_pseudonym, pupil_record_login
from pupils.signals import pupil_merged
from pupils.tests.factories import leerid_claims, new_key

pytestmark = pytest.mark.django_db
GRANTED = {"012345"}


@pytest.fixture
def merges():
    received = []

    def receiver(sender, survivor, merged_public_id, **kwargs):
        received.append((survivor.pk, merged_public_id))

    pupil_merged.connect(receiver)
    yield received
    pupil_merged.disconnect(receiver)


def test_it_keys_identified_pupils_on_the_leerid_uuid_and_temporary_ones_on_the_account():
    """The pseudonym is the HMAC of leer_id_uuid, or of account_uuid when there is none."""
    identified = leerid_claims(leer_id_uuid=new_key())
    temporary = leerid_claims()
    assert pupil_pseudonym(identified) == pseudonymize(identified.leer_id_uuid)
    assert pupil_pseudonym(temporary) == pseudonymize(temporary.account_uuid)


def test_it_creates_a_new_identified_pupil_with_user_snapshot_and_alias():
    """A first login creates the pupil, its user, its snapshot and its account alias."""
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(new_key(),))
    pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    pupil.refresh_from_db()
    assert pupil.kind == Pupil.Kind.IDENTIFIED
    assert pupil.pseudonym == pseudonymize(claims.leer_id_uuid)
    snapshot = IdentitySnapshot.objects.get(pupil=pupil)
    assert snapshot.given_name == "Testa"
    assert snapshot.family_name == "Voorbeeldig"
    assert str(snapshot.leer_id_uuid) == claims.leer_id_uuid
    assert snapshot.enrollments == ["012345"]
    assert snapshot.granted_schools == ["012345"]
    assert set(pupil.aliases.values_list("pseudonym", flat=True)) == {
        pseudonymize(claims.account_uuid),
        pseudonymize(claims.historiek_account_uuids[0]),
    }
    assert pupil.last_login_at == snapshot.login_at


def test_it_gives_the_pupil_a_user_without_personal_data():
    """The Django user has a random name, no password, no e-mail, no names, no staff rights."""
    claims = leerid_claims(leer_id_uuid=new_key())
    pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    user = get_user_model().objects.get(pk=pupil.user_id)
    assert user.username == f"pupil-{pupil.public_id.hex}"
    assert not user.has_usable_password()
    assert (user.email, user.first_name, user.last_name) == ("", "", "")
    assert not user.is_staff
    assert not user.is_superuser
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM auth_user WHERE id = %s", [user.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    for secret in ("Testa", "Voorbeeldig", claims.leer_id_uuid, claims.account_uuid):
        assert secret not in row


def test_it_returns_the_same_pupil_and_replaces_the_snapshot():
    """A returning pupil is found again; the snapshot holds only the last login's data."""
    leer_id = new_key()
    first = pupil_record_login(claims=leerid_claims(leer_id_uuid=leer_id), granted_schools=GRANTED)
    later = leerid_claims(
        leer_id_uuid=leer_id, given_name="Nieuwa", enrollments=("012345", "047001")
    )
    with time_machine.travel(dt.datetime(2030, 1, 2, 8, tzinfo=dt.UTC)):
        second = pupil_record_login(claims=later, granted_schools={"047001", "012345"})
    assert second.pk == first.pk
    assert Pupil.objects.count() == 1
    assert IdentitySnapshot.objects.count() == 1
    snapshot = IdentitySnapshot.objects.get()
    assert snapshot.given_name == "Nieuwa"
    assert snapshot.enrollments == ["012345", "047001"]
    assert snapshot.login_at == dt.datetime(2030, 1, 2, 8, tzinfo=dt.UTC)
    second.refresh_from_db()
    assert second.last_login_at == dt.datetime(2030, 1, 2, 8, tzinfo=dt.UTC)
    assert second.snapshot.given_name == "Nieuwa"
    # The new account key of the second login is an alias too.
    assert second.aliases.count() == 2


def test_it_creates_a_temporary_pupil_keyed_on_the_account():
    """Without a LeerID key the pupil is temporary, keyed on the account key."""
    claims = leerid_claims()
    pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    assert pupil.kind == Pupil.Kind.TEMPORARY
    assert pupil.pseudonym == pseudonymize(claims.account_uuid)
    assert pupil_record_login(claims=claims, granted_schools=GRANTED).pk == pupil.pk


def test_it_identifies_a_temporary_pupil_in_place_keeping_its_public_id(merges):
    """A temporary pupil later identified becomes the identified pupil; its public_id stays."""
    account = new_key()
    temporary = pupil_record_login(
        claims=leerid_claims(account_uuid=account), granted_schools=GRANTED
    )
    leer_id = new_key()
    identified = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=leer_id, account_uuid=account), granted_schools=GRANTED
    )
    assert identified.pk == temporary.pk
    assert identified.public_id == temporary.public_id
    identified.refresh_from_db()
    assert identified.kind == Pupil.Kind.IDENTIFIED
    assert identified.pseudonym == pseudonymize(leer_id)
    assert Pupil.objects.count() == 1
    assert merges == []  # nothing to re-key: the public_id did not change
    entry = PrivacyLogEntry.objects.get(action="pupil_merged")
    assert entry.subject == pseudonymize(leer_id)
    assert entry.details["merged_pseudonym"] == pseudonymize(account)


def test_it_identifies_through_historiek_when_the_account_key_changed(merges):
    """Identified with a new account key, the old temporary account is found via historiek."""
    old_account = new_key()
    temporary = pupil_record_login(
        claims=leerid_claims(account_uuid=old_account), granted_schools=GRANTED
    )
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(old_account,))
    identified = pupil_record_login(claims=claims, granted_schools=GRANTED)
    assert identified.public_id == temporary.public_id
    assert Pupil.objects.count() == 1
    assert AccountAlias.objects.filter(pupil=identified).count() == 2


def test_it_merges_a_temporary_pupil_into_the_existing_identified_one(merges):
    """An identified pupil reaching a temporary one absorbs it: aliases move, it is deleted."""
    leer_id = new_key()
    identified = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=leer_id), granted_schools=GRANTED
    )
    stray_account = new_key()
    temporary = pupil_record_login(
        claims=leerid_claims(account_uuid=stray_account), granted_schools=GRANTED
    )
    survivor = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=leer_id, historiek=(stray_account,)),
        granted_schools=GRANTED,
    )
    assert survivor.pk == identified.pk
    assert not Pupil.objects.filter(pk=temporary.pk).exists()
    assert not get_user_model().objects.filter(pk=temporary.user_id).exists()
    assert AccountAlias.objects.get(pseudonym=pseudonymize(stray_account)).pupil_id == survivor.pk
    assert IdentitySnapshot.objects.count() == 1
    assert merges == [(survivor.pk, temporary.public_id)]
    entry = PrivacyLogEntry.objects.get(action="pupil_merged")
    assert entry.subject == survivor.pseudonym
    assert entry.details == {"merged_pseudonym": temporary.pseudonym, "in_place": False}


def test_a_merge_takes_the_admin_log_rows_about_the_merged_pupil_with_it(merges):
    """README: a django_admin_log row about a pupil or its user goes with the account, on a
    merge too (rows an older version wrote; the pupils' admin writes none)."""
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    leer_id, stray_account = new_key(), new_key()
    pupil_record_login(claims=leerid_claims(leer_id_uuid=leer_id), granted_schools=GRANTED)
    temporary = pupil_record_login(
        claims=leerid_claims(account_uuid=stray_account), granted_schools=GRANTED
    )
    staff = get_user_model().objects.create_user("staff-fictief", is_staff=True)
    for obj in (temporary, temporary.user):
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr="fictief",
            action_flag=CHANGE,
        )
    pupil_record_login(
        claims=leerid_claims(leer_id_uuid=leer_id, historiek=(stray_account,)),
        granted_schools=GRANTED,
    )
    assert not Pupil.objects.filter(pk=temporary.pk).exists()
    assert not LogEntry.objects.exists()


def test_it_converts_one_temporary_pupil_and_merges_the_others(merges):
    """Two temporary accounts of one pupil: the current one is identified, the other merged."""
    current, old = new_key(), new_key()
    kept = pupil_record_login(claims=leerid_claims(account_uuid=current), granted_schools=GRANTED)
    absorbed = pupil_record_login(claims=leerid_claims(account_uuid=old), granted_schools=GRANTED)
    survivor = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), account_uuid=current, historiek=(old,)),
        granted_schools=GRANTED,
    )
    assert survivor.public_id == kept.public_id
    assert list(Pupil.objects.values_list("pk", flat=True)) == [kept.pk]
    assert merges == [(kept.pk, absorbed.public_id)]
    assert PrivacyLogEntry.objects.filter(action="pupil_merged").count() == 2


def test_it_sends_a_temporary_login_of_a_known_account_to_its_identified_pupil():
    """A later login without LeerID key, on an account we know, is that identified pupil."""
    account = new_key()
    identified = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), account_uuid=account),
        granted_schools=GRANTED,
    )
    again = pupil_record_login(claims=leerid_claims(account_uuid=account), granted_schools=GRANTED)
    assert again.pk == identified.pk
    assert Pupil.objects.count() == 1
    again.refresh_from_db()
    assert again.kind == Pupil.Kind.IDENTIFIED


def test_it_finds_a_temporary_pupil_through_historiek():
    """A temporary login whose historiek names a known account is that account's pupil."""
    first_account = new_key()
    known = pupil_record_login(
        claims=leerid_claims(account_uuid=first_account), granted_schools=GRANTED
    )
    pupil = pupil_record_login(
        claims=leerid_claims(historiek=(first_account,)), granted_schools=GRANTED
    )
    assert pupil.pk == known.pk
    assert Pupil.objects.count() == 1
    assert pupil.aliases.count() == 2


def test_it_never_merges_on_a_temporary_login(merges):
    """A temporary login reaching two pupils absorbs neither and takes no alias."""
    first, second = new_key(), new_key()
    own = pupil_record_login(claims=leerid_claims(account_uuid=first), granted_schools=GRANTED)
    other = pupil_record_login(claims=leerid_claims(account_uuid=second), granted_schools=GRANTED)
    pupil = pupil_record_login(
        claims=leerid_claims(account_uuid=first, historiek=(second,)), granted_schools=GRANTED
    )
    assert pupil.pk == own.pk
    assert Pupil.objects.count() == 2
    assert AccountAlias.objects.get(pseudonym=pseudonymize(second)).pupil_id == other.pk
    assert merges == []


def test_it_keeps_two_identified_pupils_apart_and_moves_the_account():
    """An account LeerID now gives to another identified pupil moves to that pupil."""
    account = new_key()
    first = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), account_uuid=account),
        granted_schools=GRANTED,
    )
    second = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), historiek=(account,)),
        granted_schools=GRANTED,
    )
    assert first.pk != second.pk
    assert Pupil.objects.count() == 2
    assert AccountAlias.objects.get(pseudonym=pseudonymize(account)).pupil_id == second.pk


def test_it_encrypts_names_in_the_database_column():
    """The raw column holds a Fernet token, not the name."""
    pupil = pupil_record_login(claims=leerid_claims(), granted_schools=GRANTED)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT family_name, given_name FROM pupils_identitysnapshot WHERE pupil_id = %s",
            [pupil.pk],
        )
        family, given = cursor.fetchone()
    assert "Voorbeeldig" not in family
    assert "Testa" not in given
    assert family.startswith("gAAAAA")


def test_it_refuses_to_record_a_pupil_without_a_granted_school():
    """Nothing is written about a pupil the decision refused."""
    with pytest.raises(PupilNotGranted):
        pupil_record_login(claims=leerid_claims(), granted_schools=set())
    assert not Pupil.objects.exists()
    assert not get_user_model().objects.exists()


def test_it_writes_nothing_when_the_transaction_fails(monkeypatch):
    """A failure half-way leaves no half-written pupil behind."""
    from pupils import services

    def broken(*args, **kwargs):
        raise RuntimeError("snapshot write failed")

    monkeypatch.setattr(services, "_snapshot_replace", broken)
    with pytest.raises(RuntimeError):
        pupil_record_login(claims=leerid_claims(), granted_schools=GRANTED)
    assert not Pupil.objects.exists()
    assert not get_user_model().objects.exists()
    assert not AccountAlias.objects.exists()


def statements(context) -> list[str]:
    """The SQL statements run, without transaction control (BEGIN, COMMIT, savepoints)."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK")
    return [q["sql"] for q in context.captured_queries if not q["sql"].startswith(control)]


def test_it_records_a_returning_login_in_five_statements():
    """A returning pupil costs five statements: lock, pupils, aliases, last login, snapshot."""
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(new_key(),))
    pupil_record_login(claims=claims, granted_schools=GRANTED)
    with CaptureQueriesContext(connection) as context:
        pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    # SQLite has no advisory lock: one statement fewer.
    assert len(statements(context)) == (5 if connection.vendor == "postgresql" else 4)
    with CaptureQueriesContext(connection) as context:
        assert pupil.user.username.startswith("pupil-")
        assert pupil.snapshot.given_name == "Testa"
    assert statements(context) == []


def scans(node: dict):
    """Every node of a JSON query plan that reads a table, depth first."""
    if "Relation Name" in node:
        yield node
    for child in node.get("Plans", []):
        yield from scans(child)


def test_it_finds_pupils_through_index_lookups_only():
    """Pupils and aliases are read by index condition, never scanned whole: fast at 1M pupils."""
    from django.db import transaction

    from pupils import login_statements
    from pupils.services import _reached_pupils

    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(new_key(),))
    pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    aliases = [pseudonymize(claims.account_uuid), pseudonymize(claims.historiek_account_uuids[0])]
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Price sequential scans out, as a big table would; what remains is forced.
            cursor.execute("SET LOCAL enable_seqscan = off")
        found = _reached_pupils(pupil.pseudonym, aliases, also=[pupil.pk])
        assert [each.pk for each in found] == [pupil.pk]
        # The statement _reached_pupils ran (built once per process), explained.
        with connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (FORMAT JSON) " + login_statements._reached_pupils_sql(),
                [[pupil.pseudonym, *aliases], [pupil.pk], aliases],
            )
            plan = cursor.fetchone()[0][0]["Plan"]
    read = [node for node in scans(plan) if node["Relation Name"].startswith("pupils_")]
    assert read
    for node in read:
        assert "Index Cond" in node or "Recheck Cond" in node, node


def test_it_repeats_the_lookup_when_an_alias_moved_to_an_unlocked_pupil(monkeypatch):
    """An alias owned by a pupil the locking read missed (a merge in between) is looked up again."""
    from pupils import services
    from pupils.exceptions import PupilLookupConflict

    claims = leerid_claims()
    pupil = pupil_record_login(claims=claims, granted_schools=GRANTED)
    real = services._reached_pupils
    calls = []

    def misses_once(*args, **kwargs):
        calls.append(args)
        return Pupil.objects.none() if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "_reached_pupils", misses_once)
    assert pupil_record_login(claims=claims, granted_schools=GRANTED).pk == pupil.pk
    assert len(calls) == 2

    monkeypatch.setattr(services, "_reached_pupils", lambda *args, **kwargs: Pupil.objects.none())
    with pytest.raises(PupilLookupConflict):
        pupil_record_login(claims=claims, granted_schools=GRANTED)
    assert Pupil.objects.count() == 1
