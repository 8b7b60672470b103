from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from pupils.models import IdentitySnapshot
from retention.models import RetentionRun
from retention.tasks import purge_snapshots
from retention.tests.factories import make_pupil


def test_it_retries_on_a_lost_database_connection():
    """The tasks retry on OperationalError/InterfaceError and acknowledge late."""
    from django.db import InterfaceError, OperationalError

    assert set(purge_snapshots.autoretry_for) == {OperationalError, InterfaceError}
    assert purge_snapshots.acks_late


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_it_purges_through_a_real_worker(celery_worker_process):
    """The snapshot task, sent over Redis, is run once by a real worker on the database."""
    old = make_pupil(login_at=timezone.now() - timedelta(days=400))
    recent = make_pupil(login_at=timezone.now() - timedelta(days=10))

    result = purge_snapshots.apply_async().get(timeout=60)

    assert result["status"] == "success"
    assert result["counts"] == {"snapshots": 1}
    assert not IdentitySnapshot.objects.filter(pupil=old).exists()
    assert IdentitySnapshot.objects.filter(pupil=recent).exists()
    assert RetentionRun.objects.get().status == RetentionRun.Status.SUCCESS
