"""Django's Redis cache, reusing one client per connection pool: the store for sessions.

Django 5.2's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every operation,
and redis-py 8 fills a table of some 170 response callbacks in each constructor: about a third
of a millisecond of CPU per cache call, a dozen calls per login. A ``redis.Redis`` is safe to
share between threads (the pool hands out connections), so one per pool is enough.

``set_if_exists`` is Redis's ``SET ... XX``: overwrite a key only if it is still there, in one
round trip; ``add_replacing`` is ``SET ... NX`` of a new key and ``DEL`` of an old one, in one.
The session store (``ilearn_auth.session_store``) saves with them, where Django's cache sessions
read a key before writing it (two round trips, and not atomic).
"""

from __future__ import annotations

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # Two threads may both build one here; either is fine to keep.
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client

    def add_replacing(self, key, value, timeout, old_key) -> bool:
        client = self.get_client(key, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.set(key, self._serializer.dumps(value), ex=timeout, nx=True)
        pipe.delete(old_key)
        added, _ = pipe.execute()
        return bool(added)

    def set_if_exists(self, key, value, timeout) -> bool:
        client = self.get_client(key, write=True)
        if timeout == 0:
            return bool(client.delete(key))
        return bool(client.set(key, self._serializer.dumps(value), ex=timeout, xx=True))


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def add_replacing(self, key, value, timeout=DEFAULT_TIMEOUT, old_key="", version=None) -> bool:
        """``add`` (SET NX) and delete ``old_key``, in one round trip; False when ``key`` existed.

        ``old_key`` is deleted either way (a pipeline, not a transaction).
        """
        key = self.make_and_validate_key(key, version=version)
        old_key = self.make_and_validate_key(old_key, version=version)
        return self._cache.add_replacing(key, value, self.get_backend_timeout(timeout), old_key)

    def set_if_exists(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """Overwrite ``key`` only if it exists (atomic); False when it did not."""
        key = self.make_and_validate_key(key, version=version)
        return self._cache.set_if_exists(key, value, self.get_backend_timeout(timeout))
