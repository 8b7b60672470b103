"""The backend's calls to LeerID: the code for tokens, then userinfo.

Plain functions over ``OPEndpoints`` (the discovery document's part a login needs). Every way
a call can go wrong becomes a ``LoginFailure`` here, in one of four shapes (``request_json``):

- LeerID cannot be reached in time, or answers 5xx: ``op_unavailable`` (a 503 page);
- LeerID refuses the request (4xx): the step's own reason (``token_error``, ``userinfo_error``);
- LeerID answers 200 with something that is not a JSON object: the step's ``*_malformed``;
- the discovery document cannot be had: ``failures.op_failure`` (``op_unavailable`` or
  ``op_misconfigured``).

Client authentication follows ``LEERID_CLIENT_AUTH``: ``client_secret_basic`` (default),
``client_secret_post``, or ``private_key_jwt`` with an RFC 7523 assertion whose ``aud`` is the
issuer, as ACM asks.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import jwt
import requests
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from ilearn_auth import metrics, oidc_config
from ilearn_auth.failures import LoginFailure, op_failure
from ilearn_auth.oidc_config import ProviderMisconfigured, ProviderUnavailable

# The ID token's registered claims: userinfo never overrides them.
REGISTERED_CLAIMS = ("iss", "aud", "exp", "iat", "nonce", "azp", "sub")


@dataclass(frozen=True)
class OPEndpoints:
    """What a login needs from LeerID's discovery document (cached by ``oidc_config``)."""

    issuer: str
    token_endpoint: str
    userinfo_endpoint: str | None


def op_endpoints() -> OPEndpoints:
    try:
        document = oidc_config.discovery_document()
    except (ProviderUnavailable, ProviderMisconfigured) as exc:
        raise op_failure(exc) from None
    return OPEndpoints(
        issuer=document["issuer"],
        token_endpoint=document["token_endpoint"],
        userinfo_endpoint=document.get("userinfo_endpoint"),
    )


def request_json(
    method: str,
    url: str,
    *,
    step: str,
    unreachable: str,
    refused: str,
    refused_detail: Callable[[requests.Response], str],
    malformed: str,
    **kwargs: Any,
) -> dict[str, Any]:
    """One request to LeerID whose answer must be a JSON object; anything else is a failure.

    ``unreachable`` and ``step`` name the call in the privacy log's detail when LeerID is down
    (``op_unavailable``); ``refused`` is the reason for a 4xx, ``malformed`` for a body that is
    not a JSON object.
    """
    send = getattr(oidc_config.http(), method)
    started = time.monotonic()
    try:
        response = send(url, timeout=oidc_config.timeouts(), **kwargs)
    except requests.RequestException as exc:
        metrics.op_request_done(endpoint=step, seconds=time.monotonic() - started, error=exc)
        raise LoginFailure("op_unavailable", detail=unreachable) from None
    metrics.op_request_done(endpoint=step, seconds=time.monotonic() - started, response=response)
    if response.status_code >= 500:
        raise LoginFailure("op_unavailable", detail=f"{step}_http_{response.status_code}")
    if response.status_code != 200:
        raise LoginFailure(refused, detail=refused_detail(response))
    try:
        body = response.json()
    except ValueError:
        raise LoginFailure(malformed) from None
    if not isinstance(body, dict):
        raise LoginFailure(malformed)
    return body


def oauth_error_code(response: requests.Response) -> str:
    """The RFC 6749 error code, if the body has a plain one; never the description."""
    try:
        error = response.json().get("error", "")
    except (ValueError, AttributeError):
        error = ""
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 40:
        return error
    return f"http_{response.status_code}"


# --- The code for tokens -----------------------------------------------------------------------


def exchange_code(
    endpoints: OPEndpoints, request: HttpRequest, code_verifier: str | None
) -> dict[str, Any]:
    """The token response for the callback's ``code``; it must hold an ID token."""
    data = {
        "grant_type": "authorization_code",
        "code": request.GET["code"],
        "redirect_uri": request.build_absolute_uri(reverse("oidc_authentication_callback")),
    }
    if code_verifier:
        data["code_verifier"] = code_verifier
    data, basic_auth = client_authentication(endpoints, data)
    tokens = request_json(
        "post",
        endpoints.token_endpoint,
        step="token",
        unreachable="token_endpoint",
        # RFC 6749 5.2: invalid_grant (code reused or expired), invalid_client, ...
        refused="token_error",
        refused_detail=oauth_error_code,
        malformed="token_response_malformed",
        data=data,
        auth=basic_auth,
        headers={"Accept": "application/json"},
    )
    if not isinstance(tokens.get("id_token"), str):
        raise LoginFailure("no_id_token")
    return tokens


def client_authentication(
    endpoints: OPEndpoints, data: dict[str, str]
) -> tuple[dict[str, str], tuple[str, str] | None]:
    """The token request's form and basic-auth pair, as ``LEERID_CLIENT_AUTH`` says."""
    client_id = settings.LEERID_CLIENT_ID
    method = settings.LEERID_CLIENT_AUTH
    if method == "client_secret_post":
        return {
            **data,
            "client_id": client_id,
            "client_secret": settings.LEERID_CLIENT_SECRET,
        }, None
    if method == "private_key_jwt":
        return {
            **data,
            "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion(endpoints.issuer),
        }, None
    # client_secret_basic (RFC 6749 2.3.1: both parts form-urlencoded first).
    return data, (quote_plus(client_id), quote_plus(settings.LEERID_CLIENT_SECRET))


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


# --- Userinfo ----------------------------------------------------------------------------------


def fetch_userinfo(
    endpoints: OPEndpoints, tokens: dict[str, Any], id_claims: dict[str, Any]
) -> dict[str, Any]:
    """Userinfo's claims, except those the ID token alone may state; {} when not used."""
    if not endpoints.userinfo_endpoint or not settings.LEERID_USE_USERINFO:
        return {}
    access_token = tokens.get("access_token")
    if not isinstance(access_token, str):
        raise LoginFailure("token_response_malformed", detail="access_token")
    userinfo = request_json(
        "get",
        endpoints.userinfo_endpoint,
        step="userinfo",
        unreachable="userinfo",
        refused="userinfo_error",
        refused_detail=lambda response: f"http_{response.status_code}",
        malformed="userinfo_malformed",
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
    )
    # Core 5.3.2: the userinfo sub must equal the ID token's (token substitution).
    if "sub" in userinfo and userinfo["sub"] != id_claims.get("sub"):
        raise LoginFailure("userinfo_sub_mismatch")
    return {name: value for name, value in userinfo.items() if name not in REGISTERED_CLAIMS}
