"""Benchmark of ``schools.access`` (the login path's question) and of the CSV import.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_schools .venv/bin/python bench/schools.py
    ... bench/schools.py --schools 5000 --asks 2000

Inside one transaction that is rolled back at the end (the database is left as it was):
creates N schools with an agreement each (a tenth suspended, a tenth expired), then times
``schools_with_agreement_in_force`` for a pupil with 3 schools and for 1,000 numbers at once,
and the import of an N-row CSV: dry run, real run (every row new), and a re-import (no change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schools", type=int, default=5000)
    parser.add_argument("--asks", type=int, default=2000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.db import connection, transaction

    print(f"database: {connection.vendor}; schools: {args.schools:,}")
    with transaction.atomic():
        _run(args)
        transaction.set_rollback(True)


def _timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def _ms(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    return f"median {statistics.median(times) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def _analyze() -> None:
    """Fresh statistics, as autovacuum would have them on a live database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE schools_school")
            cursor.execute("ANALYZE schools_agreement")


def _run(args: argparse.Namespace) -> None:
    from schools.access import schools_with_agreement_in_force
    from schools.agreement_import import agreements_import
    from schools.models import Agreement, School

    today = dt.date(2026, 11, 29)
    n = args.schools
    numbers = [f"{900000 + i:06d}" for i in range(n)]
    schools = School.objects.bulk_create(
        School(instellingsnummer=number, name=f"Benchschool {number}") for number in numbers
    )
    agreements = []
    for i, school in enumerate(schools):
        status = "suspended" if i % 10 == 0 else "active"
        until = dt.date(2025, 8, 31) if i % 10 == 1 else None
        agreements.append(
            Agreement(
                school=school, valid_from=dt.date(2024, 9, 1), valid_until=until, status=status
            )
        )
    Agreement.objects.bulk_create(agreements)
    _analyze()

    pupil = [numbers[5], numbers[n // 2 + 3], "123456"]
    times = _timed(lambda: schools_with_agreement_in_force(pupil, on=today), args.asks)
    print(f"access, 3 numbers: {_ms(times)} over {args.asks:,} calls")
    many = numbers[:1000]
    times = _timed(lambda: schools_with_agreement_in_force(many, on=today), 50)
    print(f"access, 1,000 numbers: {_ms(times)} over 50 calls")

    fresh = [f"{100000 + i:06d}" for i in range(n)]
    lines = ["instellingsnummer;name;valid_from;valid_until"]
    lines += [f"{number};Importschool {number};2026-09-01;" for number in fresh]
    raw = ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()
    for label, dry_run in (("dry run", True), ("import", False), ("re-import", False)):
        started = time.perf_counter()
        result = agreements_import(file=raw, actor=None, dry_run=dry_run)
        took = time.perf_counter() - started
        assert result.ok, result.errors[:3]
        print(
            f"{label} of {n:,} rows: {took:.2f} s ({n / took:,.0f} rows/s); created "
            f"{result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )


if __name__ == "__main__":
    main()
