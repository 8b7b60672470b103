"""The sessions' Redis cache reuses its client and, with REDIS_URL, holds the sessions."""

from __future__ import annotations

import pytest

from ilearn_auth.session_cache import ReusingRedisCache


def test_it_reuses_one_redis_client_per_pool():
    """get_client returns the same client every time (no per-call construction)."""
    cache = ReusingRedisCache("redis://127.0.0.1:6379/15", {})
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other", write=True) is client


@pytest.mark.redis
def test_it_keeps_sessions_in_redis_when_configured(redis_url):
    """With REDIS_URL, sessions use the reusing Redis cache under their own alias."""
    from django.conf import settings
    from django.contrib.sessions.backends.cache import SessionStore
    from django.core.cache import caches

    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    assert isinstance(caches[settings.SESSION_CACHE_ALIAS], ReusingRedisCache)
    store = SessionStore()
    store["k"] = "v"
    store.save()
    assert SessionStore(store.session_key)["k"] == "v"
    store.delete()
