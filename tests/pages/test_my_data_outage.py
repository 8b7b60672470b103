"""The download of "mijn gegevens" while PostgreSQL is really down, served by gunicorn."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.test import Client

from conftest import ROOT, database_url_for
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from tests.tcp_proxy import TcpProxy
from tests.test_readyz_outage import _answers, free_port, wait_for


def _get(port: int, path: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback http
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def gunicorn_through_proxy(transactional_db, redis_url):
    """gunicorn on the test database through a proxy the test can cut; sessions in Redis."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs a real PostgreSQL to take down: set DATABASE_URL")
    settings_dict = connection.settings_dict
    proxy = TcpProxy(
        settings_dict.get("HOST") or "127.0.0.1", int(settings_dict.get("PORT") or 5432)
    )
    proxy.start()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings_test",
        "DATABASE_URL": database_url_for(
            {**settings_dict, "HOST": "127.0.0.1", "PORT": proxy.port}
        ),
        "REDIS_URL": redis_url,
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
        yield proxy, port
    finally:
        server.terminate()
        server.wait(timeout=10)
        proxy.stop()


def test_it_answers_the_503_page_to_a_download_while_postgres_is_down(
    gunicorn_through_proxy, settings
):
    """Signed in (session in Redis), the database goes away: the download is the 503 page,
    with no data in it; when the database is back, the download works again."""
    proxy, port = gunicorn_through_proxy
    pupil = pupil_record_login(
        claims=leerid_claims(leer_id_uuid=new_key(), given_name="Testa"),
        granted_schools=["012345"],
    )
    client = Client()
    client.force_login(pupil.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    status, body = _get(port, "/mijn-gegevens/download/", cookie)
    assert status == 200, body[:300]
    assert '"given_name": "Testa"' in body

    proxy.stop()
    started = dt.datetime.now()
    status, body = _get(port, "/mijn-gegevens/download/", cookie)
    assert status == 503
    assert "i-Learn is even niet bereikbaar" in body
    assert "Testa" not in body
    assert dt.datetime.now() - started < dt.timedelta(seconds=10)

    proxy.start()
    healed = wait_for(lambda: _get(port, "/mijn-gegevens/download/", cookie)[0] == 200, 15)
    assert healed, "the download did not work again after PostgreSQL came back"
