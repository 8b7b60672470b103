"""The admin site: only for staff who passed both factors and have a role.

``has_permission`` is the gate of every admin page: an active staff account, verified with its
second factor in this session (django-otp), and a role (superuser, a group or a permission). A
staff member who signed in with the password only reaches the second-factor pages
(``staff.views``) and nothing else; one whose last group was taken away mid-session is refused
at the next request.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from staff import access


def is_verified(user) -> bool:
    return bool(getattr(user, "is_verified", None) and user.is_verified())


class StaffAdminSite(admin.AdminSite):
    login_template = "staff/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_staff and is_verified(user) and access.has_role(user)
        )

    def login(self, request: HttpRequest, extra_context=None):
        from staff import views

        return views.sign_in(request, site=self, extra_context=extra_context)

    def get_app_list(self, request: HttpRequest, app_label=None):
        """The access review sits with the staff models, for whoever may open it."""
        app_list = super().get_app_list(request, app_label)
        if not request.user.has_perm("staff.view_access_review"):
            return app_list
        entry = {
            "name": _("Toegangsoverzicht medewerkers"),
            "object_name": "AccessReview",
            "admin_url": reverse("admin:staff_access_review"),
            "add_url": None,
            "view_only": True,
            "perms": {"view": True},
        }
        for app in app_list:
            if app["app_label"] == "staff":
                app["models"].insert(0, entry)
                return app_list
        if app_label in (None, "staff"):
            app_list.append(
                {
                    "name": _("Medewerkers en aanmelden"),
                    "app_label": "staff",
                    "app_url": reverse("admin:staff_access_review"),
                    "has_module_perms": True,
                    "models": [entry],
                }
            )
        return app_list

    def get_urls(self):
        from staff import views

        site = {"site": self}
        return [
            path("sign-in/code/", views.verify_code, site, name="staff_second_factor"),
            path("sign-in/enrol/", views.enrol, site, name="staff_enrol"),
            path("sign-out/", views.sign_out, name="staff_sign_out"),
            path(
                "staff/access-review/",
                self.admin_view(views.access_review),
                site,
                name="staff_access_review",
            ),
            *super().get_urls(),
        ]
