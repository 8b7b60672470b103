"""Sessions in Redis in as few round trips as they need: Django's cache sessions, three changes.

A login used eleven Redis round trips for its session: each new key was first checked with
EXISTS, each save read the key before writing it, the callback re-read the session it had just
saved, and the new key of ``auth.login`` was written once when made and again at the end of
the request. Now it uses five (authenticate: one ADD; callback: GET, SET XX, DEL, ADD):

- A new key is not checked first: it is written with ``add`` (``SET NX``), which fails on a
  collision, and Django's ``create`` then draws another (32 random characters: 165 bits).
- A save of an existing session is one ``SET ... XX`` (``set_if_exists``): a session deleted
  meanwhile (logged out in another tab) is still not brought back (``UpdateError``), as with
  Django's read-then-write, but atomically.
- ``cycle_key`` (``auth.login``: no session fixation) deletes the old key at once and leaves the
  new one to be made by the save at the end of the request, with the data of the signed-in
  session, in one ``add``. Until then ``session_key`` is None.

With a cache that has no ``set_if_exists`` (another backend configured by hand), saves fall
back to Django's way.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.utils.crypto import get_random_string


class SessionStore(CacheSessionStore):
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
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)
