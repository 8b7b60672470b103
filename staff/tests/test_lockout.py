"""Five failures lock an account, twenty lock an address, for fifteen minutes or until the DPO
lifts the lock; the right password during a lock does not get in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from privacy import actions
from staff import lockout
from staff.models import Lockout
from staff.tests.conftest import CODE, code_for, entries, make_staff, sign_in, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]
WRONG = "not-the-password-1"


def fail(client, username: str, times: int, **extra):
    return [sign_in_password(client, username, WRONG, **extra) for _ in range(times)]


def test_it_locks_an_account_after_five_wrong_passwords(client, support):
    """The fifth failure locks; then even the right password is refused, saying until when."""
    responses = fail(client, support.username, 5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    response = sign_in_password(client, support.username)
    assert response.status_code == 429
    content = response.content.decode()
    assert "geblokkeerd tot" in content
    until = timezone.localtime(Lockout.objects.get().until).strftime("%H:%M")
    assert until in content
    assert not client.session.get("_auth_user_id")
    [lock] = entries(actions.AUTHN_LOGIN_LOCK)
    assert (lock.subject, lock.details["scope"]) == (f"staff:{support.pk}", "account")
    assert entries(actions.AUTHN_LOGIN_FAIL)[-1].reason == "locked_out"


def test_it_counts_only_failures_within_fifteen_minutes(client, support):
    """Four failures, sixteen minutes, one failure: no lock."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, support.username, 4)
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        fail(client, support.username, 1)
        assert sign_in_password(client, support.username).status_code == 302
    assert not Lockout.objects.exists()


def test_it_lifts_the_lock_after_fifteen_minutes(client, support):
    """A lock ends by itself; the failures before it do not count again."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, support.username, 5)
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert sign_in_password(client, support.username).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=1), tick=False):
        fail(client, support.username, 1)
        assert sign_in_password(client, support.username).status_code == 302


def test_it_counts_wrong_codes_and_ends_the_half_signed_in_session(client, support):
    """Wrong second-factor codes count too; at the lock the password-only session ends."""
    sign_in_password(client, support.username)
    wrong = "000000" if code_for(support) != "000000" else "111111"
    responses = [client.post(CODE, {"code": wrong}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert client.get(CODE)["Location"] == reverse("admin:login")
    assert sign_in_password(client, support.username).status_code == 429
    logout = entries(actions.AUTHN_LOGOUT)[-1]
    assert logout.reason == "locked_out"


def test_it_locks_an_address_after_twenty_failures(client, db):
    """Twenty failures from one address over several names lock that address for everyone."""
    staff = make_staff("ann-agreements", "Agreements")
    for number in range(20):
        sign_in_password(client, f"guess-{number}", WRONG)
    assert sign_in_password(client, staff.username).status_code == 429
    locks = Lockout.objects.filter(scope=Lockout.Scope.ADDRESS)
    assert locks.count() == 1
    assert "127.0.0.1" not in locks.get().key
    other = client_from("10.9.8.7")
    assert sign_in_password(other, staff.username).status_code == 302


def test_it_lets_the_dpo_lift_a_lock(client, support, dpo):
    """The DPO's action on the user list lifts the lock, logged; the staff member gets in."""
    fail(client, support.username, 5)
    dpo_client = client_from("127.0.0.2")
    sign_in(dpo_client, dpo)
    response = dpo_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "lift_lockout", "_selected_action": [support.pk]},
    )
    assert response.status_code == 302
    lock = Lockout.objects.get()
    assert (lock.lifted_by, lock.lifted_at is not None) == (dpo, True)
    [unlock] = entries(actions.STAFF_UNLOCKED)
    assert (unlock.actor, unlock.subject) == (f"staff:{dpo.pk}", f"staff:{support.pk}")
    assert sign_in_password(client, support.username).status_code == 302


def test_it_lets_the_dpo_lift_an_address_lock_from_the_lockout_list(client, dpo):
    """Address locks are lifted from their own list."""
    for number in range(20):
        sign_in_password(client, f"guess-{number}", WRONG)
    dpo_client = client_from("127.0.0.2")
    sign_in(dpo_client, dpo)
    lock = Lockout.objects.get(scope=Lockout.Scope.ADDRESS)
    assert dpo_client.get(reverse("admin:staff_lockout_changelist")).status_code == 200
    dpo_client.post(
        reverse("admin:staff_lockout_changelist"),
        {"action": "lift", "_selected_action": [lock.pk]},
    )
    lock.refresh_from_db()
    assert lock.lifted_by == dpo


def test_it_keeps_support_from_lifting_locks(client, support):
    """Only the DPO may lift a lock: Support is not offered the action or the list."""
    sign_in(client, support)
    assert client.get(reverse("admin:staff_lockout_changelist")).status_code == 403


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ([], "10.0.0.5", "203.0.113.9", "10.0.0.5"),
        (["10.0.0.5"], "10.0.0.5", "203.0.113.9", "203.0.113.9"),
        (["10.0.0.5"], "10.0.0.5", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        (["10.0.0.0/8"], "10.0.0.5", "203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (["10.0.0.5"], "192.0.2.1", "203.0.113.9", "192.0.2.1"),
        (["10.0.0.5"], "10.0.0.5", "not-an-address", "10.0.0.5"),
        (["10.0.0.5"], "10.0.0.5", "", "10.0.0.5"),
    ],
)
def test_it_trusts_the_forwarded_header_only_from_trusted_proxies(
    settings, trusted, remote, forwarded, expected
):
    """X-Forwarded-For is read only when the peer is a trusted proxy, from the right."""
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert lockout.client_address(request) == expected


def client_from(address: str):
    from django.test import Client

    return Client(REMOTE_ADDR=address)


def test_it_refuses_enrolment_during_a_lock(client, db):
    """A staff member locked while enrolling is signed out and told until when."""
    newcomer = make_staff("nina-new", "Support", device=False)
    sign_in_password(client, newcomer.username)
    client.get("/admin/sign-in/enrol/")
    responses = [client.post("/admin/sign-in/enrol/", {"code": "abc"}) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert client.get("/admin/sign-in/enrol/")["Location"] == reverse("admin:login")
    assert entries(actions.AUTHN_LOGIN_LOCK)[0].subject == f"staff:{newcomer.pk}"
