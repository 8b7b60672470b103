from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from schools.access import schools_with_agreement_in_force
from schools.demo import DEMO_SCHOOLS, seed_demo_schools
from schools.models import Agreement, School
from schools.selectors import State, schools_in_state

pytestmark = pytest.mark.django_db

NUMBERS = ["012345", "047001", "031002", "031003", "031004", "031005"]


def test_it_seeds_one_school_per_case():
    """The demo schools cover in force, expired, not started, none and suspended."""
    seed_demo_schools()
    today = dt.date.today()
    assert sorted(School.objects.values_list("instellingsnummer", flat=True)) == sorted(NUMBERS)
    assert schools_with_agreement_in_force(NUMBERS) == {"012345", "047001"}

    def state(name: str) -> set[str]:
        return set(schools_in_state(name, on=today).values_list("instellingsnummer", flat=True))

    assert state(State.EXPIRED) == {"031002"}
    assert state(State.NOT_STARTED) == {"031003"}
    assert state(State.NONE) == {"031004"}
    assert state(State.SUSPENDED) == {"031005"}
    end = Agreement.objects.get(school__instellingsnummer="047001").valid_until
    assert end.year == today.year + 1
    assert Agreement.objects.get(school__instellingsnummer="012345").valid_until is None


def test_it_is_idempotent():
    """Seeding twice (via the command, even a year later) adds nothing."""
    call_command("seed_demo")
    with time_machine.travel(dt.datetime(2031, 1, 1, tzinfo=dt.UTC)):
        call_command("seed_demo")
    # The DPO's demo (dpo/demo.py) adds one school whose agreement always ends within 30 days.
    assert School.objects.count() == len(DEMO_SCHOOLS) + 1
    assert Agreement.objects.count() == 6


def test_its_names_are_obviously_fictitious():
    """Every demo school is called a demo school."""
    assert all(name.startswith("Demo") for name, _town, _level in DEMO_SCHOOLS.values())
