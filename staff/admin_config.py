from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    """django.contrib.admin with our site as ``admin.site`` (password, second factor, lockout)."""

    default_site = "staff.admin_site.StaffAdminSite"
