"""Benchmark of the privacy log on PostgreSQL: write throughput and latency, verify speed and RSS.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/privacy_log.py
    ... bench/privacy_log.py --entries 100000 --writes 1000     # a quicker, smaller run

Uses the PostgreSQL server in DATABASE_URL, creates a scratch database ``bench_privacy`` there
(dropped at the end unless --keep) and migrates it. Then:

1. seeds a valid chain of ``--entries / 10`` entries fast (hashes computed in Python, rows
   streamed with ``COPY``) and verifies it in a child process (time, peak RSS);
2. seeds the rest up to ``--entries``, continuing the same chain;
3. writes ``--writes`` entries through ``privacy.log`` with 1 writer, then with 8 concurrent
   writer threads (each its own connection), on top of that table: entries/s, p50/p95/p99;
4. verifies the whole chain in a child process: entries/s and peak RSS. The RSS of the small
   and the full verification side by side show whether memory stays flat.

Targets (issue 3): p95 write < 5 ms with 8 writers; verifying 1,000,000 entries < 60 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = "bench_privacy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="chain length to verify")
    parser.add_argument("--writes", type=int, default=4_000, help="writes per writer setup")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--database", default=SCRATCH, help="scratch database name")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--verify-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    server_url = os.environ.get("DATABASE_URL", "")
    if not server_url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (any database on it).")
    scratch_url = _with_database(server_url, args.database)
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings_test")
    sys.path.insert(0, str(ROOT))

    if args.verify_child:
        _verify_child()
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

    call_command("migrate", verbosity=0)
    print(_machine())
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min)")
    first = max(args.entries // 10, 1)

    seconds = _seed(first)
    print(f"seeded {first:,} entries in {seconds:.1f} s ({first / seconds:,.0f}/s, COPY)")
    small = _verify_in_child()
    print(_verify_line(small))

    seconds = _seed(args.entries - first)
    print(f"seeded {args.entries - first:,} more in {seconds:.1f} s")

    for writers in (1, args.writers):
        print(_write_line(writers, _write(writers=writers, total=args.writes)))

    full = _verify_in_child()
    print(_verify_line(full))
    print(f"load average at end: {os.getloadavg()[0]:.2f} (1 min)")
    print(
        f"verify peak RSS: {small['rss_mb']:.0f} MB at {small['count']:,} entries, "
        f"{full['rss_mb']:.0f} MB at {full['count']:,} entries"
    )


# --- Seeding: a valid chain computed here, streamed with COPY ------------------------------------


def _seed(count: int) -> float:
    from django.db import connection

    from privacy import chain
    from privacy.services import privacy_log_head

    start = time.perf_counter()
    head = privacy_log_head()
    prev, sequence = head.hash, head.sequence
    moment = datetime.now(UTC) - timedelta(days=365)
    actions = ("authn_login_success", "authn_login_fail", "sensitive_read", "authn_logout")
    columns = ", ".join((*chain.FIELDS, "prev_hash", "hash"))
    copy_sql = f"COPY privacy_privacylogentry ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for index in range(count):
            sequence += 1
            pseudonym = hashlib.sha256(str(index % 50_000).encode()).hexdigest()
            action = actions[index % len(actions)]
            outcome = "failure" if action == "authn_login_fail" else "success"
            reason = "not_enrolled" if outcome == "failure" else ""
            # About a thousand distinct details, as school numbers and counts would give.
            details = {"schools": [f"{index % 997:06d}"]} if outcome == "success" else {}
            request_id = f"{sequence:032x}"
            created_at = moment + timedelta(microseconds=sequence * 1000)
            actor = f"pupil:{pseudonym}"
            encoded = chain.canonical(
                sequence=sequence,
                created_at=created_at,
                actor=actor,
                action=action,
                subject=pseudonym,
                outcome=outcome,
                reason=reason,
                details=details,
                request_id=request_id,
            )
            entry_hash = chain.entry_hash(prev, encoded)
            values = {
                "sequence": sequence,
                "created_at": created_at,
                "actor": actor,
                "action": action,
                "subject": pseudonym,
                "outcome": outcome,
                "reason": reason,
                "request_id": request_id,
                "details": chain.dumps(details),
            }
            copy.write_row((*(values[name] for name in chain.FIELDS), prev, entry_hash))
            prev = entry_hash
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE privacy_privacylogentry")
    return time.perf_counter() - start


# --- Writing through privacy.log -----------------------------------------------------------------


def _write(*, writers: int, total: int) -> dict:
    """Each writer is a process with its own connection, like gunicorn's sync workers."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    results = context.Queue()
    per_writer = total // writers
    processes = [
        context.Process(target=_writer, args=(index, per_writer, barrier, results))
        for index in range(writers)
    ]
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
    latencies.sort()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "count": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "p99_ms": cuts[98] * 1000,
    }


def _writer(index: int, count: int, barrier, results) -> None:
    from django.db import connection

    import privacy

    connection.ensure_connection()
    barrier.wait()
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        privacy.log(
            "authn_login_success",
            actor="pupil:" + "ab" * 32,
            subject="ab" * 32,
            details={"schools": ["012345"], "writer": index},
        )
        latencies.append(time.perf_counter() - started)
    connection.close()
    results.put(latencies)


def _write_line(writers: int, result: dict) -> str:
    return (
        f"write, {writers} writer{'s' if writers > 1 else ''}: {result['count']:,} entries, "
        f"{result['per_second']:,.0f} entries/s, p50 {result['p50_ms']:.2f} ms, "
        f"p95 {result['p95_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms"
    )


# --- Verifying in a child process, so its peak RSS is its own -----------------------------------


def _verify_in_child() -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--verify-child"],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def _verify_child() -> None:
    import django

    django.setup()
    from privacy.verification import privacy_log_verify

    started = time.perf_counter()
    result = privacy_log_verify()
    elapsed = time.perf_counter() - started
    if not result.ok:
        sys.exit(f"verification failed: {result.problem}")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"count": result.count, "seconds": elapsed, "rss_mb": rss_mb}))


def _verify_line(result: dict) -> str:
    return (
        f"verify: {result['count']:,} entries in {result['seconds']:.1f} s "
        f"({result['count'] / result['seconds']:,.0f} entries/s), "
        f"peak RSS {result['rss_mb']:.0f} MB"
    )


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
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
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
