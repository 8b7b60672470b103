"""Retention runs, read-only: the DPO sees every run; nobody edits history.

Readable at a glance: the run's id (the command's "Run 3"), Brussels times, "ja"/"nee" for a
dry run (not a red cross for a real run), one column per rule's count, Dutch everywhere.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from retention import policy
from retention.health import check_retention
from retention.models import RetentionRun

RULE_LABELS = {
    policy.ACCOUNTS: _("accounts verwijderd"),
    policy.SNAPSHOTS: _("momentopnames verwijderd"),
    policy.PRIVACY_LOG: _("privacylogregels verwijderd"),
}
TRIGGER_LABELS = {
    "task": _("planning (dagelijks)"),
    "command": _("commando run_retention"),
}


def brussels(moment) -> str:
    """A moment as dd-mm-jjjj uu:mm in Brussels time, or a dash."""
    if moment is None:
        return "-"
    return date_format(timezone.localtime(moment), "d-m-Y H:i")


def _count(rule: str):
    @admin.display(description=RULE_LABELS[rule])
    def count(self, run: RetentionRun) -> str:
        if rule not in run.rules:
            return "-"
        return str(run.counts.get(rule, "-"))

    return count


class TriggerFilter(admin.SimpleListFilter):
    title = _("gestart door")
    parameter_name = "trigger"

    def lookups(self, request, model_admin):
        return list(TRIGGER_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(trigger=self.value()) if self.value() else queryset


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "started",
        "status",
        "dry_run_label",
        "accounts",
        "snapshots",
        "privacy_log",
        "trigger_label",
        "error",
    ]
    list_display_links = ["id", "started"]
    list_filter = ["status", "dry_run", TriggerFilter]
    date_hierarchy = "started_at"
    fields = [
        "id",
        "started",
        "finished",
        "status",
        "dry_run_label",
        "accounts",
        "snapshots",
        "privacy_log",
        "trigger_label",
        "error",
    ]
    readonly_fields = fields

    accounts = _count(policy.ACCOUNTS)
    snapshots = _count(policy.SNAPSHOTS)
    privacy_log = _count(policy.PRIVACY_LOG)

    @admin.display(description=_("gestart"), ordering="started_at")
    def started(self, run: RetentionRun) -> str:
        return brussels(run.started_at)

    @admin.display(description=_("beëindigd"), ordering="finished_at")
    def finished(self, run: RetentionRun) -> str:
        return brussels(run.finished_at)

    @admin.display(description=_("proefdraaien"), ordering="dry_run")
    def dry_run_label(self, run: RetentionRun) -> str:
        return gettext("ja") if run.dry_run else gettext("nee")

    @admin.display(description=_("gestart door"), ordering="trigger")
    def trigger_label(self, run: RetentionRun) -> str:
        return str(TRIGGER_LABELS.get(run.trigger, run.trigger))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: RetentionRun | None = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        # The same verdict as /readyz, where the DPO looks.
        check = check_retention()
        if not check.ok:
            messages.error(
                request,
                gettext(
                    "De bewaartermijnen zijn al meer dan twee dagen niet toegepast (%(detail)s)."
                )
                % {"detail": check.detail},
            )
        return super().changelist_view(request, extra_context)
