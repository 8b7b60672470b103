"""Retention runs, read-only: the DPO sees every run; nobody edits history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from retention.health import check_retention
from retention.models import RetentionRun


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "finished_at", "status", "dry_run", "counts", "trigger", "error"]
    list_filter = ["status", "dry_run", "trigger"]
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in RetentionRun._meta.fields]

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
                _("De bewaartermijnen zijn al meer dan twee dagen niet toegepast (%(detail)s).")
                % {"detail": check.detail},
            )
        return super().changelist_view(request, extra_context)
