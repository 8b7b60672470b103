"""Benchmark of the DPO dashboard (``/admin/dashboard/``) and of the nightly rollup.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/f_bench .venv/bin/python bench/dashboard.py
    ... bench/dashboard.py --days 1096 --requests 30 --log-entries 100000

Inside one transaction that is rolled back at the end (the database is left as it was):
seeds the daily rollup for ``--days`` days (every metric with the key spread of a busy
install: 20 refusal reasons, 8 data-quality codes, 5 claim names), 20 open breaches and 60
agreements ending within 30 days, then times the dashboard page as the DPO through Django's
test client (whole request: middleware, queries, SVG, template) and counts its queries. Then
writes ``--log-entries`` privacy-log entries dated one day (through ``privacy.log``, the clock
moved to that day) and times ``rollup_day`` for it
(the nightly work, which reads the log once per day instead of the login path counting).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=1096)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--log-entries", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.db import connection, transaction

    print(f"database: {connection.vendor}; rollup days: {args.days:,}")
    with transaction.atomic():
        _run(args)
        transaction.set_rollback(True)


def _ms(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(int(len(times) * 0.95) - 1, 0)]
    return f"median {statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def _seed_rollup(days: int) -> int:
    from dpo.models import DailyCount
    from dpo.services import brussels_today

    today = brussels_today()
    reasons = [f"reason_{n:02d}" for n in range(20)]
    codes = [f"code_{n}" for n in range(8)]
    claims = [f"claim_{n}" for n in range(5)]
    rows = []
    for n in range(1, days + 1):
        day = today - timedelta(days=n)
        rows.append(DailyCount(day=day, metric="login_granted", key="", count=400_000 + n))
        rows += [DailyCount(day=day, metric="login_refused", key=r, count=n % 97) for r in reasons]
        rows += [DailyCount(day=day, metric="dq_refusal", key=c, count=n % 7) for c in codes]
        rows += [DailyCount(day=day, metric="dq_claim", key=c, count=n % 3) for c in claims]
        rows += [
            DailyCount(day=day, metric="pupils", key="", count=1_000_000),
            DailyCount(day=day, metric="purged_accounts", key="", count=900),
            DailyCount(day=day, metric="purged_snapshots", key="", count=2_700),
        ]
    DailyCount.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _seed_registers() -> None:
    from django.utils import timezone

    from dpo.services import brussels_today
    from privacy.models import Breach
    from schools.models import Agreement, School

    now = timezone.now()
    Breach.objects.bulk_create(
        Breach(found_at=now - timedelta(hours=n * 5), description="bench") for n in range(20)
    )
    today = brussels_today()
    schools = School.objects.bulk_create(
        School(instellingsnummer=f"{880000 + n:06d}", name=f"Benchschool {n}") for n in range(60)
    )
    Agreement.objects.bulk_create(
        Agreement(
            school=school,
            valid_from=today - timedelta(days=400),
            valid_until=today + timedelta(days=n % 30),
        )
        for n, school in enumerate(schools)
    )


def _seed_log_day(day, count: int) -> None:
    """``count`` entries dated ``day`` through ``privacy.log`` itself, the clock moved there."""
    import time_machine

    import privacy
    from dpo.services import day_bounds
    from privacy.services import privacy_log_seal

    start, _end = day_bounds(day)
    kinds = [
        ("authn_login_success", "success", "", {}),
        ("authz_fail", "failure", "no_agreement", {}),
        ("authn_login_fail", "failure", "claims_unusable", {"detail": "missing_name"}),
        ("authn_login_success", "success", "", {"unexpected_claims": ["ov_geboortedatum"]}),
    ]
    with time_machine.travel(start, tick=True):
        for n in range(count):
            action, outcome, reason, details = kinds[0] if n % 10 else kinds[1 + (n // 10) % 3]
            privacy.log(action, actor="system", outcome=outcome, reason=reason, details=details)
    # With the sealer on (PostgreSQL and REDIS_URL, the production settings) the entries are
    # pending until sealed, and the rollup reads the chain: seal them, as beat would.
    privacy_log_seal()


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dpo_dailycount")
            cursor.execute("ANALYZE privacy_log")


def _run(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client

    from dpo.services import brussels_today, rollup_day

    started = time.perf_counter()
    rows = _seed_rollup(args.days)
    _seed_registers()
    _analyze()
    print(f"seeded {rows:,} rollup rows in {time.perf_counter() - started:.1f} s")

    from staff.testing import mark_verified, undertaking_signed

    user = User.objects.create_user(username="bench-dpo", is_staff=True)
    undertaking_signed(user)  # the DPO group needs the confidentiality undertaking first
    user.groups.set(Group.objects.filter(name="DPO"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    mark_verified(client, user)  # past the second factor, as a signed-in DPO is
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Not CaptureQueriesContext: a request's start clears the query log it reads.
    with connection.execute_wrapper(count):
        response = client.get("/admin/dashboard/")
    assert response.status_code == 200, response.status_code
    size = len(response.content)
    times = []
    for _ in range(args.requests):
        t = time.perf_counter()
        client.get("/admin/dashboard/")
        times.append(time.perf_counter() - t)
    print(
        f"dashboard page: {_ms(times)} over {args.requests} requests; "
        f"{len(queries)} queries, {size / 1024:.0f} KiB of HTML"
    )

    if args.log_entries:
        day = brussels_today() - timedelta(days=args.days + 5)
        t = time.perf_counter()
        _seed_log_day(day, args.log_entries)
        _analyze()
        print(f"seeded {args.log_entries:,} log entries in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        rows = rollup_day(day)
        seconds = time.perf_counter() - t
        print(f"rollup of one day of {args.log_entries:,} entries: {seconds:.2f} s ({rows} rows)")
    print(f"finished at {datetime.now():%H:%M:%S}")


if __name__ == "__main__":
    main()
