"""The pupil's pages: login, failure (400/403/503), home, and ``GET /api/me`` for the front end.

Dutch first (the source language), English through the language switch. The failure page takes
its reason from the session (``ilearn_auth.oidc.FAILURE_SESSION_KEY``), never from the URL.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import RedisError

from ilearn_auth.oidc import (
    BROKEN,
    FAILURE_SESSION_KEY,
    FAILURES,
    LOGOUT_STATE_SESSION_KEY,
    REFUSED,
    UNAVAILABLE,
)

_FAVICON = Path(__file__).parent / "static" / "ilearn_auth" / "favicon.ico"

# What the pupil reads, per reason: a title and what they can do about it.
MESSAGES = {
    "not_enrolled": (
        _("Je bent niet (meer) ingeschreven"),
        _(
            "LeerID kent geen inschrijving van jou in een school. Ben je net van school "
            "veranderd? Vraag je school om je inschrijving na te kijken en probeer het later "
            "opnieuw."
        ),
    ),
    "no_agreement": (
        _("Je school werkt (nog) niet met i-Learn"),
        _(
            "Je bent ingeschreven in een school die (nog) geen afspraak heeft met i-Learn. "
            "Vraag je leraar of je school i-Learn wil gebruiken."
        ),
    ),
    "op_access_denied": (
        _("Aanmelden geannuleerd"),
        _("Je hebt het aanmelden bij LeerID afgebroken. Je kan het opnieuw proberen."),
    ),
    "state_expired": (
        _("Aanmelden duurde te lang"),
        _("Je aanmelding is verlopen. Probeer opnieuw aan te melden."),
    ),
}
GENERIC = {
    BROKEN: (
        _("Aanmelden is niet gelukt"),
        _(
            "Het antwoord van LeerID klopte niet, of je aanmelding was al gebruikt. Probeer "
            "opnieuw aan te melden. Lukt het nog steeds niet? Geef de code hieronder aan je "
            "leraar."
        ),
    ),
    UNAVAILABLE: (
        _("i-Learn is even niet bereikbaar"),
        _(
            "LeerID of i-Learn antwoordt nu niet. Dat ligt niet aan jou. Probeer het over "
            "enkele minuten opnieuw."
        ),
    ),
    REFUSED: (
        _("Je kan i-Learn niet gebruiken"),
        _("Vraag je school om hulp."),
    ),
}


def _demo_pupils() -> list:
    if not settings.LEERID_DEMO:
        return []
    from demo.pupils import DEMO_PUPILS

    return DEMO_PUPILS


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


def failure_page(request: HttpRequest, reason: str) -> HttpResponse:
    status = FAILURES.get(reason, BROKEN)
    title, message = MESSAGES.get(reason) or GENERIC[status]
    context = {"title": title, "message": message, "reason": reason, "status": status}
    return render(request, "ilearn_auth/failure.html", context, status=status)


@never_cache
@require_GET
def login_failed(request: HttpRequest) -> HttpResponse:
    try:
        reason = request.session.get(FAILURE_SESSION_KEY, "")
    except DatabaseError:
        reason = "database_unavailable"
    return failure_page(request, reason or "state_missing")


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
        reason, status = "database_unavailable", UNAVAILABLE
    elif isinstance(exc, RedisError):
        reason, status = "session_store_unavailable", UNAVAILABLE
    else:
        reason, status = "server_error", 500
    title, message = GENERIC[UNAVAILABLE]
    context = {"title": title, "message": message, "reason": reason, "status": status}
    return render(request, "ilearn_auth/failure.html", context, status=status)
