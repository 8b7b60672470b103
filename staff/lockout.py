"""Counting failed staff sign-ins and locking an account or a client address.

What counts: a wrong password (or a right one for an account that may not use the admin), and
a wrong, expired or replayed second-factor code. What locks: ``STAFF_LOCKOUT_ACCOUNT_FAILURES``
failures for one account, or ``STAFF_LOCKOUT_ADDRESS_FAILURES`` from one address, within
``STAFF_LOCKOUT_WINDOW_SECONDS``; the lock lasts ``STAFF_LOCKOUT_SECONDS`` or until the DPO
lifts it. While locked, nothing is tried (the right password does not get in) and nothing is
counted, so a lock is never extended by an attacker; failures before a lock never count again.

Keys hold no clear text: ``staff:<pk>`` for an existing account, ``unknown_account:<hash>`` for a
typed name that matches none, and the keyed hash of the client address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

import privacy
from privacy import actions
from privacy.pseudonyms import pseudonymize
from staff.models import Lockout, SignInFailure


@dataclass(frozen=True)
class Account:
    """Who a sign-in attempt is for: an existing user, or a typed name known only as a hash."""

    key: str
    user: object | None


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or, when that is a trusted proxy, the right-most untrusted X-Forwarded-For.

    Walking from the right skips our own proxies; the first address they did not add is the
    client as far as we can trust it (anything left of it the client may have written itself).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted_networks()
    if not trusted or not _in(remote, trusted):
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    for candidate in reversed(forwarded):
        if not _valid(candidate):
            break
        if not _in(candidate, trusted):
            return candidate
    return remote


def account_for(username: str) -> Account:
    # Only a staff account is named by its pseudonym; any other name (a pupil's user, a typo)
    # is a keyed hash, so a log entry never links a guess to a pupil's account.
    users = get_user_model().objects.filter(username=username, is_staff=True)
    user = users.first() if username else None
    if user is not None:
        return Account(key=f"staff:{user.pk}", user=user)
    return Account(key=f"unknown_account:{pseudonymize(username)}", user=None)


def account_of(user) -> Account:
    return Account(key=f"staff:{user.pk}", user=user)


def address_key(address: str) -> str:
    return pseudonymize(f"address:{address}")


def active_lockout(account: Account, address: str) -> Lockout | None:
    """The lock that ends last among those on this account or address, if any."""
    return (
        Lockout.objects.filter(
            key__in=[account.key, _address_lock_key(address)],
            until__gt=timezone.now(),
            lifted_at__isnull=True,
        )
        .order_by("-until")
        .first()
    )


@transaction.atomic
def signin_failure_record(*, account: Account, address: str, stage: str) -> Lockout | None:
    """Count one failure; lock the account or the address when it reaches the limit."""
    now = timezone.now()
    address_hash = address_key(address)
    SignInFailure.objects.create(
        at=now, account_key=account.key, address_key=address_hash, stage=stage
    )
    locks = []
    account_limit = settings.STAFF_LOCKOUT_ACCOUNT_FAILURES
    if _failures(field="account_key", value=account.key, now=now) >= account_limit:
        locks.append(_lock(Lockout.Scope.ACCOUNT, account.key, account.user, now))
    address_lock = _address_lock_key(address)
    address_limit = settings.STAFF_LOCKOUT_ADDRESS_FAILURES
    if _failures(field="address_key", value=address_hash, now=now, lock_key=address_lock) >= (
        address_limit
    ):
        locks.append(_lock(Lockout.Scope.ADDRESS, address_lock, None, now))
    return locks[0] if locks else None


@transaction.atomic
def lockout_lift(*, lockout: Lockout, by) -> None:
    if lockout.lifted_at is not None:
        return
    lockout.lifted_at = timezone.now()
    lockout.lifted_by = by
    lockout.save(update_fields=["lifted_at", "lifted_by"])
    privacy.log(
        actions.STAFF_UNLOCKED,
        actor=f"staff:{by.pk}",
        subject=lockout.key,
        details={"scope": lockout.scope, "locked_at": lockout.locked_at.isoformat()},
    )


def lockouts_lift_for_user(*, user, by) -> int:
    active = Lockout.objects.filter(
        key=f"staff:{user.pk}", until__gt=timezone.now(), lifted_at__isnull=True
    )
    count = 0
    for lockout in active:
        lockout_lift(lockout=lockout, by=by)
        count += 1
    return count


def _failures(*, field: str, value: str, now, lock_key: str | None = None) -> int:
    since = now - timedelta(seconds=settings.STAFF_LOCKOUT_WINDOW_SECONDS)
    last_lock = Lockout.objects.filter(key=lock_key or value).aggregate(last=Max("locked_at"))
    if last_lock["last"] and last_lock["last"] >= since:
        since = last_lock["last"]
    return SignInFailure.objects.filter(**{field: value}, at__gt=since).count()


def _lock(scope: str, key: str, user, now) -> Lockout:
    lockout = Lockout.objects.create(
        scope=scope,
        key=key,
        user=user,
        locked_at=now,
        until=now + timedelta(seconds=settings.STAFF_LOCKOUT_SECONDS),
    )
    privacy.log(
        actions.AUTHN_LOGIN_LOCK,
        actor="system",
        subject=key,
        outcome="failure",
        reason="too_many_failures",
        details={"scope": scope, "until": lockout.until.isoformat()},
    )
    return lockout


def _address_lock_key(address: str) -> str:
    return f"address:{address_key(address)}"


def _trusted_networks() -> list:
    # settings.py has refused an entry that is not an address or a network.
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in settings.TRUSTED_PROXIES]


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _in(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
