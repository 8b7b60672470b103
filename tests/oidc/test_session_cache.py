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
    from django.core.cache import caches

    from ilearn_auth.session_store import SessionStore

    assert settings.SESSION_ENGINE == "ilearn_auth.session_store"
    assert isinstance(caches[settings.SESSION_CACHE_ALIAS], ReusingRedisCache)
    store = SessionStore()
    store["k"] = "v"
    store.save()
    assert SessionStore(store.session_key)["k"] == "v"
    store.delete()


@pytest.mark.redis
def test_it_does_not_bring_back_a_session_deleted_meanwhile(redis_url):
    """A save after another request deleted the session (logout) fails; nothing is recreated."""
    from django.contrib.sessions.backends.base import UpdateError

    from ilearn_auth.session_store import SessionStore

    store = SessionStore()
    store["k"] = "v"
    store.save()
    key = store.session_key
    SessionStore(key).delete()
    store["k"] = "changed"
    with pytest.raises(UpdateError):
        store.save()
    assert not SessionStore().exists(key)


@pytest.mark.redis
def test_it_moves_the_session_to_a_new_key_and_deletes_the_old_one(redis_url):
    """cycle_key (auth.login): the data lives on under a new key, the old key is gone."""
    from ilearn_auth.session_store import SessionStore

    store = SessionStore()
    store["k"] = "v"
    store.save()
    old = store.session_key
    store.cycle_key()
    store["user"] = "1"
    store.save()
    assert store.session_key not in (None, old)
    assert not SessionStore().exists(old)
    assert dict(SessionStore(store.session_key).items()) == {"k": "v", "user": "1"}
    store.delete()


@pytest.mark.redis
def test_it_uses_one_redis_round_trip_per_save(redis_url, monkeypatch):
    """A new session, a save of it, and the save after cycle_key are one round trip each."""
    from redis.connection import AbstractConnection

    from ilearn_auth.session_store import SessionStore

    sent: list[int] = []
    real = AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(1)
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    store = SessionStore()
    store["k"] = "v"
    store.save()  # SET NX, no EXISTS first
    assert len(sent) == 1
    store["k"] = "w"
    store.save()  # SET XX, no GET first
    assert len(sent) == 2
    old = store.session_key
    store.cycle_key()
    store["user"] = "1"
    store.save()  # SET NX of the new key and DEL of the old one, pipelined
    assert len(sent) == 3
    monkeypatch.undo()
    assert not SessionStore().exists(old)
    store.delete()


@pytest.mark.redis
def test_a_login_takes_four_redis_round_trips(client, op, demo_schools, monkeypatch):
    """authenticate: SET NX; callback: GET, SET XX (state consumed), SET NX + DEL pipelined."""
    from redis.connection import AbstractConnection

    from tests.oidc.conftest import finish_login, login, start_login

    login(client, op)  # connects to Redis (the handshake is not the login's)
    client.post("/logout/")
    client.cookies.clear()
    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command

    def counting(self, command, *args, **kwargs):
        sent.append(command)
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    params = start_login(client, op)
    assert len(sent) == 1
    assert finish_login(client, params)["Location"] == "/"
    assert len(sent) == 4
