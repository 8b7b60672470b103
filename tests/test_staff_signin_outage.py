"""Staff sign-in while PostgreSQL or Redis is really down, served by gunicorn: the 503 page,
nobody signed in, nothing half-written; the same sign-in works once the service is back."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from conftest import ROOT, database_url_for
from privacy import actions
from privacy.models import PrivacyLogEntry
from staff.testing import undertaking_signed
from tests.tcp_proxy import TcpProxy
from tests.test_readyz_outage import _answers, free_port, wait_for

PASSWORD = "a-long-staff-password-1"
pytestmark = pytest.mark.real_second_factor


@pytest.fixture
def gunicorn_through_proxies(transactional_db, redis_url):
    """gunicorn with PostgreSQL and Redis (sessions) each behind a proxy the test can cut."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs a real PostgreSQL to take down: set DATABASE_URL")
    settings_dict = connection.settings_dict
    postgres = TcpProxy(
        settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432)
    )
    redis_parts = urlsplit(redis_url)
    redis = TcpProxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379)
    postgres.start()
    redis.start()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": database_url_for(
            {**settings_dict, "HOST": "127.0.0.1", "PORT": postgres.port}
        ),
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}{redis_parts.path or '/0'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ilearn_auth.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for(lambda: _answers(port)), "gunicorn did not start"
        yield {"postgres": postgres, "redis": redis}, port
    finally:
        server.terminate()
        server.wait(timeout=10)
        postgres.stop()
        redis.stop()


class Browser:
    """Just enough of a browser over http: cookies by hand (the test settings mark them Secure,
    which a cookie jar would not send over plain http), no redirects followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, response.getheader("Location") or "", text

    def sign_in_with_password(self) -> tuple[int, str, str]:
        status, _, page = self.request("GET", "/admin/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": "sam-support", "password": PASSWORD, "csrfmiddlewaretoken": token}
        return self.request("POST", "/admin/login/", form)


@pytest.fixture
def support(transactional_db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.create_user("sam-support", password=PASSWORD, is_staff=True)
    undertaking_signed(user)
    user.groups.add(Group.objects.get(name="Support"))
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_it_answers_503_to_a_sign_in_while_a_service_is_down(
    gunicorn_through_proxies, support, service, settings
):
    """The right password while PostgreSQL (or Redis, where sessions live) is down: the 503
    page, no session, no log entry; once it is back the same sign-in goes through."""
    proxies, port = gunicorn_through_proxies
    browser = Browser(port)
    browser.request("GET", "/admin/login/")
    before = PrivacyLogEntry.objects.count()

    proxies[service].stop()
    try:
        status, _, page = browser.sign_in_with_password()
    finally:
        proxies[service].start()
    assert status == 503
    assert "i-Learn is even niet bereikbaar" in page
    assert settings.SESSION_COOKIE_NAME not in browser.cookies
    assert PrivacyLogEntry.objects.count() == before
    support.refresh_from_db()
    assert support.last_login is None

    healed = wait_for(lambda: browser.sign_in_with_password()[1] == "/admin/sign-in/code/", 15)
    assert healed, f"sign-in did not work again after {service} came back"
    assert settings.SESSION_COOKIE_NAME in browser.cookies
    [success] = PrivacyLogEntry.objects.filter(action=actions.AUTHN_LOGIN_SUCCESS)
    assert success.details == {"stage": "password", "second_factor": "pending"}
