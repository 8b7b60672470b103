"""The retention rules of the protocol, as data read from settings.

Each rule names what it deletes and after how many days. A row is expired when its moment
(a login, a log entry) lies strictly before ``now - period``: a row exactly one period old is
kept, one a second older is deleted. Periods are whole days (86,400 s), not calendar years, so
the 3-year rule (1,095 days) removes an account one day before three calendar years that
contain a 29 February have passed: the privacy-friendly side of the protocol's "3 jaar".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

SNAPSHOTS = "snapshots"
ACCOUNTS = "accounts"
PRIVACY_LOG = "privacy_log"

# Accounts first: their snapshots go with them, so the snapshot rule has less left to do.
RULE_ORDER = (ACCOUNTS, SNAPSHOTS, PRIVACY_LOG)


@dataclass(frozen=True)
class Rule:
    name: str
    days: int
    description: str

    def cutoff(self, now: datetime | None = None) -> datetime:
        """Rows strictly older than this moment are expired."""
        return (now or timezone.now()) - timedelta(days=self.days)


def rules() -> dict[str, Rule]:
    """Every rule, in the order a full run applies them."""
    all_rules = [
        Rule(
            ACCOUNTS,
            settings.RETENTION_ACCOUNT_DAYS,
            "pupil accounts (and all they own) after their last login",
        ),
        Rule(
            SNAPSHOTS,
            settings.RETENTION_SNAPSHOT_DAYS,
            "identity snapshots after the login that wrote them",
        ),
        # The privacy app owns this period (its setting, its documentation).
        Rule(
            PRIVACY_LOG,
            settings.PRIVACY_LOG_RETENTION_DAYS,
            "privacy-log entries after they were written",
        ),
    ]
    return {rule.name: rule for rule in all_rules}


def rule(name: str) -> Rule:
    try:
        return rules()[name]
    except KeyError:
        raise ValueError(
            f"unknown retention rule {name!r}; known: {', '.join(RULE_ORDER)}"
        ) from None


def batch_size() -> int:
    return settings.RETENTION_BATCH_SIZE


def period_start(now: datetime | None = None) -> datetime:
    """The start of the schedule period ``now`` falls in. A retention task that finds its rule
    succeeded since then is a second send of the same period (a second beat), and skips.
    Daily: midnight UTC (the runs are at 04:00-06:00 UTC, so a late copy or a retry still falls
    in its own day). With ``RETENTION_SCHEDULE_SECONDS``: the last multiple of that period on the
    clock, where ``ilearn_auth.schedules.EverySeconds`` fires."""
    now = now or timezone.now()
    seconds = settings.RETENTION_SCHEDULE_SECONDS
    if seconds:
        return datetime.fromtimestamp(math.floor(now.timestamp() / seconds) * seconds, tz=UTC)
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def lock_retry_seconds() -> float:
    """How long a task waits before trying again when another run holds the lock: 5 minutes
    for the daily runs, 1 s on the tests' short schedule."""
    return 300.0 if not settings.RETENTION_SCHEDULE_SECONDS else 1.0


# The Celery task that applies each rule (retention/tasks.py), to find its schedule.
RULE_TASKS = {
    ACCOUNTS: "retention.purge_accounts",
    SNAPSHOTS: "retention.purge_snapshots",
    PRIVACY_LOG: "retention.prune_privacy_log",
}
# A crontab that matches no day within this many days is not a daily job: no date is promised.
_SCHEDULE_HORIZON_DAYS = 400


def removed_at(name: str, moment: datetime) -> datetime:
    """When the rule's scheduled run removes a row stamped ``moment``, if nothing changes.

    A run at ``t`` removes the row when ``moment < t - period``, so this is the first scheduled
    run strictly after ``moment + period`` (``CELERY_BEAT_SCHEDULE``, in UTC). Without a
    schedule for the rule (a beat that is not ours), the moment the row expires.
    """
    expires = moment + timedelta(days=rule(name).days)
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if entry.get("task") == RULE_TASKS[name]:
            run = _next_run(entry["schedule"], after=expires)
            if run is not None:
                return run
    return expires


def _next_run(schedule, *, after: datetime) -> datetime | None:
    """The first time a celery ``crontab`` fires strictly after ``after`` (UTC, to the minute)."""
    if not isinstance(schedule, crontab):
        return None
    times = sorted((hour, minute) for hour in schedule.hour for minute in schedule.minute)
    day = after.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(_SCHEDULE_HORIZON_DAYS):
        # crontab counts weekdays from Sunday = 0; Python's isoweekday() gives Sunday = 7.
        if (
            day.isoweekday() % 7 in schedule.day_of_week
            and day.day in schedule.day_of_month
            and day.month in schedule.month_of_year
        ):
            for hour, minute in times:
                run = day.replace(hour=hour, minute=minute)
                if run > after:
                    return run
        day += timedelta(days=1)
    return None
