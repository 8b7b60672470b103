"""The DPO's evidence bundle carries the staff access review (staff.selectors)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dpo.bundle import staff_access_review_rows

pytestmark = pytest.mark.django_db


def test_it_puts_the_access_review_rows_in_the_bundle():
    """One dict per staff account, with the review's columns."""
    get_user_model().objects.create_user("ann-agreements", is_staff=True)
    [row] = staff_access_review_rows()
    assert row["username"] == "ann-agreements"
    assert {"groups", "areas", "sees_personal_data", "second_factor", "locked"} <= set(row)
