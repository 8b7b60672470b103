"""A fake LeerID for unit tests: RSA keys made here, tokens signed here, HTTP answered in-process.

Only unit tests fake the HTTP layer; ``tests/integration`` runs real OpenID Providers.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ilearn_auth import oidc_config

ISSUER = "https://leerid.test/op"
CLIENT_ID = "ilearn-test"
CLIENT_SECRET = "test-client-secret-0123456789-abcdefghijk"


def _account(handle: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"leerid-test/{handle}"))


@dataclass
class Key:
    kid: str | None
    private: rsa.RSAPrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        jwk.update({"use": "sig", "alg": "RS256"})
        if self.kid:
            jwk["kid"] = self.kid
        return jwk

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


_KEY_POOL: list[rsa.RSAPrivateKey] = []


def make_key(kid: str | None, index: int) -> Key:
    # Generating RSA keys is slow: a few per session, reused under different kids.
    while len(_KEY_POOL) <= index:
        _KEY_POOL.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return Key(kid=kid, private=_KEY_POOL[index])


class FakeResponse:
    def __init__(self, status: int, body: Any = None, headers: dict | None = None) -> None:
        self.status_code = status
        self._body = body
        self.headers = headers or {}

    def json(self) -> Any:
        if isinstance(self._body, (str, bytes)):
            raise ValueError("not JSON")
        return self._body

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}")


def pupil_claims(**overrides: Any) -> dict[str, Any]:
    """LeerID claims of a fictitious identified pupil at a school with an agreement."""
    claims = {
        "sub": "sub-identified",
        "given_name": "Testa",
        "family_name": "Fictief",
        "ov_leerid_uuid": [_account("identified/leerid")],
        "ov_account_uuid": _account("identified/account"),
        "ov_inschrijvingen": ["012345"],
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


@dataclass
class FakeOP:
    """Discovery, JWKS, token and userinfo endpoints of a LeerID that tests can bend."""

    keys: list[Key]
    signing_key: Key
    claims: dict[str, Any] = field(default_factory=pupil_claims)
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    header_overrides: dict[str, Any] = field(default_factory=dict)
    userinfo: dict[str, Any] | None = None
    token_response: FakeResponse | None = None
    raw_id_token: str | None = None
    down: bool = False
    nonce: str = ""
    calls: Counter = field(default_factory=Counter)
    timeouts: list[Any] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    jwks_headers: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/v1/auth",
            "token_endpoint": f"{ISSUER}/v1/token",
            "userinfo_endpoint": f"{ISSUER}/v1/userinfo",
            "jwks_uri": f"{ISSUER}/v1/keys",
            "end_session_endpoint": f"{ISSUER}/v1/logout",
        }

    def id_token(self) -> str:
        if self.raw_id_token is not None:
            return self.raw_id_token
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": self.nonce,
            **self.claims,
            **self.id_token_overrides,
        }
        payload = {name: value for name, value in payload.items() if value is not None}
        headers = {"kid": self.signing_key.kid} if self.signing_key.kid else {}
        headers.update(self.header_overrides)
        headers = {name: value for name, value in headers.items() if value is not None}
        return jwt.encode(payload, self.signing_key.private, algorithm="RS256", headers=headers)

    # The requests.Session surface oidc_config uses.

    def get(self, url: str, *, timeout: Any = None, headers: dict | None = None, **_: Any):
        self.timeouts.append(timeout)
        if self.down:
            raise requests.ConnectTimeout("simulated")
        path = urlsplit(url).path
        if path.endswith("/.well-known/openid-configuration"):
            self.calls["discovery"] += 1
            return FakeResponse(200, self.metadata())
        if path.endswith("/v1/keys"):
            self.calls["jwks"] += 1
            return FakeResponse(
                200, {"keys": [key.public_jwk for key in self.keys]}, self.jwks_headers
            )
        if path.endswith("/v1/userinfo"):
            self.calls["userinfo"] += 1
            body = self.userinfo if self.userinfo is not None else {"sub": self.claims.get("sub")}
            if "sub" in body and body["sub"] is None:
                body = {k: v for k, v in body.items() if k != "sub"}
            return FakeResponse(200, body)
        return FakeResponse(404, {})

    def post(self, url: str, *, data=None, auth=None, timeout=None, headers=None, **_: Any):
        self.timeouts.append(timeout)
        if self.down:
            raise requests.ConnectTimeout("simulated")
        self.calls["token"] += 1
        self.token_requests.append({"data": dict(data or {}), "auth": auth})
        if self.token_response is not None:
            return self.token_response
        return FakeResponse(
            200, {"access_token": "at-1", "token_type": "Bearer", "id_token": self.id_token()}
        )


@pytest.fixture
def leerid_settings(settings):
    settings.LEERID_ISSUER = ISSUER
    settings.LEERID_CLIENT_ID = CLIENT_ID
    settings.LEERID_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.LEERID_CLIENT_AUTH = "client_secret_basic"
    settings.LEERID_REQUIRE_SUB = False
    settings.LEERID_USE_USERINFO = True
    settings.LEERID_JWKS_REFETCH_INTERVAL = 30
    return settings


@pytest.fixture
def signing_key() -> Key:
    return make_key("key-1", 0)


@pytest.fixture
def op(leerid_settings, signing_key, monkeypatch) -> FakeOP:
    fake = FakeOP(keys=[signing_key], signing_key=signing_key)
    oidc_config.reset_caches()
    monkeypatch.setattr(oidc_config, "_session", fake)
    yield fake
    oidc_config.reset_caches()


@pytest.fixture
def demo_schools(db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()


def start_login(client, op: FakeOP, next_url: str = "") -> dict[str, str]:
    """GET /oidc/authenticate/ and read state, nonce and PKCE from the redirect to the OP."""
    response = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302, response.status_code
    query = {
        name: values[0] for name, values in parse_qs(urlsplit(response["Location"]).query).items()
    }
    op.nonce = query.get("nonce", "")
    return query


def finish_login(client, params: dict[str, str], **extra: str):
    """The browser's return from LeerID to /oidc/callback/ with a code."""
    query = {"code": "code-1", "state": params["state"], **extra}
    return client.get("/oidc/callback/", query)


def login(client, op: FakeOP, **extra: str):
    return finish_login(client, start_login(client, op), **extra)
