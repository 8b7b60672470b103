"""Staff sessions end after 30 idle minutes and after 8 hours; sign-out ends them in the store."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from privacy import actions
from staff.tests.conftest import LOGIN, entries, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


def test_it_ends_an_idle_staff_session_after_thirty_minutes(client, support):
    """31 minutes without a request: the next one is sent to sign in, saying why; logged."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, support)
    with time_machine.travel(start + dt.timedelta(minutes=29), tick=False):
        assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=58), tick=False):
        assert client.get(reverse("admin:index")).status_code == 200  # 29 idle minutes
    with time_machine.travel(start + dt.timedelta(minutes=89), tick=False):
        response = client.get(reverse("admin:index"))
        assert response["Location"] == f"{LOGIN}?ended=idle_timeout"
        page = client.get(response["Location"])
    assert "30 minuten" in page.content.decode()
    assert entries(actions.AUTHN_LOGOUT)[-1].reason == "idle_timeout"


def test_it_ends_any_staff_session_after_eight_hours(client, support):
    """However busy, a staff session ends 8 hours after sign-in."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, support)
    for minutes in range(20, 8 * 60, 20):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=8), tick=False):
        response = client.get(reverse("admin:index"))
    assert response["Location"] == f"{LOGIN}?ended=max_age"
    assert entries(actions.AUTHN_LOGOUT)[-1].reason == "max_age"


def test_it_reads_the_limits_from_settings(client, support, settings):
    """STAFF_SESSION_IDLE_SECONDS sets the idle limit."""
    settings.STAFF_SESSION_IDLE_SECONDS = 120
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(client, support)
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.parametrize("engine", ["db", "cache"])
def test_it_ends_the_session_in_its_store_at_sign_out(support, engine, settings):
    """After sign-out the old cookie opens nothing: the session is gone from the store."""
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    client = Client()
    sign_in(client, support)
    key = client.session.session_key
    assert store().exists(key)
    assert client.post(reverse("admin:logout")).status_code == 200
    assert not store().exists(key)
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = key
    assert stale.get(reverse("admin:index")).status_code == 302
    assert entries(actions.AUTHN_LOGOUT)[-1].reason == "signed_out"
