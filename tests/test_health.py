from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_it_answers_healthz(client):
    """The liveness probe answers 200 without touching any service."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_reports_ready_with_each_part_named(client, settings):
    """Readiness names every part it checked."""
    settings.READINESS_CHECKS = ["ilearn_auth.health.check_database"]
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    assert body["failing"] == []


def test_it_names_the_database_when_it_is_down(client, settings):
    """A database that cannot be reached makes readiness 503, naming the database."""
    settings.READINESS_CHECKS = ["ilearn_auth.health.check_database"]
    with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor") as cursor:
        cursor.side_effect = OperationalError("connection refused to db.internal:5432 as admin")
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database"]
    assert "db.internal" not in response.content.decode()


def test_it_turns_a_crashing_check_into_a_failing_one(client, settings):
    """A check that raises is reported as failing, not as a 500."""
    settings.READINESS_CHECKS = ["tests.test_health.crashing_check"]
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["crashing_check"]


def crashing_check():
    raise RuntimeError("boom")


def test_it_skips_redis_when_not_configured(settings):
    """Without REDIS_URL there is no Redis to check."""
    from ilearn_auth.health import check_redis

    settings.REDIS_URL = ""
    assert check_redis() is None


def test_it_reports_redis_down(settings):
    """A Redis that does not answer fails its check, quickly."""
    from ilearn_auth import health

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    health._redis_client.cache_clear()
    try:
        assert health.check_redis() == health.Check("redis", False, "unreachable")
    finally:
        health._redis_client.cache_clear()


@pytest.mark.redis
def test_it_reports_the_real_redis_up(settings, redis_url):
    """With the real Redis configured, readiness checks it and passes."""
    from ilearn_auth import health

    settings.REDIS_URL = redis_url
    health._redis_client.cache_clear()
    try:
        assert health.check_redis() == health.Check("redis", True)
    finally:
        health._redis_client.cache_clear()
