"""Every periodic task beat sends (``CELERY_BEAT_SCHEDULE``), in UTC, away from the 02:00-03:00
local DST hour.

settings.py reads the variables (``RETENTION_SCHEDULE_SECONDS``, ``PRIVACY_LOG_SEALER``,
``PRIVACY_LOG_SEAL_SECONDS``) and builds the schedule here; this module reads no environment.
"""

from __future__ import annotations

from celery.schedules import crontab

DAILY: dict[str, dict] = {
    # Retention (retention/tasks.py): one rule per hour, accounts first, after 04:00 UTC
    # (05:00/06:00 in Brussels), well clear of the 02:00-03:00 local DST hour and of school time.
    "retention-accounts": {
        # Every day at 04:00 UTC.
        "task": "retention.purge_accounts",
        "schedule": crontab(minute=0, hour=4),
    },
    "retention-snapshots": {
        # Every day at 05:00 UTC.
        "task": "retention.purge_snapshots",
        "schedule": crontab(minute=0, hour=5),
    },
    "retention-privacy-log": {
        # Every day at 06:00 UTC.
        "task": "retention.prune_privacy_log",
        "schedule": crontab(minute=0, hour=6),
    },
    # The DPO's workbench (dpo/tasks.py).
    "dpo-verify-privacy-log": {
        # Every day at 03:00 UTC: the log checks itself, from the last checkpoint to the head.
        "task": "dpo.verify_privacy_log",
        "schedule": crontab(minute=0, hour=3),
    },
    "dpo-rollup": {
        # Every day at 03:30 UTC: the dashboard's counts of the last complete days.
        "task": "dpo.rollup",
        "schedule": crontab(minute=30, hour=3),
    },
    "dpo-check-breaches": {
        # Every day at 07:00 UTC (08:00/09:00 in Brussels): overdue breaches, mailed to the DPO.
        "task": "dpo.check_breaches",
        "schedule": crontab(minute=0, hour=7),
    },
    "dpo-data-quality-report": {
        # On the 1st of every month at 07:30 UTC: the draft data-quality report of last month.
        "task": "dpo.data_quality_report",
        "schedule": crontab(minute=30, hour=7, day_of_month=1),
    },
    "dpo-protocol-end": {
        # Every hour at minute 5: once the protocol's end date has come, destroy pupils' data.
        "task": "dpo.protocol_end",
        "schedule": crontab(minute=5),
    },
}


def beat_schedule(*, retention_every_seconds: int = 0) -> dict[str, dict]:
    """``DAILY``, copied. ``retention_every_seconds`` (RETENTION_SCHEDULE_SECONDS, tests and
    drills only): every retention task every N seconds on the clock instead of daily, so a
    production smoke test sees beat send them and a worker run them (on the clock like crontab,
    so two beats by mistake fire together as they would daily)."""
    schedule = {name: dict(entry) for name, entry in DAILY.items()}
    if retention_every_seconds:
        from ilearn_auth.schedules import EverySeconds

        for name, entry in schedule.items():
            if name.startswith("retention-"):
                entry["schedule"] = EverySeconds(retention_every_seconds)
    return schedule


def seal_entry(seconds: float) -> dict:
    """Every PRIVACY_LOG_SEAL_SECONDS (2 s): chain the entries written since."""
    return {
        "task": "privacy.seal_log",
        "schedule": seconds,
        "options": {"expires": seconds * 5},
    }
