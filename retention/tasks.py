"""One Celery task per retention rule, scheduled daily in ``CELERY_BEAT_SCHEDULE``.

Thin: each calls ``retention_run`` for its rule. A lost database connection is retried with
backoff; ``acks_late`` means a worker killed mid-run leaves the message to be redelivered, and
the rerun finishes what committed batches left (a duplicate delivery meets the lock and skips,
and so does a task sent again within half a schedule period of a successful run).
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from retention import policy
from retention.services import retention_run

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
}


def _run(rule: str) -> dict:
    # Once per schedule period, however many times the task is sent: a second beat started by
    # mistake sends every task twice, and the copy then skips (the log and the run say so).
    since = timezone.now() - policy.task_spacing()
    run = retention_run(rules=[rule], dry_run=False, trigger="task", unless_done_since=since)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="retention.purge_accounts", **RETRY)
def purge_accounts() -> dict:
    return _run(policy.ACCOUNTS)


@shared_task(name="retention.purge_snapshots", **RETRY)
def purge_snapshots() -> dict:
    return _run(policy.SNAPSHOTS)


@shared_task(name="retention.prune_privacy_log", **RETRY)
def prune_privacy_log() -> dict:
    return _run(policy.PRIVACY_LOG)
