"""System checks for the pupil pages' configuration (run by `manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_dpo_contact(app_configs, **kwargs) -> list[Warning]:
    """The privacy notice must name where pupils use their rights (GDPR art. 13.1.b)."""
    if settings.DPO_CONTACT_EMAIL:
        return []
    return [
        Warning(
            "DPO_CONTACT_EMAIL is empty: the privacy notice (/privacy/) names no address for "
            "the pupil's rights.",
            hint="Set DPO_CONTACT_EMAIL to the data protection officer's address.",
            id="ilearn_auth.W014",
        )
    ]
