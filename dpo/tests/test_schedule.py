"""Every DPO task is registered and scheduled by beat, in UTC."""

from __future__ import annotations

from django.conf import settings

from ilearn_auth.celery import app


def test_every_dpo_task_is_scheduled_and_registered():
    app.loader.import_default_modules()
    scheduled = {
        entry["task"]: entry["schedule"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"].startswith("dpo.")
    }
    assert set(scheduled) == {
        "dpo.verify_privacy_log",
        "dpo.rollup",
        "dpo.check_breaches",
        "dpo.data_quality_report",
        "dpo.protocol_end",
    }
    assert all(task in app.tasks for task in scheduled)
    assert "dpo.send_alerts" in app.tasks  # queued by the others, never scheduled
    daily = ("dpo.verify_privacy_log", "dpo.rollup", "dpo.check_breaches")
    for task in daily:
        assert len(scheduled[task].hour) == 1 and len(scheduled[task].minute) == 1
        assert scheduled[task].day_of_week == set(range(7))
    assert scheduled["dpo.data_quality_report"].day_of_month == {1}
    assert len(scheduled["dpo.protocol_end"].hour) == 24
