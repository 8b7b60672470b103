"""The second factor: enrolling a TOTP app with ten recovery codes, checking a code, resetting.

A code is checked against the staff member's confirmed TOTP device first (six digits), else
against their recovery codes (single use: django-otp deletes a used one). Ways a code fails,
each with its own reason for the page and the privacy log:

- ``wrong_code``: no device accepts it (a typo, a code from another account, a used recovery
  code, an expired TOTP code: older than one step either side of now);
- ``code_reused``: a TOTP code already accepted once (django-otp remembers the last time step
  used and accepts only later ones, so a code works once).
"""

from __future__ import annotations

import re
from binascii import unhexlify
from dataclasses import dataclass

from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import privacy
from privacy import actions

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
_TOTP_CODE = re.compile(r"^[0-9]{6}$")


@dataclass(frozen=True)
class Check:
    device: object | None
    method: str = ""  # "totp" or "recovery_code" when accepted
    reason: str = ""  # "wrong_code" or "code_reused" when refused


def normalize(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def confirmed_totp_devices():
    """What "has a second factor" means: a confirmed authenticator app. Filter on the user."""
    return TOTPDevice.objects.filter(confirmed=True)


def confirmed_totp_device(user) -> TOTPDevice | None:
    return confirmed_totp_devices().filter(user=user).first()


def has_second_factor(user) -> bool:
    return confirmed_totp_devices().filter(user=user).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def second_factor_check(*, user, code: str) -> Check:
    code = normalize(code)
    if _TOTP_CODE.match(code):
        device = confirmed_totp_device(user)
        if device is None:
            return Check(None, reason="wrong_code")
        if device.verify_token(code):
            return Check(device, method="totp")
        return Check(None, reason="code_reused" if _is_replay(device, code) else "wrong_code")
    for device in StaticDevice.objects.filter(user=user, confirmed=True):
        if code and device.verify_token(code):
            return Check(device, method="recovery_code")
    return Check(None, reason="wrong_code")


def pending_totp_device(user) -> TOTPDevice:
    """The unconfirmed device an enrolment shows as a QR code (the same one until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def second_factor_enrol(*, user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm ``device`` with a first code; return the ten new recovery codes, or None."""
    if device.user_id != user.pk or device.confirmed or not _TOTP_CODE.match(normalize(code)):
        return None
    if not device.verify_token(normalize(code)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c) for c in codes])
    privacy.log(
        actions.STAFF_DEVICE_ENROLLED,
        actor=f"staff:{user.pk}",
        subject=f"staff:{user.pk}",
        details={"method": "totp", "recovery_codes": RECOVERY_CODE_COUNT},
    )
    return codes


@transaction.atomic
def second_factor_reset(*, user, by) -> bool:
    """Remove every device of ``user`` (a DPO action): their next request must enrol again."""
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    if not removed:
        return False
    privacy.log(
        actions.STAFF_DEVICE_REMOVED,
        actor=f"staff:{by.pk}",
        subject=f"staff:{user.pk}",
    )
    return True


def _is_replay(device: TOTPDevice, code: str) -> bool:
    """Was ``code`` the one accepted at the device's last used time step (or just before)?"""
    if device.last_t < 0:
        return False
    totp = TOTP(unhexlify(device.key.encode()), device.step, device.t0, device.digits)
    for t in range(device.last_t - device.tolerance, device.last_t + 1):
        totp.time = device.t0 + t * device.step
        if f"{totp.token():0{device.digits}d}" == code:
            return True
    return False
