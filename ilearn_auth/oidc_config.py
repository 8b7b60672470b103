"""What we know about LeerID (ACM/IDM) as an OpenID Provider, fetched and cached per process.

- Discovery: ``{LEERID_ISSUER}/.well-known/openid-configuration``, cached for
  ``LEERID_METADATA_TTL`` seconds; its ``issuer`` must equal the configured one exactly.
- JWKS: cached for the TTL the OP's ``Cache-Control`` gives (bounded), else ``LEERID_JWKS_TTL``;
  an unknown ``kid`` triggers one refetch, at most once per ``LEERID_JWKS_REFETCH_INTERVAL``
  seconds, so rotation works but a stream of forged ``kid`` values cannot hammer the OP.
  When a refetch fails the stale keys keep serving: an OP hiccup does not stop logins.
- One HTTP client per process (``op_client.OPClient``) keeps connections to the OP alive;
  every call has a connect and a read timeout, so a slow OP becomes a 503 page within seconds.

Errors are two small classes: ``ProviderUnavailable`` (the OP is down, slow or answers
nonsense to discovery: a 503) and ``ProviderMisconfigured`` (our settings or the OP's
metadata are wrong: also a 503 for the pupil, and a failing readiness check for operators).
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import jwt
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from ilearn_auth.op_client import OPClient


class ProviderUnavailable(Exception):
    """LeerID could not be reached in time, or answered with an error or garbage."""


class ProviderMisconfigured(Exception):
    """The configured issuer is unusable (empty, insecure, or not what the OP says it is)."""


# --- Issuer checks -------------------------------------------------------------------------


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def issuer_problem(issuer: str, *, debug: bool, allow_insecure_loopback: bool) -> str | None:
    """Why this issuer URL must not be used, or None. Plain http only on loopback, for demos."""
    if not issuer:
        return "LEERID_ISSUER is not set."
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return "LEERID_ISSUER must be a plain https URL without query or fragment."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        if debug or allow_insecure_loopback:
            return None
        return "An http:// LEERID_ISSUER needs DEBUG or ALLOW_INSECURE_LOOPBACK_ISSUER."
    return "LEERID_ISSUER must use https (http only on loopback for demos and tests)."


def configured_issuer() -> str:
    issuer = settings.LEERID_ISSUER
    problem = issuer_problem(
        issuer,
        debug=settings.DEBUG,
        allow_insecure_loopback=settings.ALLOW_INSECURE_LOOPBACK_ISSUER,
    )
    if problem:
        raise ProviderMisconfigured(problem)
    return issuer


USER_AGENT = "i-Learn-Auth"

# --- HTTP ----------------------------------------------------------------------------------

_session_lock = threading.Lock()
_session: OPClient | requests.Session | None = None


def http() -> OPClient | requests.Session:
    """The process-wide client: pooled keep-alive connections to the OP, no retries.

    ``OPClient`` (urllib3 directly: a millisecond and a half less CPU per call than
    ``requests``); a ``requests.Session`` when the environment names a proxy, for its
    ``no_proxy`` rules. Neither keeps cookies between calls.
    """
    global _session
    with _session_lock:
        if _session is None:
            if any(key != "no" for key in getproxies()):
                _session = _proxied_session()
            else:
                _session = OPClient(user_agent=USER_AGENT)
        return _session


def _proxied_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # One session serves every pupil: never keep a cookie from one login for the next.
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def timeouts() -> tuple[float, float]:
    return (settings.LEERID_CONNECT_TIMEOUT, settings.LEERID_READ_TIMEOUT)


def _get_json(url: str, *, endpoint: str) -> tuple[dict[str, Any], Any]:
    from ilearn_auth import metrics  # not at import: the settings import this module

    started = time.monotonic()
    try:
        try:
            response = http().get(url, timeout=timeouts(), headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            metrics.op_request_done(
                endpoint=endpoint, seconds=time.monotonic() - started, error=exc
            )
            raise
        metrics.op_request_done(
            endpoint=endpoint, seconds=time.monotonic() - started, response=response
        )
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        # Exception text would carry URLs and hosts: name the kind only.
        raise ProviderUnavailable(type(exc).__name__) from None
    if not isinstance(body, dict):
        raise ProviderUnavailable("not a JSON object")
    return body, response


# --- Discovery -----------------------------------------------------------------------------

REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


@dataclass
class _MetadataCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    issuer: str = ""
    metadata: dict[str, Any] | None = None
    expires_at: float = 0.0


_metadata_cache = _MetadataCache()


def discovery_document() -> dict[str, Any]:
    """The OP's discovery document, from cache when fresh. Raises on any problem."""
    issuer = configured_issuer()
    cache = _metadata_cache
    now = time.time()
    if cache.metadata is not None and cache.issuer == issuer and now < cache.expires_at:
        return cache.metadata
    with cache.lock:
        if cache.metadata is not None and cache.issuer == issuer and now < cache.expires_at:
            return cache.metadata
        try:
            metadata, _ = _get_json(
                issuer.rstrip("/") + "/.well-known/openid-configuration", endpoint="discovery"
            )
        except ProviderUnavailable:
            # A stale document of the same issuer is better than no logins during a hiccup.
            if cache.metadata is not None and cache.issuer == issuer:
                return cache.metadata
            raise
        missing = [name for name in REQUIRED_METADATA if not metadata.get(name)]
        if missing:
            raise ProviderUnavailable("discovery lacks " + ",".join(missing))
        if metadata["issuer"] != issuer:
            # OpenID Connect Discovery 4.3: the issuer must be exactly the one we asked.
            raise ProviderMisconfigured("the OP's metadata names another issuer")
        cache.issuer = issuer
        cache.metadata = metadata
        cache.expires_at = now + settings.LEERID_METADATA_TTL
        return metadata


# --- Signing keys ----------------------------------------------------------------------------

_MAX_AGE = re.compile(r"max-age=(\d+)")


def _usable_for_rs256(jwk: dict[str, Any]) -> bool:
    return (
        jwk.get("kty") == "RSA"
        and jwk.get("use", "sig") == "sig"
        and jwk.get("alg", "RS256") == "RS256"
    )


@dataclass
class _KeyCache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    uri: str = ""
    keys: list[jwt.PyJWK] = field(default_factory=list)
    expires_at: float = 0.0
    fetched_at: float = float("-inf")


_key_cache = _KeyCache()


def _fetch_keys(uri: str) -> tuple[list[jwt.PyJWK], float]:
    body, response = _get_json(uri, endpoint="jwks")
    raw_keys = body.get("keys")
    if not isinstance(raw_keys, list):
        raise ProviderUnavailable("JWKS without keys")
    keys = []
    for raw in raw_keys:
        if isinstance(raw, dict) and _usable_for_rs256(raw):
            try:
                keys.append(jwt.PyJWK(raw, algorithm="RS256"))
            except jwt.PyJWTError:
                continue  # one broken key must not hide the good ones
    ttl = settings.LEERID_JWKS_TTL
    match = _MAX_AGE.search(response.headers.get("Cache-Control", ""))
    if match:
        # Honour the OP's cache header, within sane bounds.
        ttl = min(max(int(match.group(1)), 60), 86400)
    return keys, ttl


def signing_keys(*, refresh: bool = False) -> list[jwt.PyJWK]:
    """The OP's RS256 signing keys. ``refresh`` asks for a refetch (rate-limited)."""
    uri = discovery_document()["jwks_uri"]
    cache = _key_cache
    with cache.lock:
        now = time.time()
        fresh = cache.uri == uri and now < cache.expires_at
        may_refetch = now - cache.fetched_at >= settings.LEERID_JWKS_REFETCH_INTERVAL
        if fresh and not (refresh and may_refetch):
            return cache.keys
        if cache.uri == uri and cache.keys and not may_refetch:
            return cache.keys
        try:
            keys, ttl = _fetch_keys(uri)
        except ProviderUnavailable:
            if cache.uri == uri and cache.keys:
                cache.fetched_at = now  # back off before trying again
                return cache.keys
            raise
        cache.uri, cache.keys = uri, keys
        cache.fetched_at, cache.expires_at = now, now + ttl
        return keys


def reset_caches() -> None:
    """Forget metadata and keys (tests, and after changing LEERID_ISSUER at run time)."""
    global _metadata_cache, _key_cache
    _metadata_cache = _MetadataCache()
    _key_cache = _KeyCache()
