"""The DPO's periodic tasks, scheduled in ``CELERY_BEAT_SCHEDULE``. Thin: each calls a service.

Mail goes out in its own task (``send_alerts``), queued after the work committed, so a mail
server that is down retries the mail only; the work (an overdue mark, a checkpoint) is kept and
the dashboard shows the pending alerts meanwhile.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from dpo import protocol, services

RETRY_DATABASE = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
}


@shared_task(
    name="dpo.send_alerts",
    autoretry_for=(smtplib.SMTPException, OSError, OperationalError, InterfaceError),
    retry_backoff=60,
    retry_backoff_max=60 * 60,
    retry_jitter=True,
    max_retries=12,
    acks_late=True,
)
def send_alerts() -> int:
    return services.alerts_send()


def _then_send_alerts() -> None:
    transaction.on_commit(send_alerts.delay)


@shared_task(name="dpo.check_breaches", **RETRY_DATABASE)
def check_breaches() -> int:
    overdue = services.breaches_mark_overdue()
    _then_send_alerts()
    return len(overdue)


@shared_task(name="dpo.verify_privacy_log", **RETRY_DATABASE)
def verify_privacy_log() -> dict:
    verification = services.privacy_log_selfcheck()
    _then_send_alerts()
    return {"ok": verification.ok, "head": verification.head_hash}


@shared_task(name="dpo.rollup", **RETRY_DATABASE)
def rollup() -> list[str]:
    return [day.isoformat() for day in services.rollup_recent()]


@shared_task(name="dpo.data_quality_report", **RETRY_DATABASE)
def data_quality_report() -> int | None:
    this_month = services.month_start(services.brussels_today())
    previous = services.month_start(this_month - timedelta(days=1))
    report = services.data_quality_report_draft(month=previous)
    return report.pk if report else None


@shared_task(name="dpo.protocol_end", **RETRY_DATABASE)
def protocol_end() -> bool:
    done = protocol.protocol_end_destroy() is not None
    if done:
        _then_send_alerts()
    return done
