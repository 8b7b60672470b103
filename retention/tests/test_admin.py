from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from retention.models import RetentionRun
from staff.testing import undertaking_signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def dpo(client):
    user = get_user_model().objects.create_user(username="dpo-fictief", is_staff=True)
    undertaking_signed(user)
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


def test_it_warns_the_dpo_when_retention_has_stopped(client, dpo, run):
    """The list of runs says so when the rules have not run for two days, as /readyz does."""
    from django.db.migrations.recorder import MigrationRecorder

    # An install three days old whose only run (the fixture's) did one rule.
    MigrationRecorder.Migration.objects.filter(app="retention").update(
        applied=timezone.now() - timedelta(days=3)
    )
    response = client.get("/admin/retention/retentionrun/")
    messages = [str(message) for message in response.context["messages"]]
    assert messages == [
        "De bewaartermijnen zijn al meer dan twee dagen niet toegepast "
        "(stale: accounts, privacy_log)."
    ]


def test_it_does_not_warn_while_retention_runs(client, dpo):
    """With every rule run recently there is no warning."""
    RetentionRun.objects.create(
        started_at=timezone.now(),
        finished_at=timezone.now(),
        rules=["accounts", "snapshots", "privacy_log"],
        counts={"accounts": 0, "snapshots": 0, "privacy_log": 0},
        status=RetentionRun.Status.SUCCESS,
    )
    response = client.get("/admin/retention/retentionrun/")
    assert not list(response.context["messages"])


def test_it_shows_runs_readably(client, dpo):
    """Id, Brussels time, "nee" for a real run, one column per count, Dutch labels."""
    from datetime import UTC, datetime

    run = RetentionRun.objects.create(
        started_at=datetime(2027, 6, 15, 4, 0, tzinfo=UTC),
        finished_at=datetime(2027, 6, 15, 4, 1, tzinfo=UTC),
        rules=["accounts", "snapshots"],
        counts={"accounts": 3, "snapshots": 17},
        status=RetentionRun.Status.SUCCESS,
        trigger="command",
    )
    response = client.get("/admin/retention/retentionrun/")
    content = response.content.decode()
    assert "15-06-2027 06:00" in content  # 04:00 UTC is 06:00 in Brussels in summer
    assert 'class="field-dry_run_label">nee<' in content
    assert 'class="field-accounts">3<' in content
    assert 'class="field-snapshots">17<' in content
    assert 'class="field-privacy_log">-<' in content
    assert "commando run_retention" in content
    assert "icon-no" not in content
    detail = client.get(f"/admin/retention/retentionrun/{run.pk}/change/").content.decode()
    assert f"Run {run.pk} van 15-06-2027 06:00 (geslaagd)" in detail
