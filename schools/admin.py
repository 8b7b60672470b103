"""The admin for the Agreements and DPO groups: schools, agreements, import, what expires.

Every save, delete and action here goes through ``schools.services``, which writes the
``agreement_changed`` privacy-log entry; the admin adds a LogEntry on the agreement itself, so
its history page shows changes made inline and by actions too.
"""

from __future__ import annotations

import base64

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from schools.admin_actions import csv_response, end_today, reactivate, suspend, today_in_brussels
from schools.agreement_import import agreements_import
from schools.forms import ImportForm
from schools.models import Agreement, School
from schools.selectors import (
    EXPIRING_WITHIN_DAYS,
    State,
    agreement_overlaps,
    agreement_state,
    agreement_state_q,
    agreements_expiring,
    agreements_overlapping,
    in_force_q,
    schools_in_state,
)
from schools.services import (
    agreement_delete,
    agreement_save,
    school_delete,
    school_save,
)

IMPORT_SESSION_KEY = "schools_import_checked"


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
        # Each pair once: an agreement against those starting after it.
        others = agreements_overlapping(agreement, agreements[i + 1 :])
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
            return queryset.filter(agreement_state_q(self.value(), on=today_in_brussels()))
        return queryset


class SchoolStateFilter(AgreementStateFilter):
    title = _("overeenkomst")
    states = (*AgreementStateFilter.states, State.NONE)

    def queryset(self, request, queryset):
        if self.value() in self.states:
            return schools_in_state(self.value(), on=today_in_brussels(), queryset=queryset)
        return queryset


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
        return State.LABELS[agreement_state(obj, on=today_in_brussels())]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
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
        in_force = Agreement.objects.filter(in_force_q(today_in_brussels()), school=OuterRef("pk"))
        return super().get_queryset(request).annotate(_in_force=Exists(in_force))

    @admin.display(description=_("van kracht vandaag"), boolean=True, ordering="_in_force")
    def in_force_today(self, obj: School) -> bool:
        return obj._in_force

    def save_model(self, request, obj, form, change):
        previous = None
        if change and "instellingsnummer" in form.changed_data:
            previous = form.initial["instellingsnummer"]
        school_save(
            school=obj,
            actor=request.user,
            fields=form.changed_data,
            created=not change,
            previous_number=previous,
        )

    def delete_model(self, request, obj):
        school_delete(school=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for school in queryset:
            school_delete(school=school, actor=request.user)

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
            self.log_deletions(request, [agreement])  # while it still has its key
            agreement_delete(agreement=agreement, actor=request.user)
        for agreement, fields in formset.changed_objects:
            agreement_save(agreement=agreement, actor=request.user, fields=fields, created=False)
            self.log_change(request, agreement, [{"changed": {"fields": fields}}])
        for agreement in formset.new_objects:
            fields = formset.form.base_fields
            agreement_save(agreement=agreement, actor=request.user, fields=fields, created=True)
            self.log_addition(request, agreement, [{"added": {}}])
        for agreement in [*formset.new_objects, *(a for a, _f in formset.changed_objects)]:
            _warn_overlaps(request, agreement)

    @admin.action(description=_("Geselecteerde scholen exporteren als CSV"))
    def export_csv(self, request, queryset):
        # Each code beside its Dutch label: the codes for scripts, the labels for people.
        rows = (
            (
                s.instellingsnummer,
                s.name,
                s.town,
                s.education_level,
                s.get_education_level_display(),
                int(s._in_force),
                gettext("ja") if s._in_force else gettext("nee"),
            )
            for s in queryset.order_by("instellingsnummer")
        )
        header = [
            "instellingsnummer",
            "name",
            "town",
            "education_level",
            "onderwijsniveau",
            "in_force_today",
            "van_kracht_vandaag",
        ]
        return csv_response(f"scholen-{today_in_brussels().isoformat()}.csv", header, rows)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
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
    actions = ("export_csv", suspend, reactivate, end_today)
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
        return State.LABELS[agreement_state(obj, on=today_in_brussels())]

    def save_model(self, request, obj, form, change):
        agreement_save(
            agreement=obj, actor=request.user, fields=form.changed_data, created=not change
        )
        _warn_overlaps(request, obj)

    def delete_model(self, request, obj):
        agreement_delete(agreement=obj, actor=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for agreement in queryset.select_related("school"):
            agreement_delete(agreement=agreement, actor=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            agreement = self.get_object(request, object_id)
            if agreement is not None:
                _warn_overlaps(request, agreement)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Geselecteerde overeenkomsten exporteren als CSV"))
    def export_csv(self, request, queryset):
        today = today_in_brussels()
        rows = (
            (
                a.school.instellingsnummer,
                a.school.name,
                a.valid_from.isoformat(),
                a.valid_until.isoformat() if a.valid_until else "",
                a.status,
                a.get_status_display(),
                State.LABELS[agreement_state(a, on=today)],
                a.contract_reference,
            )
            for a in queryset.select_related("school").order_by(*self.ordering)
        )
        # The import reads the first four columns back; the Dutch labels sit beside the codes.
        header = ["instellingsnummer", "name", "valid_from", "valid_until", "status"]
        header += ["status_omschrijving", "toestand_vandaag", "contract_reference"]
        return csv_response(f"overeenkomsten-{today_in_brussels().isoformat()}.csv", header, rows)

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
        today = today_in_brussels()
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
