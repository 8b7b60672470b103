"""The way out: ``POST /logout/`` ends our session, then LeerID's.

``GET /logout/`` (a bookmark or a typed URL, without a CSRF token) signs nobody out: it
redirects to the home page, which has the logout button. The POST ends the local session
first (on a shared school computer, logging out must never fail), writes ``authn_logout`` to
the privacy log, and, when the discovery document names an ``end_session_endpoint``, sends the
browser there (RP-initiated logout with ``client_id``, ``post_logout_redirect_uri`` and a
``state`` kept in the session, so the login page announces only a logout it started).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

import privacy
from ilearn_auth import oidc_config
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable

logger = logging.getLogger(__name__)

# The session key holding the state of a logout we sent to LeerID (read by the login page).
LOGOUT_STATE_SESSION_KEY = "leerid_logout_state"


@never_cache
@require_http_methods(["GET", "POST"])
def logout_view(request: HttpRequest) -> HttpResponse:
    """Ends our session, then LeerID's (RP-initiated logout with client_id and state)."""
    if request.method == "GET":
        # A bookmarked or typed /logout/ must not sign anyone out (no CSRF token); it leads to
        # the page with the logout button instead of a blank 405.
        return HttpResponseRedirect(reverse("home"))
    pupil = getattr(request.user, "pupil", None) if request.user.is_authenticated else None
    # The session ends first: on a shared school computer, logging out must never fail.
    auth.logout(request)
    if pupil is not None:
        try:
            privacy.log("authn_logout", actor=f"pupil:{pupil.pseudonym}", subject=pupil.pseudonym)
        except DatabaseError:
            logger.warning("logout not in the privacy log: database unavailable")
    target = reverse("login")
    try:
        end_session = oidc_config.discovery_document().get("end_session_endpoint")
    except (ProviderUnavailable, ProviderMisconfigured):
        end_session = None
    if not end_session:
        return HttpResponseRedirect(target)
    state = get_random_string(32)
    request.session[LOGOUT_STATE_SESSION_KEY] = state
    post_logout = settings.LEERID_POST_LOGOUT_REDIRECT_URI or request.build_absolute_uri(target)
    query = urlencode(
        {
            "client_id": settings.LEERID_CLIENT_ID,
            "post_logout_redirect_uri": post_logout,
            "state": state,
        }
    )
    separator = "&" if "?" in end_session else "?"
    return HttpResponseRedirect(f"{end_session}{separator}{query}")
