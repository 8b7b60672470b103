"""System checks for the deployment (run by `manage.py check --deploy`)."""

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


@register(Tags.database, deploy=True)
def check_erasure_ledger(app_configs, **kwargs) -> list[Warning]:
    """A restore must not bring back pupils erased on request: the ledger lives apart."""
    if settings.ERASURE_LEDGER_DATABASE_URL:
        return []
    return [
        Warning(
            "ERASURE_LEDGER_DATABASE_URL is empty: the erasure ledger is a table of the main "
            "database, so restoring a backup would also roll it back and erased pupils would "
            "come back.",
            hint="Give the ledger a database of its own (docs/operations.md, Backups).",
            id="ilearn_auth.W015",
        )
    ]
