"""The agreements admin: permissions, validation, lists, filters, export and actions (its log,
history and import page: ``test_admin_log_and_import.py``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from schools.access import BRUSSELS
from schools.agreement_import import agreements_import
from schools.models import Agreement, School
from schools.tests.conftest import (
    agreement_form,
    agreement_log_entries,
    make_agreement,
    make_school,
)

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate(timezone=BRUSSELS)


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


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
    until = agreement.valid_until
    response = as_agreements.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": action, "_selected_action": [agreement.pk]},
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert f"100001 {agreement.school.name}" in content
    assert 'name="confirm"' in content
    agreement.refresh_from_db()
    assert agreement.status == "active" and agreement.valid_until == until
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
