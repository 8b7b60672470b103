"""Test helpers for other apps' tests: a staff member who passed the second factor."""

from __future__ import annotations

import datetime as dt

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.models import StaffProfile


def mark_verified(client, user) -> TOTPDevice:
    """Give ``user`` a confirmed TOTP device and mark ``client``'s session as verified with it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test device", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def undertaking_signed(user, on: dt.date = dt.date(2026, 9, 1)) -> None:
    """Record a confidentiality undertaking, so ``user`` may join Support or DPO."""
    StaffProfile.objects.update_or_create(user=user, defaults={"undertaking_signed_on": on})
