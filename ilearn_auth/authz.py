"""A refused request (``PermissionDenied``, 403) in one log line, and in the privacy log when
a staff member tried to reach personal data.

Django logs every ``PermissionDenied`` at WARNING with its whole traceback (35 lines for a
polite refusal). ``PermissionDeniedMiddleware`` answers the 403 itself (the site's 403 page,
as Django would) and writes one line instead: who (a pseudonym, never a name), which path and
which permission was missing. A staff member refused on a pupils or privacy page, or on the
Support refusal view, also leaves an ``authz_fail`` entry in the privacy log.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import get_exception_response
from django.http import HttpRequest, HttpResponse
from django.urls import get_resolver, get_urlconf

import privacy
from privacy.audit import staff_actor
from privacy.pseudonyms import short

logger = logging.getLogger("ilearn_auth.authz")

# Admin URL names of pages that show or change personal data: the apps' prefixes.
PERSONAL_DATA_PAGES = ("pupils_", "privacy_", "support_")
_PERMISSION = re.compile(r"^[a-z_]+\.[a-z_]+$")
# The admin's own URL names end in the view; each needs the model's permission of that kind.
_ADMIN_VIEWS = {
    "changelist": "view",
    "change": "view",
    "history": "view",
    "add": "add",
    "delete": "delete",
}


def who(user) -> str:
    """A log pseudonym for a user: ``staff:<pk>``, ``pupil:<12 hex>`` or ``anonymous``."""
    if not getattr(user, "is_authenticated", False):
        return "anonymous"
    pupil = getattr(user, "pupil", None) if not user.is_staff else None
    if pupil is not None:
        return f"pupil:{short(pupil.pseudonym)}"
    return f"staff:{user.pk}"


def required_permission(request: HttpRequest, exc: PermissionDenied) -> str:
    """The permission the refused request lacked, as well as it can be told.

    A view that raises ``PermissionDenied("app.codename")`` names it; for the admin's own
    pages it follows from the URL name (``pupils_pupil_delete`` needs ``pupils.delete_pupil``);
    otherwise the URL name stands for it.
    """
    if exc.args and isinstance(exc.args[0], str) and _PERMISSION.match(exc.args[0]):
        return exc.args[0]
    url_name = _url_name(request)
    parts = url_name.split("_")
    if len(parts) == 3 and parts[2] in _ADMIN_VIEWS:
        app_label, model, view = parts
        return f"{app_label}.{_ADMIN_VIEWS[view]}_{model}"
    return url_name or "-"


def _url_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.url_name or "") if match else ""


class PermissionDeniedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, PermissionDenied):
            return None
        permission = required_permission(request, exc)
        logger.warning(
            "forbidden: user=%s path=%s permission=%s", who(request.user), request.path, permission
        )
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and _url_name(request).startswith(PERSONAL_DATA_PAGES)
        ):
            privacy.log(
                "authz_fail",
                actor=staff_actor(user),
                outcome="failure",
                reason="permission_denied",
                details={"page": _url_name(request), "permission": permission},
            )
        response = get_exception_response(request, get_resolver(get_urlconf()), 403, exc)
        # Logged above, in one line: Django's handler must not log it again.
        response._has_been_logged = True
        return response
