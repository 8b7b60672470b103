from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from schools.models import Agreement, School
from schools.tests.conftest import make_school

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", ["12345", "1234567", "12A456", "٠١٢٣٤٥", "01234 "])
def test_the_database_refuses_a_number_that_is_not_six_digits(number):
    """The check constraint holds even when validation is bypassed."""
    # PostgreSQL refuses seven characters by the column length before the constraint.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        School.objects.create(instellingsnummer=number, name="Testschool")


def test_it_keeps_leading_zeros():
    """012345 stays text with its zero."""
    make_school("012345")
    assert School.objects.get().instellingsnummer == "012345"


def test_validation_names_the_bad_value():
    """full_clean reports the bad number in the message."""
    with pytest.raises(ValidationError) as error:
        School(instellingsnummer="1234", name="Testschool").full_clean()
    message = error.value.message_dict["instellingsnummer"][0]
    assert "“1234”" in message and "6 cijfers" in message and "001234" in message


def test_the_database_refuses_an_end_before_the_start():
    """valid_until before valid_from cannot be stored."""
    school = make_school()
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(
            school=school, valid_from=dt.date(2026, 9, 1), valid_until=dt.date(2026, 8, 31)
        )


def test_a_one_day_agreement_is_allowed():
    """valid_until equal to valid_from is a one-day agreement."""
    school = make_school()
    Agreement.objects.create(
        school=school, valid_from=dt.date(2026, 9, 1), valid_until=dt.date(2026, 9, 1)
    )
    assert Agreement.objects.count() == 1


def test_a_school_with_agreements_cannot_be_deleted():
    """Agreements protect their school, so no history disappears by accident."""
    from django.db.models import ProtectedError

    school = make_school()
    Agreement.objects.create(school=school, valid_from=dt.date(2026, 9, 1))
    with pytest.raises(ProtectedError):
        school.delete()
