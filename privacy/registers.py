"""The rules of the DPO's registers, apart from the models so that admin, tasks and the
dashboard read them the same way.

- A breach must be notified to the supervisory authority within 72 hours of its discovery
  (GDPR art. 33(1)) unless it is unlikely to result in a risk; it is *overdue* once that
  deadline passed without a notification. Its discovery cannot lie in the future, and no
  notification can precede it.
- A retention term names the setting that enforces it; a term longer than the setting's
  period is flagged (the register would promise a longer keeping than we do).
- A processor's overview must be sent to DOV again after a change (protocol art. 9).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

BREACH_NOTIFICATION_HOURS = 72
# A clock a few minutes ahead on the DPO's laptop is not "the future".
CLOCK_TOLERANCE = timedelta(minutes=5)
BRUSSELS = ZoneInfo("Europe/Brussels")

_RULE_SETTINGS = {
    "snapshots": "RETENTION_SNAPSHOT_DAYS",
    "accounts": "RETENTION_ACCOUNT_DAYS",
    "privacy_log": "PRIVACY_LOG_RETENTION_DAYS",
}


def enforced_days(rule: str) -> int | None:
    """The period the settings enforce for a retention rule; None for "other"."""
    name = _RULE_SETTINGS.get(rule)
    return getattr(settings, name) if name else None


def breach_deadline(found_at: datetime | None) -> datetime | None:
    return found_at + timedelta(hours=BREACH_NOTIFICATION_HOURS) if found_at else None


def breach_is_overdue(breach, now: datetime | None = None) -> bool:
    if not breach.authority_notification_required or breach.reported_to_authority_at:
        return False
    deadline = breach_deadline(breach.found_at)
    return deadline is not None and (now or timezone.now()) > deadline


def breach_problems(breach, now: datetime | None = None) -> None:
    """Raise ``ValidationError`` naming each field that cannot be right."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    if breach.found_at and breach.found_at > now + CLOCK_TOLERANCE:
        errors["found_at"] = _("Een lek kan niet in de toekomst vastgesteld zijn.")
    for field in ("reported_to_authority_at", "reported_to_dov_at"):
        moment = getattr(breach, field)
        if moment and breach.found_at and moment < breach.found_at:
            errors[field] = _("Een melding kan niet vóór de vaststelling van het lek liggen.")
        elif moment and moment > now + CLOCK_TOLERANCE:
            errors[field] = _("Deze datum ligt in de toekomst.")
    if breach.tell_pupils == "no" and not breach.tell_pupils_reason.strip():
        errors["tell_pupils_reason"] = _(
            "Leg uit waarom de leerlingen niet ingelicht worden (AVG art. 34.3)."
        )
    if errors:
        raise ValidationError(errors)


def processor_overview_outdated(processor) -> bool:
    """Active, and changed since the overview last went to DOV (or never sent)."""
    if not processor.active:
        return False
    if processor.overview_sent_to_dov_on is None:
        return True
    if processor.changed_at is None:
        return False
    return processor.changed_at.astimezone(BRUSSELS).date() > processor.overview_sent_to_dov_on


# Fields whose change DOV must hear about (protocol art. 9): all but the sending date itself.
_PROCESSOR_BOOKKEEPING = frozenset({"overview_sent_to_dov_on"})


def processor_note_change(processor, changed_fields: list[str], *, is_new: bool) -> None:
    """Stamp ``changed_at`` when a new processor or a change DOV must hear about is saved."""
    if is_new or set(changed_fields) - _PROCESSOR_BOOKKEEPING:
        processor.changed_at = timezone.now()


def data_quality_report_mark_sent(report, *, at: datetime | None = None) -> None:
    """The DPO reviewed the report and sent it to DOV; it is kept (no one may delete it)."""
    report.status = "reported"
    report.reported_at = at or timezone.now()
    report.save(update_fields=["status", "reported_at", "updated_at"])
