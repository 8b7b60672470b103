"""Personas and helpers for the schools tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User

from schools.models import Agreement, School
from staff.testing import undertaking_signed


def make_staff(username: str, *groups: str) -> User:
    user = User.objects.create_user(username=username, password="a-long-test-password-1")
    user.is_staff = True
    user.save()
    undertaking_signed(user)  # Support and DPO need a confidentiality undertaking first
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def agreements_staff(db) -> User:
    """Staff member in the Agreements group."""
    return make_staff("ann-agreements", "Agreements")


@pytest.fixture
def support_staff(db) -> User:
    """Staff member in the Support group."""
    return make_staff("sam-support", "Support")


@pytest.fixture
def dpo_staff(db) -> User:
    """Staff member in the DPO group."""
    return make_staff("dirk-dpo", "DPO")


def make_school(number: str = "012345", name: str = "Testschool Fictief") -> School:
    return School.objects.create(instellingsnummer=number, name=name)


def make_agreement(
    school: School,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
    status: str = Agreement.Status.ACTIVE,
) -> Agreement:
    return Agreement.objects.create(
        school=school, valid_from=valid_from, valid_until=valid_until, status=status
    )


def agreement_log_entries():
    from privacy.models import PrivacyLogEntry

    return list(PrivacyLogEntry.objects.filter(action="agreement_changed").order_by("sequence"))


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
