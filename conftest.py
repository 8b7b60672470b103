"""Fixtures shared by every app's tests: the real services CI provides."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


def _require_redis() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.skip("REDIS_URL is not set: the real Redis runs in CI (make test with REDIS_URL)")
    return url


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(request, monkeypatch):
    """``client.force_login(staff)`` also passes the second factor (a confirmed TOTP device).

    The admin needs both factors (staff/admin_site.py); tests of other pages sign staff in
    with force_login and test what a signed-in staff member may do, not the sign-in itself.
    The sign-in is tested for real in staff/tests (marker ``real_second_factor`` turns this off).
    """
    if request.node.get_closest_marker("real_second_factor"):
        return
    from django.test import Client

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if user.is_staff:
            from staff.testing import mark_verified

            mark_verified(self, user)

    monkeypatch.setattr(Client, "force_login", force_login)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return _require_redis()


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL naming the (test) database Django is connected to, for child processes."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_process(redis_url, django_db_setup, django_db_blocker):
    """A real Celery worker (solo pool) on the real Redis, connected to the test database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a worker in another process needs a shared database: set DATABASE_URL")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": database_url_for(connection.settings_dict),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    hostname = f"test-worker-{os.getpid()}@%h"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ilearn_auth",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--hostname",
            hostname,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        from ilearn_auth.celery import app

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited with code {worker.returncode}")
            if app.control.ping(timeout=1.0):
                break
        else:
            pytest.fail("the Celery worker did not answer a ping within 30 s")
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
