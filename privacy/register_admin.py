"""The DPO's registers in the admin (protocol art. 6, 7 and 9; GDPR art. 28, 30 and 33):
breaches, processors, processing activities with their retention terms, data-quality reports.
Editable by those with the permissions, every change logged; ``privacy/admin.py`` imports this
module so that Django's admin autodiscovery registers them.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from privacy import actions, registers
from privacy.audit import staff_actor
from privacy.models import (
    Breach,
    DataQualityReport,
    ProcessingActivity,
    Processor,
    RetentionTerm,
)
from privacy.services import privacy_log_write


class RegisterAdmin(admin.ModelAdmin):
    """Every add, change and delete of a register entry goes to the privacy log."""

    class Media:
        css = {"all": ["privacy/registers.css"]}

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        self._log(request, obj, "changed" if change else "added", fields=form.changed_data)

    def delete_model(self, request, obj) -> None:
        self._log(request, obj, "deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self._log(request, obj, "deleted")
        super().delete_queryset(request, queryset)

    def _log(self, request, obj, change: str, fields: list[str] | None = None) -> None:
        register = obj._meta.model_name
        privacy_log_write(
            action=actions.REGISTER_CHANGED,
            actor=staff_actor(request.user),
            subject=f"{register}:{obj.pk}",
            reason=change,
            details={"register": register, "fields": sorted(fields or [])},
        )


@admin.register(Breach)
class BreachAdmin(RegisterAdmin):
    list_display = (
        "found_at",
        "status",
        "countdown",
        "reported_to_authority_at",
        "reported_to_dov_at",
        "affected_count",
        "tell_pupils",
    )
    list_filter = ("status", "tell_pupils")
    date_hierarchy = "found_at"
    readonly_fields = ("deadline_display", "overdue_at")
    fieldsets = (
        (None, {"fields": ("found_at", "deadline_display", "status", "description")}),
        (
            _("Melding (AVG art. 33.3)"),
            {
                "fields": (
                    "nature",
                    "pupil_categories",
                    "affected_count",
                    "record_categories",
                    "records_count",
                    "consequences",
                    "measures",
                )
            },
        ),
        (
            _("Wie werd ingelicht"),
            {
                "fields": (
                    "authority_notification_required",
                    "reported_to_authority_at",
                    "overdue_at",
                    "reported_to_dov_at",
                    "tell_pupils",
                    "tell_pupils_reason",
                )
            },
        ),
    )

    @admin.display(description=_("termijn toezichthouder (72 u)"))
    def deadline_display(self, breach: Breach) -> str:
        return self.countdown(breach) if breach.pk else "-"

    @admin.display(description=_("meldtermijn"))
    def countdown(self, breach: Breach):
        if not breach.authority_notification_required:
            return _("niet te melden")
        if breach.reported_to_authority_at:
            return _("gemeld")
        left = breach.deadline - timezone.now()
        if left.total_seconds() < 0:
            late = -left
            return format_html(
                '<strong class="register-flag">{}</strong>',
                _("%(hours)s u te laat") % {"hours": int(late.total_seconds() // 3600)},
            )
        return _("nog %(hours)s u %(minutes)s min") % {
            "hours": int(left.total_seconds() // 3600),
            "minutes": int(left.total_seconds() % 3600 // 60),
        }


@admin.register(Processor)
class ProcessorAdmin(RegisterAdmin):
    list_display = (
        "name",
        "location",
        "agreement_reference",
        "agreement_signed_on",
        "active",
        "overview_sent_to_dov_on",
        "overview_flag",
    )
    list_filter = ("active",)
    search_fields = ("name",)
    readonly_fields = ("changed_at",)

    def save_model(self, request, obj, form, change) -> None:
        registers.processor_note_change(obj, form.changed_data, is_new=not change)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("DOV op de hoogte"))
    def overview_flag(self, processor: Processor):
        if not processor.dov_overview_outdated:
            return _("ja")
        return format_html(
            '<strong class="register-flag">{}</strong>',
            _("nee: gewijzigd na het laatste overzicht"),
        )


class RetentionTermInline(admin.TabularInline):
    model = RetentionTerm
    extra = 0
    fields = ("data", "rule", "days", "enforced")
    readonly_fields = ("enforced",)

    @admin.display(description=_("afgedwongen (dagen)"))
    def enforced(self, term: RetentionTerm):
        if term.pk is None or term.enforced_days is None:
            return "-"
        if term.longer_than_enforced:
            return format_html(
                '<strong class="register-flag">{} {}</strong>',
                term.enforced_days,
                _("(korter dan dit register zegt)"),
            )
        return term.enforced_days


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(RegisterAdmin):
    list_display = ("name", "legal_basis", "retention", "retention_flag")
    filter_horizontal = ("processors",)
    search_fields = ("name",)
    inlines = (RetentionTermInline,)

    @admin.display(description=_("bewaartermijnen"))
    def retention_flag(self, activity: ProcessingActivity):
        longer = [t for t in activity.retention_terms.all() if t.longer_than_enforced]
        if not longer:
            return _("zoals de instellingen")
        return format_html(
            '<strong class="register-flag">{}</strong>',
            _("langer dan de instellingen afdwingen: %(data)s")
            % {"data": ", ".join(t.data for t in longer)},
        )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("retention_terms")

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        terms = RetentionTerm.objects.filter(activity=form.instance)
        longer = [t for t in terms if t.longer_than_enforced]
        for term in longer:
            messages.warning(
                request,
                _(
                    "Bewaartermijn '%(data)s': %(days)s dagen in het register, maar de "
                    "instellingen verwijderen na %(enforced)s dagen."
                )
                % {"data": term.data, "days": term.days, "enforced": term.enforced_days},
            )


@admin.register(DataQualityReport)
class DataQualityReportAdmin(RegisterAdmin):
    list_display = ("found_at", "month", "status", "reported_to", "reported_at")
    list_filter = ("status",)
    readonly_fields = ("month", "counts")
    actions = ("mark_sent",)

    @admin.action(description=_("Markeer als verstuurd naar DOV"), permissions=["change"])
    def mark_sent(self, request: HttpRequest, queryset: QuerySet) -> None:
        for report in queryset:
            registers.data_quality_report_mark_sent(report)
            self._log(request, report, "changed", fields=["status", "reported_at"])
        messages.success(request, _("Gemarkeerd als verstuurd."))
