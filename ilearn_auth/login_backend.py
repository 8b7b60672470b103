"""The way of a login, part 2: from the callback's code to the pupil's Django user.

``LeerIDBackend.authenticate`` reads as the protocol: LeerID's endpoints (discovery), the code
for tokens and userinfo (``op_calls``), the ID token check (``id_token``), then the decision
(``admit_pupil``): ``pupils.claims.parse`` -> ``schools.access`` ->
``pupils.services.pupil_record_login`` and the ``authn_login_success`` privacy-log entry.
Users are never matched on email or ``sub``: pupils are keyed on LeerID keys, as pseudonyms.
Every failure is raised as a ``LoginFailure``; the callback view turns it into a page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

import privacy
from dpo.protocol import logins_refused as protocol_ended
from ilearn_auth.failures import LoginFailure
from ilearn_auth.id_token import checked_id_token_claims
from ilearn_auth.op_calls import exchange_code, fetch_userinfo, op_endpoints
from privacy.selectors import UNEXPECTED_CLAIMS_KEY
from privacy.services import privacy_log_joins_transactions
from pupils import claims as pupil_claims
from pupils import services as pupil_services
from pupils.exceptions import PupilInactive
from schools import access as school_access


class LeerIDBackend(OIDCAuthenticationBackend):
    """Authenticates pupils through LeerID. Never creates or matches users by email or sub."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads static endpoints here; ours come from discovery at login time, and
        # Django builds a backend per request, so nothing may touch the network in __init__.
        self.UserModel = auth.get_user_model()

    def authenticate(self, request: HttpRequest | None, **kwargs: Any):
        # Only our callback passes a nonce: staff password logins go to ModelBackend.
        if request is None or "nonce" not in kwargs:
            return None
        endpoints = op_endpoints()
        tokens = exchange_code(endpoints, request, kwargs.get("code_verifier"))
        id_claims = checked_id_token_claims(
            tokens["id_token"], issuer=endpoints.issuer, nonce=kwargs["nonce"]
        )
        raw_claims = {**id_claims, **fetch_userinfo(endpoints, tokens, id_claims)}
        return admit_pupil(raw_claims)

    def get_user(self, user_id: Any):
        """The session's user, unless it was deactivated meanwhile: then nobody (a pupil's open
        session ends at its next request; ``access_recheck`` shows why)."""
        try:
            user = self.UserModel.objects.get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None
        return user if user.is_active else None


def admit_pupil(raw_claims: dict[str, Any]):
    """The decision: the school gate, then the login recorded and logged; the pupil's user.

    A refusal raises a ``LoginFailure`` carrying the pseudonym; nothing about a refused pupil
    is stored. From the protocol's end on (``dpo.protocol``), nobody comes in.
    """
    if protocol_ended():
        raise LoginFailure("protocol_ended")
    names = pupil_claims.ClaimNames.from_settings()
    parsed = pupil_claims.parse(raw_claims, names=names)
    if not isinstance(parsed, pupil_claims.LeerIDClaims):
        raise LoginFailure("claims_unusable", detail=str(parsed))
    pseudonym = pupil_services.pupil_pseudonym(parsed)
    if not parsed.enrollments:
        raise LoginFailure("not_enrolled", pseudonym=pseudonym)
    try:
        granted = school_access.schools_with_agreement_in_force(parsed.enrollments)
        if not granted:
            raise LoginFailure(
                "no_agreement", pseudonym=pseudonym, schools=tuple(parsed.enrollments)
            )
        pupil = _record_and_log(
            parsed, granted, pseudonym, extra=_unexpected_claims(raw_claims, names)
        )
    except DatabaseError:
        raise LoginFailure("database_unavailable", pseudonym=pseudonym) from None
    # Claims such as is_staff or groups are never read: the user is what record_login made.
    return pupil.user


def _unexpected_claims(raw_claims: dict[str, Any], names) -> dict[str, Any]:
    """Claim names outside the allowlist ride along in the login's entry for the DPO's
    data-quality count (protocol art. 7): counted nightly from the log, no statement of their
    own."""
    unexpected = pupil_claims.unexpected_claim_names(
        raw_claims, names=names, allowed=settings.LEERID_ALLOWED_EXTRA_CLAIMS
    )
    return {UNEXPECTED_CLAIMS_KEY: unexpected} if unexpected else {}


def _record_and_log(parsed, granted, pseudonym: str, *, extra: dict[str, Any]):
    """``pupil_record_login`` and the ``authn_login_success`` entry: in the login's own
    transaction where the entry holds no lock (the sealer, SQLite), so that one commit makes
    both durable and a crash keeps both or neither; after it otherwise (the head lock would be
    held across the login's commit)."""

    def log_login(pupil) -> None:
        # The pupil found or made by record_login (merged accounts keep the new pseudonym).
        privacy.log(
            "authn_login_success",
            actor=f"pupil:{pupil.pseudonym}",
            subject=pupil.pseudonym,
            details={"kind": pupil.kind, **extra},
        )

    together = privacy_log_joins_transactions()
    try:
        pupil = pupil_services.pupil_record_login(
            claims=parsed,
            granted_schools=granted,
            pseudonym=pseudonym,
            then=log_login if together else None,
        )
    except PupilInactive as inactive:
        raise LoginFailure("account_inactive", pseudonym=inactive.pseudonym) from None
    if not together:
        log_login(pupil)
    return pupil
