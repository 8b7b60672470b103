"""Support's refusal view: why a pupil is refused, found by key or by the page's reference,
without names until the logged "toon persoonsgegevens" step."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localtime

import privacy
from ilearn_auth.failures import FAILURES
from ilearn_auth.refusal_codes import REFUSAL_CODES
from ilearn_auth.refusal_reference import reference_for, sequence_from
from privacy.models import PrivacyLogEntry
from privacy.pseudonyms import pseudonymize
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from schools.tests.conftest import make_agreement, make_school, make_staff

pytestmark = pytest.mark.django_db
URL = "/admin/support/refusals/"


def _staff(client, group: str):
    user = make_staff(f"fictief-{group}", group)
    client.force_login(user)
    return user


@pytest.fixture
def refused():
    """A pupil admitted through 031004 before; its school's agreement was then suspended and
    its next login refused (no_agreement)."""
    school = make_school("031004", "Testschool Geschorst")
    make_agreement(school, dt.date(2020, 1, 1), status="suspended")
    key = new_key()
    claims = leerid_claims(leer_id_uuid=key, enrollments=("031004",), family_name="Fictiefnaam")
    pupil = pupil_record_login(claims=claims, granted_schools={"031004"})
    entry = privacy.log(
        "authz_fail",
        actor=f"pupil:{pupil.pseudonym}",
        subject=pupil.pseudonym,
        outcome="failure",
        reason="no_agreement",
        details={"schools": ["031004"]},
    )
    return pupil, key, entry


def test_it_explains_a_refusal_by_key_without_names(client, refused):
    """By the LeerID key: the date, the Dutch reason with what to do, each school's state
    today; no name, no key, and nothing logged as read."""
    pupil, key, entry = refused
    _staff(client, "Support")
    response = client.post(URL, {"key": key})
    content = response.content.decode()
    assert response.status_code == 200
    assert "geen enkele school heeft een overeenkomst die vandaag geldt" in content
    assert "031004: opgeschort" in content
    assert reference_for(entry.sequence) in content
    assert date_format(localtime(entry.created_at), "d-m-Y H:i") in content  # Brussels time
    assert "Fictiefnaam" not in content
    assert key not in content
    assert pupil.pseudonym[:12] in content
    assert not PrivacyLogEntry.objects.filter(action="sensitive_read").exists()


def test_it_finds_the_refusal_by_the_reference_on_the_page(client, refused):
    """The short reference (typed in lower case) leads to the same pupil's refusals."""
    pupil, _key, entry = refused
    _staff(client, "Support")
    content = client.post(URL, {"key": reference_for(entry.sequence).lower()}).content.decode()
    assert "031004: opgeschort" in content
    assert pupil.pseudonym[:12] in content
    assert "Fictiefnaam" not in content


def test_it_shows_names_only_after_the_logged_step(client, refused):
    """ "Toon persoonsgegevens" shows the name and writes a sensitive_read entry first."""
    pupil, key, _entry = refused
    user = _staff(client, "Support")
    content = client.post(URL, {"key": key, "show": "1"}).content.decode()
    assert "Fictiefnaam" in content
    assert key not in content
    assert pseudonymize(key)[:12] in content  # the key's fingerprint
    read = PrivacyLogEntry.objects.get(action="sensitive_read")
    assert (read.actor, read.subject) == (f"staff:{user.pk}", pupil.pseudonym)
    assert read.details == {"page": "support_refusals"}


def test_it_explains_a_refusal_of_a_pupil_never_admitted(client):
    """A pupil with no account: the refusals are found by the key's pseudonym all the same."""
    key = new_key()
    privacy.log(
        "authz_fail",
        actor=f"pupil:{pseudonymize(key)}",
        subject=pseudonymize(key),
        outcome="failure",
        reason="not_enrolled",
    )
    _staff(client, "Support")
    content = client.post(URL, {"key": key}).content.decode()
    assert "geen inschrijving in een school volgens LeerID" in content
    assert "nog nooit toegelaten" in content


def test_a_reference_to_an_entry_that_is_no_refusal_leads_nowhere(client, refused):
    """Anyone can make a reference with a valid check character: a staff member's failed
    sign-in or a DPO's read must not show up in Support's view by one."""
    staff_failure = privacy.log(
        "authn_login_fail",
        actor="system",
        subject="staff:7",
        outcome="failure",
        reason="wrong_password",
    )
    pupil, _key, _refusal = refused
    read = privacy.log("sensitive_read", actor="staff:7", subject=pupil.pseudonym)
    _staff(client, "Support")
    for entry in (staff_failure, read):
        content = client.post(URL, {"key": reference_for(entry.sequence)}).content.decode()
        assert 'id="refusals"' not in content
        assert pupil.pseudonym[:12] not in content


def test_it_refuses_agreements_staff_and_logs_it(client, refused):
    """Agreements staff may not look up pupils here: 403 and an authz_fail entry."""
    user = _staff(client, "Agreements")
    assert client.post(URL, {"key": refused[1]}).status_code == 403
    entry = PrivacyLogEntry.objects.filter(action="authz_fail", actor=f"staff:{user.pk}").get()
    assert entry.details["page"] == "support_refusals"


def test_every_failure_code_has_a_text_for_support():
    """Each code the login can end with is explained (meaning and what to do)."""
    assert set(FAILURES) <= set(REFUSAL_CODES)
    assert all(meaning and todo for meaning, todo in REFUSAL_CODES.values())


@pytest.mark.parametrize("sequence", [1, 31, 32, 1234, 123_456, 10**12])
def test_a_reference_reads_back_and_catches_a_misheard_character(sequence):
    """The reference names its sequence; changing any one character makes it invalid."""
    reference = reference_for(sequence)
    assert sequence_from(reference) == sequence
    assert sequence_from(reference.lower().replace("0", "o")) == sequence
    for position, char in enumerate(reference):
        if char == "-":
            continue
        other = "7" if char != "7" else "8"
        assert sequence_from(reference[:position] + other + reference[position + 1 :]) is None


def test_the_pupil_page_leads_to_its_refusals(client, refused):
    """Support's pupil page has a "Recente weigeringen" button that posts the pseudonym."""
    pupil, _key, _entry = refused
    _staff(client, "Support")
    page = client.get(f"/admin/pupils/pupil/{pupil.pk}/change/").content.decode()
    assert f'action="{URL}"' in page and f'value="{pupil.pseudonym}"' in page
    content = client.post(URL, {"key": pupil.pseudonym}).content.decode()
    assert "031004: opgeschort" in content


def test_it_answers_in_a_few_queries_however_many_refusals(
    client, refused, django_assert_max_num_queries
):
    """Twenty refusals over three schools cost a fixed handful of queries: none per row."""
    pupil, key, _entry = refused
    _staff(client, "Support")
    for number in ("012345", "047001") * 10:
        privacy.log(
            "authz_fail",
            actor=f"pupil:{pupil.pseudonym}",
            subject=pupil.pseudonym,
            outcome="failure",
            reason="no_agreement",
            details={"schools": [number, "031004"]},
        )
    with django_assert_max_num_queries(10):
        response = client.post(URL, {"key": key})
    assert response.content.decode().count("031004: opgeschort") == 20
