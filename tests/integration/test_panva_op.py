"""The whole login against panva's oidc-provider (OpenID Certified): PKCE required, kid, logout."""

from __future__ import annotations

import pytest

from tests.integration.conftest import csrf_token, follow_form, sign_in

pytestmark = [pytest.mark.integration]


def test_it_signs_a_pupil_in_with_pkce_through_a_certified_op(live_server, leerid):
    """Code flow with PKCE S256 (the OP refuses requests without), RS256 with kid: home."""
    browser, page = sign_in(live_server, leerid, "geidentificeerd")
    assert page.status_code == 200
    assert page.url == f"{live_server.url}/"
    me = browser.get(f"{live_server.url}/api/me").json()
    assert me["kind"] == "identified"
    assert me["schools"] == ["012345"]


def test_it_refuses_a_pupil_of_a_school_without_agreement(live_server, leerid):
    """The 403 page, in Dutch, with the reason."""
    browser, page = sign_in(live_server, leerid, "school-zonder-afspraak")
    assert page.status_code == 403
    assert "Je school werkt (nog) niet met i-Learn" in page.text
    assert browser.get(f"{live_server.url}/api/me").status_code == 401


def test_it_merges_through_a_certified_op(live_server, leerid):
    """The temporary account and its later identified self end as one pupil."""
    first, _ = sign_in(live_server, leerid, "tijdelijk")
    second, _ = sign_in(live_server, leerid, "later-geidentificeerd")
    before = first.get(f"{live_server.url}/api/me")
    after = second.get(f"{live_server.url}/api/me").json()
    assert after["kind"] == "identified"
    # Identified in place: the temporary pupil's session is still the same, now identified pupil.
    assert before.status_code == 200
    assert before.json() == after


def test_it_refuses_a_replayed_callback(live_server, leerid):
    """Replaying the callback URL (code and state) lands on the 400 page."""
    browser, page = sign_in(live_server, leerid, "geidentificeerd")
    callback = next(r for r in page.history if "/oidc/callback/" in r.url).url
    replay = browser.get(callback)
    assert replay.status_code == 400


def test_it_logs_out_here_and_at_the_op(live_server, leerid):
    """POST /logout/ ends our session, then the OP's (end_session with client_id and state)."""
    browser, home = sign_in(live_server, leerid, "geidentificeerd")
    response = browser.post(
        f"{live_server.url}/logout/",
        data={"csrfmiddlewaretoken": csrf_token(home)},
        headers={"Referer": f"{live_server.url}/"},
        allow_redirects=True,
    )
    assert browser.get(f"{live_server.url}/api/me").status_code == 401
    end_session = response.history[-1].headers["Location"] if response.history else response.url
    assert end_session.startswith(f"{leerid.issuer}/session/end?")
    assert "client_id=" in end_session and "state=" in end_session
    # The OP asks for confirmation; saying yes brings us back to our login page.
    back = follow_form(browser, response)
    assert back.url.startswith(f"{live_server.url}/login/")
    assert "Je bent afgemeld" in back.text


def test_it_authenticates_with_private_key_jwt_at_a_certified_op(live_server, leerid, settings):
    """private_key_jwt (aud = issuer, short exp, fresh jti) is accepted by a certified OP."""
    from tests.integration.conftest import KEY_CLIENT_ID, client_key

    settings.LEERID_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = KEY_CLIENT_ID
    settings.LEERID_CLIENT_AUTH = "private_key_jwt"
    settings.LEERID_PRIVATE_KEY = client_key()["pem"]
    settings.LEERID_PRIVATE_KEY_ID = "rp-1"
    for _ in range(2):  # the second assertion must carry a new jti, or the OP refuses it
        browser, page = sign_in(live_server, leerid, "geidentificeerd")
        assert page.url == f"{live_server.url}/", page.status_code
        assert browser.get(f"{live_server.url}/api/me").status_code == 200
