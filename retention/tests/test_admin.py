from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from retention.models import RetentionRun

pytestmark = [pytest.mark.django_db, pytest.mark.urls("retention.tests.admin_urls")]


@pytest.fixture
def dpo(client):
    user = get_user_model().objects.create_user(username="dpo-fictief", is_staff=True)
    user.groups.add(Group.objects.get(name="DPO"))
    client.force_login(user)
    return user


@pytest.fixture
def run():
    return RetentionRun.objects.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        rules=["snapshots"],
        counts={"snapshots": 12},
        status=RetentionRun.Status.SUCCESS,
    )


def test_it_shows_every_run_to_the_dpo(client, dpo, run):
    """The DPO group sees the list of runs and each run."""
    response = client.get("/admin/retention/retentionrun/")
    assert response.status_code == 200
    assert run in response.context["cl"].result_list
    assert client.get(f"/admin/retention/retentionrun/{run.pk}/change/").status_code == 200


def test_it_lets_nobody_change_history(client, dpo, run):
    """Runs cannot be added, changed or deleted, not even by the DPO."""
    assert client.get("/admin/retention/retentionrun/add/").status_code == 403
    assert client.post(f"/admin/retention/retentionrun/{run.pk}/delete/").status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk).exists()


def test_it_hides_runs_from_staff_outside_the_dpo_group(client, run):
    """Other staff (here: Agreements) do not see retention runs."""
    user = get_user_model().objects.create_user(username="agreements-fictief", is_staff=True)
    user.groups.add(Group.objects.get(name="Agreements"))
    client.force_login(user)
    assert client.get("/admin/retention/retentionrun/").status_code == 403
