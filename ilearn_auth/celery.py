"""The Celery app, in the layout Celery's Django guide gives: CELERY_* settings, autodiscovery."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings")

app = Celery("ilearn_auth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
