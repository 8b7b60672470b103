from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DpoConfig(AppConfig):
    name = "dpo"
    verbose_name = _("Functionaris voor gegevensbescherming")
