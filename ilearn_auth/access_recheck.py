"""A pupil's open session follows the loss of access, at a bounded cost.

A login checks the school gate once; a session then lasts a school day. Without a re-check, a
pupil whose school's agreement is suspended (or whose user is deactivated) would keep using an
open session for hours while a new login is refused. ``PupilAccessMiddleware`` closes that:

- every ``PUPIL_ACCESS_RECHECK_SECONDS`` (default 300) per session, the schools that granted
  access at login are asked again (``schools.access``, one query, plus one for the snapshot);
  none in force any more: the session ends as a refused login does (``end_with_failure``: the
  entry with the schools, the 403 page that says why with its reference; ``no_agreement``;
  ``/api/me`` answers 403 JSON with the reason);
- a deactivated user is refused by ``LeerIDBackend.get_user`` at once, on the next request
  (Django loads the user per request anyway); the middleware then ends the session and shows
  the ``account_inactive`` page. A user deleted meanwhile (a merge, an erasure) simply ends
  signed out.

Staff sessions are not touched: only sessions our LeerID login started carry the timestamp.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from ilearn_auth.failures import LoginFailure, end_with_failure
from pupils.models import IdentitySnapshot, Pupil
from schools.access import schools_with_agreement_in_force

# Set at a pupil's login: when the school gate was last checked for this session.
CHECKED_AT_SESSION_KEY = "pupil_access_checked_at"


def mark_checked(request: HttpRequest) -> None:
    """The gate was just passed (a login): the next check is one interval away."""
    request.session[CHECKED_AT_SESSION_KEY] = time.time()


def access_problem(user_id: int) -> tuple[str, str, tuple[str, ...]]:
    """("", pseudonym, schools) while the pupil may stay; else the reason the session ends,
    with the pseudonym and the schools that granted access at login (for Support)."""
    snapshot = (
        IdentitySnapshot.objects.filter(pupil__user_id=user_id)
        .values_list("granted_schools", "pupil__pseudonym")
        .first()
    )
    if snapshot is None:
        return "no_agreement", "", ()
    granted, pseudonym = snapshot
    if schools_with_agreement_in_force(granted):
        return "", pseudonym, tuple(granted)
    return "no_agreement", pseudonym, tuple(granted)


class PupilAccessMiddleware:
    """After ``AuthenticationMiddleware``: re-checks pupil sessions, ends the revoked ones."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            checked_at = request.session.get(CHECKED_AT_SESSION_KEY)
        except DatabaseError:
            # Sessions in a database that is down: the view answers as it does in an outage
            # (the failure page, the 503 page); there is no session to re-check anyway.
            return self.get_response(request)
        if checked_at is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            # A pupil session whose user get_user refused: deactivated (say why), or gone.
            pseudonym = (
                Pupil.objects.filter(
                    user_id=request.session.get(auth.SESSION_KEY), user__is_active=False
                )
                .values_list("pseudonym", flat=True)
                .first()
            )
            return self.refuse(request, "account_inactive" if pseudonym else "", pseudonym or "")
        if time.time() - checked_at < settings.PUPIL_ACCESS_RECHECK_SECONDS:
            return self.get_response(request)
        reason, pseudonym, schools = access_problem(request.user.pk)
        if reason:
            return self.refuse(request, reason, pseudonym, schools)
        mark_checked(request)
        return self.get_response(request)

    def refuse(
        self, request: HttpRequest, reason: str, pseudonym: str, schools: tuple[str, ...] = ()
    ) -> HttpResponse:
        # Always a fresh session: one whose user get_user refused still holds the user's key.
        auth.logout(request)
        if not reason:
            return self.get_response(request)
        # As a refused login ends: the entry with its reference and schools for Support.
        failure = LoginFailure(
            reason, pseudonym=pseudonym, detail="session_recheck", schools=schools
        )
        page = end_with_failure(request, failure)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "access_refused", "reason": reason}, status=403)
        return page
