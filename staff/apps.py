from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "staff"
    verbose_name = _("Medewerkers en aanmelden")

    def ready(self) -> None:
        from staff import signals  # noqa: F401 - connects the privacy-log receivers
