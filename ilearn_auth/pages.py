"""The pupil's pages: login, failure (400/403/503), home, and ``GET /api/me`` for the front end.

Dutch first (the source language), English through the language switch. The failure page takes
its reason from the session (``ilearn_auth.failures.FAILURE_SESSION_KEY``), never from the URL;
the texts live with the failure catalogue in ``ilearn_auth/failures.py``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from ilearn_auth.failures import (
    FAILURE_REFERENCE_SESSION_KEY,
    FAILURE_SESSION_KEY,
    GENERIC_MESSAGES,
    UNAVAILABLE,
    failure_page,
)
from ilearn_auth.logout import LOGOUT_STATE_SESSION_KEY

_FAVICON = Path(__file__).parent / "static" / "ilearn_auth" / "favicon.ico"


def _demo_pupils() -> list:
    # The list lives with the stand-in LeerID (``LEERID_DEMO_PUPILS``, a dotted path): no
    # production module imports the demo folder.
    if not settings.LEERID_DEMO:
        return []
    return import_string(settings.LEERID_DEMO_PUPILS)


@never_cache
@require_GET
def login_page(request: HttpRequest) -> HttpResponse:
    logout_state = request.session.pop(LOGOUT_STATE_SESSION_KEY, None)
    returned_state = request.GET.get("state")
    context = {
        # Only a logout we started (same state) is announced: nobody can fake the message.
        "logged_out": bool(logout_state and returned_state == logout_state),
        "next": request.GET.get("next", ""),
        "demo_pupils": _demo_pupils(),
    }
    return render(request, "ilearn_auth/login.html", context)


@never_cache
@require_GET
def failed_login_page(request: HttpRequest) -> HttpResponse:
    """``/login/failed/``: the page for the reason ``failures.end_failed_login`` kept."""
    try:
        reason = request.session.get(FAILURE_SESSION_KEY, "")
        reference = request.session.get(FAILURE_REFERENCE_SESSION_KEY, "")
    except DatabaseError:
        reason, reference = "database_unavailable", ""
    return failure_page(request, reason or "state_missing", reference)


@never_cache
@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    pupil = getattr(request.user, "pupil", None)
    snapshot = getattr(pupil, "snapshot", None) if pupil else None
    context = {
        "pupil": pupil,
        "given_name": snapshot.given_name if snapshot else "",
        "schools": snapshot.granted_schools if snapshot else [],
        "show_logout": True,
    }
    return render(request, "ilearn_auth/home.html", context)


@never_cache
@require_GET
def api_me(request: HttpRequest) -> JsonResponse:
    """Who is signed in, for i-Learn's front end: never a LeerID key, only the public id."""
    pupil = getattr(request.user, "pupil", None) if request.user.is_authenticated else None
    if pupil is None:
        return JsonResponse({"error": "not_authenticated"}, status=401)
    snapshot = getattr(pupil, "snapshot", None)
    return JsonResponse(
        {
            "pupil_id": str(pupil.public_id),
            "kind": pupil.kind,
            "given_name": snapshot.given_name if snapshot else "",
            "schools": list(snapshot.granted_schools) if snapshot else [],
        }
    )


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers ask for on every page whatever the HTML says."""
    response = HttpResponse(_FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database or session-store (Redis) outage is a 503 page; anything else
    still gets a friendly page."""
    import sys

    exc = sys.exc_info()[1]
    if isinstance(exc, DatabaseError):
        reason, status = "database_unavailable", UNAVAILABLE.status
    elif isinstance(exc, RedisError):
        reason, status = "session_store_unavailable", UNAVAILABLE.status
    else:
        reason, status = "server_error", 500
    title, message = GENERIC_MESSAGES[UNAVAILABLE]
    context = {"title": title, "message": message, "reason": reason, "status": status}
    return render(request, "ilearn_auth/failure.html", context, status=status)
