"""The admin for the Agreements and DPO groups: schools, agreements, import, what expires.

Every save and delete here writes ``agreement_changed`` to the privacy log (field names only)
and a LogEntry on the agreement itself, so its history page shows changes made inline too.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from schools.access import BRUSSELS
from schools.forms import ImportForm
from schools.models import Agreement, School
from schools.selectors import (
    EXPIRING_WITHIN_DAYS,
    State,
    agreement_overlaps,
    agreement_state,
    agreement_state_q,
    agreements_expiring,
    in_force_q,
    schools_in_state,
)
from schools.services import actor_key, agreements_import, change, school_change_log

IMPORT_SESSION_KEY = "schools_import_checked"


def _today() -> dt.date:
    return timezone.localdate(timezone=BRUSSELS)


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so spreadsheets read it as UTF-8
    # Semicolons: Excel in Belgian and Dutch locales splits on them when opening a CSV.
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _warn_once(request: HttpRequest, text: str) -> None:
    """A warning, unless the same one is already waiting (saved, then shown after redirect)."""
    storage = messages.get_messages(request)
    waiting = {str(message) for message in storage}
    storage.used = False  # reading them must not mark them as shown
    if text not in waiting:
        messages.warning(request, text)


def _overlap_text(agreement: Agreement, others) -> str:
    return _("Let op: de overeenkomst %(agreement)s overlapt met %(others)s.") % {
        "agreement": agreement,
        "others": ", ".join(str(other) for other in others),
    }


def _warn_overlaps(request: HttpRequest, agreement: Agreement) -> None:
    overlaps = agreement_overlaps(agreement)
    if overlaps:
        _warn_once(request, _overlap_text(agreement, overlaps))


def _warn_school_overlaps(request: HttpRequest, school: School) -> None:
    agreements = list(school.agreements.order_by("valid_from"))
    for i, agreement in enumerate(agreements):
        end = agreement.valid_until or dt.date.max
        others = [other for other in agreements[i + 1 :] if other.valid_from <= end]
        if others:
            _warn_once(request, _overlap_text(agreement, others))


class AgreementStateFilter(admin.SimpleListFilter):
    title = _("toestand")
    parameter_name = "state"
    states = (State.IN_FORCE, State.EXPIRING, State.EXPIRED, State.NOT_STARTED, State.SUSPENDED)

    def lookups(self, request, model_admin):
        return [(state, State.LABELS[state]) for state in self.states]

    def queryset(self, request, queryset):
        if self.value() in self.states:
            return queryset.filter(agreement_state_q(self.value(), on=_today()))
        return queryset


class SchoolStateFilter(AgreementStateFilter):
    title = _("overeenkomst")
    states = (*AgreementStateFilter.states, State.NONE)

    def queryset(self, request, queryset):
        if self.value() in self.states:
            return schools_in_state(self.value(), on=_today(), queryset=queryset)
        return queryset


class ChangeLoggingMixin:
    """Privacy-log entries for saves and deletes made through this admin."""

    log_object = ""

    def _log(self, request, obj, operation: str, fields, **extra) -> None:
        school = obj if isinstance(obj, School) else obj.school
        school_change_log(
            school_number=school.instellingsnummer,
            actor=actor_key(request.user),
            via="admin",
            changes=[change(self.log_object, operation, fields, obj.pk)],
            **extra,
        )

    def delete_model(self, request, obj):
        self._log(request, obj, "delete", [])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._log(request, obj, "delete", [])
        super().delete_queryset(request, queryset)


class AgreementInline(admin.TabularInline):
    model = Agreement
    extra = 0
    fields = ("valid_from", "valid_until", "status", "contract_reference", "state_label")
    readonly_fields = ("state_label",)
    show_change_link = True
    ordering = ("valid_from",)

    @admin.display(description=_("toestand vandaag"))
    def state_label(self, obj: Agreement) -> str:
        if obj.pk is None:
            return "-"
        return State.LABELS[agreement_state(obj, on=_today())]


@admin.register(School)
class SchoolAdmin(ChangeLoggingMixin, admin.ModelAdmin):
    log_object = "school"
    list_display = ("instellingsnummer", "name", "town", "education_level", "in_force_today")
    list_display_links = ("instellingsnummer", "name")
    search_fields = ("instellingsnummer", "name", "town")
    list_filter = (SchoolStateFilter, "education_level")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("instellingsnummer", "name", "town", "education_level", "contact")}),
        (_("Registratie"), {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )
    inlines = (AgreementInline,)
    actions = ("export_csv",)
    list_per_page = 50

    def get_queryset(self, request):
        in_force = Agreement.objects.filter(in_force_q(_today()), school=OuterRef("pk"))
        return super().get_queryset(request).annotate(_in_force=Exists(in_force))

    @admin.display(description=_("van kracht vandaag"), boolean=True, ordering="_in_force")
    def in_force_today(self, obj: School) -> bool:
        return obj._in_force

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            extra = {}
            if change and "instellingsnummer" in form.changed_data:
                extra["previous_school_number"] = form.initial["instellingsnummer"]
            self._log(request, obj, "change" if change else "create", form.changed_data, **extra)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            school = self.get_object(request, object_id)
            if school is not None:
                _warn_school_overlaps(request, school)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Agreement:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for agreement in formset.deleted_objects:
            self._log_agreement(request, agreement, "delete", [])
            self.log_deletions(request, [agreement])
            agreement.delete()
        for agreement, fields in formset.changed_objects:
            agreement.updated_by = request.user
            agreement.save()
            self._log_agreement(request, agreement, "change", fields)
            self.log_change(request, agreement, [{"changed": {"fields": fields}}])
        for agreement in formset.new_objects:
            agreement.created_by = agreement.updated_by = request.user
            agreement.save()
            self._log_agreement(request, agreement, "create", formset.form.base_fields)
            self.log_addition(request, agreement, [{"added": {}}])
        for agreement in [*formset.new_objects, *(a for a, _f in formset.changed_objects)]:
            _warn_overlaps(request, agreement)

    def _log_agreement(self, request, agreement, operation, fields) -> None:
        fields = [name for name in fields if name != "id"]
        school_change_log(
            school_number=agreement.school.instellingsnummer,
            actor=actor_key(request.user),
            via="admin",
            changes=[change("agreement", operation, fields, agreement.pk)],
        )

    @admin.action(description=_("Geselecteerde scholen exporteren als CSV"))
    def export_csv(self, request, queryset):
        rows = (
            (s.instellingsnummer, s.name, s.town, s.education_level, int(s._in_force))
            for s in queryset.order_by("instellingsnummer")
        )
        header = ["instellingsnummer", "name", "town", "education_level", "in_force_today"]
        return _csv_response(f"scholen-{_today().isoformat()}.csv", header, rows)


@admin.register(Agreement)
class AgreementAdmin(ChangeLoggingMixin, admin.ModelAdmin):
    log_object = "agreement"
    list_display = (
        "school_number",
        "school_name",
        "starts",
        "ends",
        "state_label",
    )
    list_display_links = ("school_number", "school_name")
    list_select_related = ("school",)
    search_fields = ("school__instellingsnummer", "school__name", "contract_reference")
    list_filter = (AgreementStateFilter, "status")
    autocomplete_fields = ("school",)
    readonly_fields = ("created_by", "created_at", "updated_by", "updated_at")
    fieldsets = (
        (None, {"fields": ("school", "valid_from", "valid_until", "status")}),
        (_("Contract"), {"fields": ("contract_reference", "notes")}),
        (_("Registratie"), {"fields": readonly_fields}),
    )
    actions = ("export_csv", "suspend", "reactivate", "end_today")
    ordering = ("school__instellingsnummer", "valid_from")
    list_per_page = 50

    @admin.display(description=_("nummer"), ordering="school__instellingsnummer")
    def school_number(self, obj: Agreement) -> str:
        return obj.school.instellingsnummer

    @admin.display(description=_("school"), ordering="school__name")
    def school_name(self, obj: Agreement) -> str:
        return obj.school.name

    # ISO dates: short, sortable, and the form the import expects.
    @admin.display(description=_("geldig vanaf"), ordering="valid_from")
    def starts(self, obj: Agreement) -> str:
        return obj.valid_from.isoformat()

    @admin.display(description=_("geldig tot en met"), ordering="valid_until")
    def ends(self, obj: Agreement) -> str:
        return obj.valid_until.isoformat() if obj.valid_until else "-"

    @admin.display(description=_("toestand vandaag"))
    def state_label(self, obj: Agreement) -> str:
        return State.LABELS[agreement_state(obj, on=_today())]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        if not change or form.changed_data:
            operation = "change" if change else "create"
            self._log(request, obj, operation, form.changed_data)
        _warn_overlaps(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            agreement = self.get_object(request, object_id)
            if agreement is not None:
                _warn_overlaps(request, agreement)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Geselecteerde overeenkomsten exporteren als CSV"))
    def export_csv(self, request, queryset):
        rows = (
            (
                a.school.instellingsnummer,
                a.school.name,
                a.valid_from.isoformat(),
                a.valid_until.isoformat() if a.valid_until else "",
                a.status,
                a.contract_reference,
            )
            for a in queryset.select_related("school").order_by(*self.ordering)
        )
        header = ["instellingsnummer", "name", "valid_from", "valid_until", "status"]
        header.append("contract_reference")
        return _csv_response(f"overeenkomsten-{_today().isoformat()}.csv", header, rows)

    @admin.action(description=_("Geselecteerde overeenkomsten opschorten"), permissions=["change"])
    def suspend(self, request, queryset):
        agreements = [a for a in queryset if a.status != Agreement.Status.SUSPENDED]
        self._update(request, agreements, "status", Agreement.Status.SUSPENDED)

    @admin.action(
        description=_("Geselecteerde overeenkomsten heractiveren"), permissions=["change"]
    )
    def reactivate(self, request, queryset):
        agreements = [a for a in queryset if a.status != Agreement.Status.ACTIVE]
        self._update(request, agreements, "status", Agreement.Status.ACTIVE)

    @admin.action(
        description=_("Geselecteerde overeenkomsten beëindigen: geldig tot en met vandaag"),
        permissions=["change"],
    )
    def end_today(self, request, queryset):
        today = _today()
        # Not-yet-started agreements cannot end before they start: suspend or delete those.
        agreements = [
            a
            for a in queryset
            if a.valid_from <= today and (a.valid_until is None or a.valid_until > today)
        ]
        skipped = queryset.count() - len(agreements)
        self._update(request, agreements, "valid_until", today)
        if skipped:
            self.message_user(
                request,
                _("%(count)d overeenkomst(en) niet gewijzigd: al beëindigd of nog niet gestart.")
                % {"count": skipped},
                messages.WARNING,
            )

    @transaction.atomic
    def _update(self, request, agreements: list[Agreement], field: str, value) -> None:
        label = str(Agreement._meta.get_field(field).verbose_name)
        for agreement in agreements:
            setattr(agreement, field, value)
            agreement.updated_by = request.user
            agreement.save(update_fields=[field, "updated_by", "updated_at"])
            self._log(request, agreement, "change", [field])
            self.log_change(request, agreement, [{"changed": {"fields": [label]}}])
        self.message_user(
            request,
            ngettext(
                "%(count)d overeenkomst gewijzigd.",
                "%(count)d overeenkomsten gewijzigd.",
                len(agreements),
            )
            % {"count": len(agreements)},
            messages.SUCCESS,
        )

    # --- Pages beyond the change list -------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name=f"{info[0]}_{info[1]}_import",
            ),
            path(
                "expiring/",
                self.admin_site.admin_view(self.expiring_view),
                name=f"{info[0]}_{info[1]}_expiring",
            ),
            *super().get_urls(),
        ]

    def _may_import(self, request) -> bool:
        return request.user.has_perms(
            [
                "schools.add_school",
                "schools.change_school",
                "schools.add_agreement",
                "schools.change_agreement",
            ]
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_import": self._may_import(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self._may_import(request):
            raise PermissionDenied
        result = None
        checked_name = None
        form = ImportForm()
        if request.method == "POST" and "confirm" in request.POST:
            stored = request.session.pop(IMPORT_SESSION_KEY, None)
            if stored is None:
                messages.error(request, _("Kies het bestand opnieuw: de controle is verlopen."))
                return HttpResponseRedirect(request.path)
            result = agreements_import(
                file=base64.b64decode(stored["data"]), actor=request.user, dry_run=False
            )
            if result.applied:
                messages.success(request, _("Het bestand is geïmporteerd."))
        elif request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                raw = form.cleaned_data["file"].read()
                result = agreements_import(file=raw, actor=request.user, dry_run=True)
                if result.ok and (result.created or result.updated):
                    # Kept until the confirmation, so staff need not pick the file again.
                    request.session[IMPORT_SESSION_KEY] = {
                        "data": base64.b64encode(raw).decode("ascii"),
                        "name": form.cleaned_data["file"].name,
                    }
                    checked_name = form.cleaned_data["file"].name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Overeenkomsten importeren"),
            "form": form,
            "result": result,
            "checked_name": checked_name,
            "changelist_url": reverse("admin:schools_agreement_changelist"),
        }
        return TemplateResponse(request, "admin/schools/agreement/import.html", context)

    def expiring_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = _today()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Overeenkomsten die binnen %(days)s dagen aflopen")
            % {"days": EXPIRING_WITHIN_DAYS},
            "today": today,
            "agreements": agreements_expiring(on=today),
            "changelist_url": reverse("admin:schools_agreement_changelist"),
        }
        return TemplateResponse(request, "admin/schools/agreement/expiring.html", context)
