"""The login path's two hooks for the DPO: the protocol's end refuses every login with its own
reason and page, and claim names outside the allowlist ride along in the success entry."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dpo import protocol
from dpo.models import ProtocolEnd
from pupils.models import Pupil
from tests.oidc.conftest import login
from tests.oidc.helpers import landed_on, privacy_entries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_end(settings):
    settings.PROTOCOL_END_CACHE_SECONDS = 0
    protocol.forget_cached_end()
    yield
    protocol.forget_cached_end()


def test_after_the_protocol_ended_every_login_is_refused_with_its_own_page(
    client, op, demo_schools
):
    ProtocolEnd.objects.create(ends_on=timezone.localdate(), set_at=timezone.now(), set_by="system")
    response = login(client, op)
    assert landed_on(client, response) == (403, "protocol_ended")
    page = client.get("/login/failed/").content.decode()
    assert "Aanmelden met LeerID kan niet meer" in page
    assert not Pupil.objects.exists()
    assert privacy_entries(action="authz_fail")[0].reason == "protocol_ended"


def test_before_the_end_date_logins_go_on(client, op, demo_schools):
    ProtocolEnd.objects.create(
        ends_on=timezone.localdate() + timezone.timedelta(days=3),
        set_at=timezone.now(),
        set_by="system",
    )
    assert login(client, op)["Location"] == "/"


def test_claim_names_outside_the_allowlist_are_logged_without_values(
    client, op, demo_schools, settings
):
    op.claims |= {"ov_geboortedatum": "2012-03-04", "email": "leerling@example.test"}
    settings.LEERID_ALLOWED_EXTRA_CLAIMS = frozenset({"email"})
    assert login(client, op)["Location"] == "/"
    entry = privacy_entries(action="authn_login_success")[0]
    assert entry.details["unexpected_claims"] == ["ov_geboortedatum"]
    assert "2012-03-04" not in str(entry.details)


def test_a_login_with_only_expected_claims_logs_no_list(client, op, demo_schools):
    assert login(client, op)["Location"] == "/"
    assert "unexpected_claims" not in privacy_entries(action="authn_login_success")[0].details
