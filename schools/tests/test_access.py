from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from schools.access import schools_with_agreement_in_force
from schools.models import Agreement
from schools.tests.conftest import make_agreement, make_school

pytestmark = pytest.mark.django_db

START = dt.date(2026, 9, 1)
END = dt.date(2027, 8, 31)


@pytest.fixture
def school():
    return make_school("012345")


def test_it_grants_on_the_first_day(school):
    """An agreement is in force on its valid_from day, not the day before."""
    make_agreement(school, START, END)
    assert schools_with_agreement_in_force(["012345"], on=START) == {"012345"}
    assert schools_with_agreement_in_force(["012345"], on=START - dt.timedelta(days=1)) == set()


def test_it_grants_on_the_last_day(school):
    """An agreement is in force on its valid_until day, not the day after."""
    make_agreement(school, START, END)
    assert schools_with_agreement_in_force(["012345"], on=END) == {"012345"}
    assert schools_with_agreement_in_force(["012345"], on=END + dt.timedelta(days=1)) == set()


def test_it_grants_open_ended_agreements_forever(school):
    """An agreement without valid_until stays in force."""
    make_agreement(school, START, None)
    assert schools_with_agreement_in_force(["012345"], on=dt.date(2099, 1, 1)) == {"012345"}


def test_it_refuses_a_suspended_agreement(school):
    """A suspended agreement grants nothing, even within its period."""
    make_agreement(school, START, None, status=Agreement.Status.SUSPENDED)
    assert schools_with_agreement_in_force(["012345"], on=START) == set()


def test_it_refuses_an_agreement_that_has_not_started(school):
    """A future agreement grants nothing yet."""
    make_agreement(school, START, None)
    assert schools_with_agreement_in_force(["012345"], on=dt.date(2026, 8, 31)) == set()


def test_it_answers_once_for_a_school_with_two_agreements(school):
    """Two agreements in force for one school (an overlap) give the school once."""
    make_agreement(school, START, END)
    make_agreement(school, dt.date(2027, 1, 1), None)
    assert schools_with_agreement_in_force(["012345"], on=dt.date(2027, 2, 1)) == {"012345"}


def test_it_uses_the_follow_up_agreement_after_the_first_ends(school):
    """When the first agreement ended, a later one still grants; a suspended one does not."""
    make_agreement(school, START, END)
    make_agreement(school, END + dt.timedelta(days=1), None, status=Agreement.Status.SUSPENDED)
    assert schools_with_agreement_in_force(["012345"], on=END + dt.timedelta(days=1)) == set()
    Agreement.objects.filter(status=Agreement.Status.SUSPENDED).update(status="active")
    assert schools_with_agreement_in_force(["012345"], on=END + dt.timedelta(days=1)) == {"012345"}


def test_it_returns_only_the_asked_schools_and_keeps_leading_zeros(school):
    """Only numbers that were asked and are in force come back, as six-digit text."""
    make_agreement(school, START)
    other = make_school("047001", "Andere Testschool")
    make_agreement(other, START)
    make_school("031004", "Zonder Overeenkomst")
    found = schools_with_agreement_in_force(["012345", "031004", "999999"], on=START)
    assert found == {"012345"}
    assert schools_with_agreement_in_force(["12345"], on=START) == set()


def test_it_asks_one_query_whatever_the_count(django_assert_num_queries):
    """Fifty schools, one query."""
    numbers = [f"{n:06d}" for n in range(100, 150)]
    for number in numbers:
        make_agreement(make_school(number, f"Testschool {number}"), START)
    with django_assert_num_queries(1):
        found = schools_with_agreement_in_force([*numbers, "999999"], on=START)
    assert found == set(numbers)


def test_it_asks_nothing_for_no_numbers(django_assert_num_queries):
    """No enrollments: no query, no school."""
    with django_assert_num_queries(0):
        assert schools_with_agreement_in_force([]) == set()


@pytest.mark.parametrize(
    ("utc_moment", "brussels_day"),
    [
        # 00:30 CET on the night clocks go forward (29 March 2026): UTC still says the 28th.
        (dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC), dt.date(2026, 3, 29)),
        # 00:30 CEST on the night clocks go back (25 October 2026): UTC still says the 24th.
        (dt.datetime(2026, 10, 24, 22, 30, tzinfo=dt.UTC), dt.date(2026, 10, 25)),
    ],
)
def test_it_counts_days_in_brussels_across_a_dst_change(school, utc_moment, brussels_day):
    """By default the day is Brussels' day, on both DST nights, whatever UTC says."""
    make_agreement(school, brussels_day, brussels_day)
    with time_machine.travel(utc_moment, tick=False):
        assert schools_with_agreement_in_force(["012345"]) == {"012345"}
    with time_machine.travel(utc_moment - dt.timedelta(hours=1), tick=False):
        assert schools_with_agreement_in_force(["012345"]) == set()


def test_it_ignores_the_servers_time_zone_setting(school, settings):
    """Even with TIME_ZONE set to UTC, the day is Brussels' day."""
    settings.TIME_ZONE = "UTC"
    make_agreement(school, dt.date(2026, 7, 1))
    with time_machine.travel(dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC), tick=False):
        assert schools_with_agreement_in_force(["012345"]) == {"012345"}


def test_it_answers_as_the_orm_query_for_any_count_and_day():
    """The statement made once per process answers exactly as the ORM query it was made from."""
    from schools.access import _in_force

    numbers = [f"{n:06d}" for n in range(100, 112)]
    for index, number in enumerate(numbers):
        school = make_school(number)
        status = Agreement.Status.SUSPENDED if index % 4 == 3 else Agreement.Status.ACTIVE
        make_agreement(school, START, END if index % 2 else None, status=status)
    asked = [numbers[:1], numbers[:3], numbers[2:7], ["999999", *numbers[:2]], numbers]
    for day in (START - dt.timedelta(days=1), START, END, END + dt.timedelta(days=1)):
        for wanted in asked:
            expected = set(_in_force(day, sorted(wanted)))
            assert schools_with_agreement_in_force(wanted, on=day) == expected
    assert schools_with_agreement_in_force(numbers, on=START) == {
        number for index, number in enumerate(numbers) if index % 4 != 3
    }
