"""An open pupil session after its school's agreement is suspended or its user deactivated."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ilearn_auth.login_backend import LeerIDBackend
from pupils.models import Pupil
from schools.models import Agreement
from tests.oidc.conftest import login
from tests.oidc.helpers import privacy_entries

pytestmark = pytest.mark.django_db


def suspend_the_school() -> None:
    Agreement.objects.filter(school__instellingsnummer="012345").update(
        status=Agreement.Status.SUSPENDED
    )


@pytest.fixture
def signed_in(client, op, demo_schools, settings):
    with time_machine.travel(time.time(), tick=False) as clock:
        assert login(client, op)["Location"] == "/"
        assert client.get("/api/me").status_code == 200
        yield clock


def test_it_ends_the_session_within_the_interval_after_a_suspension(client, signed_in, settings):
    """Suspended: still in within the interval (no query), out after it with the reason."""
    suspend_the_school()
    signed_in.shift(settings.PUPIL_ACCESS_RECHECK_SECONDS - 10)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/me").status_code == 200
    assert not [query for query in queries if "schools_agreement" in query["sql"]]

    signed_in.shift(11)
    refused = client.get("/api/me")
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "access_refused", "reason": "no_agreement"},
    )
    assert client.get("/api/me").status_code == 401
    (entry,) = privacy_entries(action="authz_fail")
    assert (entry.reason, entry.details) == (
        "no_agreement",
        {"detail": "session_recheck", "schools": ["012345"]},
    )
    assert entry.subject and entry.actor == f"pupil:{entry.subject}"


def test_it_shows_the_pupil_the_refusal_page(client, signed_in, settings):
    """A page request after the re-check lands on the 403 page that says why, with the
    reference Support looks the refusal up by (as a refused login's page has)."""
    from ilearn_auth.refusal_reference import reference_for

    suspend_the_school()
    signed_in.shift(settings.PUPIL_ACCESS_RECHECK_SECONDS + 1)
    response = client.get("/", follow=True)
    assert response.status_code == 403
    assert "Je school werkt (nog) niet met i-Learn" in response.content.decode()
    (entry,) = privacy_entries(action="authz_fail")
    assert entry.sequence and reference_for(entry.sequence) in response.content.decode()


def test_it_keeps_the_session_while_the_school_stays_in_force(client, signed_in, settings):
    """The re-check passes, costs two queries (README), and is not repeated until the next
    interval: the request right after it runs two queries fewer and none on agreements."""
    for _ in range(3):
        signed_in.shift(settings.PUPIL_ACCESS_RECHECK_SECONDS + 1)
        with CaptureQueriesContext(connection) as rechecked:
            assert client.get("/api/me").status_code == 200
        with CaptureQueriesContext(connection) as after:
            assert client.get("/api/me").status_code == 200
        assert [q for q in rechecked if "schools_agreement" in q["sql"]]
        assert not [q for q in after if "schools_agreement" in q["sql"]]
        assert len(rechecked) - len(after) == 2


def test_it_refuses_a_deactivated_user_at_the_next_request(client, signed_in):
    """is_active off: the very next request ends the session, with the page saying so."""
    get_user_model().objects.filter(username__startswith="pupil-").update(is_active=False)
    response = client.get("/", follow=True)
    assert response.status_code == 403
    assert "uitgeschakeld" in response.content.decode()
    assert client.get("/api/me").status_code == 401
    (entry,) = privacy_entries(action="authz_fail")
    assert entry.reason == "account_inactive"


def test_it_refuses_inactive_users_in_get_user(client, signed_in):
    """The backend gives no user for a deactivated account (Django then treats it as signed out)."""
    user = get_user_model().objects.get(username__startswith="pupil-")
    assert LeerIDBackend().get_user(user.pk) == user
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert LeerIDBackend().get_user(user.pk) is None


def test_it_refuses_a_new_login_of_a_deactivated_user_with_that_reason(client, op, signed_in):
    """A deactivated pupil signing in again reads the same page, not a broken-login page, and
    nothing of the refused login is recorded: no login stamp, no success entry."""
    client.post("/logout/")
    get_user_model().objects.filter(username__startswith="pupil-").update(is_active=False)
    pupil = Pupil.objects.get()
    successes = len(privacy_entries(action="authn_login_success"))
    signed_in.shift(3600)
    response = login(client, op)
    page = client.get(response["Location"])
    assert (page.status_code, page.context["reason"]) == (403, "account_inactive")
    assert Pupil.objects.get().last_login_at == pupil.last_login_at
    assert len(privacy_entries(action="authn_login_success")) == successes
    (refusal,) = privacy_entries(action="authz_fail")
    assert (refusal.reason, refusal.subject) == ("account_inactive", pupil.pseudonym)


def test_it_lets_the_failure_page_answer_when_the_session_database_is_down(client, settings):
    """Sessions in a database that is down: the re-check steps aside and the failure page
    answers as it does in an outage (503, database_unavailable), not a 500."""
    from unittest import mock

    from django.contrib.sessions.backends.db import SessionStore
    from django.db import OperationalError

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
    with mock.patch.object(SessionStore, "load", side_effect=OperationalError("down")):
        page = client.get("/login/failed/")
    assert (page.status_code, page.context["reason"]) == (503, "database_unavailable")
