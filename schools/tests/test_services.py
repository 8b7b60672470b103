"""The agreement writes, called directly: each saves and writes its own privacy-log entry."""

from __future__ import annotations

import datetime as dt

import pytest

from schools.agreement_import import agreements_import
from schools.models import Agreement, School
from schools.selectors import (
    State,
    agreement_is_in_force,
    agreement_state,
    agreement_state_q,
    in_force_q,
)
from schools.services import (
    agreement_delete,
    agreement_save,
    agreements_end,
    agreements_reactivate,
    agreements_suspend,
    school_delete,
    school_save,
)
from schools.tests.conftest import agreement_log_entries, make_agreement, make_school

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 10, 1)


def only_entry():
    (entry,) = agreement_log_entries()
    return entry


def test_it_saves_a_new_school_and_logs_it(agreements_staff):
    """A new school is saved and logged as created, by the staff member, with field names."""
    school = School(instellingsnummer="012345", name="Testschool")
    school_save(school=school, actor=agreements_staff, fields=["name"], created=True)
    assert School.objects.filter(instellingsnummer="012345").exists()
    entry = only_entry()
    assert entry.subject == "school:012345"
    assert entry.actor == f"staff:{agreements_staff.pk}"
    assert entry.details == {
        "via": "admin",
        "changes": [
            {"object": "school", "operation": "create", "fields": ["name"], "id": school.pk}
        ],
    }


def test_it_logs_the_previous_number_of_a_renumbered_school(agreements_staff):
    """A changed instellingsnummer is logged under the new one, naming the old one."""
    school = make_school("012345")
    school.instellingsnummer = "047001"
    school_save(
        school=school,
        actor=agreements_staff,
        fields=["instellingsnummer"],
        created=False,
        previous_number="012345",
    )
    entry = only_entry()
    assert entry.subject == "school:047001"
    assert entry.details["previous_subject"] == "school:012345"


def test_it_does_not_log_a_school_saved_unchanged(agreements_staff):
    """Saving an existing school without changed fields writes no entry."""
    school_save(school=make_school(), actor=agreements_staff, fields=[], created=False)
    assert agreement_log_entries() == []


def test_it_deletes_a_school_and_logs_it(agreements_staff):
    """A deleted school is gone and logged as deleted."""
    school = make_school()
    pk = school.pk
    school_delete(school=school, actor=agreements_staff)
    assert not School.objects.exists()
    assert only_entry().details["changes"] == [
        {"object": "school", "operation": "delete", "fields": [], "id": pk}
    ]


def test_it_saves_a_new_agreement_with_its_author_and_logs_it(agreements_staff):
    """A new agreement records who created it; the entry lists its fields (no hidden key)."""
    school = make_school()
    agreement = Agreement(school=school, valid_from=DAY)
    agreement_save(
        agreement=agreement,
        actor=agreements_staff,
        fields=["id", "valid_from", "status"],
        created=True,
    )
    agreement.refresh_from_db()
    assert agreement.created_by == agreements_staff == agreement.updated_by
    entry = only_entry()
    assert entry.subject == "school:012345"
    assert entry.details["changes"] == [
        {
            "object": "agreement",
            "operation": "create",
            "fields": ["status", "valid_from"],
            "id": agreement.pk,
        }
    ]


def test_it_saves_a_changed_agreement_and_logs_the_field_names(agreements_staff):
    """A change records who made it and logs field names, never values."""
    agreement = make_agreement(make_school(), DAY)
    agreement.notes = "Gesprek met de directie"
    agreement_save(agreement=agreement, actor=agreements_staff, fields=["notes"], created=False)
    agreement.refresh_from_db()
    assert agreement.updated_by == agreements_staff and agreement.created_by is None
    entry = only_entry()
    assert entry.details["changes"][0]["operation"] == "change"
    assert entry.details["changes"][0]["fields"] == ["notes"]
    assert "directie" not in str(entry.details)


def test_it_deletes_an_agreement_and_logs_it(agreements_staff):
    """A deleted agreement is gone and logged under its school."""
    agreement = make_agreement(make_school(), DAY)
    pk = agreement.pk
    agreement_delete(agreement=agreement, actor=agreements_staff)
    assert not Agreement.objects.exists()
    entry = only_entry()
    assert entry.subject == "school:012345"
    assert entry.details["changes"] == [
        {"object": "agreement", "operation": "delete", "fields": [], "id": pk}
    ]


def test_it_suspends_only_active_agreements_and_logs_each(agreements_staff):
    """Suspending leaves suspended ones alone and logs one status change per agreement."""
    school = make_school()
    active = make_agreement(school, DAY)
    make_agreement(school, DAY + dt.timedelta(days=400), status=Agreement.Status.SUSPENDED)
    changed = agreements_suspend(agreements=Agreement.objects.all(), actor=agreements_staff)
    assert changed == [active]
    active.refresh_from_db()
    assert active.status == Agreement.Status.SUSPENDED
    assert active.updated_by == agreements_staff
    entry = only_entry()
    assert entry.actor == f"staff:{agreements_staff.pk}"
    assert entry.details["changes"] == [
        {"object": "agreement", "operation": "change", "fields": ["status"], "id": active.pk}
    ]


def test_it_reactivates_only_suspended_agreements_and_logs_each(agreements_staff):
    """Reactivating changes only suspended agreements, one entry each."""
    school = make_school()
    suspended = make_agreement(school, DAY, status=Agreement.Status.SUSPENDED)
    make_agreement(school, DAY + dt.timedelta(days=400))
    changed = agreements_reactivate(agreements=Agreement.objects.all(), actor=agreements_staff)
    assert changed == [suspended]
    suspended.refresh_from_db()
    assert suspended.status == Agreement.Status.ACTIVE
    assert only_entry().details["changes"][0]["fields"] == ["status"]


def test_it_ends_running_agreements_only_and_logs_each(agreements_staff):
    """Ending sets valid_until to the day for running agreements; ended and future ones stay."""
    school = make_school()
    running = make_agreement(school, DAY - dt.timedelta(days=30))
    make_agreement(school, DAY - dt.timedelta(days=400), DAY - dt.timedelta(days=31))
    make_agreement(school, DAY + dt.timedelta(days=30))
    changed = agreements_end(agreements=Agreement.objects.all(), actor=agreements_staff, on=DAY)
    assert changed == [running]
    running.refresh_from_db()
    assert running.valid_until == DAY
    assert only_entry().details["changes"] == [
        {"object": "agreement", "operation": "change", "fields": ["valid_until"], "id": running.pk}
    ]


def test_it_logs_an_import_as_system_without_a_user():
    """An import without a staff member is logged as ``system``, via the import."""
    agreements_import(
        file=b"instellingsnummer,name,valid_from,valid_until\n012345,T,2026-09-01,\n", actor=None
    )
    entry = only_entry()
    assert entry.actor == "system"
    assert entry.details["via"] == "import"


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "status", "expected"),
    [
        (DAY, None, Agreement.Status.ACTIVE, State.IN_FORCE),
        (DAY + dt.timedelta(days=1), None, Agreement.Status.ACTIVE, State.NOT_STARTED),
        (DAY - dt.timedelta(days=10), DAY - dt.timedelta(days=1), "active", State.EXPIRED),
        (DAY - dt.timedelta(days=10), DAY, Agreement.Status.ACTIVE, State.EXPIRING),
        (DAY - dt.timedelta(days=10), DAY + dt.timedelta(days=30), "active", State.EXPIRING),
        (DAY - dt.timedelta(days=10), DAY + dt.timedelta(days=31), "active", State.IN_FORCE),
        (DAY + dt.timedelta(days=10), None, Agreement.Status.SUSPENDED, State.SUSPENDED),
    ],
)
def test_one_agreement_is_judged_as_the_database_judges_it(
    valid_from, valid_until, status, expected
):
    """In memory, "in force" and the state follow the same queries the database runs."""
    agreement = make_agreement(make_school(), valid_from, valid_until, status)
    in_force = Agreement.objects.filter(in_force_q(DAY), pk=agreement.pk).exists()
    assert agreement_is_in_force(agreement, on=DAY) is in_force
    assert in_force is (expected in (State.IN_FORCE, State.EXPIRING))
    assert agreement_state(agreement, on=DAY) == expected
    assert Agreement.objects.filter(agreement_state_q(expected, on=DAY), pk=agreement.pk).exists()
