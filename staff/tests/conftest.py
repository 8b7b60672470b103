"""Personas and helpers for the staff sign-in tests: real sign-ins, no force_login shortcut."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.models import PrivacyLogEntry
from staff.testing import undertaking_signed

PASSWORD = "a-long-staff-password-1"
LOGIN = "/admin/login/"
CODE = "/admin/sign-in/code/"
ENROL = "/admin/sign-in/enrol/"


def make_staff(username: str, *groups: str, device: bool = True, **fields):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, is_staff=True, **fields
    )
    if set(groups) & {"Support", "DPO"}:
        undertaking_signed(user)  # personal-data groups need the undertaking first
    user.groups.set(Group.objects.filter(name__in=groups))
    if device:
        TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def code_for(user, *, at: float | None = None) -> str:
    """The code the staff member's app shows at ``at`` (default: now)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return code_of(device, at=at)


def code_of(device: TOTPDevice, *, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


def sign_in_password(client, username: str, password: str = PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def sign_in(client, user):
    """Both factors, as a person would: password, then the current code."""
    response = sign_in_password(client, user.username)
    assert response.status_code == 302, response.content[:500]
    response = client.post(CODE, {"code": code_for(user)})
    assert response.status_code == 302
    return response


def entries(action: str, **filters):
    return list(PrivacyLogEntry.objects.filter(action=action, **filters).order_by("sequence"))


@pytest.fixture
def support(db):
    return make_staff("sam-support", "Support")


@pytest.fixture
def dpo(db):
    return make_staff("dana-dpo", "DPO")


@pytest.fixture
def admin_index():
    return reverse("admin:index")
