from __future__ import annotations

from celery import shared_task


@shared_task(name="ilearn_auth.ping")
def ping() -> str:
    """Answers "pong": lets the test suite and operators see a worker round trip."""
    return "pong"
