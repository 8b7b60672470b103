from __future__ import annotations

from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "pupils"
