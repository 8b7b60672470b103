"""The way of a login, part 1: the two views a pupil's browser passes through.

mozilla-django-oidc supplies the frame: its authenticate view puts state, nonce and the PKCE
verifier in the session and sends the browser to LeerID; its callback view checks ``state``
and calls ``django.contrib.auth.authenticate``; its ``get_next_url`` keeps ``next`` safe.
As shipped it also defaults to HS256, checks neither ``iss``, ``aud`` nor ``iat``, has no
discovery or JWKS cache, matches users by email and answers 500 to many OP errors. Ours close
those gaps; read the files in this order:

1. here, ``LeerIDAuthenticateView`` (``/oidc/authenticate/``): endpoints from discovery, PKCE
   S256 (settings), a 503 page when LeerID cannot be reached;
2. here, ``LeerIDCallbackView`` (``/oidc/callback/``): ``state`` single-use and expiring,
   RFC 9207 ``iss`` checked, then ``auth.authenticate``, which Django hands to
3. ``login_backend.LeerIDBackend`` (``AUTHENTICATION_BACKENDS``): code for tokens
   (``op_calls``), the ID token (``id_token``), userinfo (``op_calls``), then the decision,
   where the success is written to the privacy log;
4. ``failures``: every failure is a ``LoginFailure`` that ends on a page (400, 403 or 503) with
   one privacy-log entry (``end_failed_login``); the callback never answers 500;
5. ``logout``: ``POST /logout/`` ends our session, then LeerID's.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from ilearn_auth import metrics, oidc_config
from ilearn_auth.access_recheck import mark_checked
from ilearn_auth.failures import FAILURE_SESSION_KEY, LoginFailure, end_failed_login, op_failure
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable

logger = logging.getLogger(__name__)


class LeerIDAuthenticateView(OIDCAuthenticationRequestView):
    """Sends the browser to LeerID's authorization endpoint (from discovery)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        request.session.pop(FAILURE_SESSION_KEY, None)
        try:
            document = oidc_config.discovery_document()
        except (ProviderUnavailable, ProviderMisconfigured) as exc:
            return end_failed_login(request, op_failure(exc, detail=type(exc).__name__))
        self.OIDC_OP_AUTH_ENDPOINT = document["authorization_endpoint"]
        # State, nonce, PKCE verifier (S256) and a safe ``next`` go in the session here.
        return super().get(request)


class LeerIDCallbackView(OIDCAuthenticationCallbackView):
    """Checks ``state``, lets ``LeerIDBackend`` do the rest, and ends on a page."""

    @metrics.CALLBACK_SECONDS.time()
    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            if request.GET.get("error") == "access_denied" and "state" not in request.GET:
                # Some providers send a cancel back without state; nothing is accepted from
                # it, and the pupil is told they cancelled rather than that something broke.
                raise LoginFailure("op_access_denied", detail="no_state", started_here=False)
            nonce, code_verifier = self.take_state(request)
            if request.GET.get("error"):
                # The pupil cancelled at LeerID, or LeerID refused the request.
                cancelled = request.GET["error"] == "access_denied"
                raise LoginFailure("op_access_denied" if cancelled else "op_error")
            if "code" not in request.GET:
                raise LoginFailure("op_error", detail="no_code")
            returned_issuer = request.GET.get("iss")
            if returned_issuer is not None and returned_issuer != settings.LEERID_ISSUER:
                # RFC 9207: a response from another issuer (mix-up attack) is refused.
                raise LoginFailure("callback_issuer_mismatch")
            # Django hands this to ilearn_auth.login_backend.LeerIDBackend (the next file).
            self.user = auth.authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except LoginFailure as failure:
            return end_failed_login(request, failure)
        except DatabaseError:
            return end_failed_login(request, LoginFailure("database_unavailable"))
        except Exception:
            # Never a 500 in the login path. The traceback names no claim values: LoginFailure
            # texts are codes and LeerIDClaims hides its fields from repr.
            logger.exception("unexpected error in the LeerID callback")
            return end_failed_login(request, LoginFailure("internal_error"))
        if self.user is None:
            return end_failed_login(request, LoginFailure("claims_unusable", detail="no_user"))
        return self.login_success()

    def take_state(self, request: HttpRequest) -> tuple[str, str | None]:
        """Removes this login's state from the session (single use) and checks its age."""
        state = request.GET.get("state")
        states = request.session.get("oidc_states")
        if not state or not isinstance(states, dict):
            raise LoginFailure("state_missing", started_here=False)
        entry = states.pop(state, None)
        # Saved at once: a replay of this callback, even in parallel, finds no state. (The
        # library then re-reads the session it just saved; that catches no other tab's change
        # that the new key of auth.login would not drop anyway, and costs a round trip.)
        request.session.save()
        if entry is None:
            raise LoginFailure("state_unknown", started_here=False)
        if time.time() - entry.get("added_on", 0) > settings.LEERID_STATE_TTL:
            raise LoginFailure("state_expired")
        return entry["nonce"], entry.get("code_verifier")

    def login_success(self) -> HttpResponse:
        # auth.login (in the parent) cycles the session key: no session fixation. The parent
        # skips auth.login when the same user is already signed in; the key still changes.
        if self.request.user.is_authenticated and self.request.user == self.user:
            self.request.session.cycle_key()
        metrics.login_decided(outcome="granted")
        response = super().login_success()
        # From now on the session re-checks the school gate now and then (access_recheck).
        mark_checked(self.request)
        return response
