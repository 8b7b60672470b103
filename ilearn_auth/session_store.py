"""Sessions in Redis in as few round trips as they need: Django's cache sessions, three changes.

A login used ten Redis round trips for its session: each new key was first checked with
EXISTS, each save read the key before writing it, the callback re-read the session it had just
saved, and the new key of ``auth.login`` was written once when made and again at the end of
the request. Now it uses four (authenticate: one SET NX; callback: GET, SET XX, then SET NX of
the new key with DEL of the old one in one pipeline):

- A new key is not checked first: it is written with ``add`` (``SET NX``), which fails on a
  collision, and Django's ``create`` then draws another (32 random characters: 165 bits).
- A save of an existing session is one ``SET ... XX`` (``set_if_exists``): a session deleted
  meanwhile (logged out in another tab) is still not brought back (``UpdateError``), as with
  Django's read-then-write, but atomically.
- ``cycle_key`` (``auth.login``: no session fixation) leaves the new key to the save at the end
  of the request, which writes the signed-in session under it and deletes the old key in the
  same round trip (as Django's does, the old key goes after the new one exists). Until then
  ``session_key`` is None; a request that ends without saving (a 500) keeps the old session
  as it was before the login, signed-in state never having been written to it.

With a cache that has no ``set_if_exists`` (another backend configured by hand), saves fall
back to Django's way.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.utils.crypto import get_random_string


class SessionStore(CacheSessionStore):
    _replaced_keys: tuple[str, ...] = ()

    def _get_new_session_key(self) -> str:
        # Uniqueness is checked by the add (SET NX) in create(), which retries on a collision.
        return get_random_string(32, VALID_KEY_CHARS)

    def save(self, must_create: bool = False) -> None:
        set_if_exists = getattr(self._cache, "set_if_exists", None)
        if self.session_key is None or must_create or set_if_exists is None:
            super().save(must_create=must_create)
            return
        stored = set_if_exists(
            self.cache_key, self._get_session(no_load=False), self.get_expiry_age()
        )
        if not stored:
            raise UpdateError

    def cycle_key(self) -> None:
        data = self._session
        if self.session_key:
            self._replaced_keys = (*self._replaced_keys, self.session_key)
        self._session_key = None
        self._session_cache = data
        self.modified = True

    def flush(self) -> None:
        # Signed out in the same request that signed in: the old keys go too.
        for key in self._replaced_keys:
            self.delete(key)
        self._replaced_keys = ()
        super().flush()

    def create(self) -> None:
        add_replacing = getattr(self._cache, "add_replacing", None)
        replaced, self._replaced_keys = self._replaced_keys, ()
        if add_replacing is None or not replaced:
            super().create()
            for key in replaced:
                self.delete(key)
            return
        *others, last = replaced
        for key in others:
            self.delete(key)
        old_key = self.cache_key_prefix + last
        for _attempt in range(100):
            self._session_key = self._get_new_session_key()
            if add_replacing(self.cache_key, self._session, self.get_expiry_age(), old_key):
                self.modified = True
                return
        raise RuntimeError("Unable to create a new session key: is the cache available?")
