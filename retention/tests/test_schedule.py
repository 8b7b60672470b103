from __future__ import annotations

from django.conf import settings

from ilearn_auth.celery import app


def test_it_schedules_every_rule_daily_outside_the_dst_hour():
    """Each retention task is a registered task, run once a day between 03:00 and 24:00 UTC,
    so never in the 02:00-03:00 Brussels hour that DST skips or repeats."""
    app.loader.import_default_modules()
    entries = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"].startswith("retention.")
    }
    tasks = {entry["task"] for entry in entries.values()}
    assert tasks == {
        "retention.purge_accounts",
        "retention.purge_snapshots",
        "retention.prune_privacy_log",
    }
    for entry in entries.values():
        assert entry["task"] in app.tasks
        schedule = entry["schedule"]
        assert len(schedule.hour) == 1 and len(schedule.minute) == 1
        assert schedule.day_of_week == set(range(7))
        assert min(schedule.hour) >= 3
