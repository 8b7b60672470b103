"""Suspending a school says how many pupils it shuts out: the schools admin asks the pupils
app (registered through ``schools.impact``), from the snapshots, without names."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key
from schools.tests.conftest import make_agreement, make_school

pytestmark = pytest.mark.django_db


def _login(*, at: dt.datetime, school: str, given_name: str) -> None:
    with time_machine.travel(at, tick=False):
        pupil_record_login(
            claims=leerid_claims(
                leer_id_uuid=new_key(), enrollments=(school,), given_name=given_name
            ),
            granted_schools={school},
        )


def test_it_counts_the_pupils_who_signed_in_through_the_schools_lately(client):
    """Two pupils signed in through 100001 in the last 30 days, one 40 days ago, one through
    another school: the page says 2, and shows no name."""
    agreement = make_agreement(make_school("100001", "Testschool Een"), dt.date(2020, 1, 1))
    make_agreement(make_school("100002", "Testschool Twee"), dt.date(2020, 1, 1))
    now = timezone.now()
    _login(at=now - dt.timedelta(days=1), school="100001", given_name="Fictiefa")
    _login(at=now - dt.timedelta(days=29), school="100001", given_name="Fictiefb")
    _login(at=now - dt.timedelta(days=40), school="100001", given_name="Fictiefc")
    _login(at=now - dt.timedelta(days=1), school="100002", given_name="Fictiefd")
    user = get_user_model().objects.create_user(username="agreements-fictief", is_staff=True)
    user.groups.add(Group.objects.get(name="Agreements"))
    client.force_login(user)

    response = client.post(
        reverse("admin:schools_agreement_changelist"),
        {"action": "suspend", "_selected_action": [agreement.pk]},
    )
    content = response.content.decode()
    assert "2 leerlingen meldden zich de voorbije 30 dagen aan via deze scholen" in content
    assert "Fictief" not in content
