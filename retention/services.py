"""The retention purges: plain functions shared by the Celery tasks and ``run_retention``.

Every purge works in batches of ``RETENTION_BATCH_SIZE`` rows, each batch its own short
transaction: it selects at most that many primary keys through the index on the moment
(``... ORDER BY login_at LIMIT n FOR UPDATE SKIP LOCKED``) and deletes by those keys in SQL.
Memory stays at one batch of keys whatever the table size; nothing goes through
``QuerySet.delete()``, whose collector would load every related object. A killed run has
committed whole batches only, so a rerun simply continues. Rows a login holds locked at that
moment are skipped, not waited for: the next day's run takes them if they are still expired.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models.deletion import get_candidate_relations_to_delete
from django.utils import timezone

import privacy
from pupils.models import IdentitySnapshot, Pupil
from retention import policy
from retention.exceptions import RetentionError
from retention.locking import retention_lock
from retention.models import RetentionRun
from retention.signals import pupils_purging

logger = logging.getLogger(__name__)

# The SQL here is built from table and column names in the models' metadata, quoted by the
# backend (hence the S608 waivers); every value goes in as a query parameter.

# Called after each committed batch with (rule name, rows in the batch, seconds the batch took).
Progress = Callable[[str, int, float], None]


def snapshot_purge_expired(
    *,
    cutoff: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> int:
    """Delete identity snapshots whose login lies before the cutoff; return how many."""
    cutoff = cutoff or policy.rule(policy.SNAPSHOTS).cutoff()
    if dry_run:
        return IdentitySnapshot.objects.filter(login_at__lt=cutoff).count()
    size = batch_size or policy.batch_size()
    table, pk, moment = _names(IdentitySnapshot, "login_at")
    # One statement per batch: the inner SELECT walks the login_at index and stops at n rows.
    sql = (
        f"DELETE FROM {table} WHERE {pk} IN ("  # noqa: S608
        f"SELECT {pk} FROM {table} WHERE {moment} < %s ORDER BY {moment} LIMIT %s{_skip_locked()})"
    )
    total = 0
    while True:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [_db_datetime(cutoff), size])
            deleted = cursor.rowcount
        total += deleted
        _report(progress, policy.SNAPSHOTS, deleted, started)
        if deleted < size:
            return total


def account_purge_inactive(
    *,
    cutoff: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> int:
    """Delete pupils whose last login lies before the cutoff, with their Django user and all
    that hangs on either (see ``retention.signals``); return how many pupils."""
    cutoff = cutoff or policy.rule(policy.ACCOUNTS).cutoff()
    if dry_run:
        return Pupil.objects.filter(last_login_at__lt=cutoff).count()
    size = batch_size or policy.batch_size()
    statements = user_cascade_statements()
    table, _, moment = _names(Pupil, "last_login_at")
    user_column = connection.ops.quote_name(Pupil._meta.get_field("user").column)
    public_id = connection.ops.quote_name(Pupil._meta.get_field("public_id").column)
    select = (
        f"SELECT {user_column}, {public_id} FROM {table} WHERE {moment} < %s "  # noqa: S608
        f"ORDER BY {moment} LIMIT %s{_skip_locked()}"
    )
    total = 0
    while True:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [_db_datetime(cutoff), size])
            rows = cursor.fetchall()
            if rows:
                user_ids = [user_id for user_id, _ in rows]
                # Receivers run in this transaction: if one fails, the batch rolls back whole.
                pupils_purging.send(sender=Pupil, public_ids=[_as_uuid(value) for _, value in rows])
                for sql in statements:
                    cursor.execute(*_with_ids(sql, user_ids))
        total += len(rows)
        _report(progress, policy.ACCOUNTS, len(rows), started)
        if len(rows) < size:
            break
    _clear_expired_sessions()
    return total


def privacy_log_prune(
    *,
    cutoff: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> int:
    """Prune privacy-log entries older than the privacy log's own period, through the privacy
    app, which keeps its hash chain verifiable."""
    rule = policy.rule(policy.PRIVACY_LOG)
    if rule.days is None and cutoff is None:
        raise RetentionError(
            "PRIVACY_LOG_RETENTION_DAYS is not set: the privacy app defines its log's period"
        )
    try:
        prune = import_module("privacy.retention").privacy_log_prune
    except (ImportError, AttributeError) as exc:
        raise RetentionError(
            "privacy.retention.privacy_log_prune is missing: the privacy app must provide it"
        ) from exc
    cutoff = cutoff or rule.cutoff()
    if dry_run:
        # An upper bound: the prune removes only the chain's prefix older than the cutoff.
        return (
            import_module("privacy.models")
            .PrivacyLogEntry.objects.filter(created_at__lt=cutoff)
            .count()
        )
    started = time.monotonic()
    pruned = prune(older_than=cutoff, batch_size=batch_size or policy.batch_size())
    _report(progress, policy.PRIVACY_LOG, pruned, started)
    return pruned


PURGES: dict[str, Callable[..., int]] = {
    policy.ACCOUNTS: account_purge_inactive,
    policy.SNAPSHOTS: snapshot_purge_expired,
    policy.PRIVACY_LOG: privacy_log_prune,
}


def retention_run(
    *,
    rules: Iterable[str] | None = None,
    dry_run: bool = False,
    trigger: str = "task",
    progress: Progress | None = None,
) -> RetentionRun:
    """Apply the given rules (default: all, in policy order) under the retention lock.

    Records a ``RetentionRun`` and writes one ``retention_purge`` privacy-log entry with the
    counts. When another run holds the lock, records this one as skipped and returns. On an
    error the run is recorded as failed and the exception re-raised (Celery retries on it).
    """
    names = _ordered(rules)
    with retention_lock() as acquired:
        if not acquired:
            logger.warning("retention run skipped: another run holds the lock")
            run = RetentionRun.objects.create(
                started_at=timezone.now(),
                finished_at=timezone.now(),
                dry_run=dry_run,
                rules=names,
                status=RetentionRun.Status.SKIPPED,
                trigger=trigger,
            )
            _log(run)
            return run
        # We hold the lock, so any run still marked running died without finishing.
        RetentionRun.objects.filter(status=RetentionRun.Status.RUNNING).update(
            status=RetentionRun.Status.INTERRUPTED
        )
        run = RetentionRun.objects.create(
            started_at=timezone.now(),
            dry_run=dry_run,
            rules=names,
            status=RetentionRun.Status.RUNNING,
            trigger=trigger,
        )
        current = ""
        try:
            for current in names:
                run.counts[current] = PURGES[current](dry_run=dry_run, progress=progress)
                # Saved per rule, so a run killed later still shows what it did.
                RetentionRun.objects.filter(pk=run.pk).update(counts=run.counts)
                logger.info("retention rule %s: %s rows", current, run.counts[current])
        except Exception as exc:
            run.status = RetentionRun.Status.FAILED
            run.error = f"{current}: {type(exc).__name__}"[:200]
            logger.exception("retention rule %s failed", current)
            _finish(run)
            raise
        run.status = RetentionRun.Status.SUCCESS
        _finish(run)
        return run


def user_cascade_statements() -> list[str]:
    """The SQL that deletes a batch of users with everything that depends on them, children
    before parents, following each relation's ``on_delete`` as Django's collector would.

    Each statement holds one ``{ids}`` placeholder for the batch of user primary keys. Built
    from the models, so a model another app adds with a foreign key to ``User`` or ``Pupil``
    is covered without touching this code.
    """
    user_model = get_user_model()
    statements: list[str] = []
    _cascade(user_model, f"{_quoted_pk(user_model)} {{ids}}", statements, seen=())
    return statements


def _cascade(model: type[models.Model], where: str, statements: list[str], *, seen: tuple) -> None:
    """Append the statements for rows of ``model`` matching ``where``, dependants first."""
    if model in seen:
        raise RetentionError(f"a cycle of CASCADE relations through {model._meta.label}")
    quote = connection.ops.quote_name
    for relation in get_candidate_relations_to_delete(model._meta):
        field = relation.field
        child = relation.related_model
        on_delete = field.remote_field.on_delete
        target = field.target_field
        if not seen and target.primary_key:
            # Straight from the batch's keys: no need to go through the parent table.
            child_where = f"{quote(field.column)} {{ids}}"
        else:
            child_where = (
                f"{quote(field.column)} IN (SELECT {quote(target.column)} "  # noqa: S608
                f"FROM {quote(model._meta.db_table)} WHERE {where})"
            )
        if on_delete is models.CASCADE:
            _cascade(child, child_where, statements, seen=(*seen, model))
        elif on_delete is models.SET_NULL:
            statements.append(
                f"UPDATE {quote(child._meta.db_table)} SET {quote(field.column)} = NULL "  # noqa: S608
                f"WHERE {child_where}"
            )
        elif on_delete is not models.DO_NOTHING:
            raise RetentionError(
                f"{child._meta.label}.{field.name} has on_delete={on_delete.__name__}: "
                "the account purge only follows CASCADE, SET_NULL and DO_NOTHING"
            )
    statements.append(f"DELETE FROM {quote(model._meta.db_table)} WHERE {where}")  # noqa: S608


def _with_ids(sql: str, ids: list) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        # One array parameter: one plan whatever the batch size.
        return sql.replace("{ids}", "= ANY(%s)"), [ids] * sql.count("{ids}")
    placeholders = ", ".join(["%s"] * len(ids))
    return sql.replace("{ids}", f"IN ({placeholders})"), ids * sql.count("{ids}")


def _names(model: type[models.Model], moment_field: str) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    return (
        quote(model._meta.db_table),
        quote(model._meta.pk.column),
        quote(model._meta.get_field(moment_field).column),
    )


def _quoted_pk(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.pk.column)


def _db_datetime(value: datetime) -> object:
    # As the ORM would send it: SQLite compares datetimes as text in its own format (UTC, no
    # offset), where an ISO string with "+00:00" would sort after an equal stored value.
    return connection.ops.adapt_datetimefield_value(value)


def _skip_locked() -> str:
    # SQLite locks the whole database per write: there is nothing to skip.
    return (
        " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    )


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _report(progress: Progress | None, rule: str, rows: int, started: float) -> None:
    if progress is not None:
        progress(rule, rows, time.monotonic() - started)


def _clear_expired_sessions() -> None:
    """A purged user's sessions already stop working (the user lookup fails on the next
    request); expired session rows are dropped here too, as ``clearsessions`` would."""
    engine = import_module(settings.SESSION_ENGINE)
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()


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
