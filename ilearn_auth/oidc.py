"""The LeerID login, top to bottom.

mozilla-django-oidc supplies the frame: its authenticate view puts state, nonce and the PKCE
verifier in the session and sends the browser to LeerID; its callback view checks ``state``
and calls ``django.contrib.auth.authenticate``; its ``get_next_url`` keeps ``next`` safe.
As shipped it also defaults to HS256, checks neither ``iss``, ``aud`` nor ``iat``, has no
discovery or JWKS cache, matches users by email and answers 500 to many OP errors. The
subclasses here close those gaps:

1. ``LeerIDAuthenticateView``: endpoints from discovery; PKCE S256 (settings); 503 page when
   LeerID cannot be reached.
2. ``LeerIDCallbackView``: ``state`` single-use and expiring, RFC 9207 ``iss`` checked, every
   failure turned into a ``LoginFailure`` that ends on a page (400, 403 or 503), one
   privacy-log entry per login attempt, the session key rotated at login.
3. ``LeerIDBackend.authenticate``: code for tokens (client auth as configured, timeouts),
   the ID token verified as OpenID Connect Core 3.1.3.7 asks (``verify_id_token``), userinfo
   ``sub`` compared, then the pupil decision: ``pupils.claims.parse`` ->
   ``schools.access.schools_with_agreement_in_force`` -> ``pupils.services.pupil_record_login``.
   Users are never matched on email or ``sub``: pupils are keyed on LeerID keys, as pseudonyms.
4. ``logout_view``: POST only; ends our session, then LeerID's (``end_session_endpoint``).

Failure reasons are short codes (``FAILURES``); the pupil is redirected to the failure page
with the code kept in the session, never in the URL, and nothing personal is logged.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

import privacy
from ilearn_auth import oidc_config
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable
from pupils import claims as pupil_claims
from pupils import services as pupil_services
from schools import access as school_access

logger = logging.getLogger(__name__)

FAILURE_SESSION_KEY = "leerid_failure"
# What an ID token's ``alg`` may look like to be named in the privacy log (HS256, none, ...).
_ALG_NAME = re.compile(r"^[A-Za-z0-9]{1,16}$")
LOGOUT_STATE_SESSION_KEY = "leerid_logout_state"

# --- 0. Failure reasons ------------------------------------------------------------------------
# Each code maps to the HTTP status of the page the pupil lands on. The texts live in
# ``ilearn_auth.pages`` (they are for people); the codes go to the privacy log (for the DPO).
REFUSED, BROKEN, UNAVAILABLE = 403, 400, 503
FAILURES: dict[str, int] = {
    # The pupil is who LeerID says, but i-Learn may not let them in.
    "not_enrolled": REFUSED,
    "no_agreement": REFUSED,
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
        self, reason: str, *, pseudonym: str = "", detail: str = "", ours: bool = True
    ) -> None:
        assert reason in FAILURES, reason
        super().__init__(reason)
        self.reason = reason
        self.status = FAILURES[reason]
        self.pseudonym = pseudonym
        # A non-personal refinement for the privacy log (a Refusal code, an error name).
        self.detail = detail
        # False when the callback matches no login this browser started (no or unknown
        # state): anyone can send such a link, so it must not sign out whoever is signed in.
        self.ours = ours


# --- 1. The start: to LeerID ------------------------------------------------------------------


class LeerIDAuthenticateView(OIDCAuthenticationRequestView):
    """Sends the browser to LeerID's authorization endpoint (from discovery)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        request.session.pop(FAILURE_SESSION_KEY, None)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_config.provider_metadata()["authorization_endpoint"]
        except (ProviderUnavailable, ProviderMisconfigured) as exc:
            reason = (
                "op_misconfigured" if isinstance(exc, ProviderMisconfigured) else "op_unavailable"
            )
            return login_failed(request, LoginFailure(reason, detail=type(exc).__name__))
        # State, nonce, PKCE verifier (S256) and a safe ``next`` go in the session here.
        return super().get(request)


# --- 2. The return: from LeerID ---------------------------------------------------------------


class LeerIDCallbackView(OIDCAuthenticationCallbackView):
    """Checks ``state``, lets ``LeerIDBackend`` do the rest, and ends on a page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            if request.GET.get("error") == "access_denied" and "state" not in request.GET:
                # Some providers send a cancel back without state; nothing is accepted from
                # it, and the pupil is told they cancelled rather than that something broke.
                raise LoginFailure("op_access_denied", detail="no_state", ours=False)
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
            self.user = auth.authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except LoginFailure as failure:
            return login_failed(request, failure)
        except DatabaseError:
            return login_failed(request, LoginFailure("database_unavailable"))
        except Exception:
            # Never a 500 in the login path. The traceback names no claim values: LoginFailure
            # texts are codes and LeerIDClaims hides its fields from repr.
            logger.exception("unexpected error in the LeerID callback")
            return login_failed(request, LoginFailure("internal_error"))
        if self.user is None or not self.user.is_active:
            return login_failed(request, LoginFailure("claims_unusable", detail="no_user"))
        return self.login_success()

    def take_state(self, request: HttpRequest) -> tuple[str, str | None]:
        """Removes this login's state from the session (single use) and checks its age."""
        state = request.GET.get("state")
        states = request.session.get("oidc_states")
        if not state or not isinstance(states, dict):
            raise LoginFailure("state_missing", ours=False)
        entry = states.pop(state, None)
        # Saved at once: a replay of this callback, even in parallel, finds no state.
        request.session.save()
        if entry is None:
            raise LoginFailure("state_unknown", ours=False)
        if time.time() - entry.get("added_on", 0) > settings.LEERID_STATE_TTL:
            raise LoginFailure("state_expired")
        # Reload the session so parallel tabs' changes are not overwritten (as the library does).
        request.session = request.session.__class__(request.session.session_key)
        return entry["nonce"], entry.get("code_verifier")

    def login_success(self) -> HttpResponse:
        # auth.login (in the parent) cycles the session key: no session fixation. The parent
        # skips auth.login when the same user is already signed in; the key still changes.
        if self.request.user.is_authenticated and self.request.user == self.user:
            self.request.session.cycle_key()
        response = super().login_success()
        pupil = self.user.pupil
        privacy.log(
            "authn_login_success",
            actor=f"pupil:{pupil.pseudonym}",
            subject=pupil.pseudonym,
            details={"kind": pupil.kind},
        )
        return response


def login_failed(request: HttpRequest, failure: LoginFailure) -> HttpResponse:
    """One privacy-log entry, the reason in the session, and a redirect to the failure page."""
    if failure.reason == "database_unavailable":
        # Nowhere to write the privacy log, and trying would only make the pupil wait longer.
        logger.warning("login failed: %s", failure.reason)
    else:
        _log_failure(failure)
    try:
        # A failed login of ours ends the session: on a shared school computer the pupil
        # before must not stay signed in when the next one's login fails.
        if failure.ours and request.user.is_authenticated:
            auth.logout(request)
        request.session[FAILURE_SESSION_KEY] = failure.reason
        request.session.save()
    except DatabaseError:
        # Sessions live in the database too: answer with the page itself and keep nothing.
        from ilearn_auth.pages import failure_page

        request.session.modified = False
        return failure_page(request, failure.reason)
    return HttpResponseRedirect(reverse("login_failed"))


def _log_failure(failure: LoginFailure) -> None:
    action = "authz_fail" if failure.status == REFUSED else "authn_login_fail"
    actor = f"pupil:{failure.pseudonym}" if failure.pseudonym else "system"
    details = {"detail": failure.detail} if failure.detail else None
    try:
        privacy.log(
            action,
            actor=actor,
            subject=failure.pseudonym,
            outcome="failure",
            reason=failure.reason,
            details=details,
        )
    except DatabaseError:
        logger.warning("login failed (%s); privacy log unavailable", failure.reason)


# --- 3. The backend: tokens, ID token, claims, decision -------------------------------------


@dataclass(frozen=True)
class Provider:
    """The OP's endpoints for this login (discovery, cached)."""

    issuer: str
    token_endpoint: str
    userinfo_endpoint: str | None


class LeerIDBackend(OIDCAuthenticationBackend):
    """Authenticates pupils through LeerID. Never creates or matches users by email or sub."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads static endpoints here; ours come from discovery at login time, and
        # Django builds a backend per request, so nothing may touch the network in __init__.
        self.UserModel = auth.get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.LEERID_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.LEERID_CLIENT_SECRET

    def authenticate(self, request: HttpRequest | None, **kwargs: Any):
        # Only our callback passes a nonce: staff password logins go to ModelBackend.
        if request is None or "nonce" not in kwargs:
            return None
        self.request = request
        provider = self.provider()
        tokens = self.exchange_code(provider, request, kwargs.get("code_verifier"))
        id_claims = self.verify_id_token(tokens["id_token"], provider, nonce=kwargs["nonce"])
        raw_claims = {**id_claims, **self.fetch_userinfo(provider, tokens, id_claims)}
        return self.pupil_user(raw_claims)

    def provider(self) -> Provider:
        try:
            metadata = oidc_config.provider_metadata()
        except ProviderMisconfigured:
            raise LoginFailure("op_misconfigured") from None
        except ProviderUnavailable:
            raise LoginFailure("op_unavailable") from None
        return Provider(
            issuer=metadata["issuer"],
            token_endpoint=metadata["token_endpoint"],
            userinfo_endpoint=metadata.get("userinfo_endpoint"),
        )

    # 3a. Code for tokens.

    def exchange_code(
        self, provider: Provider, request: HttpRequest, code_verifier: str | None
    ) -> dict[str, Any]:
        data = {
            "grant_type": "authorization_code",
            "code": request.GET["code"],
            "redirect_uri": request.build_absolute_uri(reverse("oidc_authentication_callback")),
        }
        if code_verifier:
            data["code_verifier"] = code_verifier
        data, basic_auth = self.client_authentication(provider, data)
        try:
            response = oidc_config.http().post(
                provider.token_endpoint,
                data=data,
                auth=basic_auth,
                timeout=oidc_config.timeouts(),
                headers={"Accept": "application/json"},
            )
        except requests.RequestException:
            raise LoginFailure("op_unavailable", detail="token_endpoint") from None
        if response.status_code >= 500:
            raise LoginFailure("op_unavailable", detail=f"token_http_{response.status_code}")
        if response.status_code != 200:
            # RFC 6749 5.2: invalid_grant (code reused or expired), invalid_client, ...
            raise LoginFailure("token_error", detail=_oauth_error(response))
        try:
            tokens = response.json()
        except ValueError:
            raise LoginFailure("token_response_malformed") from None
        if not isinstance(tokens, dict):
            raise LoginFailure("token_response_malformed")
        if not isinstance(tokens.get("id_token"), str):
            raise LoginFailure("no_id_token")
        return tokens

    def client_authentication(
        self, provider: Provider, data: dict[str, str]
    ) -> tuple[dict[str, str], tuple[str, str] | None]:
        """The token request's client authentication, as ``LEERID_CLIENT_AUTH`` says."""
        client_id = settings.LEERID_CLIENT_ID
        method = settings.LEERID_CLIENT_AUTH
        if method == "client_secret_post":
            return {
                **data,
                "client_id": client_id,
                "client_secret": self.OIDC_RP_CLIENT_SECRET,
            }, None
        if method == "private_key_jwt":
            return {
                **data,
                "client_id": client_id,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion(provider.issuer),
            }, None
        # client_secret_basic (RFC 6749 2.3.1: both parts form-urlencoded first).
        return data, (quote_plus(client_id), quote_plus(self.OIDC_RP_CLIENT_SECRET))

    # 3b. The ID token (OpenID Connect Core 3.1.3.7).

    def verify_id_token(self, token: str, provider: Provider, *, nonce: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise LoginFailure("id_token_malformed") from None
        # RS256 only: "none", HS256 (with the secret or the public key as secret), RS512, ...
        # are refused before any key is touched. jwk/jku/x5u headers are never looked at.
        alg = header.get("alg")
        if alg != "RS256":
            # The header is the sender's text: only a plain algorithm name reaches the log.
            plain = isinstance(alg, str) and _ALG_NAME.match(alg)
            raise LoginFailure("id_token_alg", detail=alg if plain else "unsupported")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise LoginFailure("id_token_malformed", detail="kid")
        try:
            claims = self.decode_with_jwks(token, provider, kid)
        except ProviderMisconfigured:
            raise LoginFailure("op_misconfigured") from None
        except ProviderUnavailable:
            raise LoginFailure("op_unavailable", detail="jwks") from None
        self.check_audience(claims)
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
            raise LoginFailure("nonce_mismatch")
        sub = claims.get("sub")
        if sub is not None and not isinstance(sub, str):
            raise LoginFailure("id_token_invalid", detail="sub_type")
        if sub is None and settings.LEERID_REQUIRE_SUB:
            raise LoginFailure("missing_sub")
        return claims

    def decode_with_jwks(self, token: str, provider: Provider, kid: str | None) -> dict[str, Any]:
        key = self.pick_key(oidc_config.signing_keys(), kid)
        if key is None:
            # Unknown kid: the OP may have rotated its keys. Refetch once (rate-limited).
            key = self.pick_key(oidc_config.signing_keys(refresh=True), kid)
        if key is None:
            raise LoginFailure("id_token_unknown_kid")
        try:
            return self.decode(token, key, provider)
        except jwt.InvalidSignatureError:
            if kid is not None:
                raise LoginFailure("id_token_bad_signature") from None
        # A kid-less token that fails may be signed by a new single key: refetch once.
        key = self.pick_key(oidc_config.signing_keys(refresh=True), kid)
        if key is None:
            raise LoginFailure("id_token_kid_ambiguous")
        try:
            return self.decode(token, key, provider)
        except jwt.InvalidSignatureError:
            raise LoginFailure("id_token_bad_signature") from None

    @staticmethod
    def pick_key(keys: list[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            # No kid: unambiguous only with exactly one key (Core 10.1).
            if len(keys) > 1:
                raise LoginFailure("id_token_kid_ambiguous")
            return keys[0] if keys else None
        return next((key for key in keys if key.key_id == kid), None)

    def decode(self, token: str, key: jwt.PyJWK, provider: Provider) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                audience=settings.LEERID_CLIENT_ID,
                issuer=provider.issuer,
                leeway=settings.LEERID_CLOCK_LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.InvalidSignatureError:
            raise
        except jwt.ExpiredSignatureError:
            raise LoginFailure("id_token_expired") from None
        except jwt.ImmatureSignatureError:
            raise LoginFailure("id_token_iat", detail="future") from None
        except jwt.InvalidIssuedAtError:
            raise LoginFailure("id_token_iat") from None
        except jwt.InvalidIssuerError:
            raise LoginFailure("id_token_issuer_mismatch") from None
        except jwt.InvalidAudienceError:
            raise LoginFailure("id_token_audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise LoginFailure("id_token_missing_claim", detail=exc.claim) from None
        except jwt.InvalidAlgorithmError:
            raise LoginFailure("id_token_alg") from None
        except jwt.DecodeError:
            raise LoginFailure("id_token_malformed") from None
        except jwt.PyJWTError as exc:
            raise LoginFailure("id_token_invalid", detail=type(exc).__name__) from None

    @staticmethod
    def check_audience(claims: dict[str, Any]) -> None:
        """With several audiences, ``azp`` must be us and every audience trusted (Core 3.1.3.7)."""
        client_id = settings.LEERID_CLIENT_ID
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if azp is not None and azp != client_id:
            raise LoginFailure("id_token_azp")
        if len(audiences) > 1:
            if azp is None:
                raise LoginFailure("id_token_azp", detail="missing")
            trusted = {client_id, *settings.LEERID_TRUSTED_AUDIENCES}
            if not set(audiences) <= trusted:
                raise LoginFailure("id_token_audience", detail="untrusted")

    # 3c. Userinfo.

    def fetch_userinfo(
        self, provider: Provider, tokens: dict[str, Any], id_claims: dict[str, Any]
    ) -> dict[str, Any]:
        access_token = tokens.get("access_token")
        if not provider.userinfo_endpoint or not settings.LEERID_USE_USERINFO:
            return {}
        if not isinstance(access_token, str):
            raise LoginFailure("token_response_malformed", detail="access_token")
        try:
            response = oidc_config.http().get(
                provider.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=oidc_config.timeouts(),
            )
        except requests.RequestException:
            raise LoginFailure("op_unavailable", detail="userinfo") from None
        if response.status_code >= 500:
            raise LoginFailure("op_unavailable", detail=f"userinfo_http_{response.status_code}")
        if response.status_code != 200:
            raise LoginFailure("userinfo_error", detail=f"http_{response.status_code}")
        try:
            userinfo = response.json()
        except ValueError:
            raise LoginFailure("userinfo_malformed") from None
        if not isinstance(userinfo, dict):
            raise LoginFailure("userinfo_malformed")
        # Core 5.3.2: the userinfo sub must equal the ID token's (token substitution).
        if "sub" in userinfo and userinfo["sub"] != id_claims.get("sub"):
            raise LoginFailure("userinfo_sub_mismatch")
        # The ID token's registered claims stay authoritative.
        registered = ("iss", "aud", "exp", "iat", "nonce", "azp", "sub")
        return {name: value for name, value in userinfo.items() if name not in registered}

    # 3d. Who may come in.

    def pupil_user(self, raw_claims: dict[str, Any]):
        """LeerID claims -> the decision -> the pupil's (pseudonymous) Django user."""
        parsed = pupil_claims.parse(raw_claims, names=pupil_claims.ClaimNames.from_settings())
        if not isinstance(parsed, pupil_claims.LeerIDClaims):
            raise LoginFailure("claims_unusable", detail=str(parsed))
        pseudonym = pupil_services.pupil_pseudonym(parsed)
        if not parsed.enrollments:
            raise LoginFailure("not_enrolled", pseudonym=pseudonym)
        try:
            granted = school_access.schools_with_agreement_in_force(parsed.enrollments)
            if not granted:
                raise LoginFailure("no_agreement", pseudonym=pseudonym)
            pupil = pupil_services.pupil_record_login(claims=parsed, granted_schools=granted)
        except DatabaseError:
            raise LoginFailure("database_unavailable", pseudonym=pseudonym) from None
        # Claims such as is_staff or groups are never read: the user is what record_login made.
        return pupil.user

    def get_user(self, user_id: Any):
        try:
            return self.UserModel.objects.get(pk=user_id)
        except self.UserModel.DoesNotExist:
            return None


def client_assertion(issuer: str) -> str:
    """RFC 7523 client assertion for private_key_jwt: ACM wants ``aud`` = the issuer."""
    now = int(time.time())
    claims = {
        "iss": settings.LEERID_CLIENT_ID,
        "sub": settings.LEERID_CLIENT_ID,
        "aud": issuer,
        "jti": uuid.uuid4().hex,  # fresh for every request: the OP refuses replays
        "iat": now,
        "exp": now + 300,  # ACM: under 10 minutes
    }
    headers = {"kid": settings.LEERID_PRIVATE_KEY_ID} if settings.LEERID_PRIVATE_KEY_ID else None
    return jwt.encode(claims, settings.LEERID_PRIVATE_KEY, algorithm="RS256", headers=headers)


def _oauth_error(response: requests.Response) -> str:
    """The RFC 6749 error code, if the body has a plain one; never the description."""
    try:
        error = response.json().get("error", "")
    except (ValueError, AttributeError):
        error = ""
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 40:
        return error
    return f"http_{response.status_code}"


# --- 4. Logout --------------------------------------------------------------------------------


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
        end_session = oidc_config.provider_metadata().get("end_session_endpoint")
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
