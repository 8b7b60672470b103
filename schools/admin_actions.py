"""The agreement admin's actions (suspend, reactivate, end today) and the helpers every schools
admin page shares: "today" in Brussels and CSV downloads a spreadsheet opens safely.

Suspending and ending shut pupils out, so both first show a confirmation page naming the
schools and how many pupils signed in through them in the last 30 days.

Each action calls its ``schools.services`` write (which saves and logs) and adds what only
the admin has: a history entry per agreement and a message to the staff member.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from privacy.csv_cells import guard
from schools.access import BRUSSELS
from schools.dates import day_text
from schools.impact import RECENT_DAYS, recent_signins
from schools.models import Agreement
from schools.services import agreements_end, agreements_reactivate, agreements_suspend


def today_in_brussels() -> dt.date:
    """The day the admin means by "today", whatever TIME_ZONE says."""
    return timezone.localdate(timezone=BRUSSELS)


def _csv_cell(value: object) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: make it plain text (the
    # import recognises the guard, so the agreement export reads back unchanged).
    return guard("" if value is None else str(value))


def csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheets read it as UTF-8
    # Semicolons: Excel in Belgian and Dutch locales splits on them when opening a CSV.
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _confirmation(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset, *, action: str, title: str
) -> TemplateResponse:
    """The page before a suspension or an ending: which schools, how many pupils they let in
    lately (a count from the snapshots, never who), and the buttons."""
    agreements = list(queryset.select_related("school").order_by("school__instellingsnummer"))
    schools = sorted({agreement.school for agreement in agreements}, key=str)
    numbers = [school.instellingsnummer for school in schools]
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "action": action,
        "agreements": agreements,
        "schools": schools,
        "today": day_text(today_in_brussels()),
        "recent_days": RECENT_DAYS,
        "recent_signins": recent_signins(numbers, now=timezone.now()),
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/schools/agreement/confirm_action.html", context)


@admin.action(description=_("Geselecteerde overeenkomsten opschorten"), permissions=["change"])
def suspend(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset):
    if "confirm" not in request.POST:
        return _confirmation(
            modeladmin,
            request,
            queryset,
            action="suspend",
            title=_("Overeenkomsten opschorten"),
        )
    changed = agreements_suspend(agreements=queryset, actor=request.user)
    _changed(modeladmin, request, changed, "status")
    return None


@admin.action(description=_("Geselecteerde overeenkomsten heractiveren"), permissions=["change"])
def reactivate(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:
    changed = agreements_reactivate(agreements=queryset, actor=request.user)
    _changed(modeladmin, request, changed, "status")


@admin.action(
    description=_("Geselecteerde overeenkomsten beëindigen: geldig tot en met vandaag"),
    permissions=["change"],
)
def end_today(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset):
    if "confirm" not in request.POST:
        return _confirmation(
            modeladmin,
            request,
            queryset,
            action="end_today",
            title=_("Overeenkomsten beëindigen"),
        )
    changed = agreements_end(agreements=queryset, actor=request.user, on=today_in_brussels())
    _changed(modeladmin, request, changed, "valid_until")
    skipped = queryset.count() - len(changed)
    if skipped:
        modeladmin.message_user(
            request,
            _("%(count)d overeenkomst(en) niet gewijzigd: al beëindigd of nog niet gestart.")
            % {"count": skipped},
            messages.WARNING,
        )
    return None


def _changed(
    modeladmin: admin.ModelAdmin, request: HttpRequest, agreements: list[Agreement], field: str
) -> None:
    """The history entries and the message for what an action changed."""
    label = str(Agreement._meta.get_field(field).verbose_name)
    for agreement in agreements:
        modeladmin.log_change(request, agreement, [{"changed": {"fields": [label]}}])
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d overeenkomst gewijzigd.",
            "%(count)d overeenkomsten gewijzigd.",
            len(agreements),
        )
        % {"count": len(agreements)},
        messages.SUCCESS,
    )
