"""The purges, one per retention rule, run by ``retention.services.retention_run``.

The purges walk their table in primary-key ranges: each batch, one short transaction, finds
the key ``RETENTION_SCAN_SIZE`` keys further on (an index-only walk) and deletes the expired
rows in that range, in SQL, by key. Rows in key order sit together on disk, so a batch touches
few pages and the whole purge runs near the speed of one plain DELETE; choosing the expired
rows through the ``login_at`` index instead visits a random page per row, 3-5x slower
(docs/performance.md). Memory stays at one batch of keys whatever the table size; nothing goes
through ``QuerySet.delete()``, whose collector would load every related object. A killed run
has committed whole batches only, so a rerun simply does the rest.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from importlib import import_module

from django.conf import settings
from django.db import connection, models, transaction

from privacy.pruning import privacy_log_prune
from privacy.selectors import privacy_log_count_prunable
from pupils.models import IdentitySnapshot, Pupil
from pupils.services import pupil_admin_log_forget
from retention import policy
from retention.cascade import user_cascade_statements, with_ids
from retention.signals import pupils_purging

# The SQL here is built from table and column names in the models' metadata, quoted by the
# backend (hence the S608 waivers); every value goes in as a query parameter.

# Called after each committed batch with (rule name, rows in the batch, seconds the batch took).
Progress = Callable[[str, int, float], None]
# Called at the end of each batch, inside its transaction, with (rule name, rows in the batch):
# what it writes (the run's counts) commits with the batch or not at all.
Record = Callable[[str, int], None]


def snapshot_purge_expired(
    *,
    cutoff: datetime | None = None,
    scan_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    unless_account_before: datetime | None = None,
    record: Record | None = None,
) -> int:
    """Delete identity snapshots whose login lies before the cutoff; return how many.

    Each batch deletes the expired rows among the next ``scan_size`` primary keys. The DELETE
    re-checks ``login_at`` itself, so a snapshot a login is replacing at that moment is waited
    for (milliseconds) and, being fresh by then, kept.

    ``unless_account_before`` (dry runs only) leaves out the snapshots of pupils whose last
    login lies before it: the accounts rule, run first, deletes those with their pupil.
    """
    cutoff = cutoff or policy.rule(policy.SNAPSHOTS).cutoff()
    if dry_run:
        expired = IdentitySnapshot.objects.filter(login_at__lt=cutoff)
        if unless_account_before is not None:
            expired = expired.exclude(pupil__last_login_at__lt=unless_account_before)
        return expired.count()
    scan = scan_size or settings.RETENTION_SCAN_SIZE
    table, pk, moment = _names(IdentitySnapshot, "login_at")
    when = _db_datetime(cutoff)
    low, total = None, 0
    while True:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            high = _range_end(cursor, table, pk, low, scan)
            in_range, params = _range(pk, low, high)
            cursor.execute(
                f"DELETE FROM {table} WHERE {moment} < %s{in_range}",  # noqa: S608
                [when, *params],
            )
            deleted = cursor.rowcount
            if record is not None:
                record(policy.SNAPSHOTS, deleted)
        total += deleted
        _report(progress, policy.SNAPSHOTS, deleted, started)
        if high is None:
            return total
        low = high


def account_purge_inactive(
    *,
    cutoff: datetime | None = None,
    batch_size: int | None = None,
    scan_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    record: Record | None = None,
) -> int:
    """Delete pupils whose last login lies before the cutoff, with their Django user and all
    that hangs on either (see ``retention.signals``); return how many pupils.

    Each batch takes at most ``batch_size`` expired pupils among the next ``scan_size`` keys,
    locked with ``FOR UPDATE SKIP LOCKED``: a pupil logging in at that moment holds its row
    and is left alone (its login makes it fresh anyway); the purge never waits for a login.
    """
    cutoff = cutoff or policy.rule(policy.ACCOUNTS).cutoff()
    if dry_run:
        return Pupil.objects.filter(last_login_at__lt=cutoff).count()
    size = batch_size or policy.batch_size()
    scan = scan_size or settings.RETENTION_SCAN_SIZE
    statements = user_cascade_statements()
    when = _db_datetime(cutoff)
    low, total = None, 0
    while True:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            rows, high = _account_batch(cursor, low, scan, size, when, statements)
            if record is not None:
                record(policy.ACCOUNTS, len(rows))
        total += len(rows)
        _report(progress, policy.ACCOUNTS, len(rows), started)
        if len(rows) == size:
            # The range may hold more expired pupils: go on from the last one taken.
            low = rows[-1][0]
        elif high is None:
            break
        else:
            low = high
    _clear_expired_sessions()
    return total


def _account_batch(
    cursor, low, scan: int, size: int, when, statements: list[str]
) -> tuple[list[tuple], object]:
    """The expired pupils (at most ``size``) among the ``scan`` keys after ``low``, deleted;
    returns them and the end of the range looked at (None: the table's end)."""
    table, pk, moment = _names(Pupil, "last_login_at")
    user_column = connection.ops.quote_name(Pupil._meta.get_field("user").column)
    public_id = connection.ops.quote_name(Pupil._meta.get_field("public_id").column)
    high = _range_end(cursor, table, pk, low, scan)
    in_range, params = _range(pk, low, high)
    cursor.execute(
        f"SELECT {pk}, {user_column}, {public_id} FROM {table} "  # noqa: S608
        f"WHERE {moment} < %s{in_range} ORDER BY {pk} LIMIT %s{_skip_locked()}",
        [when, *params, size],
    )
    rows = cursor.fetchall()
    if rows:
        _delete_pupils(cursor, rows, statements)
    return rows, high


def _delete_pupils(cursor, rows: list[tuple], statements: list[str]) -> None:
    """Delete a batch of (pupil key, user key, public id) rows with all that hangs on them."""
    keys = {
        "pupil_ids": [pupil_id for pupil_id, _, _ in rows],
        "user_ids": [user_id for _, user_id, _ in rows],
    }
    # Receivers run in this transaction: if one fails, the batch rolls back whole.
    pupils_purging.send(sender=Pupil, public_ids=[_as_uuid(value) for _, _, value in rows])
    for sql in statements:
        cursor.execute(*with_ids(sql, keys))
    # Admin-log rows about these pupils hold no foreign key to them: deleted by their ids.
    pupil_admin_log_forget(pupil_ids=keys["pupil_ids"], user_ids=keys["user_ids"])


def _range_end(cursor, table: str, pk: str, low: object, scan: int) -> object:
    """The key ``scan`` keys after ``low`` (an index-only walk), or None near the end: the
    last range is left open, so rows added meanwhile are covered too."""
    after, params = _range(pk, low, None)
    cursor.execute(
        f"SELECT {pk} FROM {table} WHERE 1 = 1{after} ORDER BY {pk} LIMIT 1 OFFSET %s",  # noqa: S608
        [*params, scan - 1],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def _range(pk: str, low: object, high: object) -> tuple[str, list]:
    """SQL (to append to a WHERE) and parameters for keys in (low, high]; None is unbounded."""
    sql, params = "", []
    if low is not None:
        sql, params = f"{sql} AND {pk} > %s", [*params, low]
    if high is not None:
        sql, params = f"{sql} AND {pk} <= %s", [*params, high]
    return sql, params


def privacy_log_purge_expired(
    *,
    cutoff: datetime | None = None,
    batch_size: int | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    record: Record | None = None,
) -> int:
    """Prune privacy-log entries older than the privacy log's own period, through the privacy
    app, which keeps its hash chain verifiable."""
    cutoff = cutoff or policy.rule(policy.PRIVACY_LOG).cutoff()
    if dry_run:
        return privacy_log_count_prunable(older_than=cutoff)
    started = time.monotonic()
    pruned = privacy_log_prune(older_than=cutoff, batch_size=batch_size or policy.batch_size())
    # Counted once it returns: the prune's own batches each leave a privacy_log_prune entry.
    if record is not None:
        record(policy.PRIVACY_LOG, pruned)
    _report(progress, policy.PRIVACY_LOG, pruned, started)
    return pruned


def _names(model: type[models.Model], moment_field: str) -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    return (
        quote(model._meta.db_table),
        quote(model._meta.pk.column),
        quote(model._meta.get_field(moment_field).column),
    )


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


PURGES: dict[str, Callable[..., int]] = {
    policy.ACCOUNTS: account_purge_inactive,
    policy.SNAPSHOTS: snapshot_purge_expired,
    policy.PRIVACY_LOG: privacy_log_purge_expired,
}
