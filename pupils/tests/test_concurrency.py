"""pupil_record_login under concurrent logins, on PostgreSQL (row locks and advisory locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from privacy.pseudonyms import pseudonymize
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key

GRANTED = {"012345"}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers: concurrency is tested on PostgreSQL")


def run_together(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released at the same moment; results or exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a login hung (deadlock?)"
    return results


def test_it_creates_one_pupil_for_twenty_simultaneous_first_logins():
    """20 first logins of one pupil at once make one pupil, one user, one snapshot."""
    claims = leerid_claims(leer_id_uuid=new_key(), historiek=(new_key(),))
    results = run_together(
        [lambda: pupil_record_login(claims=claims, granted_schools=GRANTED)] * 20
    )
    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    assert {pupil.pk for pupil in results} == {Pupil.objects.get().pk}
    assert get_user_model().objects.count() == 1
    assert IdentitySnapshot.objects.count() == 1
    assert AccountAlias.objects.count() == 2


def test_it_merges_under_concurrent_logins_without_deadlock_or_lost_aliases():
    """Identified and temporary logins racing over the same accounts end in one pupil."""
    leer_id, current = new_key(), new_key()
    old = [new_key() for _ in range(3)]
    for account in old:
        pupil_record_login(claims=leerid_claims(account_uuid=account), granted_schools=GRANTED)
    identified = leerid_claims(leer_id_uuid=leer_id, account_uuid=current, historiek=tuple(old))
    # The same pupil, identified on an old account with part of its historiek.
    partial = leerid_claims(leer_id_uuid=leer_id, account_uuid=old[2], historiek=(old[1], old[0]))
    calls = []
    for round_ in range(4):
        calls.append(lambda: pupil_record_login(claims=identified, granted_schools=GRANTED))
        calls.append(lambda: pupil_record_login(claims=partial, granted_schools=GRANTED))
        account = old[round_ % 3]
        temporary = leerid_claims(account_uuid=account)
        calls.append(lambda t=temporary: pupil_record_login(claims=t, granted_schools=GRANTED))
    results = run_together(calls)
    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    survivor = Pupil.objects.get()
    assert survivor.pseudonym == pseudonymize(leer_id)
    assert survivor.kind == Pupil.Kind.IDENTIFIED
    expected = {pseudonymize(key) for key in [current, *old]}
    assert set(AccountAlias.objects.values_list("pseudonym", flat=True)) == expected
    assert set(survivor.aliases.values_list("pseudonym", flat=True)) == expected
    assert get_user_model().objects.count() == 1
    assert IdentitySnapshot.objects.count() == 1


def test_it_lets_distinct_pupils_log_in_at_the_same_time():
    """Different pupils do not wait on one another's locks or collide."""
    claims = [leerid_claims(leer_id_uuid=new_key()) for _ in range(10)]
    results = run_together(
        [lambda c=c: pupil_record_login(claims=c, granted_schools=GRANTED) for c in claims]
    )
    assert not [result for result in results if isinstance(result, Exception)]
    assert Pupil.objects.count() == 10


def test_it_erases_while_the_pupil_logs_in_without_deadlock():
    """The DPO erasing a pupil while it logs in and merges: no deadlock, no half-written pupil."""
    from pupils.services import pupil_erase

    leer_id, account, old = new_key(), new_key(), new_key()
    pupil = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=leer_id, account_uuid=account), granted_schools=GRANTED
    )
    pupil_record_login(claims=leerid_claims(account_uuid=old), granted_schools=GRANTED)
    merging = leerid_claims(leer_id_uuid=leer_id, account_uuid=account, historiek=(old,))
    calls = [lambda: pupil_erase(pupil=pupil, actor="staff:1")]
    calls += [lambda: pupil_record_login(claims=merging, granted_schools=GRANTED)] * 6
    results = run_together(calls)
    assert [result for result in results if isinstance(result, Exception)] == []
    # Whatever the order, every pupil left is whole: a user, a snapshot, its aliases.
    for survivor in Pupil.objects.all():
        assert get_user_model().objects.filter(pk=survivor.user_id).exists()
        assert IdentitySnapshot.objects.filter(pupil=survivor).exists()
    assert get_user_model().objects.count() == Pupil.objects.count()
