"""Enrolling a second factor: a QR code, a first code, ten recovery codes shown once."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy import actions
from staff.tests.conftest import CODE, ENROL, code_of, entries, make_staff, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


@pytest.fixture
def newcomer(client, db):
    user = make_staff("nina-new", "Support", device=False)
    sign_in_password(client, user.username)
    return user


def test_it_shows_a_qr_code_and_the_key(client, newcomer):
    """The enrolment page renders the QR code server-side (SVG) and the key to type."""
    response = client.get(ENROL)
    content = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in content
    device = TOTPDevice.objects.get(user=newcomer)
    assert not device.confirmed
    assert 'id="enrol-secret"' in content
    # The same device (and QR code) until it is confirmed.
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1


def test_it_enrols_with_a_first_code_and_shows_ten_recovery_codes_once(client, newcomer):
    """A right first code confirms the device, signs in fully and shows the codes once."""
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=newcomer)
    response = client.post(ENROL, {"code": code_of(device)})
    assert response.status_code == 200
    codes = [t.token for t in StaticToken.objects.filter(device__user=newcomer)]
    assert len(codes) == 10
    content = response.content.decode()
    assert all(code in content for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("admin:index")).status_code == 200
    # Never shown again: the enrolment page now leads away.
    assert client.get(ENROL).status_code == 302
    [enrolled] = entries(actions.STAFF_DEVICE_ENROLLED)
    assert (enrolled.actor, enrolled.subject) == (f"staff:{newcomer.pk}", f"staff:{newcomer.pk}")
    assert entries(actions.AUTHN_LOGIN_SUCCESS)[-1].details["second_factor"] == "totp"


def test_it_refuses_a_wrong_first_code(client, newcomer):
    """A wrong first code leaves the device unconfirmed and counts as a failure."""
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=newcomer)
    wrong = "123456" if code_of(device) != "123456" else "654321"
    response = client.post(ENROL, {"code": wrong})
    assert "klopt niet" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert entries(actions.AUTHN_LOGIN_FAIL)[0].reason == "wrong_code"
    assert client.get(CODE)["Location"] == ENROL


def test_it_lets_nobody_enrol_without_the_password(client, db):
    """The enrolment page needs a password sign-in first."""
    assert client.get(ENROL)["Location"] == reverse("admin:login")
