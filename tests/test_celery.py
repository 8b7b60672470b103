from __future__ import annotations

import pytest

from ilearn_auth.tasks import ping


def test_it_runs_tasks_in_process_without_redis():
    """Without Redis, tasks run eagerly in the calling process."""
    from ilearn_auth.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        assert ping.delay().get(timeout=5) == "pong"
    finally:
        app.conf.task_always_eager = previous


@pytest.mark.redis
def test_it_round_trips_through_a_real_worker(celery_worker_process):
    """A task sent over Redis is run by a real worker and its result read back."""
    from ilearn_auth.celery import app

    assert not app.conf.task_always_eager
    result = ping.apply_async()
    assert result.get(timeout=30) == "pong"
