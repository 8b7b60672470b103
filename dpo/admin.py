"""The DPO's workbench in the admin: read-only lists of what the tasks did."""

from __future__ import annotations

from django.contrib import admin

from dpo.models import Alert, EvidenceBundle, LogVerification, ProtocolEnd


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LogVerification)
class LogVerificationAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "ok", "entries", "head_sequence", "head_hash", "problem_kind")
    list_filter = ("ok",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "subject", "mailed_at", "attempts", "last_error")
    list_filter = ("kind",)


@admin.register(EvidenceBundle)
class EvidenceBundleAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "created_by", "filename", "size", "sha256")


@admin.register(ProtocolEnd)
class ProtocolEndAdmin(ReadOnlyAdmin):
    list_display = ("ends_on", "set_at", "set_by", "destroyed_at")
