"""The ID token check, as OpenID Connect Core 3.1.3.7 asks, in the order it runs.

1. The header: ``alg`` must be RS256 ("none", HS256 with the secret or the public key as
   secret, RS512, ... are refused before any key is touched); ``kid`` a string or absent;
   ``jwk``/``jku``/``x5u`` headers are never looked at.
2. The signature, against LeerID's signing keys (``signing_key_for``): the key with the token's
   ``kid``; an unknown ``kid`` or a kid-less token that fails refetches the keys once (rotation).
3. The registered claims (``decode_checked``): ``iss`` exact, ``aud`` contains our client id,
   ``exp``/``iat``/``nbf`` with ``LEERID_CLOCK_LEEWAY``; then ``azp`` (``check_audience``),
   ``nonce`` (constant time), and ``sub`` (a string, or absent unless ``LEERID_REQUIRE_SUB``).

Each failure is its own ``LoginFailure`` reason (``id_token_*``, ``nonce_mismatch``,
``missing_sub``).
"""

from __future__ import annotations

import hmac
import re
from typing import Any

import jwt
from django.conf import settings

from ilearn_auth import oidc_config
from ilearn_auth.failures import LoginFailure, op_failure
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable

# What an ID token's ``alg`` may look like to be named in the privacy log (HS256, none, ...).
_ALG_NAME = re.compile(r"^[A-Za-z0-9]{1,16}$")


def checked_id_token_claims(token: str, *, issuer: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims once every check has passed; a ``LoginFailure`` otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LoginFailure("id_token_malformed") from None
    alg = header.get("alg")
    if alg != "RS256":
        # The header is the sender's text: only a plain algorithm name reaches the log.
        plain = isinstance(alg, str) and _ALG_NAME.match(alg)
        raise LoginFailure("id_token_alg", detail=alg if plain else "unsupported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise LoginFailure("id_token_malformed", detail="kid")
    try:
        claims = verify_signature_and_claims(token, issuer=issuer, kid=kid)
    except (ProviderUnavailable, ProviderMisconfigured) as exc:
        raise op_failure(exc, detail="jwks") from None
    check_audience(claims)
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce, nonce):
        raise LoginFailure("nonce_mismatch")
    sub = claims.get("sub")
    if sub is not None and not isinstance(sub, str):
        raise LoginFailure("id_token_invalid", detail="sub_type")
    if sub is None and settings.LEERID_REQUIRE_SUB:
        raise LoginFailure("missing_sub")
    return claims


def verify_signature_and_claims(token: str, *, issuer: str, kid: str | None) -> dict[str, Any]:
    """Step 2 and 3: the signing key (refetched once on a miss), then ``decode_checked``."""
    key = signing_key_for(oidc_config.signing_keys(), kid)
    if key is None:
        # Unknown kid: the OP may have rotated its keys. Refetch once (rate-limited).
        key = signing_key_for(oidc_config.signing_keys(refresh=True), kid)
    if key is None:
        raise LoginFailure("id_token_unknown_kid")
    try:
        return decode_checked(token, key, issuer=issuer)
    except jwt.InvalidSignatureError:
        if kid is not None:
            raise LoginFailure("id_token_bad_signature") from None
    # A kid-less token that fails may be signed by a new single key: refetch once.
    key = signing_key_for(oidc_config.signing_keys(refresh=True), kid)
    if key is None:
        raise LoginFailure("id_token_kid_ambiguous")
    try:
        return decode_checked(token, key, issuer=issuer)
    except jwt.InvalidSignatureError:
        raise LoginFailure("id_token_bad_signature") from None


def signing_key_for(keys: list[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    """The key with this ``kid``; without one, the only key (Core 10.1), else ambiguous."""
    if kid is None:
        if len(keys) > 1:
            raise LoginFailure("id_token_kid_ambiguous")
        return keys[0] if keys else None
    return next((key for key in keys if key.key_id == kid), None)


# PyJWT's errors and the reason each one is, first match wins (subclasses before their bases,
# as except clauses would be ordered). A bad signature is not here: the caller may refetch.
_JWT_FAILURES: tuple[tuple[type[jwt.PyJWTError], str, str], ...] = (
    (jwt.ExpiredSignatureError, "id_token_expired", ""),
    (jwt.ImmatureSignatureError, "id_token_iat", "future"),
    (jwt.InvalidIssuedAtError, "id_token_iat", ""),
    (jwt.InvalidIssuerError, "id_token_issuer_mismatch", ""),
    (jwt.InvalidAudienceError, "id_token_audience", ""),
    (jwt.InvalidAlgorithmError, "id_token_alg", ""),
    (jwt.DecodeError, "id_token_malformed", ""),
)


def decode_checked(token: str, key: jwt.PyJWK, *, issuer: str) -> dict[str, Any]:
    """The signature and registered claims; a bad signature is left to the caller (refetch)."""
    try:
        return jwt.decode(
            token,
            key=key.key,
            algorithms=["RS256"],
            audience=settings.LEERID_CLIENT_ID,
            issuer=issuer,
            leeway=settings.LEERID_CLOCK_LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud"]},
        )
    except jwt.InvalidSignatureError:
        raise
    except jwt.MissingRequiredClaimError as exc:
        raise LoginFailure("id_token_missing_claim", detail=exc.claim) from None
    except jwt.PyJWTError as exc:
        raise jwt_failure(exc) from None


def jwt_failure(exc: jwt.PyJWTError) -> LoginFailure:
    for error, reason, detail in _JWT_FAILURES:
        if isinstance(exc, error):
            return LoginFailure(reason, detail=detail)
    return LoginFailure("id_token_invalid", detail=type(exc).__name__)


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
