"""Staff sign in with a password, then a second factor; without one they reach nothing."""

from __future__ import annotations

import time
from importlib import import_module

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from privacy import actions
from staff.tests.conftest import (
    CODE,
    ENROL,
    LOGIN,
    code_for,
    entries,
    make_staff,
    sign_in,
    sign_in_password,
)

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


def test_it_asks_for_the_code_after_the_password(client, support, admin_index):
    """The right password leads to the code page, and the admin stays shut until the code."""
    response = sign_in_password(client, support.username)
    assert response.status_code == 302
    assert response["Location"] == CODE
    assert client.get(admin_index)["Location"].startswith(LOGIN)
    pupils = client.get(reverse("admin:pupils_pupil_changelist"))
    assert pupils.status_code == 302
    assert client.get("/admin/dashboard/").status_code == 302  # the DPO's dashboard too
    assert client.get(LOGIN)["Location"] == CODE


def test_it_lets_staff_in_with_the_password_and_the_code(client, support, admin_index):
    """Both factors open the admin and the pupil list a Support member may see."""
    sign_in(client, support)
    assert client.get(admin_index).status_code == 200
    assert client.get(reverse("admin:pupils_pupil_changelist")).status_code == 200
    successes = entries(actions.AUTHN_LOGIN_SUCCESS, subject=f"staff:{support.pk}")
    stages = [entry.details for entry in successes]
    assert stages == [
        {"stage": "password", "second_factor": "pending"},
        {"stage": "second_factor", "second_factor": "totp"},
    ]


def test_it_keeps_where_the_staff_member_was_going(client, support):
    """``next`` survives both steps (and only a local address is followed)."""
    target = reverse("admin:pupils_pupil_changelist")
    response = sign_in_password(client, support.username, next=target)
    assert response["Location"] == f"{CODE}?next={target.replace('/', '%2F')}"
    response = client.post(response["Location"], {"code": code_for(support), "next": target})
    assert response["Location"] == target
    other = make_staff("other-support", "Support")
    client.logout()
    sign_in_password(client, other.username)
    response = client.post(CODE, {"code": code_for(other), "next": "https://evil.example/"})
    assert response["Location"] == reverse("admin:index")


def test_it_rotates_the_session_key_at_each_step(client, support):
    """Password and code each give the session a new key: a key known before is worth nothing."""
    anonymous = client.session
    anonymous["seen_login_page"] = True
    anonymous.save()
    before = anonymous.session_key
    sign_in_password(client, support.username)
    after_password = client.session.session_key
    assert after_password != before
    assert not SessionStore(session_key=before).exists(before)
    client.post(CODE, {"code": code_for(support)})
    assert client.session.session_key not in (before, after_password)
    assert not SessionStore(session_key=after_password).exists(after_password)


def test_it_refuses_a_wrong_code_with_a_clear_message(client, support):
    """A wrong code: the page says so, the failure is logged by pseudonym, no way in."""
    sign_in_password(client, support.username)
    response = client.post(CODE, {"code": "000000" if code_for(support) != "000000" else "111111"})
    assert response.status_code == 200
    assert "klopt niet" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302
    [failure] = entries(actions.AUTHN_LOGIN_FAIL, subject=f"staff:{support.pk}")
    assert (failure.outcome, failure.reason) == ("failure", "wrong_code")


def test_it_accepts_a_code_only_once(client, support):
    """A replayed TOTP code is refused with its own message, even in a fresh sign-in."""
    with time_machine.travel(time.time(), tick=False):
        code = code_for(support)
        sign_in_password(client, support.username)
        assert client.post(CODE, {"code": code}).status_code == 302
        client.post(reverse("admin:logout"))
        sign_in_password(client, support.username)
        response = client.post(CODE, {"code": code})
    assert response.status_code == 200
    assert "al gebruikt" in response.content.decode()
    assert entries(actions.AUTHN_LOGIN_FAIL)[-1].reason == "code_reused"


def test_it_refuses_an_expired_code(client, support):
    """A code from two minutes ago (beyond one step of tolerance) no longer works."""
    old = code_for(support, at=time.time() - 120)
    if old == code_for(support):
        pytest.skip("the old and the current code happen to be equal")
    sign_in_password(client, support.username)
    response = client.post(CODE, {"code": old})
    assert "klopt niet" in response.content.decode()


def test_it_accepts_a_recovery_code_once(client, support):
    """A recovery code gets in once (logged, with the codes left) and never again."""
    device = StaticDevice.objects.create(user=support, name="recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    StaticToken.objects.create(device=device, token="wxyz6789")
    sign_in_password(client, support.username)
    assert client.post(CODE, {"code": "ABCD 2345"}).status_code == 302
    [used] = entries(actions.STAFF_RECOVERY_CODE_USED)
    assert (used.subject, used.details) == (f"staff:{support.pk}", {"left": 1})
    assert entries(actions.AUTHN_LOGIN_SUCCESS)[-1].details["second_factor"] == "recovery_code"
    client.post(reverse("admin:logout"))
    sign_in_password(client, support.username)
    response = client.post(CODE, {"code": "abcd2345"})
    assert response.status_code == 200
    assert "klopt niet" in response.content.decode()


def test_it_sends_a_staff_member_without_a_device_to_enrol_only(client, db):
    """No device yet: the password leads to enrolment, and every other admin page stays shut."""
    newcomer = make_staff("nina-new", "Support", device=False)
    response = sign_in_password(client, newcomer.username)
    assert response["Location"] == ENROL
    assert client.get(CODE)["Location"] == ENROL
    for url in (reverse("admin:index"), reverse("admin:pupils_pupil_changelist")):
        assert client.get(url).status_code == 302
    [success] = entries(actions.AUTHN_LOGIN_SUCCESS)
    assert success.details == {"stage": "password", "second_factor": "none"}


def test_it_refuses_a_wrong_password_and_logs_it_by_pseudonym(client, support):
    """A wrong password is logged for the account's staff pseudonym."""
    response = sign_in_password(client, support.username, password="wrong-password-123")
    assert response.status_code == 200
    [failure] = entries(actions.AUTHN_LOGIN_FAIL)
    assert (failure.subject, failure.reason) == (f"staff:{support.pk}", "wrong_password")


def test_it_never_writes_an_unknown_typed_name_in_clear(client, db):
    """A name that matches no account is logged as a keyed hash only."""
    sign_in_password(client, "Jan.Peeters@school.example", password="whatever-it-is-1")
    [failure] = entries(actions.AUTHN_LOGIN_FAIL)
    assert failure.subject.startswith("unknown_account:")
    assert "peeters" not in str(failure.__dict__).lower()


def test_it_refuses_a_user_who_is_not_staff(client, django_user_model):
    """The right password of a non-staff account does not open the admin (and is counted)."""
    django_user_model.objects.create_user("plain-user", password="a-long-staff-password-1")
    response = sign_in_password(client, "plain-user")
    assert response.status_code == 200
    assert entries(actions.AUTHN_LOGIN_FAIL)[0].reason == "wrong_password"


def test_it_signs_out_a_half_signed_in_staff_member(client, support):
    """The code page's sign-out button ends the session (and is logged)."""
    sign_in_password(client, support.username)
    response = client.post(reverse("admin:staff_sign_out"))
    assert response["Location"] == f"{LOGIN}?ended=signed_out"
    assert client.get(CODE)["Location"] == reverse("admin:login")
    assert entries(actions.AUTHN_LOGOUT)[0].subject == f"staff:{support.pk}"


def test_it_asks_a_superuser_for_the_second_factor_too(client, django_user_model):
    """Superusers included: the password alone opens nothing."""
    root = django_user_model.objects.create_superuser("root", password="a-long-staff-password-1")
    response = sign_in_password(client, root.username)
    assert response["Location"] == ENROL
    assert client.get(reverse("admin:index")).status_code == 302
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 302


def test_it_speaks_english_when_asked(client, support, settings):
    """The code page follows the language switch (Dutch first, English available)."""
    sign_in_password(client, support.username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    content = client.get(CODE).content.decode()
    assert "Type the six-digit code" in content
    wrong = "000000" if code_for(support) != "000000" else "111111"
    assert "That code is wrong" in client.post(CODE, {"code": wrong}).content.decode()


def test_it_leaves_pupils_sessions_alone(client, db):
    """A session without a staff sign-in has no staff time-outs (pupils are not affected)."""
    pupil_like = get_user_model().objects.create_user("pupil-0000")
    client.force_login(pupil_like)
    with time_machine.travel(time.time() + 3 * 3600, tick=False):
        assert "_auth_user_id" in client.session
        client.get("/healthz")
        assert "_auth_user_id" in client.session


def test_it_logs_a_non_staff_account_like_an_unknown_name(client, django_user_model):
    """A failed sign-in as a non-staff user (a pupil's account) never names that account."""
    user = django_user_model.objects.create_user("pupil-1234", password="a-long-staff-password-1")
    sign_in_password(client, user.username, password="wrong-password-123")
    [failure] = entries(actions.AUTHN_LOGIN_FAIL)
    assert failure.subject.startswith("unknown_account:")
