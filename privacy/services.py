"""Writing the privacy log and reading its head.

With ``PRIVACY_LOG_SEALER`` (PostgreSQL), a write is one INSERT into ``privacy_log_pending``
and ``privacy_log_seal`` chains pending entries later (migrations 0010, 0011). Without it:

Concurrency: on PostgreSQL every writer calls ``privacy_log_append`` (migration 0009), which
takes one transaction-scoped advisory lock, reads the head and inserts the next entry, inside
the caller's transaction if there is one (else as its own). The lock is released at
commit or rollback, so an entry rolled back with its transaction leaves neither a gap nor a
broken link: the next writer simply reads the old head again. SQLite serialises writers itself;
the sequence being the primary key turns any race into an error rather than a fork.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from privacy import actions, chain, storage
from privacy.context import current_request_id
from privacy.exceptions import PrivacyLogError
from privacy.models import (
    PrivacyLogCheckpoint,
    PrivacyLogEntry,
    PrivacyLogRecord,
    PrivacyLogText,
)

# An arbitrary constant that names "the privacy-log head" among advisory locks.
HEAD_LOCK_KEY = 7_410_392_781_001
MAX_DETAILS_BYTES = 2_000

_ACTOR = re.compile(r"^(system|staff:[0-9]{1,18}|pupil:[0-9a-f]{64})$")
_SUBJECT = re.compile(r"^([0-9a-f]{64}|[a-z][a-z_]{0,30}:[A-Za-z0-9_.:-]{1,64})?$")
_REASON = re.compile(r"^[a-z0-9_]{0,64}$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{0,64}$")
_OUTCOMES = frozenset(PrivacyLogEntry.Outcome.values)
# Values that are or may hide a raw LeerID key, a token or a secret.
_FORBIDDEN_VALUE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"
    r"|bearer\s",
    re.IGNORECASE,
)
_FORBIDDEN_KEYS = frozenset(
    {
        "name",
        "given_name",
        "family_name",
        "first_name",
        "last_name",
        "email",
        "leer_id_uuid",
        "account_uuid",
        "historiek_account_uuids",
        "ov_leerid_uuid",
        "ov_account_uuid",
        "ov_historiek_account_uuid",
        "code",
        "state",
        "nonce",
        "id_token",
        "access_token",
        "refresh_token",
        "token",
        "password",
    }
)


@dataclass(frozen=True)
class Head:
    sequence: int
    hash: str


def privacy_log_write(
    *,
    action: str,
    actor: str,
    subject: str = "",
    outcome: str = "success",
    reason: str = "",
    details: dict[str, Any] | None = None,
    request_id: str | None = None,
    chained: bool = False,
) -> PrivacyLogEntry:
    """Write one entry. ``chained``: into the chain at once, numbered, even with the sealer on:
    for an entry whose sequence is needed now (a refusal's reference on the pupil's page, the
    prune's entry in the same transaction as its checkpoint)."""
    details = _clean_details(details)
    request_id = current_request_id() if request_id is None else request_id
    _validate(action=action, actor=actor, subject=subject, outcome=outcome, reason=reason)
    if not _REQUEST_ID.match(request_id):
        raise PrivacyLogError("request_id must be up to 64 letters, digits or dashes.")

    entry = PrivacyLogEntry(
        created_at=datetime.now(UTC),
        actor=actor,
        action=action,
        subject=subject,
        outcome=outcome,
        reason=reason,
        details=details,
        request_id=request_id,
    )
    if connection.vendor != "postgresql":
        _append_in_python(entry)
    elif settings.PRIVACY_LOG_SEALER and not chained:
        _append_pending(entry)
    else:
        _append_in_postgresql(entry)
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def privacy_log_joins_transactions() -> bool:
    """Whether an entry written inside a caller's transaction costs other writers nothing: with
    the sealer (one INSERT, no lock) and on SQLite (which serialises writers anyway). Without
    the sealer, PostgreSQL would hold the head lock until the caller commits, and every other
    writer would wait for that commit's flush."""
    return settings.PRIVACY_LOG_SEALER or connection.vendor != "postgresql"


def privacy_log_head() -> Head:
    """The newest entry, else the newest checkpoint, else the genesis."""
    row = PrivacyLogRecord.objects.order_by("-sequence").values_list("sequence", "hash").first()
    if row is not None:
        return Head(row[0], bytes(row[1]).hex())
    row = PrivacyLogCheckpoint.objects.order_by("-sequence").values_list("sequence", "hash").first()
    return Head(*row) if row else Head(0, chain.GENESIS_HASH)


def encode(entry: PrivacyLogEntry) -> bytes:
    return chain.canonical(**{name: getattr(entry, name) for name in chain.FIELDS})


def _text_fields(entry: PrivacyLogEntry) -> dict[str, Any]:
    return {
        "created_at": chain.timestamp(entry.created_at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "request_id": entry.request_id,
        "details": chain.dumps(entry.details),
    }


def _append_in_postgresql(entry: PrivacyLogEntry) -> None:
    """One call to ``privacy_log_append`` (migration 0009): lock, hash, insert, move the head.

    Outside a transaction the call is its own transaction, so the head lock is held for well
    under a millisecond and commits asynchronously (PRIVACY_LOG_SYNCHRONOUS_COMMIT); inside the
    caller's transaction the lock is held until the caller commits or rolls back, and a
    rollback takes the entry with it, leaving neither a gap nor a broken link.
    """
    # With the sealer every entry is durable at commit, the few chained at once included.
    asynchronous = not (
        connection.in_atomic_block
        or settings.PRIVACY_LOG_SYNCHRONOUS_COMMIT
        or settings.PRIVACY_LOG_SEALER
    )
    text = _text_fields(entry)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT out_sequence, out_hash FROM privacy_log_append("
            "%s, %s, %s, %s::smallint, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                HEAD_LOCK_KEY,
                asynchronous,
                entry.created_at,
                storage.period_of(entry.created_at),
                entry.actor,
                entry.action,
                entry.subject,
                entry.outcome == PrivacyLogEntry.Outcome.FAILURE,
                entry.reason,
                storage.request_id_bytes(entry.request_id),
                storage.details_text(text["details"]),
                chain.encode_rest(text),
            ],
        )
        entry.sequence, stored_hash = cursor.fetchone()
    entry.hash = bytes(stored_hash).hex()


def _append_pending(entry: PrivacyLogEntry) -> None:
    """One INSERT of one value, durable at commit; ``privacy_log_seal`` numbers and hashes it.

    No lock: concurrent writers' commits share WAL flushes instead of queueing for a lock held
    across each other's. The value is the encoding after the sequence number, exactly what
    will be hashed; the sealer derives the stored columns from it (migration 0011). The entry
    returned has no sequence or hash yet.
    """
    with _server_bound_cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_log_pending (rest) VALUES (%s)",
            [chain.encode_rest(_text_fields(entry))],
        )


def _server_bound_cursor():
    """A cursor that binds on the server, so that psycopg prepares what it runs on the
    connection after ``prepare_threshold`` calls (settings: only such cursors ever prepare):
    the most frequent write then skips parsing and planning, and its value travels as a
    parameter instead of being quoted into SQL text in Python. Django's cursors bind on the
    client; switching the whole project over (``server_side_binding``) would change every
    query's typing for one statement's sake.

    Wrapped as Django wraps its cursors: errors come out as ``django.db`` errors (the login
    turns a DatabaseError into its own page), and query logging and execute wrappers see it.
    The steps mirror Django 5.2's ``BaseDatabaseWrapper._cursor``/``_prepare_cursor`` (private):
    check them on a Django upgrade (``test_sealer.py`` tests the error mapping and the count).
    """
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    from django.db.backends.postgresql.base import ServerBindingCursor

    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def privacy_log_seal(*, batch_size: int = 5_000) -> int:
    """Chain the pending entries (PostgreSQL with ``PRIVACY_LOG_SEALER``); return how many.

    Batches of ``batch_size``, each one transaction under the head lock, until none is left.
    Safe to run twice at once (the second waits for the lock, then finds what is left).
    """
    if connection.vendor != "postgresql":
        return 0
    sealed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT privacy_log_seal(%s, %s)", [HEAD_LOCK_KEY, batch_size])
            batch = cursor.fetchone()[0]
        sealed += batch
        if batch < batch_size:
            return sealed


def privacy_log_pending_count() -> int:
    """Entries written but not yet sealed (0 without the sealer)."""
    return privacy_log_pending_state()[0]


def privacy_log_pending_state() -> tuple[int, datetime | None]:
    """Entries written but not yet sealed, and when the oldest of them was written.

    The sealer's lag, for ``/metrics``: a sealer that stopped shows as an oldest pending entry
    growing older (entries are durable meanwhile; they are just not in the chain yet).
    """
    if connection.vendor != "postgresql":
        return 0, None
    with connection.cursor() as cursor:
        # The encoding starts with |<created_at>|: 27 characters of UTC time.
        cursor.execute(
            "SELECT (SELECT count(*) FROM privacy_log_pending),"
            " (SELECT substr(rest, 2, 27)::timestamptz FROM privacy_log_pending"
            "  ORDER BY id LIMIT 1)"
        )
        count, oldest = cursor.fetchone()
    return count, oldest


def _append_in_python(entry: PrivacyLogEntry) -> None:
    """SQLite: the steps of ``privacy_log_append`` in three queries; SQLite serialises writers.

    No partitions here, so the newest row is the head (the head row is PostgreSQL's).
    """
    text = _text_fields(entry)
    with transaction.atomic(savepoint=False):
        newest = (
            PrivacyLogRecord.objects.order_by("-sequence")
            .values_list("sequence", "hash", "period")
            .first()
        )
        if newest is None:
            start = privacy_log_head()
            newest = (start.sequence, bytes.fromhex(start.hash), -1)
        head_sequence, head_hash, head_period = newest
        entry.sequence = head_sequence + 1
        entry.hash = chain.entry_hash(
            bytes(head_hash).hex(), chain.encode_text({**text, "sequence": entry.sequence})
        )
        actor = storage.actor_code(entry.actor, entry.subject)
        ids = _text_ids({entry.subject, entry.action} | ({actor} if actor else set()))
        PrivacyLogRecord.objects.create(
            sequence=entry.sequence,
            created_at=entry.created_at,
            actor_id=storage.SELF_ACTOR if actor is None else ids[actor],
            subject_id=ids[entry.subject],
            action_id=ids[entry.action],
            period=max(head_period, storage.period_of(entry.created_at)),
            failed=entry.outcome == PrivacyLogEntry.Outcome.FAILURE,
            reason=entry.reason,
            request_id=storage.request_id_bytes(entry.request_id),
            details=storage.details_text(text["details"]),
            hash=bytes.fromhex(entry.hash),
        )


def _text_ids(values: set[str]) -> dict[str, int]:
    ids = dict(PrivacyLogText.objects.filter(value__in=values).values_list("value", "id"))
    for value in values - ids.keys():
        ids[value] = PrivacyLogText.objects.create(value=value).id
    return ids


def lock_head() -> None:
    """Serialise chain writers (and the pruner) until the current transaction ends.

    The lock is held until commit, so with a synchronous commit every writer also waits for
    the previous one's WAL flush (~4 ms on this machine's disk); that is why
    ``privacy_log_write`` commits its own transactions asynchronously (see docs/decisions.md).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HEAD_LOCK_KEY])


def _validate(*, action: str, actor: str, subject: str, outcome: str, reason: str) -> None:
    if action not in actions.ACTIONS:
        raise PrivacyLogError(f"Unknown privacy-log action {action!r}: add it to privacy.actions.")
    if not _ACTOR.match(actor):
        raise PrivacyLogError('actor must be "system", "staff:<pk>" or "pupil:<pseudonym>".')
    if not _SUBJECT.match(subject) or _FORBIDDEN_VALUE.search(subject):
        raise PrivacyLogError('subject must be a pseudonym, "" or a key such as "school:012345".')
    if outcome not in _OUTCOMES:
        raise PrivacyLogError('outcome must be "success" or "failure".')
    if not _REASON.match(reason):
        raise PrivacyLogError("reason must be a short snake_case code.")


def _clean_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Round-trip through canonical JSON, so what is stored is exactly what was hashed."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise PrivacyLogError("details must be a dict.")
    try:
        encoded = chain.dumps(details)
    except (TypeError, ValueError) as exc:
        raise PrivacyLogError("details must be plain JSON (no NaN, no objects).") from exc
    if len(encoded.encode()) > MAX_DETAILS_BYTES:
        raise PrivacyLogError(f"details must stay under {MAX_DETAILS_BYTES} bytes.")
    if "\\u0000" in encoded:
        raise PrivacyLogError("details must not contain NUL characters.")
    cleaned = json.loads(encoded)
    _refuse_personal_data(cleaned)
    return cleaned


def _refuse_personal_data(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower() in _FORBIDDEN_KEYS:
                raise PrivacyLogError(f"details must not hold {key!r}: log pseudonyms only.")
            _refuse_personal_data(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_personal_data(item)
    elif isinstance(value, str) and _FORBIDDEN_VALUE.search(value):
        raise PrivacyLogError("details must not hold UUIDs or tokens: log pseudonyms only.")
    elif isinstance(value, float):
        # jsonb may print a float differently (1e20 comes back as an integer), which would
        # change the canonical encoding; counts and codes are integers and strings anyway.
        raise PrivacyLogError("details must hold integers, not floats.")
