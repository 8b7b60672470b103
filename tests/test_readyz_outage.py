"""Readiness against a real PostgreSQL that goes away and comes back, served by gunicorn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import database_url_for
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.3)


@pytest.fixture
def proxied_app(django_db_setup, django_db_blocker):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs a real PostgreSQL to stop: set DATABASE_URL")
    settings_dict = connection.settings_dict
    proxy = TcpProxy(
        settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432)
    )
    proxy.start()
    proxied = {**settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ilearn_auth.settings_test",
        DATABASE_URL=database_url_for(proxied),
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "ilearn_auth.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: _answers(port)), "gunicorn did not start"
        yield proxy, port
    finally:
        server.terminate()
        server.wait(timeout=10)
        proxy.stop()


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    except OSError:
        return False
    return True


def test_it_names_the_database_while_postgres_is_down_and_recovers(proxied_app):
    """PostgreSQL going away makes /readyz 503 naming the database; its return heals it."""
    proxy, port = proxied_app
    status, body = get_readyz(port)
    assert body["checks"]["database"]["ok"] is True

    proxy.stop()
    status, body = get_readyz(port)
    assert status == 503
    assert "database" in body["failing"]
    assert body["checks"]["database"] == {"ok": False, "detail": "unreachable"}

    proxy.start()
    healed = wait_for(lambda: get_readyz(port)[1]["checks"]["database"]["ok"], timeout=15)
    assert healed, "readiness did not recover after PostgreSQL came back"


def test_it_cancels_a_slow_query_when_a_statement_timeout_is_set(django_db_setup):
    """DATABASE_STATEMENT_TIMEOUT bounds a slow query: it fails fast instead of hanging."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting: set DATABASE_URL")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "DATABASE_STATEMENT_TIMEOUT": "200",
    }
    script = (
        "import django; django.setup()\n"
        "from django.db import connection, OperationalError\n"
        "try:\n"
        "    connection.cursor().execute('SELECT pg_sleep(5)')\n"
        "except OperationalError as exc:\n"
        "    print('cancelled', type(exc.__cause__).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "cancelled QueryCanceled", result.stderr
