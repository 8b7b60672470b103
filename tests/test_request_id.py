"""The request id: made here, or taken from a trusted proxy in one strict shape."""

from __future__ import annotations

import re

import pytest

from privacy.models import PrivacyLogEntry

pytestmark = pytest.mark.django_db

PROXY_ID = "0123456789abcdef0123456789abcdef"
# 32 hex digits, the 13th a 0: never a UUID's layout (the log redaction leaves it alone).
OURS = re.compile(r"^[0-9a-f]{12}0[0-9a-f]{19}$")


def logged_out_request_id(client, **headers) -> tuple[str, str]:
    """POST /logout/ by a signed-in pupil writes one privacy-log entry: its id and the header."""
    from pupils.services import pupil_record_login
    from pupils.tests.factories import leerid_claims

    pupil = pupil_record_login(claims=leerid_claims(), granted_schools={"012345"})
    client.force_login(pupil.user)
    response = client.post("/logout/", headers=headers)
    entry = PrivacyLogEntry.objects.get(action="authn_logout")
    return entry.request_id, response["X-Request-ID"]


@pytest.mark.parametrize("sent", [PROXY_ID, "client-chosen-text-0001", "x" * 64])
def test_it_ignores_the_header_unless_a_proxy_is_trusted(client, sent):
    """By default any X-Request-ID a client sends is replaced by one of ours."""
    logged, answered = logged_out_request_id(client, **{"X-Request-ID": sent})
    assert logged == answered != sent
    assert OURS.match(logged)


def test_it_takes_the_trusted_proxys_id(client, settings):
    """With REQUEST_ID_FROM_PROXY, a 32-hex id from the proxy is the request's id."""
    settings.REQUEST_ID_FROM_PROXY = True
    assert logged_out_request_id(client, **{"X-Request-ID": PROXY_ID}) == (PROXY_ID, PROXY_ID)


@pytest.mark.parametrize(
    "sent",
    [
        PROXY_ID.upper(),
        "01234567-89ab-cdef-0123-456789abcdef",
        "req-0123456789abcdef",
        PROXY_ID + "0",
        PROXY_ID + "\n",
        "",
    ],
)
def test_it_takes_only_one_shape_even_from_a_trusted_proxy(client, settings, sent):
    """Any other shape is replaced by a new id, proxy trusted or not."""
    settings.REQUEST_ID_FROM_PROXY = True
    logged, answered = logged_out_request_id(client, **{"X-Request-ID": sent})
    assert logged == answered != sent
    assert OURS.match(logged)
