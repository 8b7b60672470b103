"""Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a request, and always after
STAFF_SESSION_MAX_SECONDS; and the signal receivers learn who is acting (``staff.context``).

Only sessions stamped at a staff sign-in (``staff.signals.staff_session_start``) are looked at,
so pupils' requests cost nothing here. An ended session is flushed from its store (the cache
or the database), logged (``authn_logout`` with the reason), and an admin page sends the
browser to the sign-in page, which says why.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from staff.context import reset_current_request, set_current_request
from staff.signals import SEEN_AT, SIGNED_IN_AT

# The last-seen stamp is rewritten at most this often (each rewrite saves the session).
SEEN_RESOLUTION_SECONDS = 60


class StaffSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_current_request(request)
        try:
            return self._ended(request) or self.get_response(request)
        finally:
            reset_current_request(token)

    def _ended(self, request: HttpRequest) -> HttpResponse | None:
        signed_in_at = request.session.get(SIGNED_IN_AT)
        if signed_in_at is None:
            return None
        now = int(time.time())
        seen_at = request.session.get(SEEN_AT, signed_in_at)
        reason = ""
        if now - signed_in_at >= settings.STAFF_SESSION_MAX_SECONDS:
            reason = "max_age"
        elif now - seen_at >= settings.STAFF_SESSION_IDLE_SECONDS:
            reason = "idle_timeout"
        if not reason:
            if now - seen_at >= SEEN_RESOLUTION_SECONDS:
                request.session[SEEN_AT] = now
            return None
        request.staff_logout_reason = reason
        logout(request)
        login_url = reverse("admin:login")
        if request.path.startswith(login_url.rsplit("login/", 1)[0]):
            return HttpResponseRedirect(f"{login_url}?ended={reason}")
        return None
