"""Faults against the product as shipped (tests/production/conftest.py), on servers of our own.

Restarted here: the stack's throwaway PostgreSQL and Redis, its worker and a second beat. The
shared servers on 5432/6379 are never touched. The proxy-level outages (PostgreSQL cut under
/readyz, LeerID hanging) are in tests/test_readyz_outage.py and tests/integration/.
"""

from __future__ import annotations

import math
import signal
import threading
import time
import uuid

import pytest
import requests

from tests.production.conftest import SCHEDULE_SECONDS, Stack, sign_in

pytestmark = [
    pytest.mark.production,
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


def _claims(handle: str) -> dict:
    return {
        "given_name": f"Fictief {handle}",
        "family_name": "Proefpersoon",
        "ov_account_uuid": str(uuid.uuid4()),
        "ov_leerid_uuid": [str(uuid.uuid4())],
        "ov_inschrijvingen": ["012345"],
    }


def _signed_in(response: requests.Response, stack: Stack) -> bool:
    return response.status_code == 200 and response.url == f"{stack.url}/"


def _wait_for(predicate, timeout: float, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(step)


def test_postgres_restarted_during_a_burst_of_logins(stack: Stack):
    """20 logins while PostgreSQL restarts: each ends on home or the 503 page (never a 500),
    nothing half-written, and logins work again within seconds without restarting anything."""
    subs = [f"burst-{n}" for n in range(20)]
    for sub in subs:
        stack.set_leerid_user(sub, _claims(sub))
    started = stack.sql("SELECT now()")[0][0]
    results: dict[str, tuple] = {}

    def login(n: int) -> None:
        time.sleep(n * 0.1)
        try:
            _, response = sign_in(stack, subs[n])
            results[subs[n]] = (response.status_code, response.url)
        except requests.RequestException as exc:
            results[subs[n]] = ("error", type(exc).__name__)

    threads = [threading.Thread(target=login, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    time.sleep(0.7)
    stack.postgres.restart()
    for thread in threads:
        thread.join(timeout=60)

    outcomes = sorted(results.values())
    print("burst outcomes:", {str(s): sum(1 for o in outcomes if o[0] == s) for s, _ in outcomes})
    assert len(outcomes) == 20
    for status, url in outcomes:
        assert (status, url) == (200, f"{stack.url}/") or status == 503, outcomes
    orphans = stack.sql(
        "SELECT (SELECT count(*) FROM pupils_identitysnapshot s WHERE NOT EXISTS "
        "  (SELECT 1 FROM pupils_pupil p WHERE p.id = s.pupil_id)),"
        " (SELECT count(*) FROM pupils_accountalias a WHERE NOT EXISTS "
        "  (SELECT 1 FROM pupils_pupil p WHERE p.id = a.pupil_id)),"
        " (SELECT count(*) FROM pupils_pupil p WHERE p.last_login_at >= %s AND NOT EXISTS "
        "  (SELECT 1 FROM pupils_identitysnapshot s WHERE s.pupil_id = p.id))",
        started,
    )
    assert orphans == [(0, 0, 0)]
    restarted = time.monotonic()
    healed = _wait_for(lambda: _signed_in(sign_in(stack, subs[0])[1], stack), timeout=15)
    print(f"first login after the burst: {time.monotonic() - restarted:.1f} s")
    assert healed, "logins did not come back within 15 s of PostgreSQL's restart"


def test_redis_restarted(stack: Stack):
    """Sessions that lived in Redis end cleanly (back to the login page, sign in again), logins
    go on, and beat sends the retention tasks again to the worker.

    A worker holding unacknowledged messages when the broker goes may exit ("Unrecoverable
    error" in kombu's restore of those messages); Compose's restart policy starts it again,
    and so does this stack. Either way the rules run again, never twice at once (the lock).
    """
    stack.set_leerid_user("redis-restart", _claims("redis-restart"))
    browser, response = sign_in(stack, "redis-restart")
    assert _signed_in(response, stack)

    stack.redis.restart()
    restarted = stack.sql("SELECT now()")[0][0]

    home = browser.get(f"{stack.url}/", allow_redirects=False, timeout=15, verify=False)
    assert home.status_code == 302
    assert home.headers["Location"].startswith("/login/")
    assert _wait_for(lambda: _signed_in(sign_in(stack, "redis-restart", browser)[1], stack), 15)

    def ran_again() -> bool:
        return bool(
            stack.sql(
                "SELECT 1 FROM retention_retentionrun WHERE trigger = 'task' "
                "AND status = 'success' AND started_at > %s",
                restarted,
            )
        )

    assert _wait_for(ran_again, timeout=60), stack.log_path("worker").read_text()[-3000:]


def _seed_expired_snapshots(stack: Stack, count: int) -> None:
    """``count`` pupils whose snapshot is 400 days old (the 1-year rule deletes them)."""
    stack.sql(
        "WITH users AS ("
        " INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
        "  is_staff, is_active, date_joined)"
        " SELECT '', false, 'pupil-' || md5(random()::text), '', '', '', false, true, now()"
        " FROM generate_series(1, %s) RETURNING id),"
        " pupils AS ("
        " INSERT INTO pupils_pupil (public_id, pseudonym, kind, user_id, created_at, last_login_at)"
        " SELECT gen_random_uuid(), md5(random()::text) || md5(random()::text), 'identified', id,"
        "  now(), now() - interval '400 days' FROM users RETURNING id)"
        " INSERT INTO pupils_identitysnapshot (pupil_id, family_name, given_name, leer_id_uuid,"
        "  account_uuid, historiek_account_uuids, enrollments, granted_schools, login_at)"
        " SELECT id, 'x', 'x', NULL, gen_random_uuid(), '[]', '[]', '[]',"
        "  now() - interval '400 days' FROM pupils RETURNING 1",
        count,
    )


def _purging(stack: Stack) -> bool:
    return bool(
        stack.sql(
            "SELECT 1 FROM retention_retentionrun WHERE status = 'running' "
            "AND (counts->>'snapshots')::int > 0"
        )
    )


def _purge_finished(stack: Stack) -> bool:
    return not stack.sql(
        "SELECT 1 FROM pupils_identitysnapshot WHERE login_at < now() - interval '365 days'"
    ) and not stack.sql("SELECT 1 FROM retention_retentionrun WHERE status = 'running'")


def test_a_worker_killed_mid_batch_leaves_the_rest_to_the_next_run(stack: Stack):
    """The worker dies inside the snapshot purge; the next run deletes the rest, and the counts
    in RetentionRun and in the privacy log add up to exactly what was deleted."""
    count = 10_000
    # A worker with small batches, so the purge lasts long enough to be killed inside it.
    stack.kill("worker")
    seeded = stack.sql("SELECT now()")[0][0]
    _seed_expired_snapshots(stack, count)
    stack.start("worker", stack.commands["worker"], RETENTION_SCAN_SIZE="10")
    assert _wait_for(lambda: _purging(stack), timeout=120, step=0.05), "no snapshot purge started"
    stack.kill("worker", signal.SIGKILL)
    left = stack.sql(
        "SELECT count(*) FROM pupils_identitysnapshot WHERE login_at < now() - interval '365 days'"
    )[0][0]
    assert 0 < left < count, "the kill did not land inside the purge"

    stack.start("worker", stack.commands["worker"])
    finished = _wait_for(lambda: _purge_finished(stack), timeout=120)
    assert finished, stack.log_path("worker").read_text()[-3000:]
    runs = stack.sql(
        "SELECT id, status, coalesce((counts->>'snapshots')::int, 0) FROM retention_retentionrun"
        " WHERE dry_run = false AND started_at >= %s AND status <> 'skipped'",
        seeded,
    )
    assert "interrupted" in {status for _, status, _ in runs}
    assert sum(rows for _, _, rows in runs) == count

    def logged() -> int:
        return stack.sql(
            "SELECT coalesce(sum((details->'counts'->>'snapshots')::int), 0)"
            " FROM privacy_privacylogentry WHERE action = 'retention_purge'"
            " AND (details->>'run')::int = ANY(%s)",
            [run_id for run_id, _, _ in runs],
        )[0][0]

    # The entries are durable at once but readable once the sealer (beat, every few seconds)
    # has chained them.
    _wait_for(lambda: logged() == count, timeout=60)
    assert logged() == count


def test_two_beats_started_by_mistake_still_run_each_rule_once_per_period(stack: Stack):
    """A second beat sends every task again; the copies skip, and the worker's log says why."""
    started = stack.sql("SELECT now()")[0][0]
    stack.start(
        "beat-2",
        stack.commands["beat"],
        CELERY_BEAT_SCHEDULE_FILENAME=str(stack.folder / "beat-2-schedule"),
    )
    time.sleep(4 * SCHEDULE_SECONDS)
    stack.kill("beat-2")
    window = stack.sql("SELECT extract(epoch FROM now() - %s)", started)[0][0]
    runs = stack.sql(
        "SELECT status, rules, error FROM retention_retentionrun"
        " WHERE trigger = 'task' AND started_at >= %s",
        started,
    )
    # Schedule periods (on the clock) that the window touches, partial ones at both ends
    # included: at most one success per rule in each. Without the check, about twice that.
    periods = math.floor(float(window) / SCHEDULE_SECONDS) + 2
    for rule in ("accounts", "snapshots", "privacy_log"):
        successes = [1 for status, rules, _ in runs if status == "success" and rules == [rule]]
        assert len(successes) <= periods, (rule, len(successes), periods)
    # One beat alone also skips now and then (three rules fire together and the worker runs
    # two at a time: one finds the lock held); the second beat's copies are what skip as done.
    assert any(error == "already ran this period" for _, _, error in runs), runs
    assert "already ran since" in stack.log_path("worker").read_text()


def test_no_two_retention_runs_ever_overlapped(stack: Stack):
    """Over every fault above (restarts, a kill, two beats): runs that did work never overlap."""
    overlaps = stack.sql(
        "SELECT count(*) FROM retention_retentionrun a JOIN retention_retentionrun b"
        " ON a.id < b.id"
        " WHERE a.status IN ('success', 'failed') AND b.status IN ('success', 'failed')"
        " AND a.started_at < b.finished_at AND b.started_at < a.finished_at"
    )
    assert overlaps == [(0,)]
    assert stack.sql("SELECT count(*) FROM retention_retentionrun WHERE status = 'success'")[0][0]
