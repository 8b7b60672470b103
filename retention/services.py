"""The retention run and its purges, shared by the Celery tasks and ``run_retention``.

``retention_run`` applies the rules under the retention lock and records the run; each rule
is a purge function of ``retention/purges.py`` (``PURGES``), which says how they walk
their tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from django.utils import timezone

import privacy
from retention import policy
from retention.locking import retention_lock
from retention.models import RetentionRun
from retention.purges import (  # noqa: F401 - the purges, also called as services.<name>
    PURGES,
    Progress,
    Record,
    account_purge_inactive,
    privacy_log_purge_expired,
    snapshot_purge_expired,
)

logger = logging.getLogger(__name__)

# Why a run was skipped (``RetentionRun.error`` of a skipped run): a fixed text each.
SKIPPED_LOCKED = "another run holds the lock"
SKIPPED_DONE = "already ran this period"

# Called once per rule before it starts, with (rule name, rows it finds expired): a COUNT.
Expected = Callable[[str, int], None]


def retention_run(
    *,
    rules: Iterable[str] | None = None,
    dry_run: bool = False,
    trigger: str = "task",
    progress: Progress | None = None,
    expected: Expected | None = None,
    unless_done_since: datetime | None = None,
) -> RetentionRun:
    """Apply the given rules (default: all, in policy order) under the retention lock.

    Records a ``RetentionRun`` and writes one ``retention_purge`` privacy-log entry with the
    counts. When another run holds the lock, records this one as skipped and returns; so it
    does when ``unless_done_since`` is given and every rule asked for already succeeded since
    then (a second beat started by mistake sends each task twice: the copy skips). On an
    error the run is recorded as failed and the exception re-raised (Celery retries on it).
    ``progress`` hears of every committed batch; ``expected`` (progress bars) first hears
    how many rows each rule finds expired, which costs a count.

    A dry run counts what the real run would delete, rule after rule: a snapshot whose account
    the accounts rule deletes first is counted under accounts only (``_dry_count``).
    """
    names = _ordered(rules)
    with retention_lock() as acquired:
        if not acquired:
            logger.warning("retention run skipped: another run holds the lock")
            return _record_skipped(names, dry_run=dry_run, trigger=trigger, why=SKIPPED_LOCKED)
        if unless_done_since is not None and not dry_run and _done_since(names, unless_done_since):
            logger.warning(
                "retention run skipped: %s already ran since %s (a second beat?)",
                ", ".join(names),
                unless_done_since.isoformat(timespec="seconds"),
            )
            return _record_skipped(names, dry_run=dry_run, trigger=trigger, why=SKIPPED_DONE)
        run = _record_started(names, dry_run=dry_run, trigger=trigger)
        current = ""
        try:
            for current in names:
                earlier = names[: names.index(current)]
                _apply_rule(run, current, earlier, dry_run, progress=progress, expected=expected)
        except Exception as exc:
            run.status = RetentionRun.Status.FAILED
            run.error = f"{current}: {type(exc).__name__}"[:200]
            logger.exception("retention rule %s failed", current)
            _finish(run)
            raise
        run.status = RetentionRun.Status.SUCCESS
        _finish(run)
        return run


def _apply_rule(
    run: RetentionRun,
    rule: str,
    earlier: list[str],
    dry_run: bool,
    *,
    progress: Progress | None,
    expected: Expected | None,
) -> None:
    """One rule of a run: counted (dry run) or applied, the run's counts saved as it goes."""
    if dry_run:
        run.counts[rule] = _dry_count(rule, earlier=earlier)
    else:
        if expected is not None:
            # Earlier rules have already run: a plain count is exact here.
            expected(rule, PURGES[rule](dry_run=True))
        done_before = dict(run.counts)

        def saved(name: str, rows: int) -> None:
            # Saved in every batch's own transaction, so a run killed mid-rule shows
            # exactly what it deleted (and the next run logs it as interrupted).
            if rows:
                run.counts[name] = run.counts.get(name, 0) + rows
                RetentionRun.objects.filter(pk=run.pk).update(counts=run.counts)

        count = PURGES[rule](progress=progress, record=saved)
        run.counts = {**done_before, rule: count}
    RetentionRun.objects.filter(pk=run.pk).update(counts=run.counts)
    logger.info("retention rule %s: %s rows", rule, run.counts[rule])


def _dry_count(rule: str, *, earlier: list[str]) -> int:
    """What ``rule`` would delete once the ``earlier`` rules of the same run had deleted theirs.

    Only the accounts rule takes rows another rule counts: a pupil it deletes takes its
    snapshot along, so the snapshot rule would not find that snapshot any more.
    """
    if rule == policy.SNAPSHOTS and policy.ACCOUNTS in earlier:
        return snapshot_purge_expired(
            dry_run=True, unless_account_before=policy.rule(policy.ACCOUNTS).cutoff()
        )
    return PURGES[rule](dry_run=True)


def _record_started(names: list[str], *, dry_run: bool, trigger: str) -> RetentionRun:
    # We hold the lock, so any run still marked running died without finishing: it becomes
    # interrupted, and its privacy-log entry (with the batches it committed) is written now.
    for dead in RetentionRun.objects.filter(status=RetentionRun.Status.RUNNING):
        dead.status = RetentionRun.Status.INTERRUPTED
        dead.save(update_fields=["status"])
        logger.warning("retention run %s was interrupted: %s", dead.pk, dead.counts)
        _log(dead)
    return RetentionRun.objects.create(
        started_at=timezone.now(),
        dry_run=dry_run,
        rules=names,
        status=RetentionRun.Status.RUNNING,
        trigger=trigger,
    )


def _record_skipped(names: list[str], *, dry_run: bool, trigger: str, why: str) -> RetentionRun:
    run = RetentionRun.objects.create(
        error=why,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        dry_run=dry_run,
        rules=names,
        status=RetentionRun.Status.SKIPPED,
        trigger=trigger,
    )
    _log(run)
    return run


def _done_since(names: list[str], since: datetime) -> bool:
    done = RetentionRun.objects.filter(
        status=RetentionRun.Status.SUCCESS, dry_run=False, started_at__gte=since
    ).values_list("counts", flat=True)
    finished = {name for counts in done for name in counts}
    return all(name in finished for name in names)


def _ordered(rules: Iterable[str] | None) -> list[str]:
    if rules is None:
        return list(policy.RULE_ORDER)
    asked = set(rules)
    for name in asked:
        policy.rule(name)  # raises ValueError on an unknown name
    return [name for name in policy.RULE_ORDER if name in asked]


def _finish(run: RetentionRun) -> None:
    run.finished_at = timezone.now()
    try:
        run.save(update_fields=["finished_at", "status", "error", "counts"])
        _log(run)
    except Exception:
        # The database may be what failed: the original error matters more than this record.
        logger.exception("could not record the end of retention run %s", run.pk)


def _log(run: RetentionRun) -> None:
    """One privacy-log entry per run: counts and outcome, never who."""
    privacy.log(
        "retention_purge",
        actor="system",
        outcome="success" if run.status == RetentionRun.Status.SUCCESS else "failure",
        reason="" if run.status == RetentionRun.Status.SUCCESS else run.status,
        details={
            "run": run.pk,
            "dry_run": run.dry_run,
            "rules": run.rules,
            "counts": run.counts,
            "status": run.status,
            "trigger": run.trigger,
        },
    )
