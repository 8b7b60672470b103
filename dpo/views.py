"""The DPO dashboard (``/admin/dashboard/``) and the evidence-bundle button.

Only holders of ``dpo.view_dashboard`` (the DPO group, ilearn_auth/roles.py) get in; everyone
else signed in to the admin gets a 403, everyone else is sent to the admin login.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dpo import charts, selectors
from dpo.bundle import evidence_bundle_bytes, evidence_bundle_record
from dpo.models import DailyCount
from dpo.services import BRUSSELS, brussels_today
from privacy.audit import staff_actor

Metric = DailyCount.Metric


def _require_dpo(request: HttpRequest) -> None:
    if not request.user.has_perm("dpo.view_dashboard"):
        raise PermissionDenied


@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _require_dpo(request)
    now = timezone.now()
    today = brussels_today(now)
    verification = selectors.last_verification()
    breaches = selectors.open_breaches()
    logins, refusals = _login_charts(today)
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard van de DPO"),
        "today": today,
        "logins": logins,
        "refusals": refusals,
        "retention": _retention_chart(today),
        "breaches_chart": _breaches_chart(breaches, now),
        "agreements": _agreements_chart(today),
        "verification_chart": _verification_chart(verification),
        "verification": verification,
        "breaches": breaches,
        "overdue": [b for b in breaches if b.is_overdue(now)],
        "alerts": selectors.pending_alerts(),
        "flags": selectors.register_flags(),
        "protocol_end": selectors.protocol_end(),
    }
    return TemplateResponse(request, "dpo/dashboard.html", context)


@require_POST
def bundle_download(request: HttpRequest) -> HttpResponse:
    _require_dpo(request)
    content, files = evidence_bundle_bytes()
    filename = f"bewijsbundel-{timezone.now().astimezone(BRUSSELS):%Y%m%d-%H%M%S}.zip"
    evidence_bundle_record(content, files, filename=filename, actor=staff_actor(request.user))
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _login_charts(today):
    """Granted and refused per day; and the refusals by reason on their own scale (they are
    a few percent of the logins and would vanish under them)."""
    data = selectors.daily_series([Metric.LOGIN_GRANTED, Metric.LOGIN_REFUSED], today=today)
    zero = [0] * len(data.days)
    granted = data.values.get(f"{Metric.LOGIN_GRANTED}:", zero)
    refused = {
        key.split(":", 1)[1]: values
        for key, values in data.values.items()
        if key.startswith(f"{Metric.LOGIN_REFUSED}:")
    }
    total_refused = [sum(values[i] for values in refused.values()) for i in range(len(data.days))]
    logins = charts.stacked_bars(
        "chart-logins",
        title=_("Aanmeldingen per dag: toegelaten en geweigerd (90 dagen)"),
        days=data.days,
        series=[
            charts.Series(_("toegelaten"), charts.GREEN, granted),
            charts.Series(_("geweigerd"), charts.PALETTE[6], total_refused),
        ],
        empty=_("Nog geen aanmeldingen geteld."),
    )
    ranked = sorted(refused, key=lambda reason: -sum(refused[reason]))
    palette = [c for c in charts.PALETTE if c != charts.GREEN]
    series = [
        charts.Series(reason, palette[n], refused[reason])
        for n, reason in enumerate(ranked[: selectors.TOP_REASONS])
    ]
    rest = ranked[selectors.TOP_REASONS :]
    if rest:
        other = [sum(refused[r][i] for r in rest) for i in range(len(data.days))]
        series.append(charts.Series(_("andere"), charts.GREY, other))
    refusals = charts.stacked_bars(
        "chart-refusals",
        title=_("Geweigerde aanmeldingen per dag, per reden (90 dagen)"),
        days=data.days,
        series=series,
        empty=_("Geen geweigerde aanmeldingen."),
    )
    return logins, refusals


def _retention_chart(today):
    metrics = [Metric.PUPILS, Metric.PURGED_ACCOUNTS, Metric.PURGED_SNAPSHOTS]
    data = selectors.daily_series(metrics, today=today)
    zero = [0] * len(data.days)
    kept = data.values.get(f"{Metric.PUPILS}:", zero)
    return charts.stacked_bars(
        "chart-retention",
        title=_("Leerlingaccounts bewaard en verwijderd per bewaartermijn-run (90 dagen)"),
        days=data.days,
        line=charts.Series(_("accounts bewaard"), charts.PALETTE[0], kept),
        series=[
            charts.Series(
                _("accounts verwijderd"),
                charts.PALETTE[6],
                data.values.get(f"{Metric.PURGED_ACCOUNTS}:", zero),
            ),
            charts.Series(
                _("momentopnames verwijderd"),
                charts.PALETTE[1],
                data.values.get(f"{Metric.PURGED_SNAPSHOTS}:", zero),
            ),
        ],
        empty=_("Nog geen bewaartermijn-runs geteld."),
    )


def _breaches_chart(breaches, now):
    items = [
        charts.Deadline(
            label=f"#{b.pk} {b.found_at.astimezone(BRUSSELS):%d/%m %H:%M}",
            start=b.found_at,
            deadline=b.deadline,
            done=bool(b.reported_to_authority_at) or not b.authority_notification_required,
        )
        for b in breaches
    ]
    return charts.deadlines(
        "chart-breaches",
        title=_("Open gegevenslekken: 72 uur om te melden aan de toezichthouder"),
        items=items,
        now=now,
        empty=_("Geen open gegevenslekken."),
    )


def _agreements_chart(today):
    items = [
        (f"{a.school.instellingsnummer} {a.school.name}", a.valid_until, a.successor is not None)
        for a in selectors.agreements_ending(today=today)
    ]
    return charts.timeline(
        "chart-agreements",
        title=_("Overeenkomsten die binnen 30 dagen aflopen"),
        items=items,
        today=today,
        days=selectors.AGREEMENT_DAYS,
        empty=_("Geen overeenkomsten die binnen 30 dagen aflopen."),
    )


def _verification_chart(verification):
    if verification is None:
        return charts.status(
            "chart-verification",
            title=_("Laatste controle van de privacylog"),
            ok=None,
            lines=[_("De dagelijkse controle heeft nog niet gelopen.")],
        )
    lines = [
        _("Gecontroleerd op %(at)s: %(n)s regels in %(s)s s.")
        % {
            "at": f"{verification.checked_at.astimezone(BRUSSELS):%Y-%m-%d %H:%M}",
            "n": verification.entries,
            "s": verification.seconds,
        },
        _("Kop: volgnummer %(seq)s, hash %(hash)s")
        % {"seq": verification.head_sequence, "hash": verification.head_hash},
    ]
    if not verification.ok:
        lines.append(
            _("Breuk bij volgnummer %(seq)s: %(kind)s")
            % {"seq": verification.problem_sequence, "kind": verification.problem_kind}
        )
    return charts.status(
        "chart-verification",
        title=_("Laatste controle van de privacylog"),
        ok=verification.ok,
        lines=lines,
    )
