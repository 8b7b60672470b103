"""The callback's other failure cases: state, the token endpoint, outages, refusals."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
import requests
import time_machine
from django.db import OperationalError, connection

from tests.oidc.conftest import FakeResponse, finish_login, login, pupil_claims, start_login
from tests.oidc.helpers import landed_on, privacy_entries

pytestmark = pytest.mark.django_db


def test_it_refuses_a_replayed_state(client, op, demo_schools):
    """state is single-use: the same callback a second time ends on the 400 page."""
    params = start_login(client, op)
    assert finish_login(client, params)["Location"] == "/"
    assert landed_on(client, finish_login(client, params)) == (400, "state_unknown")


def test_it_refuses_an_expired_state(client, op, settings):
    """A state older than LEERID_STATE_TTL is refused, and the OP is not even asked."""
    with time_machine.travel(time.time(), tick=False) as clock:
        params = start_login(client, op)
        clock.shift(settings.LEERID_STATE_TTL + 1)
        assert landed_on(client, finish_login(client, params)) == (400, "state_expired")
    assert op.calls["token"] == 0


def test_it_refuses_a_callback_without_any_login_started(client, op):
    """A callback with a state we never issued lands on the 400 page, not a 500."""
    response = client.get("/oidc/callback/", {"code": "c", "state": "made-up"})
    assert landed_on(client, response) == (400, "state_missing")


def test_it_refuses_a_response_from_another_issuer(client, op):
    """RFC 9207: an iss parameter naming another issuer is a mix-up attack: refused."""
    params = start_login(client, op)
    response = finish_login(client, params, iss="https://evil.test/op")
    assert landed_on(client, response) == (400, "callback_issuer_mismatch")
    assert op.calls["token"] == 0


def test_it_shows_a_cancelled_login(client, op):
    """error=access_denied from LeerID (the pupil cancelled) ends on a page saying so."""
    params = start_login(client, op)
    response = client.get("/oidc/callback/", {"error": "access_denied", "state": params["state"]})
    assert landed_on(client, response) == (400, "op_access_denied")


def test_it_keeps_the_pupil_signed_in_on_a_callback_link_it_did_not_start(client, op, demo_schools):
    """A forged callback link (no or unknown state) cannot sign out the pupil at the keyboard."""
    login(client, op)
    for params in ({"error": "access_denied"}, {"code": "x"}, {"code": "x", "state": "forged"}):
        client.get("/oidc/callback/", params)
        assert client.get("/api/me").status_code == 200, params


def test_it_signs_out_when_a_login_started_here_fails(client, op, demo_schools):
    """On a shared computer, the next pupil's failed login ends the previous pupil's session."""
    login(client, op)
    assert client.get("/api/me").status_code == 200
    params = start_login(client, op)
    client.get("/oidc/callback/", {"error": "access_denied", "state": params["state"]})
    assert client.get("/api/me").status_code == 401


def test_it_shows_a_cancelled_login_sent_back_without_state(client, op):
    """A cancel that comes back without state (as the stand-in sends it) still says cancelled."""
    start_login(client, op)
    response = client.get("/oidc/callback/", {"error": "access_denied"})
    assert landed_on(client, response) == (400, "op_access_denied")
    assert op.calls["token"] == 0


def test_it_answers_a_token_endpoint_error_with_the_400_page(client, op):
    """invalid_grant from the token endpoint (code reused) is a 400 page, not a 500."""
    op.token_response = FakeResponse(400, {"error": "invalid_grant", "error_description": "x"})
    assert landed_on(client, login(client, op)) == (400, "token_error")
    [entry] = privacy_entries(action="authn_login_fail")
    assert entry.details == {"detail": "invalid_grant"}


def test_it_answers_a_token_response_without_id_token_with_the_400_page(client, op):
    """A token response without id_token (plain OAuth) is refused cleanly."""
    op.token_response = FakeResponse(200, {"access_token": "at", "token_type": "Bearer"})
    assert landed_on(client, login(client, op)) == (400, "no_id_token")


def test_it_answers_a_token_response_that_is_not_json_with_the_400_page(client, op):
    """A token response that is not JSON is refused cleanly."""
    op.token_response = FakeResponse(200, "<html>oops</html>")
    assert landed_on(client, login(client, op)) == (400, "token_response_malformed")


def test_it_answers_503_when_the_op_is_down_at_the_start(client, op):
    """LeerID unreachable when the login starts: the 503 page at once."""
    op.down = True
    response = client.get("/oidc/authenticate/")
    assert landed_on(client, response) == (503, "op_unavailable")


def test_it_answers_503_when_the_op_goes_down_during_the_login(client, op):
    """LeerID unreachable at the token endpoint: the 503 page."""
    params = start_login(client, op)
    op.down = True
    assert landed_on(client, finish_login(client, params)) == (503, "op_unavailable")


def test_it_answers_503_when_the_token_endpoint_fails(client, op):
    """A 5xx from the token endpoint is LeerID being down: 503."""
    op.token_response = FakeResponse(502, "bad gateway")
    assert landed_on(client, login(client, op)) == (503, "op_unavailable")


def test_it_puts_a_timeout_on_every_call_to_the_op(client, op, demo_schools):
    """Every HTTP call to the OP carries a connect and a read timeout."""
    login(client, op)
    assert op.timeouts
    assert all(isinstance(t, tuple) and len(t) == 2 and all(t) for t in op.timeouts)


def test_it_answers_503_when_the_database_is_down(client, op, demo_schools):
    """A database outage during the decision is the 503 page, never a 500."""
    with mock.patch(
        "schools.access.schools_with_agreement_in_force",
        side_effect=OperationalError("connection to db.internal refused"),
    ):
        response = login(client, op)
    status, reason = landed_on(client, response)
    assert (status, reason) == (503, "database_unavailable")


def _failing_login_entry(real_log):
    """privacy.log, except that the login's own entry meets a database error."""

    def log(action, **fields):
        if action == "authn_login_success":
            raise OperationalError("the privacy log's table is gone")
        return real_log(action, **fields)

    return log


def test_with_the_sealer_a_login_whose_entry_fails_records_nothing(
    client, op, demo_schools, settings
):
    """With the sealer (and on SQLite) the entry is written in the login's own transaction: when
    it fails, the pupil's record goes with it, and the pupil sees the 503 page."""
    import privacy
    from pupils.models import Pupil

    settings.PRIVACY_LOG_SEALER = True
    with mock.patch("privacy.log", _failing_login_entry(privacy.log)):
        response = login(client, op)
    assert landed_on(client, response) == (503, "database_unavailable")
    assert not Pupil.objects.exists()
    assert login(client, op)["Location"] == "/"
    assert Pupil.objects.count() == 1


def test_without_the_sealer_on_postgresql_the_entry_follows_the_login(
    client, op, demo_schools, settings
):
    """Without the sealer the entry would hold the head lock across the login's commit, so it
    is written after it: a failing entry then leaves the login recorded (the 503 still says
    the login did not happen)."""
    import privacy
    from pupils.models import Pupil

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes the entry in the login's transaction")
    settings.PRIVACY_LOG_SEALER = False
    with mock.patch("privacy.log", _failing_login_entry(privacy.log)):
        response = login(client, op)
    assert landed_on(client, response) == (503, "database_unavailable")
    assert Pupil.objects.count() == 1


def test_it_answers_503_when_the_session_store_is_down_too(client, op):
    """With sessions in the database and the database gone, the callback still answers 503."""
    params = start_login(client, op)
    with mock.patch(
        "django.contrib.sessions.backends.base.SessionBase._get_session",
        side_effect=OperationalError("down"),
    ):
        response = finish_login(client, params)
    assert response.status_code == 503
    assert response.context["reason"] == "database_unavailable"


def test_it_refuses_a_pupil_without_enrollment_and_writes_only_a_log_entry(
    client, op, demo_schools
):
    """No enrollment: 403 'niet (meer) ingeschreven', one privacy-log entry, no pupil."""
    from django.contrib.auth import get_user_model

    from pupils.models import Pupil

    op.claims = pupil_claims(ov_inschrijvingen=[])
    users_before = get_user_model().objects.count()
    response = login(client, op)
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "niet (meer) ingeschreven" in page.content.decode()
    assert Pupil.objects.count() == 0
    assert get_user_model().objects.count() == users_before
    [entry] = privacy_entries(outcome="failure")
    assert (entry.action, entry.reason) == ("authz_fail", "not_enrolled")
    assert entry.actor == f"pupil:{entry.subject}"
    assert len(entry.subject) == 64


def test_it_refuses_a_pupil_whose_school_has_no_agreement(client, op, demo_schools):
    """Enrolled only at 031004 (no agreement): 403 'je school werkt (nog) niet met i-Learn'."""
    from pupils.models import Pupil

    op.claims = pupil_claims(ov_inschrijvingen=["031004"])
    page = client.get(login(client, op)["Location"])
    assert page.status_code == 403
    assert "werkt (nog) niet met i-Learn" in page.content.decode()
    assert Pupil.objects.count() == 0


@pytest.mark.parametrize(
    "sealer",
    [
        False,
        pytest.param(
            True,
            marks=pytest.mark.skipif(
                connection.vendor != "postgresql", reason="the sealer is PostgreSQL's"
            ),
        ),
    ],
)
def test_it_shows_a_short_reference_of_the_refusal_for_support(
    client, op, demo_schools, settings, sealer
):
    """The refusal page shows a short reference naming the refusal's privacy-log entry, which
    records the schools involved; no request id, no key. With the sealer on (production) too:
    the refusal is chained at once, so the reference names an entry that is there."""
    from ilearn_auth.refusal_reference import sequence_from
    from privacy.models import PrivacyLogEntry

    settings.PRIVACY_LOG_SEALER = sealer
    op.claims = pupil_claims(ov_inschrijvingen=["031004"])
    page = client.get(login(client, op)["Location"])
    content = page.content.decode()
    reference = re.search(r'<strong class="reference">([0-9A-Z-]+)</strong>', content).group(1)
    entry = PrivacyLogEntry.objects.get(sequence=sequence_from(reference))
    assert (entry.action, entry.reason) == ("authz_fail", "no_agreement")
    assert entry.details["schools"] == ["031004"]
    assert entry.request_id not in content
    assert len(reference) <= 8


def test_it_shows_the_refusal_in_english_on_request(client, op, demo_schools):
    """The failure page is available in English."""
    op.claims = pupil_claims(ov_inschrijvingen=["031004"])
    response = login(client, op)
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
    assert 'lang="en"' in page.content.decode()
    assert "does not work with i-Learn (yet)" in page.content.decode()


def test_it_refuses_unusable_claims_with_the_400_page(client, op):
    """Claims that pupils.claims cannot use (no account key) are a broken response: 400."""
    op.claims = pupil_claims(ov_account_uuid=None)
    assert landed_on(client, login(client, op)) == (400, "claims_unusable")
    [entry] = privacy_entries(action="authn_login_fail")
    assert entry.details == {"detail": "missing_account_uuid"}


def test_it_keeps_code_and_state_out_of_urls_and_logs(client, op, caplog):
    """Failure redirects carry no query string; nothing logged holds the code or state."""
    op.id_token_overrides["aud"] = "someone-else"
    params = start_login(client, op)
    response = finish_login(client, params)
    assert "?" not in response["Location"]
    assert params["state"] not in caplog.text
    assert "code-1" not in caplog.text


def test_it_rotates_the_session_key_at_login(client, op, demo_schools):
    """The session key before login is not the one after (no session fixation)."""
    params = start_login(client, op)
    before = client.session.session_key
    finish_login(client, params)
    assert client.session.session_key != before
    assert client.session.get("_auth_user_id")


def test_it_ignores_staff_claims(client, op, demo_schools):
    """is_staff, is_superuser and groups claims change nothing."""
    op.claims = pupil_claims(is_staff=True, is_superuser=True, groups=["DPO"])
    login(client, op)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    assert not user.is_staff and not user.is_superuser
    assert not user.groups.exists()
    assert client.get("/admin/").status_code == 302


def test_it_goes_to_a_safe_next_after_login(client, op, demo_schools):
    """A relative next is honoured; an external one is dropped (the library's check)."""
    params = start_login(client, op, next_url="/api/me")
    assert finish_login(client, params)["Location"] == "/api/me"
    client.post("/logout/")
    params = start_login(client, op, next_url="https://evil.test/")
    assert finish_login(client, params)["Location"] == "/"


def test_it_logs_a_successful_login_by_pseudonym(client, op, demo_schools):
    """A granted login is one authn_login_success entry, by pseudonym."""
    login(client, op)
    [entry] = privacy_entries(action="authn_login_success")
    assert entry.actor == f"pupil:{entry.subject}"
    assert "Testa" not in str(entry.details)


def test_it_treats_a_timeout_like_the_op_being_down(client, op, monkeypatch):
    """A read timeout at the token endpoint is a 503."""
    params = start_login(client, op)

    def slow(*args, **kwargs):
        raise requests.ReadTimeout("simulated")

    monkeypatch.setattr(op, "post", slow)
    assert landed_on(client, finish_login(client, params)) == (503, "op_unavailable")


@pytest.mark.parametrize("sealer", [False, True], ids=["entry after the login", "sealer"])
def test_it_needs_at_most_seven_queries_for_a_returning_login(
    client, op, demo_schools, settings, sealer
):
    """A returning pupil's callback runs at most 7 SQL statements, with sessions in the cache
    as in production (REDIS_URL set): the school gate, five in pupil_record_login, the
    privacy-log entry (inside the login's transaction with the sealer; the count is the same
    either way, which is the point: test_with_the_sealer_a_login_whose_entry_fails_records_
    nothing shows where the entry is written)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.SESSION_ENGINE = "ilearn_auth.session_store"
    settings.PRIVACY_LOG_SEALER = sealer

    login(client, op)
    client.post("/logout/")
    params = start_login(client, op)
    with CaptureQueriesContext(connection) as queries:
        assert finish_login(client, params)["Location"] == "/"
    # The test runs inside a transaction, so transaction.atomic shows up as savepoints; in
    # production it is BEGIN/COMMIT, which no statement count sees (bench/login.py neither).
    statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 7, [sql[:80] for sql in statements]


def test_it_answers_a_bug_in_the_login_path_with_a_page(client, op, demo_schools):
    """An unexpected exception in the backend ends on the 503 page, logged, never a 500."""
    with mock.patch("pupils.claims.parse", side_effect=RuntimeError("bug")):
        response = login(client, op)
    assert landed_on(client, response) == (503, "internal_error")
    [entry] = privacy_entries(action="authn_login_fail")
    assert entry.reason == "internal_error"


def test_it_stamps_a_pupils_login_once_on_the_pupil(client, op, demo_schools):
    """A pupil's login time is Pupil.last_login_at; auth_user.last_login is not written too,
    neither at the first login nor when the pupil returns."""
    from pupils.models import Pupil

    assert login(client, op)["Location"] == "/"
    client.post("/logout/")
    assert login(client, op)["Location"] == "/"
    pupil = Pupil.objects.select_related("user").get()
    assert pupil.last_login_at is not None
    assert pupil.user.last_login is None


def test_it_still_stamps_a_staff_members_last_login(client, django_user_model):
    """Staff signing in to the admin keep Django's last_login (dormant accounts show)."""
    staff = django_user_model.objects.create_user("staff-test", password="pw-for-tests-only")
    staff.is_staff = True
    staff.save()
    assert client.login(username="staff-test", password="pw-for-tests-only")
    staff.refresh_from_db()
    assert staff.last_login is not None
