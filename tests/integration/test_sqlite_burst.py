"""A morning rush on the embedded database: 20 simultaneous first logins of one pupil.

The app runs as it does in a small deployment: gunicorn (several processes, several threads
each) on a SQLite FILE, sessions in the database, against the stand-in LeerID. Every browser
first walks to LeerID and back up to the callback URL; then all 20 callbacks are sent at the
same moment, so the code exchange, the pupil's creation, the session writes and the
privacy-log entries of 20 logins meet on one database file.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.conftest import CLIENT_ID, CLIENT_SECRET, ROOT, free_port, stop

pytestmark = [pytest.mark.integration]

BURST = 20
PUPIL = {
    "given_name": "Spits",
    "family_name": "Uur",
    "ov_leerid_uuid": ["5a3b0c9e-6f1d-4b7a-9c2e-8d4f6a1b3c5d"],
    "ov_account_uuid": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "ov_inschrijvingen": ["012345"],
}


def _app_env(database: Path, issuer: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
            "DATABASE_URL": f"sqlite:///{database}",
            # As `make run` serves it: plain http, cookies without Secure.
            "DEBUG": "true",
            "LEERID_ISSUER": issuer,
            "LEERID_CLIENT_ID": CLIENT_ID,
            "LEERID_CLIENT_SECRET": CLIENT_SECRET,
            "LOG_LEVEL": "WARNING",
            # The stand-in LeerID answers 20 token and userinfo requests at once: on a loaded
            # machine that may take longer than production's 4 s, and it is not under test here.
            "LEERID_CONNECT_TIMEOUT": "30",
            "LEERID_READ_TIMEOUT": "30",
        }
    )
    return env


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with code {process.returncode}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail("gunicorn did not answer within 30 s")


@pytest.fixture
def sqlite_app(mock_op, tmp_path):
    """The app under gunicorn (3 processes x 8 threads) on a fresh, migrated SQLite file."""
    database = tmp_path / "burst.sqlite3"
    env = _app_env(database, mock_op.issuer)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "ilearn_auth.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads", "8"),
            *("--worker-class", "gthread", "--log-level", "warning", "--timeout", "120"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, server)
        yield url, database
    finally:
        stop(server)


def _to_callback(app: str, sub: str) -> tuple[requests.Session, str]:
    """A fresh browser walks to LeerID, signs in there, and stops before the callback."""
    browser = requests.Session()
    start = browser.get(f"{app}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, start.status_code
    back = browser.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False)
    assert back.status_code in (302, 303), back.status_code
    callback = back.headers["Location"]
    assert callback.startswith(f"{app}/oidc/callback/"), callback
    return browser, callback


def test_it_holds_twenty_simultaneous_first_logins_of_one_pupil(mock_op, sqlite_app):
    """20 first logins at once on SQLite: all succeed, one pupil, no 5xx page."""
    app, database = sqlite_app
    mock_op.set_user("spits", PUPIL)
    prepared = [_to_callback(app, "spits") for _ in range(BURST)]
    barrier = threading.Barrier(BURST)
    results: list[object] = [None] * BURST

    def callback(index: int) -> None:
        browser, url = prepared[index]
        barrier.wait()
        try:
            # Followed to the last page: a refusal shows as its 4xx/5xx failure page.
            response = browser.get(url, timeout=120)
            results[index] = (response.status_code, urlsplit(response.url).path)
            reason = re.search(r"<code>([a-z_]+)</code>", response.text)
            if reason:  # a failure page names its reason code: keep it for the assertion
                results[index] += (reason.group(1),)
        except requests.RequestException as exc:
            results[index] = exc

    threads = [threading.Thread(target=callback, args=(index,)) for index in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == [(200, "/")] * BURST
    for browser, _ in prepared:
        assert browser.get(f"{app}/api/me", timeout=10).json()["kind"] == "identified"

    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM pupils_pupil").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM pupils_identitysnapshot").fetchone() == (1,)
        successes = db.execute(
            "SELECT count(*) FROM privacy_privacylogentry WHERE action = 'authn_login_success'"
        ).fetchone()
        assert successes == (BURST,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    verified = subprocess.run(
        [sys.executable, "manage.py", "verify_privacy_log"],
        cwd=ROOT,
        env=_app_env(database, mock_op.issuer),
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
