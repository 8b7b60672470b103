"""The agreements admin's privacy-log entries and history, and its CSV import page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from schools.models import Agreement, School
from schools.tests.conftest import (
    agreement_form,
    agreement_log_entries,
    make_agreement,
    make_school,
)

pytestmark = pytest.mark.django_db


# --- Privacy log and history -------------------------------------------------------------------


def test_it_logs_admin_changes_with_field_names_only(as_agreements, agreements_staff):
    """A change names the school, the actor and the changed fields, not their values."""
    agreement = make_agreement(make_school(), dt.date(2026, 9, 1))
    url = reverse("admin:schools_agreement_change", args=[agreement.pk])
    as_agreements.post(url, agreement_form(agreement.school, notes="Gesprek met mevr. Fictief"))
    [entry] = agreement_log_entries()
    assert entry.actor == f"staff:{agreements_staff.pk}"
    assert entry.subject == "school:012345"
    assert entry.details == {
        "via": "admin",
        "changes": [
            {
                "object": "agreement",
                "operation": "change",
                "fields": ["contract_reference", "notes"],
                "id": agreement.pk,
            }
        ],
    }


def test_it_logs_inline_changes_on_the_agreement_history(as_agreements, agreements_staff):
    """An agreement added on the school page shows in the agreement's own history."""
    school = make_school()
    url = reverse("admin:schools_school_change", args=[school.pk])
    response = as_agreements.post(
        url,
        {
            "instellingsnummer": "012345",
            "name": school.name,
            "town": "",
            "education_level": "",
            "contact": "",
            "agreements-TOTAL_FORMS": 1,
            "agreements-INITIAL_FORMS": 0,
            "agreements-0-valid_from": "2026-09-01",
            "agreements-0-valid_until": "",
            "agreements-0-status": "active",
            "agreements-0-contract_reference": "REF-9",
        },
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.created_by == agreements_staff
    history = as_agreements.get(reverse("admin:schools_agreement_history", args=[agreement.pk]))
    assert len(history.context["action_list"]) == 1
    [entry] = agreement_log_entries()
    [item] = entry.details["changes"]
    assert (item["object"], item["operation"], item["id"]) == ("agreement", "create", agreement.pk)


def test_it_logs_a_deleted_agreement(as_agreements):
    """Deleting an agreement writes a delete entry for its school."""
    agreement = make_agreement(make_school(), dt.date(2026, 9, 1))
    url = reverse("admin:schools_agreement_delete", args=[agreement.pk])
    as_agreements.post(url, {"post": "yes"})
    assert not Agreement.objects.exists()
    [entry] = agreement_log_entries()
    assert entry.subject == "school:012345"
    assert entry.details["changes"][0]["operation"] == "delete"


# --- Import page -------------------------------------------------------------------------------

CSV = b"instellingsnummer;name;valid_from;valid_until\r\n12345;Testschool Upload;2026-09-01;\r\n"


def test_it_checks_then_imports_an_upload(as_agreements):
    """An upload is checked first (nothing written), then imported on confirmation."""
    url = reverse("admin:schools_agreement_import")
    response = as_agreements.post(url, {"file": SimpleUploadedFile("s.csv", CSV)})
    assert response.context["result"].created == 1
    assert "12345 gelezen als 012345" in response.content.decode()
    assert not School.objects.exists()
    response = as_agreements.post(url, {"confirm": "1"})
    assert response.context["result"].applied
    assert School.objects.get().instellingsnummer == "012345"


def test_it_previews_what_an_upload_creates_and_changes(as_agreements):
    """The check lists each row that changes something: new schools and agreements, renamed
    schools, moved end dates, with dates as dd-mm-jjjj; unchanged rows are left out."""
    school = make_school("012345", "Oude Naam")
    make_agreement(school, dt.date(2026, 9, 1), dt.date(2027, 6, 30))
    make_agreement(make_school("047001", "Testschool Gelijk"), dt.date(2026, 9, 1))
    csv = (
        b"instellingsnummer;name;valid_from;valid_until\r\n"
        b"012345;Nieuwe Naam;2026-09-01;2028-06-30\r\n"
        b"031009;Testschool Nieuw;2026-09-01;\r\n"
        b"047001;Testschool Gelijk;2026-09-01;\r\n"
    )
    response = as_agreements.post(
        reverse("admin:schools_agreement_import"), {"file": SimpleUploadedFile("s.csv", csv)}
    )
    changes = response.context["result"].changes
    assert [(c.line, c.number) for c in changes] == [(2, "012345"), (3, "031009")]
    assert changes[0].what == [
        "naam: “Oude Naam” wordt “Nieuwe Naam”",
        "overeenkomst vanaf 01-09-2026: einde 30-06-2027 wordt 30-06-2028",
    ]
    assert changes[1].what == [
        "nieuwe school",
        "nieuwe overeenkomst van 01-09-2026 tot en met onbepaald",
    ]
    assert "einde 30-06-2027 wordt 30-06-2028" in response.content.decode()
    school.refresh_from_db()
    assert school.name == "Oude Naam"


def test_it_shows_every_bad_line_of_an_upload(as_agreements):
    """A bad upload lists each bad line and offers no confirmation."""
    bad = CSV + b"1234567;X;2026-09-01;\r\nabc;Y;gisteren;\r\n"
    response = as_agreements.post(
        reverse("admin:schools_agreement_import"), {"file": SimpleUploadedFile("s.csv", bad)}
    )
    text = response.content.decode()
    assert "regel 3:" in text and "regel 4:" in text
    assert 'name="confirm"' not in text
    assert not School.objects.exists()


def test_it_refuses_a_second_agreement_with_the_same_start(as_agreements):
    """Two agreements of one school may not start on the same day: a clear message, no save."""
    school = make_school()
    make_agreement(school, dt.date(2026, 9, 1))
    response = as_agreements.post(
        reverse("admin:schools_agreement_add"), agreement_form(school, valid_until="2027-01-01")
    )
    assert response.status_code == 200
    assert "Deze school heeft al een overeenkomst met deze begindatum." in (
        response.content.decode()
    )
    assert Agreement.objects.count() == 1
