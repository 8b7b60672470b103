"""A morning rush on the embedded database: 20 simultaneous first logins of one pupil.

The app runs as it does in a small deployment: gunicorn (several processes, several threads
each) on a SQLite FILE, sessions in the database, against a real OpenID Provider (panva's, from
tests/op, in its own process: the Python stand-in dropped a connection now and then under
twenty simultaneous token requests on a loaded machine, and the OP is not what is tested here).
Every browser first walks to LeerID and back up to the callback URL; then all 20 callbacks are
sent at the same moment, so the code exchange, the pupil's creation, the session writes and the
privacy-log entries of 20 logins meet on one database file.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from tests.integration.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    OP_DIR,
    ROOT,
    ensure_npm_op,
    free_port,
    stop,
    wait_for_discovery,
)

pytestmark = [pytest.mark.integration]

BURST = 20
PUPIL = {
    "given_name": "Spits",
    "family_name": "Uur",
    "ov_leerid_uuid": ["00000000-0000-4000-8000-00000000c001"],
    "ov_account_uuid": "00000000-0000-4000-8000-00000000c002",
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
            # The OP answers 20 token and userinfo requests at once: on a loaded machine that
            # may take longer than production's 4 s, and the OP is not under test here.
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
def sqlite_app(tmp_path):
    """The app under gunicorn (3 processes x 8 threads) on a fresh, migrated SQLite file, and
    its own panva OP with one client for it; yields (app URL, OP issuer, database file)."""
    ensure_npm_op()
    app_port, op_port = free_port(), free_port()
    url, issuer = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{op_port}"
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{url}/oidc/callback/"],
        "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": "RS256",
    }
    op_env = {**os.environ, "OP_PORT": str(op_port), "OP_CLIENTS": json.dumps([client])}
    op = subprocess.Popen(
        ["node", "op.mjs"],
        cwd=OP_DIR,
        env=op_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = tmp_path / "burst.sqlite3"
    env = _app_env(database, issuer)
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "ilearn_auth.wsgi:application"),
            *("--bind", f"127.0.0.1:{app_port}", "--workers", "3", "--threads", "8"),
            *("--worker-class", "gthread", "--log-level", "warning", "--timeout", "120"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_discovery(issuer, op)
        _wait_until_up(url, server)
        response = requests.put(f"{issuer}/users/spits", json=PUPIL, timeout=10)
        assert response.status_code == 204
        yield url, issuer, database
    finally:
        stop(server)
        stop(op)


def _failure_details(database: Path) -> list:
    """What the privacy log says about failed logins (reason and detail), for the message."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT reason, details FROM privacy_privacylogentry WHERE outcome = 'failure'"
        ).fetchall()


def _to_callback(app: str, issuer: str) -> tuple[requests.Session, str]:
    """A fresh browser walks to LeerID, signs in there, and stops before the callback."""
    browser = requests.Session()
    start = browser.get(f"{app}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, start.status_code
    url = start.headers["Location"] + "&login_hint=spits"
    assert url.startswith(issuer), url
    for _ in range(10):  # the OP's interactions auto-approve: a few redirects
        response = browser.get(url, allow_redirects=False, timeout=30)
        assert response.status_code in (302, 303), response.status_code
        url = urljoin(url, response.headers["Location"])
        if url.startswith(f"{app}/oidc/callback/"):
            # Its idle keep-alive connections would be closed by the servers before the burst
            # (a reset, not what is tested): the burst opens new ones; cookies are kept.
            browser.close()
            return browser, url
    pytest.fail("the OP did not send the browser back to the callback")


def test_it_holds_twenty_simultaneous_first_logins_of_one_pupil(sqlite_app):
    """20 first logins at once on SQLite: all succeed, one pupil, no 5xx page."""
    app, issuer, database = sqlite_app
    prepared = [_to_callback(app, issuer) for _ in range(BURST)]
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
    assert results == [(200, "/")] * BURST, _failure_details(database)
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
        env=_app_env(database, issuer),
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
