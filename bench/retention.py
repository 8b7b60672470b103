"""Benchmark of the retention purges on PostgreSQL, against the raw SQL DELETE they approach.

    .venv/bin/python bench/retention.py                  # 1,000,000 pupils (a few minutes)
    .venv/bin/python bench/retention.py --pupils 100000 --batch-size 2000

Creates its own scratch databases next to the one in BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/bench_retention), migrates, seeds N pupils with a Django
user, a snapshot and an alias each in SQL (``generate_series``; the snapshot names are one
fixed, pre-encrypted token), half of them past the 1-year period and a fifth past 3 years,
spread through the tables as real logins would be. The seeded database becomes a template, so
each measurement starts from an identical copy. Per rule it times:

- the service (``retention.services``), in a child process, so its peak RSS is its own;
- the physical limit: one raw SQL statement deleting the same rows in one transaction.

and prints rows/s for both, their ratio, the purge process's peak RSS and its longest batch.
Targets (issue 6): ratio >= 0.5, RSS < 200 MB, every batch < 1 s. Drops its databases at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_retention"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_000_000)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="accounts per batch (RETENTION_BATCH_SIZE)"
    )
    parser.add_argument(
        "--scan-size",
        type=int,
        default=None,
        help="keys examined per batch (RETENTION_SCAN_SIZE)",
    )
    parser.add_argument("--rules", default="snapshots,accounts")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    if args.child:
        _child(url, args.child, datetime.fromisoformat(args.now), args.batch_size, args.scan_size)
        return
    _parent(url, args)


# --- The orchestrating process -------------------------------------------------------------


def _parent(url: str, args: argparse.Namespace) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    template = f"{name}_template"
    admin_url = _with_db(url, "postgres")
    now = datetime.now(UTC).replace(microsecond=0)
    print(f"seeding {args.pupils:,} pupils into {template} ...", flush=True)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        _recreate(admin, template)
    started = time.monotonic()
    _django(_with_db(url, template))
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    _seed(connection, args.pupils, now)
    connection.close()
    print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)

    results = []
    try:
        for rule in args.rules.split(","):
            with psycopg.connect(admin_url, autocommit=True) as admin:
                _recreate(admin, name, template=template)
            service = json.loads(
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        rule,
                        "--now",
                        now.isoformat(),
                        *(["--batch-size", str(args.batch_size)] if args.batch_size else []),
                        *(["--scan-size", str(args.scan_size)] if args.scan_size else []),
                    ],
                    env={**os.environ, "BENCH_DATABASE_URL": url},
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.splitlines()[-1]
            )
            with psycopg.connect(admin_url, autocommit=True) as admin:
                _recreate(admin, name, template=template)
            raw = _raw_delete(url, rule, now)
            results.append((rule, service, raw))
            _print(rule, service, raw)
    finally:
        if not args.keep:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
                admin.execute(f'DROP DATABASE IF EXISTS "{template}"')
    print(json.dumps({"pupils": args.pupils, "results": results}))


def _print(rule: str, service: dict, raw: dict) -> None:
    service_rate = service["rows"] / service["seconds"]
    raw_rate = raw["rows"] / raw["seconds"]
    print(
        f"{rule}: service {service['rows']:,} rows in {service['seconds']:.1f} s "
        f"= {service_rate:,.0f} rows/s ({_sizes(service['sizes'])}, "
        f"{service['batches']} batches, longest {service['longest_batch']:.3f} s, "
        f"peak RSS {service['maxrss_mb']:.0f} MB); raw DELETE {raw['rows']:,} rows in "
        f"{raw['seconds']:.1f} s = {raw_rate:,.0f} rows/s; ratio {service_rate / raw_rate:.2f}",
        flush=True,
    )


def _sizes(sizes: dict) -> str:
    text = f"scan {sizes['scan_size']:,} keys"
    if "batch_size" in sizes:
        text += f", at most {sizes['batch_size']:,} accounts"
    return text


def _recreate(admin, name: str, *, template: str | None = None) -> None:
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _seed(connection, pupils: int, now: datetime) -> None:
    """N pupils in SQL. Pupil g's last login: g %% 10 in {0, 1}: past 3 years (a fifth);
    {2, 3, 4}: between 1 and 3 years (with the fifth: half past 1 year); else this year."""
    from pupils.fields import encrypt

    name_token = encrypt("Fictief")
    age_days = (
        "CASE WHEN g %% 10 < 2 THEN 1096 + g %% 500 "
        "WHEN g %% 10 < 5 THEN 366 + g %% 729 ELSE g %% 365 END"
    )
    moment = f"%(now)s - make_interval(days => {age_days}) - make_interval(secs => g %% 86400)"
    # Keys are encrypted like names: the same token stands in for them.
    params = {"n": pupils, "now": now, "token": name_token, "list_token": encrypt("[]")}
    statements = [
        "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined) SELECT g, '!', false, 'pupil-' || g, '', '', "
        "'', false, true, %(now)s FROM generate_series(1, %(n)s) g",
        "INSERT INTO pupils_pupil (id, public_id, pseudonym, kind, user_id, created_at, "
        "last_login_at) SELECT g, gen_random_uuid(), encode(sha256(('p' || g)::bytea), 'hex'), "
        f"'identified', g, %(now)s, {moment} FROM generate_series(1, %(n)s) g",
        "INSERT INTO pupils_identitysnapshot (pupil_id, family_name, given_name, leer_id_uuid, "
        "account_uuid, historiek_account_uuids, enrollments, granted_schools, login_at) "
        "SELECT g, %(token)s, %(token)s, %(token)s, %(token)s, %(list_token)s, "
        f"'[\"012345\"]', '[\"012345\"]', {moment} FROM generate_series(1, %(n)s) g",
        "INSERT INTO pupils_accountalias (id, pupil_id, pseudonym, created_at) "
        "SELECT g, g, encode(sha256(('a' || g)::bytea), 'hex'), %(now)s "
        "FROM generate_series(1, %(n)s) g",
        "SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %(n)s)",
        "SELECT setval(pg_get_serial_sequence('pupils_pupil', 'id'), %(n)s)",
        "SELECT setval(pg_get_serial_sequence('pupils_accountalias', 'id'), %(n)s)",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _raw_delete(url: str, rule: str, now: datetime) -> dict:
    """The physical limit: one statement, one transaction, no batches."""
    import psycopg

    _django(url)
    from django.db import connection

    from retention import policy
    from retention.cascade import user_cascade_statements

    cutoff = policy.rule(rule).cutoff(now)
    if rule == "snapshots":
        sql = "DELETE FROM pupils_identitysnapshot WHERE login_at < %(cutoff)s"
        count_sql = None
    else:
        # Data-modifying CTEs see one snapshot, so every table's DELETE finds the same doomed
        # users; the deferred foreign keys are checked at commit.
        doomed = "IN (SELECT {} FROM pupils_pupil WHERE last_login_at < %(cutoff)s)"
        parts = [
            sql.replace("{user_ids}", doomed.format("user_id")).replace(
                "{pupil_ids}", doomed.format("id")
            )
            for sql in user_cascade_statements()
        ]
        ctes = ", ".join(f"d{i} AS ({part})" for i, part in enumerate(parts[:-1]))
        sql = f"WITH {ctes} {parts[-1]}"
        count_sql = "SELECT count(*) FROM pupils_pupil WHERE last_login_at < %(cutoff)s"
    connection.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute(count_sql, {"cutoff": cutoff}).fetchone()[0] if count_sql else None
        started = time.monotonic()
        deleted = conn.execute(sql, {"cutoff": cutoff}).rowcount
        conn.commit()
        seconds = time.monotonic() - started
    return {"rows": rows if rows is not None else deleted, "seconds": seconds}


# --- The purge process ---------------------------------------------------------------------


def _child(
    url: str, rule: str, now: datetime, batch_size: int | None, scan_size: int | None
) -> None:
    _django(url)
    from django.conf import settings

    from retention import policy, services

    batches: list[float] = []
    purge = {
        "snapshots": services.snapshot_purge_expired,
        "accounts": services.account_purge_inactive,
    }
    sizes = {"scan_size": scan_size or settings.RETENTION_SCAN_SIZE}
    if rule == "accounts":
        sizes["batch_size"] = batch_size or settings.RETENTION_BATCH_SIZE
    started = time.monotonic()
    rows = purge[rule](
        cutoff=policy.rule(rule).cutoff(now),
        progress=lambda _rule, _rows, seconds: batches.append(seconds),
        **sizes,
    )
    seconds = time.monotonic() - started
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": rows,
                "seconds": seconds,
                "sizes": sizes,
                "batches": len(batches),
                "longest_batch": max(batches),
                "maxrss_mb": maxrss_kb / 1024,
            }
        )
    )


_django_ready = False


def _django(url: str) -> None:
    """Set Django up on this database, or point the set-up Django at another one."""
    global _django_ready
    if _django_ready:
        from django.db import connections

        connections.close_all()
        connections["default"].settings_dict["NAME"] = urlsplit(url).path.lstrip("/")
        return
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings_test")
    # No Redis: the purges need none, and the bench must not touch a shared Redis.
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    _django_ready = True


def _with_db(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


if __name__ == "__main__":
    main()
