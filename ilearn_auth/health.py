"""Liveness and readiness.

``/healthz`` says the process answers. ``/readyz`` runs every check in
``settings.READINESS_CHECKS`` and answers 200 when all pass, 503 naming the failing parts.
A check is registered there by dotted path, so an app never imports this module: it returns
None (nothing to check) or any object with ``name``, ``ok`` and ``detail`` (``Check`` here;
``retention.health.Check`` is the same shape).
Details are fixed words, never exception text: that could carry hosts, users or versions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ilearn_auth import oidc_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = "ok"


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        # Drop the broken connection so the next request reconnects without a restart.
        connection.close_if_unusable_or_obsolete()
        connection.close()
        return Check("database", False, "unreachable")
    return Check("database", True)


@cache
def _redis_client() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
    )


def check_redis() -> Check | None:
    if not settings.REDIS_URL:
        return None
    try:
        _redis_client().ping()
    except redis.RedisError:
        return Check("redis", False, "unreachable")
    return Check("redis", True)


def check_leerid() -> Check:
    """The issuer is acceptable and its discovery document can be had and matches it."""
    try:
        oidc_config.discovery_document()
    except oidc_config.ProviderMisconfigured:
        return Check("leerid", False, "misconfigured")
    except oidc_config.ProviderUnavailable:
        return Check("leerid", False, "unreachable")
    return Check("leerid", True)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def run_checks() -> list[Check]:
    results = []
    for path in settings.READINESS_CHECKS:
        try:
            result = import_string(path)()
        except Exception:
            # A check that crashes is a failing check, not a 500.
            logger.exception("readiness check crashed: %s", path)
            result = Check(path.rsplit(".", 1)[-1].removeprefix("check_"), False, "error")
        if result is not None:
            results.append(result)
    return results


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = run_checks()
    ready = all(check.ok for check in results)
    body = {
        "status": "ok" if ready else "fail",
        "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in results},
        "failing": [check.name for check in results if not check.ok],
    }
    return JsonResponse(body, status=200 if ready else 503)
