from __future__ import annotations

from django.apps import AppConfig


class IlearnAuthConfig(AppConfig):
    name = "ilearn_auth"
    verbose_name = "i-Learn Auth"
