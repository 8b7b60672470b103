"""The sealer as a Celery task, run by beat every ``PRIVACY_LOG_SEAL_SECONDS`` (settings)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from privacy.services import privacy_log_seal


@shared_task(
    name="privacy.seal_log",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    max_retries=3,
)
def seal_log() -> int:
    return privacy_log_seal()
