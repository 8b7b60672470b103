"""Benchmark of the privacy log at scale on PostgreSQL: size, searches, verification, writes, prune.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/privacy_log.py
    ... bench/privacy_log.py --entries 10000000 --keep     # the issue's run; keeps bench_privacy

Uses the PostgreSQL server in DATABASE_URL, creates a scratch database ``bench_privacy`` there
(dropped at the end unless --keep) and migrates it. Then:

1. seeds ``--entries`` valid entries spread over ``--months`` months up to now, with a school
   day's mix (logins, logouts, refusals, staff reads, merges, agreement changes), distinct
   pseudonyms (as many pupils as give each about 15 entries a month, the real density), a
   request id per entry: hashes computed here, rows streamed with ``COPY`` in stored form;
2. bytes per entry: every partition with its indexes, plus the dictionary, over the entries;
3. each admin filter and DPO search (``privacy.log_search``, what the admin runs): best of 3;
4. verification in a child process, 1 worker and 2, twice each (the faster counts), with peak
   RSS; the speedup is the ratio of the faster runs;
5. writes, ``--writers`` writer processes and 1, ``--rounds`` interleaved rounds (medians):
   the layout before issue 15 (a reference table and function kept here only: chain lock,
   asynchronous commit), reached through ``privacy.log`` as it is ("reference") and with only
   its checks ("bare reference"), against the sealer (``privacy.log``: one durable INSERT,
   synchronous commit, a resident sealer process chaining meanwhile); then the incremental
   verification of what was written;
6. prune the oldest month out of ``--months``, three times (three months): each a DELETE of its
   rows (rolled back) against the prune that drops the partition, after a CHECKPOINT that
   writes out what the DELETE dirtied; the median ratio counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = "bench_privacy"
# A pupil signs in about 15 times a school month: as many pupils as keep that density per
# monthly partition (the real log: 1,000,000 pupils, some 15 million entries a month).
ENTRIES_PER_PUPIL_PER_MONTH = 15
STAFF = 20
# Months pruned one by one at the end (each against its own DELETE): one month's ratio swings
# with the disk, so the median of three is what counts.
PRUNES = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries to seed")
    parser.add_argument("--months", type=int, default=37, help="months the entries span")
    parser.add_argument("--writes", type=int, default=24_000, help="writes per writer setup")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of writes")
    parser.add_argument(
        "--migrate-entries", type=int, default=100_000, help="old-layout entries to migrate"
    )
    parser.add_argument("--database", default=SCRATCH, help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--only",
        choices=["prune", "verify", "searches", "writes"],
        help="one step on the database a --keep run left (no seeding, nothing dropped)",
    )
    parser.add_argument("--child", choices=["verify", "seal"], help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (any database on it).")
    os.environ["DATABASE_URL"] = _with_database(server_url, args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings_test")
    sys.path.insert(0, str(ROOT))

    if args.child:  # DATABASE_URL names the scratch database already
        os.environ["DATABASE_URL"] = server_url
    if args.child == "verify":
        _verify_child(args.workers)
        return
    if args.child == "seal":
        _seal_child()
        return
    if args.only:
        _only(args)
        return
    _recreate(server_url, args.database)
    try:
        _run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _drop(server_url, args.database)


def _run(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    print(_machine())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    call_command("migrate", "privacy", "0007_i12_processing_register", verbosity=0)
    old_head = _seed_old(args.migrate_entries, args.months)
    started = time.perf_counter()
    call_command("migrate", "privacy", verbosity=0)
    migrated = time.perf_counter() - started
    call_command("migrate", verbosity=0)
    from privacy.verification import privacy_log_verify

    after = privacy_log_verify()
    print(
        f"migrations 0008-0011 (0009 copies the log) of {args.migrate_entries:,} entries in "
        f"the old layout: {migrated:.1f} s "
        f"({migrated / args.migrate_entries * 1e6:.0f} s per million); head before "
        f"{old_head[:12]}, after {after.head.hash[:12]}, verifies: {after.ok}"
    )

    seconds = _seed(args.entries, args.months)
    print(f"seeded {args.entries:,} entries over {args.months} months in {seconds:.0f} s")
    _print_size(args.entries + args.migrate_entries)
    _print_searches()

    _print_verify()

    _print_writes(args)
    _print_incremental()
    _print_prune(args.months)
    print(f"load average at end: {os.getloadavg()[0]:.2f} (1 min)")


def _only(args: argparse.Namespace) -> None:
    import django

    django.setup()
    print(_machine())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    if args.only == "searches":
        _print_searches()
    elif args.only == "writes":
        _print_writes(args)
    elif args.only == "verify":
        _print_verify()
    else:
        _print_prune(args.months)
    print(f"load average at end: {os.getloadavg()[0]:.2f} (1 min)")


# --- Seeding: a valid chain computed here, streamed with COPY in the stored form ----------------

MIX = (
    # action, share, actor ("self", "system", "staff"), subject ("pupil", "none", "school")
    ("authn_login_success", 0.840, "self", "pupil"),
    ("authn_logout", 0.090, "self", "pupil"),
    ("authn_login_fail", 0.028, "self", "pupil"),
    ("authn_login_fail", 0.012, "system", "none"),
    ("authz_fail", 0.010, "self", "pupil"),
    ("sensitive_read", 0.015, "staff", "pupil"),
    ("pupil_merged", 0.003, "self", "pupil"),
    ("agreement_changed", 0.002, "staff", "school"),
)
REASONS = ("no_agreement", "not_enrolled", "state_expired", "token_invalid", "provider_error")


def _seed(count: int, months: int) -> float:
    """Entries ``months`` months back to now, evenly spaced, in the stored form."""
    from django.db import connection

    from privacy import chain, storage
    from privacy.services import privacy_log_head

    started = time.perf_counter()
    rng = random.Random(15)
    pupils = [
        hashlib.sha256(f"pupil {i}".encode()).hexdigest() for i in range(_pupils(count, months))
    ]
    staff = [f"staff:{i}" for i in range(1, STAFF + 1)]
    schools = [f"school:{i:06d}" for i in range(1, 1001)]
    ids = _seed_dictionary(pupils + staff + schools + ["system", ""] + [m[0] for m in MIX])
    now = datetime.now(UTC).replace(microsecond=0)
    first = _month_start(now, months - 1)
    step = (now - first) / count
    for period in range(storage.period_of(first), storage.period_of(now) + 1):
        with connection.cursor() as cursor:
            cursor.execute("SELECT privacy_log_partition(%s::smallint)", [period])
    weights = [m[1] for m in MIX]
    head = privacy_log_head()
    prev, sequence, period = head.hash, head.sequence, -1
    columns = (
        "sequence, created_at, actor_id, subject_id, action_id, period, failed, reason, "
        "request_id, details, hash"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY privacy_log ({columns}) FROM STDIN") as copy,
    ):
        for index in range(count):
            sequence += 1
            action, _share, actor_kind, subject_kind = rng.choices(MIX, weights)[0]
            created_at = first + step * index
            stamp = chain.timestamp(created_at)
            pupil = pupils[rng.randrange(len(pupils))]
            subject = {"pupil": pupil, "none": "", "school": rng.choice(schools)}[subject_kind]
            actor = {"self": f"pupil:{pupil}", "system": "system", "staff": rng.choice(staff)}[
                actor_kind
            ]
            failed = action in ("authn_login_fail", "authz_fail")
            details = _details(action, rng, pupils)
            request_id = rng.getrandbits(128).to_bytes(16, "big")
            text = {
                "sequence": sequence,
                "created_at": stamp,
                "actor": actor,
                "action": action,
                "subject": subject,
                "outcome": "failure" if failed else "success",
                "reason": rng.choice(REASONS) if failed else "",
                "request_id": request_id.hex(),
                "details": details,
            }
            entry_hash = chain.entry_hash(prev, chain.encode_text(text))
            month = (created_at.year - storage.EPOCH_YEAR) * 12 + created_at.month - 1
            period = max(period, month)
            copy.write_row(
                (
                    sequence,
                    stamp,
                    storage.SELF_ACTOR if actor_kind == "self" else ids[actor],
                    ids[subject],
                    ids[action],
                    period,
                    failed,
                    text["reason"],
                    request_id,
                    storage.details_text(details),
                    bytes.fromhex(entry_hash),
                )
            )
            prev = entry_hash
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO privacy_log_head (id, sequence, hash, period) VALUES (1, %s, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET sequence = EXCLUDED.sequence,"
            " hash = EXCLUDED.hash, period = EXCLUDED.period",
            [sequence, bytes.fromhex(prev), period],
        )
        cursor.execute("VACUUM ANALYZE privacy_log")
        cursor.execute("VACUUM ANALYZE privacy_log_text")
    return time.perf_counter() - started


def _seed_old(count: int, months: int) -> str:
    """A valid chain in the layout before issue 15 (migration 0007), dated in the oldest month."""
    from django.db import connection

    from privacy import chain

    rng = random.Random(5)
    pupils = [hashlib.sha256(f"old pupil {i}".encode()).hexdigest() for i in range(1000)]
    moment = _month_start(datetime.now(UTC), months - 1)
    prev = chain.GENESIS_HASH
    columns = (*chain.FIELDS, "prev_hash", "hash")
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY privacy_privacylogentry ({', '.join(columns)}) FROM STDIN"
        ) as copy,
    ):
        for sequence in range(1, count + 1):
            pupil = rng.choice(pupils)
            fields = {
                "sequence": sequence,
                "created_at": moment + timedelta(microseconds=sequence),
                "actor": f"pupil:{pupil}",
                "action": "authn_login_success",
                "subject": pupil,
                "outcome": "success",
                "reason": "",
                "request_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                "details": {"kind": "identified"},
            }
            entry_hash = chain.entry_hash(prev, chain.canonical(**fields))
            row = {**fields, "details": chain.dumps(fields["details"])}
            copy.write_row((*(row[name] for name in chain.FIELDS), prev, entry_hash))
            prev = entry_hash
    return prev


def _pupils(count: int, months: int) -> int:
    return max(100, count // (months * ENTRIES_PER_PUPIL_PER_MONTH))


def _details(action: str, rng: random.Random, pupils: list[str]) -> str:
    """The canonical JSON text of an entry's details (the few fixed ones are made once)."""
    if action == "authn_login_success":
        return _IDENTIFIED if rng.random() < 0.95 else _TEMPORARY
    if action == "pupil_merged":
        return chain_dumps({"in_place": False, "merged_pseudonym": rng.choice(pupils)})
    return _FIXED_DETAILS.get(action, "{}")


def chain_dumps(value: dict) -> str:
    from privacy import chain

    return chain.dumps(value)


_IDENTIFIED = '{"kind":"identified"}'
_TEMPORARY = '{"kind":"temporary"}'
_FIXED_DETAILS = {
    "sensitive_read": '{"page":"admin:pupils_pupil_change"}',
    "agreement_changed": '{"change":"created","valid_from":"2026-09-01"}',
}


def _seed_dictionary(values: list[str]) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT value, id FROM privacy_log_text")
        ids = dict(cursor.fetchall())
        next_id = max(ids.values(), default=0) + 1
        with cursor.cursor.copy("COPY privacy_log_text (id, value) FROM STDIN") as copy:
            for value in dict.fromkeys(values):
                if value not in ids:
                    ids[value] = next_id
                    copy.write_row((next_id, value))
                    next_id += 1
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('privacy_log_text', 'id'), %s)", [next_id]
        )
    return ids


def _month_start(now: datetime, back: int) -> datetime:
    month = now.year * 12 + now.month - 1 - back
    return datetime(month // 12, month % 12 + 1, 1, tzinfo=UTC)


# --- Size ----------------------------------------------------------------------------------------


def _print_size(entries: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_table_size(i.inhrelid)), sum(pg_indexes_size(i.inhrelid))"
            " FROM pg_inherits i WHERE i.inhparent = 'privacy_log'::regclass"
        )
        table, indexes = cursor.fetchone()
        cursor.execute("SELECT pg_total_relation_size('privacy_log_text')")
        dictionary = cursor.fetchone()[0]
        cursor.execute(
            "SELECT ci.relname, sum(pg_relation_size(x.indexrelid)) FROM pg_inherits i"
            " JOIN pg_index x ON x.indrelid = i.inhrelid"
            " JOIN pg_inherits pi ON pi.inhrelid = x.indexrelid"
            " JOIN pg_class ci ON ci.oid = pi.inhparent"
            " WHERE i.inhparent = 'privacy_log'::regclass GROUP BY ci.relname ORDER BY 2 DESC"
        )
        per_index = cursor.fetchall()
    total = table + indexes + dictionary
    print(
        f"size: {total / entries:.1f} bytes per entry (table {table / entries:.1f}, indexes "
        f"{indexes / entries:.1f}, dictionary {dictionary / entries:.1f}); "
        f"{total / 1024**2:,.0f} MiB for {entries:,} entries"
    )
    print("  indexes: " + ", ".join(f"{name} {size / entries:.1f}" for name, size in per_index))


# --- Searches: what the admin's filters and search box run ---------------------------------------


def _print_searches() -> None:
    from django.db import connection

    from privacy import log_search
    from privacy.models import PrivacyLogEntry

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.value FROM privacy_log e JOIN privacy_log_text s ON s.id = e.subject_id"
            " WHERE e.action_id = 1 ORDER BY e.sequence DESC LIMIT 1"
        )
        pupil = cursor.fetchone()[0]
        cursor.execute(
            "SELECT request_id FROM privacy_privacylogentry ORDER BY sequence DESC LIMIT 1"
            " OFFSET 1000"
        )
        request_id = cursor.fetchone()[0]
    entries = PrivacyLogEntry.objects.all()
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=200)
    searches = {
        "newest 100 (no filter)": entries,
        "pupil by pseudonym": log_search.by_term(entries, pupil),
        "staff member (staff:3)": log_search.by_actor(entries, "staff:3"),
        "every staff actor": log_search.by_actor(entries, "staff:"),
        "system actor": log_search.by_actor(entries, "system"),
        "rare action (pupil_merged)": log_search.by_action(entries, "pupil_merged"),
        "bulk action (authn_login_success)": log_search.by_action(entries, "authn_login_success"),
        "outcome failure": log_search.by_outcome(entries, "failure"),
        "one day, 200 days ago": log_search.by_dates(entries, day, day + timedelta(days=1)),
        "request id (last months)": log_search.by_term(entries, request_id),
        "subject key (school:000042)": log_search.by_term(entries, "school:000042"),
    }
    for name, queryset in searches.items():
        page_ms, count_ms, found = _time_admin_page(queryset.order_by("-sequence"))
        print(
            f"search {name}: first page {page_ms:.1f} ms, capped count {count_ms:.1f} ms "
            f"({found:,} found)"
        )


def _time_admin_page(queryset) -> tuple[float, float, int]:
    """Best of three: the first page of 100 (every column) and the admin's capped count."""
    from privacy.log_search import CappedPaginator

    pages, counts, found = [], [], 0
    for _ in range(3):
        started = time.perf_counter()
        list(queryset[:100])
        pages.append(time.perf_counter() - started)
        started = time.perf_counter()
        found = CappedPaginator(queryset, 100).count
        counts.append(time.perf_counter() - started)
    return min(pages) * 1000, min(counts) * 1000, found


# --- Verifying in a child process, so its peak RSS is its own -----------------------------------


def _print_verify() -> None:
    """1 process and 2, twice each, interleaved; the faster of each pair counts.

    The first walk reads the table from disk into the page cache; taking the faster of two
    runs of each keeps that one-off cost out of the comparison, whichever runs first.
    """
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(2):
        for workers in (1, 2):
            runs[workers].append(_verify_in_child(workers))
    single, double = (min(runs[workers], key=lambda run: run["seconds"]) for workers in (1, 2))
    for workers in (1, 2):
        seconds = ", ".join(f"{run['seconds']:.1f} s" for run in runs[workers])
        print(f"verify, {workers} process{'es' if workers > 1 else ''}: runs {seconds}")
    print(_verify_line("verify, 1 process (faster run)", single))
    print(_verify_line("verify, 2 processes (faster run)", double))
    print(f"verify speedup with 2 processes: {single['seconds'] / double['seconds']:.2f}x")


def _verify_in_child(workers: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", "verify", "--workers", str(workers)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _verify_child(workers: int) -> None:
    import django

    django.setup()
    from privacy.verification import privacy_log_verify

    started = time.perf_counter()
    result = privacy_log_verify(workers=workers)
    elapsed = time.perf_counter() - started
    if not result.ok:
        sys.exit(f"verification failed: {result.problem}")
    rss = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({"count": result.count, "seconds": elapsed, "rss_mb": rss / 1024}))


def _verify_line(label: str, result: dict) -> str:
    return (
        f"{label}: {result['count']:,} entries in {result['seconds']:.1f} s "
        f"({result['count'] / result['seconds']:,.0f} entries/s), peak RSS of one process "
        f"{result['rss_mb']:.0f} MB"
    )


def _print_incremental() -> None:
    from privacy.verification import privacy_log_verify_incremental

    started = time.perf_counter()
    first = privacy_log_verify_incremental()
    middle = time.perf_counter()
    import privacy

    for _ in range(1000):
        privacy.log("authn_logout", actor="system")
    again = time.perf_counter()
    second = privacy_log_verify_incremental()
    ended = time.perf_counter()
    print(
        f"incremental verify: first run {first.count:,} entries in {middle - started:.1f} s; "
        f"after 1,000 more: {second.count:,} entries in {(ended - again) * 1000:.0f} ms "
        f"(ok: {first.ok and second.ok})"
    )


# --- Writes: the layout before issue 15 (reference) against the sealer --------------------------

WRITE_MODES = ("reference", "bare reference", "sealer")
# A school day's logins are by pupils who signed in before (their pseudonym is in the
# dictionary already); one in fifty is new (a first login, a new school year's pupil).
NEW_PUPIL_SHARE = 0.02


def _known_pupils() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value FROM privacy_log_text WHERE value ~ '^[0-9a-f]{64}$' LIMIT 100000"
        )
        known = [row[0] for row in cursor.fetchall()]
    return known or [hashlib.sha256(b"pupil 0").hexdigest()]


def _print_writes(args: argparse.Namespace) -> None:
    """Each setup ``--rounds`` times, interleaved; medians over the rounds, ratios of medians."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('reference_log') IS NULL")
        if cursor.fetchone()[0]:
            _create_reference()
    for writers in (args.writers, 1):
        runs: dict[str, list[dict]] = {mode: [] for mode in WRITE_MODES}
        for _ in range(args.rounds):
            for mode in WRITE_MODES:
                runs[mode].append(_write(writers=writers, total=args.writes, mode=mode))
        median = {
            mode: {key: statistics.median(run[key] for run in results) for key in results[0]}
            for mode, results in runs.items()
        }
        for mode, label in (
            ("reference", "reference: privacy.log on the layout before issue 15, async commit"),
            ("bare reference", "bare reference: its checks and function only, async commit"),
            ("sealer", "sealer: privacy.log, one durable INSERT, synchronous commit"),
        ):
            print(_write_line(f"{label}, {writers} writers", median[mode]))
        for against in ("reference", "bare reference"):
            print(
                f"  sealer/{against}, {writers} writers: "
                f"{median['sealer']['per_second'] / median[against]['per_second']:.2f}x "
                f"entries/s, p95 {median['sealer']['p95_ms'] / median[against]['p95_ms']:.2f}x"
            )


REFERENCE_SQL = """
CREATE TABLE reference_log (
    sequence bigint PRIMARY KEY, created_at timestamptz NOT NULL, actor varchar(80) NOT NULL,
    action varchar(40) NOT NULL, subject varchar(80) NOT NULL, outcome varchar(7) NOT NULL,
    reason varchar(64) NOT NULL, details jsonb NOT NULL, request_id varchar(64) NOT NULL,
    prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL);
CREATE INDEX reference_subject ON reference_log (subject);
CREATE INDEX reference_actor ON reference_log (actor);
CREATE INDEX reference_action ON reference_log (action, sequence);
CREATE INDEX reference_created_at ON reference_log (created_at);
CREATE FUNCTION reference_append(p_actor varchar, p_action varchar, p_subject varchar,
    p_outcome varchar, p_reason varchar, p_request_id varchar, p_details text)
RETURNS bigint AS $$
DECLARE head_sequence bigint; head_hash varchar; moment timestamptz := clock_timestamp();
    new_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(1515);
    PERFORM set_config('synchronous_commit', 'off', true);
    SELECT sequence, hash INTO head_sequence, head_hash FROM reference_log
        ORDER BY sequence DESC LIMIT 1;
    IF NOT FOUND THEN head_sequence := 0; head_hash := repeat('0', 64); END IF;
    new_hash := encode(sha256(convert_to(head_hash || concat_ws('|', '1',
        (head_sequence + 1)::text,
        to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_subject, p_outcome, p_reason, p_request_id, p_details), 'UTF8')),
        'hex');
    INSERT INTO reference_log VALUES (head_sequence + 1, moment, p_actor, p_action, p_subject,
        p_outcome, p_reason, p_details::jsonb, p_request_id, head_hash, new_hash);
    RETURN head_sequence + 1;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


def _create_reference() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(REFERENCE_SQL)


def _write(*, writers: int, total: int, mode: str) -> dict:
    """Each writer is a process with its own connection, like gunicorn's sync workers."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    results = context.Queue()
    per_writer = total // writers
    processes = [
        context.Process(target=_writer, args=(index, per_writer, barrier, results, mode))
        for index in range(writers)
    ]
    sealer = None
    if mode == "sealer":
        # The sealer is a resident worker in production: start it, and wait until it is up,
        # before the burst, so that Python's start-up is not counted against the writers.
        sealer = subprocess.Popen(
            [sys.executable, __file__, "--child", "seal"],
            env=os.environ,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if sealer.stdout.readline().strip() != "ready":
            raise RuntimeError("the sealer did not start")
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    latencies: list[float] = []
    for _ in processes:
        latencies.extend(results.get())
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode:
            raise RuntimeError(f"writer exited with {process.exitcode}")
    lag = 0.0
    if sealer is not None:
        lag = _stop_sealer(sealer)
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "count": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
        "lag_s": lag,
    }


def _writer(index: int, count: int, barrier, results, mode: str) -> None:
    from django.conf import settings
    from django.db import connection

    import privacy
    from privacy import services

    settings.PRIVACY_LOG_SEALER = mode == "sealer"
    if mode == "reference":
        # privacy.log as it is (checks, metrics), storing through the layout before issue 15.
        services._append_in_postgresql = _reference_storage
    connection.ensure_connection()
    rng = random.Random(index)
    known = _known_pupils()
    barrier.wait()
    latencies = []
    for _ in range(count):
        if rng.random() < NEW_PUPIL_SHARE:
            pupil = hashlib.sha256(str(rng.getrandbits(64)).encode()).hexdigest()
        else:
            pupil = rng.choice(known)
        fields = {
            "actor": f"pupil:{pupil}",
            "subject": pupil,
            "details": {"kind": "identified"},
            "request_id": uuid.uuid4().hex,
        }
        started = time.perf_counter()
        if mode == "bare reference":
            _bare_reference(fields)
        else:
            privacy.log("authn_login_success", **fields)
        latencies.append(time.perf_counter() - started)
    connection.close()
    results.put(latencies)


def _reference_storage(entry) -> None:
    from privacy import chain

    entry.sequence = _reference_append(
        entry.actor,
        entry.action,
        entry.subject,
        entry.outcome,
        entry.reason,
        entry.request_id,
        chain.dumps(entry.details),
    )


def _bare_reference(fields: dict) -> None:
    """The checks of privacy.log, then the function: no entry object, no metrics."""
    from privacy import chain
    from privacy.services import _clean_details, _validate

    details = _clean_details(fields["details"])
    _validate(
        action="authn_login_success",
        actor=fields["actor"],
        subject=fields["subject"],
        outcome="success",
        reason="",
    )
    _reference_append(
        fields["actor"],
        "authn_login_success",
        fields["subject"],
        "success",
        "",
        fields["request_id"],
        chain.dumps(details),
    )


def _reference_append(*values: str) -> int:
    """The layout before issue 15: one call of its function (lock, hash, insert, async commit)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reference_append(%s, %s, %s, %s, %s, %s, %s)", list(values))
        return cursor.fetchone()[0]


def _seal_child() -> None:
    """Seal in a loop until stdin closes; then seal the rest and print how long that took."""
    import select

    import django

    django.setup()
    from privacy.services import privacy_log_seal

    privacy_log_seal()  # connected and warm, like a worker that has run before
    print("ready", flush=True)
    while not select.select([sys.stdin], [], [], 0.5)[0]:
        privacy_log_seal()
    started = time.perf_counter()
    privacy_log_seal()
    print(json.dumps({"tail_seconds": time.perf_counter() - started}), flush=True)


def _stop_sealer(sealer: subprocess.Popen) -> float:
    started = time.perf_counter()
    sealer.stdin.close()
    sealer.stdout.read()
    sealer.wait(timeout=600)
    return time.perf_counter() - started


def _write_line(label: str, result: dict) -> str:
    lag = (
        f", last entries sealed {result['lag_s']:.1f} s after the burst" if result["lag_s"] else ""
    )
    return (
        f"write, {label}: {result['count']:,.0f} entries, {result['per_second']:,.0f} entries/s, "
        f"p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms{lag}"
    )


# --- Prune one month -----------------------------------------------------------------------------


def _print_prune(months: int, times: int = PRUNES) -> None:
    """The oldest month, ``times`` times over (one month each): each ratio, then the median."""
    ratios = [_prune_once(months) for _ in range(times)]
    print(f"prune ratio, median of {times} months: {statistics.median(ratios):.3f}")


def _prune_once(months: int) -> float:
    from django.db import connection, transaction

    from privacy import storage
    from privacy.pruning import privacy_log_prune

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(period) FROM privacy_log")
        oldest = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM privacy_log WHERE period = %s", [oldest])
        rows = cursor.fetchone()[0]
    older_than = storage.period_start(oldest + 1)

    class Rollback(Exception):
        pass

    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('ilearn.privacy_prune', 'on', true)")
            cursor.execute("DELETE FROM privacy_log WHERE period = %s", [oldest])
            deleted = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    # The DELETE left the month's pages dirty in shared buffers (a rollback does not undo
    # that): written out now, or the prune would pay for evicting them. A real prune finds a
    # month nobody has touched for years.
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    removed = privacy_log_prune(older_than=older_than)
    dropped = time.perf_counter() - started
    print(
        f"prune one month of {months} ({rows:,} entries): DELETE {deleted:.2f} s (rolled back), "
        f"partition drop {dropped:.3f} s ({removed:,} removed): ratio {dropped / deleted:.3f}"
    )
    return dropped / deleted


# --- Scratch database ----------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin(server_url: str):
    import psycopg

    parts = urlsplit(server_url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def _recreate(server_url: str, name: str) -> None:
    from psycopg import sql

    with _admin(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _drop(server_url: str, name: str) -> None:
    from psycopg import sql

    with _admin(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _machine() -> str:
    cores = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    return (
        f"machine: {cores} cores, {total_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {_postgres_version()}"
    )


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


if __name__ == "__main__":
    main()
