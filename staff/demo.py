"""Demo staff for `make run`: one account per role, second factor enrolled from a fixed secret.

Only in demo mode (``DEBUG`` and ``LEERID_DEMO``, as `make run` sets them): with ``DEBUG`` off
nothing is created and the login page names no account. The password and the TOTP secrets are
public (they are in this file): these accounts must never exist on a real deployment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff.services import staff_undertaking_record

DEMO_PASSWORD = "demo-beheer-wachtwoord"  # noqa: S105 - public on purpose: demo mode only


@dataclass(frozen=True)
class DemoAccount:
    username: str
    group: str
    role: str

    @property
    def totp_key(self) -> str:
        """A fixed 20-byte secret (hex), the same on every `make run`."""
        return hashlib.sha1(f"i-learn-auth-demo:{self.username}".encode()).hexdigest()  # noqa: S324


DEMO_ACCOUNTS = (
    DemoAccount("demo-dpo", "DPO", "DPO"),
    DemoAccount("demo-agreements", "Agreements", "Agreements"),
    DemoAccount("demo-support", "Support", "Support"),
)


def demo_mode() -> bool:
    return bool(settings.DEBUG and settings.LEERID_DEMO)


def demo_accounts() -> tuple[DemoAccount, ...]:
    """The accounts the login page names: none outside demo mode."""
    return DEMO_ACCOUNTS if demo_mode() else ()


@transaction.atomic
def seed_demo_staff() -> list[str]:
    """Create (or repair) the demo staff accounts. Refuses outside demo mode."""
    if not demo_mode():
        raise ImproperlyConfigured("Demo staff accounts exist only with DEBUG and LEERID_DEMO on.")
    User = get_user_model()
    created = []
    for account in DEMO_ACCOUNTS:
        user, new = User.objects.get_or_create(
            username=account.username, defaults={"is_staff": True}
        )
        if new:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(account.username)
        # Need-to-know: the undertaking comes before a personal-data group.
        staff_undertaking_record(user=user, signed_on=dt.date(2026, 9, 1))
        user.groups.set([Group.objects.get(name=account.group)])
        TOTPDevice.objects.update_or_create(
            user=user,
            name="authenticator",
            defaults={"key": account.totp_key, "confirmed": True},
        )
    return created


def demo_code(username: str) -> str:
    """The TOTP code a demo account's authenticator would show now."""
    account = next((a for a in DEMO_ACCOUNTS if a.username == username), None)
    if account is None or not demo_mode():
        raise ImproperlyConfigured(f"{username!r} is not a demo account (or demo mode is off).")
    return f"{totp(bytes.fromhex(account.totp_key)):06d}"
