"""One Celery task per retention rule, scheduled daily in ``CELERY_BEAT_SCHEDULE``.

Thin: each calls ``retention_run`` for its rule. A lost database connection is retried with
backoff; ``acks_late`` means a worker killed mid-run leaves the message to be redelivered, and
the rerun finishes what committed batches left. A task that finds the lock held (another rule
running) tries again a few minutes later; one whose rule already succeeded in the same schedule
period (a duplicate delivery, a second beat) skips.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from retention import policy
from retention.services import SKIPPED_LOCKED, retention_run

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 60,
    "retry_backoff_max": 30 * 60,
    "retry_jitter": True,
    "max_retries": 6,
    "acks_late": True,
}
# While another run holds the lock: 24 tries, 5 minutes apart for the daily schedule (2 hours).
LOCKED_RETRIES = 24


def _run(task: Task, rule: str) -> dict:
    # Once per schedule period, however many times the task is sent: a second beat started by
    # mistake sends every task twice, and the copy then skips (the log and the run say so).
    since = policy.period_start()
    run = retention_run(rules=[rule], dry_run=False, trigger="task", unless_done_since=since)
    if run.error == SKIPPED_LOCKED:
        # Another rule's run (or a manual one) holds the lock: this rule has not run yet, so
        # try again shortly rather than wait a day; a copy of the same rule then finds it done.
        raise task.retry(countdown=policy.lock_retry_seconds(), max_retries=LOCKED_RETRIES)
    return {"run": run.pk, "status": run.status, "counts": run.counts}


@shared_task(name="retention.purge_accounts", bind=True, **RETRY)
def purge_accounts(self: Task) -> dict:
    return _run(self, policy.ACCOUNTS)


@shared_task(name="retention.purge_snapshots", bind=True, **RETRY)
def purge_snapshots(self: Task) -> dict:
    return _run(self, policy.SNAPSHOTS)


@shared_task(name="retention.prune_privacy_log", bind=True, **RETRY)
def prune_privacy_log(self: Task) -> dict:
    return _run(self, policy.PRIVACY_LOG)
