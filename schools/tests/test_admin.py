from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from schools.access import BRUSSELS
from schools.agreement_import import agreements_import
from schools.models import Agreement, School
from schools.tests.conftest import agreement_log_entries, make_agreement, make_school

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate(timezone=BRUSSELS)


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def agreement_form(school: School, **overrides) -> dict:
    data = {
        "school": school.pk,
        "valid_from": "2026-09-01",
        "valid_until": "",
        "status": "active",
        "contract_reference": "REF-1",
        "notes": "",
    }
    return {**data, **overrides}


@pytest.fixture
def as_agreements(client, agreements_staff):
    client.force_login(agreements_staff)
    return client


# --- Permissions -------------------------------------------------------------------------------


def test_it_lets_an_agreements_member_add_an_agreement(as_agreements, agreements_staff):
    """An Agreements member adds an agreement; who did it is recorded."""
    school = make_school()
    response = as_agreements.post(reverse("admin:schools_agreement_add"), agreement_form(school))
    assert response.status_code == 302, response.content.decode()[:2000]
    agreement = Agreement.objects.get()
    assert agreement.created_by == agreements_staff == agreement.updated_by


def test_it_lets_an_agreements_member_edit_and_end_an_agreement(as_agreements):
    """Setting valid_until ends an agreement; the change is saved."""
    agreement = make_agreement(make_school(), dt.date(2026, 9, 1))
    url = reverse("admin:schools_agreement_change", args=[agreement.pk])
    response = as_agreements.post(url, agreement_form(agreement.school, valid_until="2027-08-31"))
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.valid_until == dt.date(2027, 8, 31)


def test_it_shows_no_pupil_data_to_an_agreements_member(as_agreements, agreements_staff):
    """An Agreements member has no pupil or privacy permission and gets no pupil page."""
    assert not agreements_staff.has_module_perms("pupils")
    assert not agreements_staff.has_module_perms("privacy")
    index = as_agreements.get(reverse("admin:index")).content.decode()
    assert "/admin/pupils/" not in index and "/admin/privacy/" not in index
    for url in ("/admin/pupils/pupil/", "/admin/pupils/identitysnapshot/"):
        assert as_agreements.get(url).status_code in (403, 404)


def test_it_refuses_agreement_changes_to_a_support_member(client, support_staff):
    """A Support member can neither see nor change agreements."""
    agreement = make_agreement(make_school(), dt.date(2026, 9, 1))
    client.force_login(support_staff)
    url = reverse("admin:schools_agreement_change", args=[agreement.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, agreement_form(agreement.school, status="suspended"))
    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert client.get(reverse("admin:schools_agreement_import")).status_code == 403


def test_it_lets_the_dpo_read_but_not_change(client, dpo_staff):
    """The DPO sees agreements and their history but cannot change them."""
    agreement = make_agreement(make_school(), dt.date(2026, 9, 1))
    client.force_login(dpo_staff)
    assert client.get(reverse("admin:schools_agreement_changelist")).status_code == 200
    history = reverse("admin:schools_agreement_history", args=[agreement.pk])
    assert client.get(history).status_code == 200
    url = reverse("admin:schools_agreement_change", args=[agreement.pk])
    client.post(url, agreement_form(agreement.school, status="suspended"))
    agreement.refresh_from_db()
    assert agreement.status == "active"


# --- Validation --------------------------------------------------------------------------------


def test_it_explains_a_bad_instellingsnummer_in_dutch(as_agreements):
    """Five digits are refused, showing the value and suggesting the zero-padded number."""
    response = as_agreements.post(
        reverse("admin:schools_school_add"),
        {
            "instellingsnummer": "12345",
            "name": "Testschool",
            "agreements-TOTAL_FORMS": 0,
            "agreements-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Een instellingsnummer heeft precies 6 cijfers; “12345” voldoet niet." in text
    assert "Bedoelt u 012345?" in text
    assert not School.objects.exists()


def test_it_explains_a_bad_instellingsnummer_in_english(as_agreements):
    """With English chosen, the same message comes in English."""
    response = as_agreements.post(
        reverse("admin:schools_school_add"),
        {
            "instellingsnummer": "12A45B",
            "name": "Testschool",
            "agreements-TOTAL_FORMS": 0,
            "agreements-INITIAL_FORMS": 0,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "has exactly 6 digits; “12A45B” does not." in response.content.decode()


def test_it_refuses_an_end_before_the_start(as_agreements):
    """valid_until before valid_from is refused with both dates in the message."""
    school = make_school()
    response = as_agreements.post(
        reverse("admin:schools_agreement_add"),
        agreement_form(school, valid_from="2026-09-01", valid_until="2026-08-31"),
    )
    assert response.status_code == 200
    assert "De einddatum (31-08-2026) ligt vóór de begindatum (01-09-2026)." in (
        response.content.decode()
    )
    assert not Agreement.objects.exists()


def test_it_flags_overlapping_agreements(as_agreements):
    """Saving an agreement that overlaps another of the same school shows a warning."""
    school = make_school()
    make_agreement(school, dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    response = as_agreements.post(
        reverse("admin:schools_agreement_add"),
        agreement_form(school, valid_from="2027-06-01"),
        follow=True,
    )
    assert response.content.decode().count("overlapt met") == 1
    assert Agreement.objects.count() == 2
    # Saved and continued: the change page after the redirect shows it once too.
    new = Agreement.objects.get(valid_from=dt.date(2027, 6, 1))
    response = as_agreements.post(
        reverse("admin:schools_agreement_change", args=[new.pk]),
        agreement_form(school, valid_from="2027-06-01", notes="x", _continue="1"),
        follow=True,
    )
    assert response.content.decode().count("overlapt met") == 1


# --- Lists, filters, export, expiring ----------------------------------------------------------


@pytest.fixture
def states():
    """One school per state, relative to today."""
    made = {}
    for number, start, end, status in [
        ("100001", days(-100), None, "active"),  # in force
        ("100002", days(-100), days(10), "active"),  # expiring
        ("100003", days(-100), days(-1), "active"),  # expired
        ("100004", days(5), None, "active"),  # not yet started
        ("100005", days(-100), None, "suspended"),  # suspended
    ]:
        made[number] = make_agreement(
            make_school(number, f"Testschool {number}"), start, end, status
        )
    make_school("100006", "Testschool Zonder")
    return made


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("in_force", {"100001", "100002"}),
        ("expiring", {"100002"}),
        ("expired", {"100003"}),
        ("not_started", {"100004"}),
        ("suspended", {"100005"}),
    ],
)
def test_it_filters_agreements_by_state(as_agreements, states, state, expected):
    """Each state filter lists exactly the agreements in that state today."""
    response = as_agreements.get(reverse("admin:schools_agreement_changelist"), {"state": state})
    shown = {a.school.instellingsnummer for a in response.context["cl"].result_list}
    assert shown == expected


def test_it_filters_schools_without_agreement(as_agreements, states):
    """The school list can show the schools that have no agreement at all."""
    response = as_agreements.get(reverse("admin:schools_school_changelist"), {"state": "none"})
    assert [s.instellingsnummer for s in response.context["cl"].result_list] == ["100006"]


def test_it_searches_schools_by_number_and_name(as_agreements, states):
    """Search finds a school by (part of) its number or its name."""
    url = reverse("admin:schools_school_changelist")
    by_number = as_agreements.get(url, {"q": "100003"}).context["cl"].result_list
    by_name = as_agreements.get(url, {"q": "Zonder"}).context["cl"].result_list
    assert [s.instellingsnummer for s in by_number] == ["100003"]
    assert [s.instellingsnummer for s in by_name] == ["100006"]


def test_it_exports_selected_agreements_as_csv(as_agreements, states):
    """The export action gives a CSV the import reads back, with Dutch labels beside codes."""
    response = as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": "export_csv", "_selected_action": [states["100002"].pk, states["100004"].pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "instellingsnummer;name;valid_from;valid_until;status;status_omschrijving;"
        "toestand_vandaag;contract_reference"
    )
    assert lines[1].startswith(
        f"100002;Testschool 100002;{days(-100)};{days(10)};active;actief;loopt af binnen 30 dagen"
    )
    assert len(lines) == 3
    # What the export writes, the import reads back without changing anything.
    result = agreements_import(file=response.content, actor=None)
    assert (result.ok, result.unchanged) == (True, 2)


@pytest.mark.parametrize("name", ["=SUM(1,2)", "+Plusschool", "-Minschool", "@Atschool"])
def test_it_reads_back_an_export_of_a_name_guarded_against_formulas(as_agreements, states, name):
    """The export's formula guard (a leading ') is recognised by the import: nothing renamed."""
    School.objects.filter(instellingsnummer="100002").update(name=name)
    response = as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": "export_csv", "_selected_action": [states["100002"].pk]},
    )
    assert response.content.decode("utf-8-sig").splitlines()[1].startswith(f"100002;'{name}")
    result = agreements_import(file=response.content, actor=None)
    assert (result.ok, result.unchanged, result.updated) == (True, 1, 0)
    assert School.objects.get(instellingsnummer="100002").name == name


def test_it_exports_schools_with_formulas_made_harmless(as_agreements, states):
    """The school export marks today's access, and a name that looks like a formula is text."""
    School.objects.filter(instellingsnummer="100001").update(name="=HYPERLINK(1)")
    ids = list(
        School.objects.filter(instellingsnummer__in=["100001", "100003"]).values_list(
            "pk", flat=True
        )
    )
    response = as_agreements.post(
        reverse("admin:schools_school_changelist"),
        {"action": "export_csv", "_selected_action": ids},
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "instellingsnummer;name;town;education_level;onderwijsniveau;in_force_today;"
        "van_kracht_vandaag"
    )
    assert lines[1] == "100001;'=HYPERLINK(1);;;;1;ja"
    assert lines[2] == "100003;Testschool 100003;;;;0;nee"


def test_it_warns_about_overlaps_on_the_school_page(as_agreements):
    """Opening a school whose agreements overlap shows a warning."""
    school = make_school()
    make_agreement(school, dt.date(2026, 9, 1), dt.date(2027, 8, 31))
    make_agreement(school, dt.date(2027, 6, 1))
    make_agreement(make_school("047001", "Andere"), dt.date(2026, 9, 1))
    response = as_agreements.get(reverse("admin:schools_school_change", args=[school.pk]))
    assert "overlapt met 012345: 01-06-2027" in response.content.decode()


def test_it_hides_schools_from_support(client, support_staff):
    """A Support member cannot open the school list or the expiring page."""
    client.force_login(support_staff)
    assert client.get(reverse("admin:schools_school_changelist")).status_code == 403
    assert client.get(reverse("admin:schools_agreement_expiring")).status_code == 403


def test_it_lists_agreements_ending_within_30_days(as_agreements, states):
    """The expiring page lists what ends within 30 days and whether a successor follows."""
    make_agreement(make_school("100007", "Testschool Later"), days(-10), days(40))
    successor = make_agreement(states["100002"].school, days(11), None)
    response = as_agreements.get(reverse("admin:schools_agreement_expiring"))
    agreements = response.context["agreements"]
    assert [a.school.instellingsnummer for a in agreements] == ["100002"]
    assert agreements[0].successor == successor
    assert agreements[0].days_left == 10


def test_it_suspends_with_an_action_and_logs_it(as_agreements, states, agreements_staff):
    """The suspend action suspends, logs to the privacy log and to the history."""
    agreement = states["100001"]
    as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": "suspend", "_selected_action": [agreement.pk], "confirm": "yes"},
    )
    agreement.refresh_from_db()
    assert agreement.status == "suspended"
    entry = agreement_log_entries()[-1]
    assert entry.subject == "school:100001"
    assert entry.details["changes"] == [
        {"object": "agreement", "operation": "change", "fields": ["status"], "id": agreement.pk}
    ]
    assert LogEntry.objects.filter(object_id=str(agreement.pk)).exists()


@pytest.mark.parametrize("action", ["suspend", "end_today"])
def test_it_asks_before_suspending_or_ending(as_agreements, states, action):
    """Suspend and end first show a page naming the schools; nothing changes until confirmed."""
    agreement = states["100001"]
    response = as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": action, "_selected_action": [agreement.pk]},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f"100001 {agreement.school.name}" in content
    assert 'name="confirm"' in content
    agreement.refresh_from_db()
    assert agreement.status == "active" and agreement.valid_until == states["100001"].valid_until
    assert not agreement_log_entries()


def test_it_ends_agreements_today_with_an_action(as_agreements, states):
    """Ending sets valid_until to today for running agreements and leaves the others alone."""
    running, future = states["100001"], states["100004"]
    response = as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": "end_today", "_selected_action": [running.pk, future.pk], "confirm": "yes"},
        follow=True,
    )
    running.refresh_from_db()
    future.refresh_from_db()
    assert running.valid_until == today()
    assert future.valid_until is None
    assert "1 overeenkomst(en) niet gewijzigd" in response.content.decode()
    entry = agreement_log_entries()[-1]
    assert entry.details["changes"][0]["fields"] == ["valid_until"]


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
