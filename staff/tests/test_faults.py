"""Redis or the database down during sign-in: the 503 page, no sign-in, nothing half-written."""

from __future__ import annotations

from importlib import import_module
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy import actions
from privacy.models import PrivacyLogEntry
from staff.tests.conftest import CODE, code_for, entries, sign_in_password

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


@pytest.fixture
def redis_down(settings):
    """Sessions in a Redis that does not answer (a closed port), the shared Redis untouched."""
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.SESSION_CACHE_ALIAS = "sessions"


def test_it_answers_503_when_the_session_store_is_down_at_sign_in(support, redis_down):
    """The right password with Redis down: 503, no session, no success entry, no last_login."""
    client = Client(raise_request_exception=False)
    before = PrivacyLogEntry.objects.count()
    response = sign_in_password(client, support.username)
    assert response.status_code == 503
    assert "niet bereikbaar" in response.content.decode()
    assert not entries(actions.AUTHN_LOGIN_SUCCESS)
    assert PrivacyLogEntry.objects.count() == before
    support.refresh_from_db()
    assert support.last_login is None


def test_it_answers_503_when_the_database_is_down_at_sign_in(support):
    """The database refuses during the password check: 503, nobody signed in."""
    client = Client(raise_request_exception=False)
    down = OperationalError("connection refused")
    with mock.patch("django.contrib.auth.backends.ModelBackend.authenticate", side_effect=down):
        response = sign_in_password(client, support.username)
    assert response.status_code == 503
    assert not client.session.get("_auth_user_id")
    assert not entries(actions.AUTHN_LOGIN_SUCCESS)


def test_it_answers_503_when_the_database_is_down_at_the_code(support):
    """The database refuses while the code is checked: 503, the session stays unverified."""
    client = Client(raise_request_exception=False)
    sign_in_password(client, support.username)
    down = OperationalError("connection refused")
    with mock.patch("staff.second_factor.second_factor_check", side_effect=down):
        response = client.post(CODE, {"code": code_for(support)})
    assert response.status_code == 503
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert [e.details["stage"] for e in entries(actions.AUTHN_LOGIN_SUCCESS)] == ["password"]


def test_it_leaves_nothing_half_written_when_the_session_cannot_be_saved(support):
    """A session store failing after the code is accepted rolls the success entry back."""
    client = Client(raise_request_exception=False)
    sign_in_password(client, support.username)
    before = PrivacyLogEntry.objects.count()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    real_save = store.save

    def save_fails_after_the_log_entry(self, must_create=False):
        # cycle_key creates the new session (must_create); the save that fails is the one the
        # view makes last, after the success entry is written.
        if must_create:
            return real_save(self, must_create=True)
        raise OperationalError("store down")

    with mock.patch.object(store, "save", save_fails_after_the_log_entry):
        response = client.post(CODE, {"code": code_for(support)})
    assert response.status_code == 503
    assert PrivacyLogEntry.objects.count() == before
    device = TOTPDevice.objects.get(user=support)
    assert device.last_t == -1  # the code was not used up either
