"""The DPO's daily work, done by Celery beat (dpo/tasks.py) and testable without a worker.

- ``rollup_day``: the dashboard's counts of one Brussels day, from the privacy log (through
  ``privacy.selectors``), the pupil table and the retention runs. Counting from the log, once a
  day, keeps the login path free of any extra statement (see docs/decisions.md).
- ``breaches_mark_overdue``: breaches past their 72 hours, marked, logged, and an alert each.
- ``privacy_log_selfcheck``: the log verified from the last checkpoint to the head; the new
  checkpoint (head sequence and hash) stored, written to the application log and, on a break,
  an alert.
- ``alerts_send``: every alert not yet mailed, in one connection. A mail server that is down
  raises (the task retries) and leaves the alerts pending; the dashboard shows them meanwhile.
- ``data_quality_report_draft``: the month's data-quality report for DOV, as a draft.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from dpo.models import Alert, DailyCount, LogVerification
from privacy import actions, selectors
from privacy.models import Breach, DataQualityReport
from privacy.selfcheck import privacy_log_verify_since
from privacy.services import Head, privacy_log_write
from pupils.models import Pupil
from retention.models import RetentionRun

logger = logging.getLogger(__name__)
BRUSSELS = ZoneInfo("Europe/Brussels")

# Login outcomes as the login path writes them to the privacy log.
_GRANTED = {actions.AUTHN_LOGIN_SUCCESS}
_REFUSED = {actions.AUTHN_LOGIN_FAIL, actions.AUTHZ_FAIL}
# The refusal whose detail is a pupils.claims.Refusal code: LeerID's data was unusable.
_CLAIMS_REFUSAL = "claims_unusable"


def brussels_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(BRUSSELS).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Brussels midnight to midnight (23 or 25 hours on DST days)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=BRUSSELS)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=BRUSSELS)
    return start, end


# --- Rollup -------------------------------------------------------------------------------------
def rollup_day(day: date) -> int:
    """Replace the counts of ``day``; return how many rows it has. Idempotent."""
    start, end = day_bounds(day)
    counts: Counter[tuple[str, str]] = Counter()
    for action, _outcome, reason, detail, count in selectors.log_counts(start=start, end=end):
        if action in _GRANTED:
            counts[(DailyCount.Metric.LOGIN_GRANTED, "")] += count
        elif action in _REFUSED:
            counts[(DailyCount.Metric.LOGIN_REFUSED, reason[:64])] += count
            if reason == _CLAIMS_REFUSAL and detail:
                counts[(DailyCount.Metric.DQ_REFUSAL, detail[:64])] += count
    for name, count in selectors.log_unexpected_claim_names(start=start, end=end).items():
        counts[(DailyCount.Metric.DQ_CLAIM, name[:64])] += count
    for run_counts in RetentionRun.objects.filter(
        started_at__gte=start, started_at__lt=end, dry_run=False
    ).values_list("counts", flat=True):
        counts[(DailyCount.Metric.PURGED_ACCOUNTS, "")] += int(run_counts.get("accounts", 0))
        counts[(DailyCount.Metric.PURGED_SNAPSHOTS, "")] += int(run_counts.get("snapshots", 0))
    if day == brussels_today() - timedelta(days=1) or day == brussels_today():
        # The pupil table only knows today's number: recorded for the day just ended.
        counts[(DailyCount.Metric.PUPILS, "")] = Pupil.objects.count()
    with transaction.atomic():
        # The pupils count of a past day cannot be recomputed: keep it when rolling up again.
        kept = DailyCount.objects.filter(day=day, metric=DailyCount.Metric.PUPILS)
        replace = DailyCount.objects.filter(day=day)
        if (DailyCount.Metric.PUPILS, "") not in counts:
            replace = replace.exclude(pk__in=kept.values("pk"))
        replace.delete()
        DailyCount.objects.bulk_create(
            DailyCount(day=day, metric=metric, key=key, count=count)
            for (metric, key), count in counts.items()
        )
    return DailyCount.objects.filter(day=day).count()


def rollup_recent(*, days: int = 3, today: date | None = None) -> list[date]:
    """Roll up the last ``days`` complete days (a missed night is caught up the next)."""
    today = today or brussels_today()
    done = [today - timedelta(days=offset) for offset in range(days, 0, -1)]
    for day in done:
        rollup_day(day)
    return done


# --- Breaches -----------------------------------------------------------------------------------
def breaches_mark_overdue(*, now: datetime | None = None) -> list[Breach]:
    """Mark breaches past their 72-hour deadline; each gets a log entry and an alert once."""
    now = now or timezone.now()
    newly = []
    candidates = Breach.objects.filter(
        overdue_at__isnull=True,
        authority_notification_required=True,
        reported_to_authority_at__isnull=True,
        found_at__lt=now - timedelta(hours=72),
    )
    for breach in candidates:
        with transaction.atomic():
            Breach.objects.filter(pk=breach.pk).update(overdue_at=now)
            Alert.objects.get_or_create(
                kind=Alert.Kind.BREACH_OVERDUE, subject=f"breach:{breach.pk}"
            )
            privacy_log_write(
                action=actions.BREACH_OVERDUE,
                actor="system",
                subject=f"breach:{breach.pk}",
                outcome="failure",
                reason="deadline_passed",
                details={"deadline": breach.deadline.isoformat(timespec="minutes")},
            )
        breach.overdue_at = now
        newly.append(breach)
    return newly


# --- The log checks itself ----------------------------------------------------------------------
def privacy_log_selfcheck() -> LogVerification:
    """Verify from the last good checkpoint to the head and store the new checkpoint."""
    last = LogVerification.objects.filter(ok=True).order_by("-checked_at", "-pk").first()
    since = Head(last.head_sequence, last.head_hash) if last else None
    started = time.monotonic()
    result = privacy_log_verify_since(since)
    problem = result.problem
    verification = LogVerification.objects.create(
        checked_at=timezone.now(),
        ok=result.ok,
        entries=result.count,
        since_sequence=since.sequence if since else None,
        head_sequence=result.head.sequence,
        head_hash=result.head.hash,
        problem_sequence=problem.sequence if problem else None,
        problem_kind=problem.kind if problem else "",
        problem_detail=problem.detail[:200] if problem else "",
        seconds=round(time.monotonic() - started, 3),
    )
    # The line an outsider keeps: a rewrite of the whole table is caught against it.
    logger.info(
        "privacy log head %s sequence %s: %s",
        result.head.hash,
        result.head.sequence,
        "verified" if result.ok else f"BROKEN at {problem.sequence} ({problem.kind})",
    )
    details = {"head_sequence": result.head.sequence, "head_hash": result.head.hash}
    if problem:
        details |= {"problem_sequence": problem.sequence, "problem_kind": problem.kind}
        Alert.objects.get_or_create(
            kind=Alert.Kind.LOG_BROKEN, subject=f"verification:{verification.pk}"
        )
    privacy_log_write(
        action=actions.PRIVACY_LOG_VERIFIED,
        actor="system",
        outcome="success" if result.ok else "failure",
        reason="" if result.ok else problem.kind,
        details=details,
    )
    return verification


# --- Mail to the DPO ----------------------------------------------------------------------------
def dpo_recipients() -> list[str]:
    """DPO_EMAILS, DPO_CONTACT_EMAIL, then the active DPO-group members' addresses; each once."""
    members = (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__permissions__codename="view_dashboard",
            groups__permissions__content_type__app_label="dpo",
        )
        .exclude(email="")
        .values_list("email", flat=True)
    )
    contact = [settings.DPO_CONTACT_EMAIL] if settings.DPO_CONTACT_EMAIL else []
    return list(dict.fromkeys([*settings.DPO_EMAILS, *contact, *members]))


def alerts_send() -> int:
    """Mail every pending alert; return how many went. Raises when the mail server fails."""
    pending = list(Alert.objects.filter(mailed_at__isnull=True).order_by("pk"))
    recipients = dpo_recipients()
    if not pending:
        return 0
    if not recipients:
        logger.warning("%s DPO alerts pending and no DPO e-mail address known", len(pending))
        return 0
    sent = 0
    try:
        with mail.get_connection(fail_silently=False) as connection:
            for alert in pending:
                subject, body = _alert_text(alert)
                mail.EmailMessage(subject, body, to=recipients, connection=connection).send()
                Alert.objects.filter(pk=alert.pk).update(
                    mailed_at=timezone.now(), attempts=alert.attempts + 1, last_error=""
                )
                sent += 1
    except Exception as exc:
        Alert.objects.filter(mailed_at__isnull=True).update(last_error=type(exc).__name__[:100])
        for alert in pending[sent:]:
            Alert.objects.filter(pk=alert.pk).update(attempts=alert.attempts + 1)
        raise
    return sent


def _alert_text(alert: Alert) -> tuple[str, str]:
    link = "/admin/dashboard/"
    _kind, _sep, key = alert.subject.partition(":")
    if alert.kind == Alert.Kind.BREACH_OVERDUE:
        breach = Breach.objects.filter(pk=key).first()
        deadline = breach.deadline.astimezone(BRUSSELS) if breach else None
        return (
            _("[i-Learn Auth] Meldtermijn van gegevenslek %(key)s overschreden") % {"key": key},
            _(
                "Het gegevenslek %(key)s is niet binnen 72 uur aan de toezichthouder gemeld "
                "(termijn: %(deadline)s). Meld het zo snel mogelijk en vul de meldingsdatum in: "
                "%(link)s"
            )
            % {
                "key": key,
                "deadline": f"{deadline:%Y-%m-%d %H:%M}" if deadline else "?",
                "link": link,
            },
        )
    if alert.kind == Alert.Kind.LOG_BROKEN:
        verification = LogVerification.objects.filter(pk=key).first()
        where = (
            f"{verification.problem_kind} #{verification.problem_sequence}" if verification else "?"
        )
        return (
            _("[i-Learn Auth] De privacylog is niet in orde"),
            _(
                "De dagelijkse controle van de privacylog vond een breuk (%(where)s). Bekijk "
                "het dashboard en verifieer met `manage.py verify_privacy_log`: %(link)s"
            )
            % {"where": where, "link": link},
        )
    return (
        _("[i-Learn Auth] Leerlinggegevens vernietigd (einde protocol)"),
        _("Het vernietigingsverslag staat in de privacylog en in de bewijsbundel: %(link)s")
        % {"link": link},
    )


# --- Data quality to DOV (protocol art. 7) ------------------------------------------------------
def month_start(day: date) -> date:
    return day.replace(day=1)


def data_quality_report_draft(*, month: date) -> DataQualityReport | None:
    """The draft report of ``month`` from the daily counts; a report already sent is kept as it
    was (None). Counts per refusal code and claim name, and since when each was seen."""
    first = month_start(month)
    after = (first + timedelta(days=32)).replace(day=1)
    existing = DataQualityReport.objects.filter(month=first).first()
    if existing and existing.status != DataQualityReport.Status.DRAFT:
        return None
    metrics = (DailyCount.Metric.DQ_REFUSAL, DailyCount.Metric.DQ_CLAIM)
    in_month: dict[str, Counter[str]] = defaultdict(Counter)
    for metric, key, count in DailyCount.objects.filter(
        metric__in=metrics, day__gte=first, day__lt=after
    ).values_list("metric", "key", "count"):
        in_month[metric][key] += count
    since = {
        (row["metric"], row["key"]): row["first"]
        for row in DailyCount.objects.filter(metric__in=metrics)
        .values("metric", "key")
        .annotate(first=Min("day"))
        .order_by()
    }
    counts = {
        group: [
            {"code": key, "count": count, "since": since[(metric, key)].isoformat()}
            for key, count in sorted(in_month[metric].items(), key=lambda item: -item[1])
        ]
        for group, metric in (("refusals", metrics[0]), ("claims", metrics[1]))
    }
    description = _describe(first, counts)
    report = existing or DataQualityReport(month=first, found_at=timezone.now())
    report.status = DataQualityReport.Status.DRAFT
    report.counts = counts
    report.description = description
    report.reported_to = report.reported_to or _("DPO van het departement Onderwijs en Vorming")
    report.save()
    return report


def _describe(first: date, counts: dict) -> str:
    lines = [
        _("Gegevenskwaliteit LeerID, %(month)s (protocol art. 7): concept.")
        % {"month": f"{first:%Y-%m}"},
        "",
        _("Aanmeldingen geweigerd omdat de gegevens van LeerID onbruikbaar waren:"),
    ]
    lines += [
        f"- {row['code']}: {row['count']} ({_('sinds')} {row['since']})"
        for row in counts["refusals"]
    ] or [_("- geen")]
    lines += ["", _("Claims die LeerID meestuurde buiten de gevraagde lijst (enkel de namen):")]
    lines += [
        f"- {row['code']}: {row['count']} ({_('sinds')} {row['since']})" for row in counts["claims"]
    ] or [_("- geen")]
    lines += ["", _("Geen waarden van claims of leerlingen: enkel codes, namen en aantallen.")]
    return "\n".join(lines)
