"""The protocol's end (protocol art. 11): logins refused from a date, then every pupil's data
destroyed, leaving the privacy log.

What can go wrong, and what happens:
- the date lies in the past: refused (``ProtocolEndError``), nothing written;
- an end was set before: refused, whatever the date (one end, ever; the table holds one row);
- a process still believes there is no end: it reads the date again after at most
  ``PROTOCOL_END_CACHE_SECONDS``, and the destruction waits that long after setting an end for
  today, so no pupil gets in (and is recreated) after the destruction started;
- the destruction dies half-way: pupils are deleted in committed batches; the hourly task
  finds ``destroyed_at`` empty and runs it again, which finishes the job.

The login path asks ``logins_refused()`` once per login; it costs no SQL statement except once
per process every ``PROTOCOL_END_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from dpo.models import Alert, ProtocolEnd
from dpo.services import brussels_today
from privacy import actions
from privacy.services import privacy_log_write
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from retention.services import account_purge_inactive


class ProtocolEndError(Exception):
    """The end cannot be set (a past date, or an end set before)."""


@dataclass(frozen=True)
class Inventory:
    pupils: int
    snapshots: int
    aliases: int

    def as_dict(self) -> dict[str, int]:
        return {"pupils": self.pupils, "snapshots": self.snapshots, "aliases": self.aliases}


# --- The login path's question, cached per process ---------------------------------------------
_cache: dict[str, object] = {"read_at": None, "ends_on": None}


def logins_refused(*, today: date | None = None) -> bool:
    """Whether the protocol has ended (Brussels date on or after the end date)."""
    ends_on = _ends_on()
    return ends_on is not None and (today or brussels_today()) >= ends_on


def _ends_on() -> date | None:
    read_at = _cache["read_at"]
    now = time.monotonic()
    if read_at is None or now - read_at >= settings.PROTOCOL_END_CACHE_SECONDS:
        _cache["ends_on"] = (
            ProtocolEnd.objects.values_list("ends_on", flat=True).filter(pk=1).first()
        )
        _cache["read_at"] = now
    return _cache["ends_on"]


def forget_cached_end() -> None:
    _cache["read_at"] = None


# --- Setting the end ----------------------------------------------------------------------------
def inventory() -> Inventory:
    return Inventory(
        pupils=Pupil.objects.count(),
        snapshots=IdentitySnapshot.objects.count(),
        aliases=AccountAlias.objects.count(),
    )


def protocol_end_set(*, ends_on: date, actor: str, today: date | None = None) -> ProtocolEnd:
    today = today or brussels_today()
    if ends_on < today:
        raise ProtocolEndError(
            f"The end date {ends_on} lies in the past: it must be today ({today}) or later."
        )
    existing = ProtocolEnd.objects.filter(pk=1).first()
    if existing:
        raise ProtocolEndError(
            f"The protocol's end was already set on {existing.set_at:%Y-%m-%d} "
            f"(end date {existing.ends_on}); it cannot be set twice."
        )
    try:
        with transaction.atomic():
            end = ProtocolEnd.objects.create(
                pk=1, ends_on=ends_on, set_at=timezone.now(), set_by=actor
            )
            privacy_log_write(
                action=actions.PROTOCOL_END_SET,
                actor=actor,
                subject="protocol:end",
                details={"ends_on": ends_on.isoformat()},
            )
    except IntegrityError:
        raise ProtocolEndError(
            "The protocol's end was set meanwhile; it cannot be set twice."
        ) from None
    forget_cached_end()
    return end


# --- Destroying the pupils' data ----------------------------------------------------------------
def protocol_end_destroy(*, actor: str = "system") -> ProtocolEnd | None:
    """Destroy every pupil's data once the end date has come; None when there is nothing to do.

    Snapshots, aliases and Django users go with their pupils (the cascade retention uses);
    sessions of those users stop working at their next request (the user is gone). The
    privacy log stays, and receives the destruction report.
    """
    now = timezone.now()
    end = ProtocolEnd.objects.filter(pk=1, destroyed_at__isnull=True).first()
    if end is None or brussels_today(now) < end.ends_on:
        return None
    if end.set_at > now - timedelta(seconds=settings.PROTOCOL_END_CACHE_SECONDS):
        # Every process must have seen the end before the last pupils go (module docstring).
        time.sleep(settings.PROTOCOL_END_CACHE_SECONDS)
    before = inventory()
    started = timezone.now()
    deleted = account_purge_inactive(cutoff=timezone.now() + timedelta(days=1))
    finished = timezone.now()
    after = inventory()
    report = {
        "ends_on": end.ends_on.isoformat(),
        "run_by": actor,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "before": before.as_dict(),
        "deleted_pupils": deleted,
        "after": after.as_dict(),
    }
    with transaction.atomic():
        end.destroyed_at = finished
        end.report = report
        end.save(update_fields=["destroyed_at", "report"])
        Alert.objects.get_or_create(kind=Alert.Kind.PROTOCOL_END, subject="protocol:end")
        privacy_log_write(
            action=actions.PROTOCOL_END_DESTROYED,
            actor=actor,
            subject="protocol:end",
            details=report,
        )
    return end
