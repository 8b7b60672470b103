"""The pupil's pages and /api/me."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from ilearn_auth.logout import LOGOUT_STATE_SESSION_KEY
from tests.oidc.conftest import CLIENT_ID, login
from tests.oidc.helpers import privacy_entries

pytestmark = pytest.mark.django_db


def test_it_shows_the_login_button_in_dutch(client, op):
    """The login page offers 'Aanmelden met LeerID' and is marked as Dutch."""
    page = client.get("/login/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'lang="nl"' in html
    assert "Aanmelden met LeerID" in html
    assert '<main id="main"' in html
    assert "Demoleerlingen" not in html


def test_it_lists_the_demo_pupils_in_demo_mode(client, op, settings):
    """With LEERID_DEMO on, the login page names every demo pupil."""
    from demo.pupils import DEMO_PUPILS

    settings.LEERID_DEMO = True
    html = client.get("/login/").content.decode()
    assert all(pupil.sub in html for pupil in DEMO_PUPILS)


def test_it_sends_anonymous_visitors_of_home_to_the_login_page(client, op):
    """Home needs a signed-in user."""
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_greets_the_signed_in_pupil(client, op, demo_schools):
    """Home greets by given name and names the school access came through."""
    login(client, op)
    html = client.get("/").content.decode()
    assert "Hallo Testa!" in html
    assert "012345" in html


def test_it_answers_401_json_on_api_me_for_anonymous_visitors(client, op):
    """/api/me without a pupil session: 401 JSON."""
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"error": "not_authenticated"}


def test_it_describes_the_pupil_on_api_me(client, op, demo_schools):
    """/api/me: public id, kind, given name, granted schools; never a LeerID key."""
    from pupils.models import Pupil

    login(client, op)
    body = client.get("/api/me").json()
    pupil = Pupil.objects.get()
    assert body == {
        "pupil_id": str(pupil.public_id),
        "kind": "identified",
        "given_name": "Testa",
        "schools": ["012345"],
    }
    assert op.claims["ov_account_uuid"] not in str(body)


def test_it_answers_401_on_api_me_for_staff(client, op, django_user_model):
    """A staff user is not a pupil: 401 on /api/me."""
    staff = django_user_model.objects.create_user("staff", password="long-password-123")
    client.force_login(staff)
    assert client.get("/api/me").status_code == 401


def test_it_keeps_a_pupil_signed_in_on_a_typed_logout_url(client, op, demo_schools):
    """GET /logout/ (a bookmark, no CSRF token) signs nobody out: it leads to the home page."""
    login(client, op)
    response = client.get("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/api/me").status_code == 200


def test_it_logs_out_locally_then_at_leerid(client, op, demo_schools):
    """POST /logout/ ends our session and goes to end_session with client_id and state."""
    login(client, op)
    response = client.post("/logout/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (
        f"{target.scheme}://{target.netloc}{target.path}" == op.metadata()["end_session_endpoint"]
    )
    query = {name: values[0] for name, values in parse_qs(target.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["post_logout_redirect_uri"] == "http://testserver/login/"
    assert len(query["state"]) >= 32
    assert "_auth_user_id" not in client.session
    assert client.get("/api/me").status_code == 401
    [entry] = privacy_entries(action="authn_logout")
    assert len(entry.subject) == 64
    # Back from LeerID with our state: the login page says so.
    page = client.get("/login/", {"state": query["state"]})
    assert "Je bent afgemeld" in page.content.decode()


def test_it_does_not_announce_a_logout_it_did_not_start(client, op, demo_schools):
    """A forged state on the login page shows no logout message, even while one of our
    logouts is under way: only the state we sent to LeerID counts."""
    assert "Je bent afgemeld" not in client.get("/login/?state=x").content.decode()
    login(client, op)
    response = client.post("/logout/")
    sent = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    assert client.session[LOGOUT_STATE_SESSION_KEY] == sent
    page = client.get("/login/", {"state": "forged-" + sent[:8]})
    assert "Je bent afgemeld" not in page.content.decode()


def test_it_logs_out_locally_when_leerid_is_down(client, op, demo_schools):
    """Without LeerID, logout still ends our session and lands on the login page."""
    login(client, op)
    op.down = True
    from ilearn_auth import oidc_config

    oidc_config.reset_caches()
    response = client.post("/logout/")
    assert response["Location"] == "/login/"
    assert client.get("/api/me").status_code == 401


def test_it_shows_a_generic_page_for_a_direct_visit_to_the_failure_page(client, op):
    """The failure page without a failure in the session is a 400 page, not a 500."""
    assert client.get("/login/failed/").status_code == 400


def test_it_switches_to_english(client, op):
    """The language switch turns the pages English."""
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert 'lang="en"' in html
    assert "Sign in with LeerID" in html


def test_it_turns_a_database_error_escaping_a_view_into_the_503_page(rf):
    """handler500: a DatabaseError is the 503 page; nothing of the error reaches the page."""
    from django.db import OperationalError

    from ilearn_auth.pages import server_error

    request = rf.get("/")
    try:
        raise OperationalError("could not connect to db.internal as admin")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503
    assert "db.internal" not in response.content.decode()
    assert "database_unavailable" in response.content.decode()


def test_it_answers_503_when_the_session_store_is_down(client, op, settings):
    """Sessions live in Redis: with Redis unreachable, starting a login (which must store its
    state) ends on the 503 page, not a 500."""
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {
            "BACKEND": "ilearn_auth.session_cache.ReusingRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    settings.SESSION_ENGINE = "ilearn_auth.session_store"
    settings.SESSION_CACHE_ALIAS = "sessions"
    client.raise_request_exception = False
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "session_store_unavailable" in response.content.decode()


def test_it_turns_other_errors_into_a_friendly_500_page(rf):
    """handler500: anything else is still a page, not a stack trace."""
    from ilearn_auth.pages import server_error

    try:
        raise RuntimeError("secret detail")
    except RuntimeError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "secret detail" not in response.content.decode()


def test_it_rotates_the_session_key_when_the_same_pupil_signs_in_again(client, op, demo_schools):
    """Signing in again while signed in still gives a new session key."""
    login(client, op)
    before = client.session.session_key
    login(client, op)
    assert client.session.session_key != before
    assert client.get("/api/me").status_code == 200


def test_it_keeps_no_cookies_between_calls_to_the_op(monkeypatch):
    """The shared HTTP client sends no cookie the OP set, so nothing leaks between logins."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from ilearn_auth import oidc_config

    seen: list[str | None] = []

    class SetsACookie(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Cookie"))
            body = b"{}"
            self.send_response(200)
            self.send_header("Set-Cookie", "sid=pupil-1; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SetsACookie)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(oidc_config, "_session", None)
    try:
        url = f"http://127.0.0.1:{server.server_port}/op/userinfo"
        for _ in range(2):
            assert oidc_config.http().get(url, timeout=(2, 2)).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [None, None]


def test_it_ends_the_pupils_session_after_a_school_day_and_at_browser_close(
    client, op, demo_schools
):
    """The session cookie dies with the browser; the session itself after 8 hours."""
    from django.conf import settings

    response = login(client, op)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert not cookie["expires"] and not cookie["max-age"]
    session = client.session
    assert session.get_expire_at_browser_close()
    assert session.get_expiry_age() == 8 * 3600


def test_it_logs_out_even_when_the_privacy_log_cannot_be_written(client, op, demo_schools):
    """A database error while logging the logout still ends the session: no 500, no pupil
    left signed in on a shared computer."""
    from unittest import mock

    from django.db import OperationalError

    login(client, op)
    with mock.patch("privacy.log", side_effect=OperationalError("down")):
        response = client.post("/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/api/me").status_code == 401
