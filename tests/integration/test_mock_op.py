"""The whole login against oidc-provider-mock, the stand-in LeerID of `make run`."""

from __future__ import annotations

import pytest

from demo.pupils import DEMO_PUPILS
from tests.integration.conftest import sign_in, use_op

pytestmark = [pytest.mark.integration]

# What a newcomer must see for each demo pupil: (HTTP status of the last page, its heading part).
EXPECTED = {
    "geidentificeerd": (200, "Hallo Demo Amira!"),
    "tijdelijk": (200, "Hallo Demo Bram!"),
    "later-geidentificeerd": (200, "Hallo Demo Bram!"),
    "school-zonder-afspraak": (403, "Je school werkt (nog) niet met i-Learn"),
    "niet-ingeschreven": (403, "Je bent niet (meer) ingeschreven"),
    "nummer-als-getal": (200, "Hallo Demo Elif!"),
    "twee-scholen": (200, "Hallo Demo Finn!"),
}


@pytest.fixture
def stand_in(mock_op, settings, demo_schools):
    use_op(settings, mock_op)
    for pupil in DEMO_PUPILS:
        mock_op.set_user(pupil.sub, pupil.leerid_claims())
    return mock_op


def test_it_covers_every_demo_pupil():
    """Every demo pupil has an expected outcome here."""
    assert {pupil.sub for pupil in DEMO_PUPILS} == set(EXPECTED)


@pytest.mark.parametrize("sub", sorted(EXPECTED))
def test_it_gives_each_demo_pupil_the_right_outcome(live_server, stand_in, sub):
    """Signing in as each demo pupil ends on the page the login page promises."""
    status, heading = EXPECTED[sub]
    _, page = sign_in(live_server, stand_in, sub)
    assert page.status_code == status, page.text[-600:]
    assert heading in page.text


def test_it_merges_the_temporary_pupil_into_the_identified_one(live_server, stand_in):
    """'tijdelijk' then 'later-geidentificeerd': one pupil, same public id, now identified."""
    first, _ = sign_in(live_server, stand_in, "tijdelijk")
    before = first.get(f"{live_server.url}/api/me").json()
    assert before["kind"] == "temporary"
    second, _ = sign_in(live_server, stand_in, "later-geidentificeerd")
    after = second.get(f"{live_server.url}/api/me").json()
    assert after["pupil_id"] == before["pupil_id"]
    assert after["kind"] == "identified"


def test_it_accepts_the_kid_less_tokens_of_the_stand_in(live_server, stand_in):
    """The stand-in signs without kid and has one key: the login succeeds."""
    browser, page = sign_in(live_server, stand_in, "geidentificeerd")
    assert page.url == f"{live_server.url}/"
    assert browser.get(f"{live_server.url}/api/me").status_code == 200
