"""How a login can fail, what the pupil reads then, and how a failed login ends.

Every way a login stops is a short reason code in ``FAILURES``, in one of three categories:
``REFUSED`` (the pupil is who LeerID says, but may not come in: a 403 page), ``BROKEN`` (the
browser or LeerID sent something stale, cancelled, malformed or forged: a 400 page) and
``UNAVAILABLE`` (LeerID, our configuration or our database is down: a 503 page). The codes go
to the privacy log (for the DPO); ``MESSAGES`` and ``GENERIC_MESSAGES`` hold the texts (for
people). Both the login views and the pupil pages import this module; it imports neither.

``end_failed_login`` is the one way a login fails: one privacy-log entry, the reason in the
session (never in the URL), a redirect to ``/login/failed/``, which shows ``failure_page``.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING

from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import privacy
from ilearn_auth import metrics
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable
from ilearn_auth.refusal_reference import reference_for

if TYPE_CHECKING:
    from privacy.models import PrivacyLogEntry

logger = logging.getLogger(__name__)

# The session key that carries the reason from the failed callback to the failure page.
FAILURE_SESSION_KEY = "leerid_failure"
# ... and the short reference of its privacy-log entry, which the pupil reads out to Support.
FAILURE_REFERENCE_SESSION_KEY = "leerid_failure_reference"


class Category(enum.Enum):
    """What kind of failure, and the HTTP status of the page the pupil lands on."""

    REFUSED = 403
    BROKEN = 400
    UNAVAILABLE = 503

    @property
    def status(self) -> int:
        return self.value


REFUSED, BROKEN, UNAVAILABLE = Category.REFUSED, Category.BROKEN, Category.UNAVAILABLE

FAILURES: dict[str, Category] = {
    # The pupil is who LeerID says, but i-Learn may not let them in.
    "not_enrolled": REFUSED,
    "no_agreement": REFUSED,
    # The pupil's account was switched off by staff (``is_active``).
    "account_inactive": REFUSED,
    # The protocol with the Department of Education ended (dpo.protocol): nobody comes in.
    "protocol_ended": REFUSED,
    # The pupil stopped at LeerID, or the browser came back with a stale or replayed request.
    "op_access_denied": BROKEN,
    "op_error": BROKEN,
    "state_missing": BROKEN,
    "state_unknown": BROKEN,
    "state_expired": BROKEN,
    "callback_issuer_mismatch": BROKEN,
    # What LeerID sent back is broken or forged.
    "token_error": BROKEN,
    "token_response_malformed": BROKEN,
    "no_id_token": BROKEN,
    "id_token_malformed": BROKEN,
    "id_token_alg": BROKEN,
    "id_token_unknown_kid": BROKEN,
    "id_token_kid_ambiguous": BROKEN,
    "id_token_bad_signature": BROKEN,
    "id_token_issuer_mismatch": BROKEN,
    "id_token_audience": BROKEN,
    "id_token_azp": BROKEN,
    "id_token_expired": BROKEN,
    "id_token_iat": BROKEN,
    "id_token_missing_claim": BROKEN,
    "id_token_invalid": BROKEN,
    "nonce_mismatch": BROKEN,
    "missing_sub": BROKEN,
    "userinfo_error": BROKEN,
    "userinfo_malformed": BROKEN,
    "userinfo_sub_mismatch": BROKEN,
    "claims_unusable": BROKEN,
    # LeerID, our configuration or our database is down or slow.
    "op_unavailable": UNAVAILABLE,
    "op_misconfigured": UNAVAILABLE,
    "database_unavailable": UNAVAILABLE,
    # A bug of ours: the pupil is asked to come back later, the traceback goes to the log.
    "internal_error": UNAVAILABLE,
}


class LoginFailure(Exception):
    """A login that ends on a failure page. ``pseudonym`` is set once the pupil is known."""

    def __init__(
        self,
        reason: str,
        *,
        pseudonym: str = "",
        detail: str = "",
        started_here: bool = True,
        schools: tuple[str, ...] = (),
    ) -> None:
        assert reason in FAILURES, reason
        super().__init__(reason)
        self.reason = reason
        self.category = FAILURES[reason]
        self.pseudonym = pseudonym
        # A non-personal refinement for the privacy log (a Refusal code, an error name).
        self.detail = detail
        # False when the callback matches no login this browser started (no or unknown
        # state): anyone can send such a link, so it must not sign out whoever is signed in.
        self.started_here = started_here
        # The school numbers involved (not personal): Support sees each one's state today.
        self.schools = schools


def op_failure(
    exc: ProviderUnavailable | ProviderMisconfigured, *, detail: str = ""
) -> LoginFailure:
    """The failure for a discovery or signing-key problem: our settings, or LeerID's reach."""
    reason = "op_misconfigured" if isinstance(exc, ProviderMisconfigured) else "op_unavailable"
    return LoginFailure(reason, detail=detail)


# --- What the pupil reads ----------------------------------------------------------------------

# Per reason: a title and what the pupil can do about it.
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
    "account_inactive": (
        _("Je account bij i-Learn is uitgeschakeld"),
        _("Je kan i-Learn nu niet gebruiken. Vraag je school of je leraar om hulp."),
    ),
    "protocol_ended": (
        _("Aanmelden met LeerID kan niet meer"),
        _(
            "De afspraak tussen i-Learn en het departement Onderwijs over LeerID is afgelopen. "
            "Daarom kan je je niet meer aanmelden met LeerID, en worden je gegevens bij "
            "i-Learn gewist. Vraag je leraar hoe het verder moet."
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
# Per category, for every reason without its own message.
GENERIC_MESSAGES = {
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


def failure_page(request: HttpRequest, reason: str, reference: str = "") -> HttpResponse:
    """The page for one reason code; an unknown code reads as a broken login. ``reference``
    (``ilearn_auth.refusal_reference``) is what the pupil reads out to Support."""
    category = FAILURES.get(reason, BROKEN)
    title, message = MESSAGES.get(reason) or GENERIC_MESSAGES[category]
    context = {
        "title": title,
        "message": message,
        "reason": reason,
        "reference": reference,
        "status": category.status,
    }
    return render(request, "ilearn_auth/failure.html", context, status=category.status)


# --- How a failed login ends -------------------------------------------------------------------


def end_failed_login(request: HttpRequest, failure: LoginFailure) -> HttpResponse:
    """One privacy-log entry, the reason in the session, and a redirect to the failure page."""
    metrics.login_decided(outcome=failure.category.name.lower(), reason=failure.reason)
    return end_with_failure(request, failure)


def end_with_failure(request: HttpRequest, failure: LoginFailure) -> HttpResponse:
    """What a failed login and a session ended by the access re-check share: the entry (its
    sequence is the page's reference), the session's user signed out, and the failure page."""
    reference = ""
    if failure.reason == "database_unavailable":
        # Nowhere to write the privacy log, and trying would only make the pupil wait longer.
        logger.warning("login failed: %s", failure.reason)
    else:
        entry = _log_failure(failure)
        reference = reference_for(entry.sequence) if entry is not None else ""
    try:
        # A failed login started here ends the session: on a shared school computer the pupil
        # before must not stay signed in when the next one's login fails.
        if failure.started_here and request.user.is_authenticated:
            auth.logout(request)
        request.session[FAILURE_SESSION_KEY] = failure.reason
        request.session[FAILURE_REFERENCE_SESSION_KEY] = reference
        request.session.save()
    except DatabaseError:
        # Sessions live in the database too: answer with the page itself and keep nothing.
        request.session.modified = False
        return failure_page(request, failure.reason, reference)
    return HttpResponseRedirect(reverse("login_failed"))


def _log_failure(failure: LoginFailure) -> PrivacyLogEntry | None:
    """The failure's privacy-log entry (None when the log cannot be written): its sequence is
    the reference on the page."""
    action = "authz_fail" if failure.category is REFUSED else "authn_login_fail"
    actor = f"pupil:{failure.pseudonym}" if failure.pseudonym else "system"
    details = {"detail": failure.detail} if failure.detail else {}
    if failure.schools:
        details["schools"] = sorted(failure.schools)
    try:
        # Chained at once even with the sealer: the page shows its sequence as the reference.
        return privacy.log(
            action,
            actor=actor,
            subject=failure.pseudonym,
            outcome="failure",
            reason=failure.reason,
            details=details,
            chained=True,
        )
    except DatabaseError:
        logger.warning("login failed (%s); privacy log unavailable", failure.reason)
        return None
