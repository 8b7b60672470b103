"""Discovery, issuer checks, key caching, client authentication and readiness."""

from __future__ import annotations

import time

import jwt
import pytest
import time_machine

from ilearn_auth import health, oidc_config
from ilearn_auth.oidc_config import ProviderMisconfigured, issuer_problem
from tests.oidc.conftest import CLIENT_ID, CLIENT_SECRET, ISSUER, login, make_key
from tests.oidc.helpers import landed_on

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("issuer", "debug", "flag", "ok"),
    [
        ("https://authenticatie.vlaanderen.be/op", False, False, True),
        ("http://authenticatie.vlaanderen.be/op", True, True, False),
        ("http://127.0.0.1:9400", False, False, False),
        ("http://127.0.0.1:9400", True, False, True),
        ("http://localhost:9400", False, True, True),
        ("http://[::1]:9400", False, True, True),
        ("http://10.0.0.1:9400", True, True, False),
        ("https://leerid.test/op?x=1", False, False, False),
        ("", True, True, False),
    ],
)
def test_it_refuses_insecure_issuers(issuer, debug, flag, ok):
    """http:// issuers only on loopback with DEBUG or ALLOW_INSECURE_LOOPBACK_ISSUER."""
    problem = issuer_problem(issuer, debug=debug, allow_insecure_loopback=flag)
    assert (problem is None) == ok


def test_it_refuses_metadata_naming_another_issuer(client, op, monkeypatch):
    """Discovery whose issuer differs from LEERID_ISSUER: no login (503) and not ready."""
    metadata = op.metadata()
    monkeypatch.setattr(op, "metadata", lambda: {**metadata, "issuer": "https://other.test"})
    with pytest.raises(ProviderMisconfigured):
        oidc_config.discovery_document()
    assert landed_on(client, client.get("/oidc/authenticate/")) == (503, "op_misconfigured")
    check = health.check_leerid()
    assert (check.ok, check.detail) == (False, "misconfigured")


def test_it_reports_readiness_of_leerid(op):
    """Readiness passes with reachable, matching metadata and fails when LeerID is down."""
    assert health.check_leerid().ok
    oidc_config.reset_caches()
    op.down = True
    check = health.check_leerid()
    assert (check.ok, check.detail) == (False, "unreachable")


def test_it_refetches_metadata_after_its_ttl(op, settings):
    """Discovery is cached for LEERID_METADATA_TTL seconds, then fetched again."""
    with time_machine.travel(time.time(), tick=False) as clock:
        oidc_config.discovery_document()
        oidc_config.discovery_document()
        assert op.calls["discovery"] == 1
        clock.shift(settings.LEERID_METADATA_TTL + 1)
        oidc_config.discovery_document()
        assert op.calls["discovery"] == 2


def test_it_keeps_serving_stale_metadata_and_keys_during_an_op_hiccup(op, settings):
    """When a refresh fails, the last good metadata and keys keep logins going."""
    with time_machine.travel(time.time(), tick=False) as clock:
        keys = oidc_config.signing_keys()
        clock.shift(settings.LEERID_METADATA_TTL + settings.LEERID_JWKS_TTL + 1)
        op.down = True
        assert oidc_config.discovery_document()["issuer"] == ISSUER
        assert oidc_config.signing_keys() == keys


def test_it_honours_the_jwks_cache_header(op):
    """Cache-Control max-age on the JWKS sets how long keys are kept (bounded)."""
    op.jwks_headers = {"Cache-Control": "public, max-age=120"}
    with time_machine.travel(time.time(), tick=False) as clock:
        oidc_config.signing_keys()
        clock.shift(100)
        oidc_config.signing_keys()
        assert op.calls["jwks"] == 1
        clock.shift(30)
        oidc_config.signing_keys()
        assert op.calls["jwks"] == 2


def test_it_skips_keys_not_meant_for_rs256_signatures(op):
    """Encryption keys and other algorithms in the JWKS are not signing keys for us."""
    enc = make_key("enc", 1).public_jwk | {"use": "enc"}
    es = {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "x", "y": "y"}
    op.keys = [op.keys[0]]
    original = op.get

    def get(url, **kwargs):
        response = original(url, **kwargs)
        if url.endswith("/v1/keys"):
            response._body["keys"] += [enc, es]
        return response

    op.get = get
    assert [key.key_id for key in oidc_config.signing_keys()] == ["key-1"]


def test_it_authenticates_with_client_secret_basic_by_default(client, op, demo_schools):
    """client_secret_basic: the secret goes in the Authorization header, not the body."""
    login(client, op)
    [request] = op.token_requests
    assert request["auth"] == (CLIENT_ID, CLIENT_SECRET)
    assert "client_secret" not in request["data"]
    assert request["data"]["code_verifier"]


def test_it_authenticates_with_client_secret_post(client, op, demo_schools, settings):
    """client_secret_post: id and secret in the form body."""
    settings.LEERID_CLIENT_AUTH = "client_secret_post"
    login(client, op)
    [request] = op.token_requests
    assert request["auth"] is None
    assert request["data"]["client_secret"] == CLIENT_SECRET


def test_it_authenticates_with_private_key_jwt(client, op, demo_schools, settings):
    """private_key_jwt: aud is the issuer, exp under 10 minutes, a fresh jti each time."""
    from cryptography.hazmat.primitives import serialization

    client_key = make_key("rp-key", 1)
    settings.LEERID_CLIENT_AUTH = "private_key_jwt"
    settings.LEERID_PRIVATE_KEY = client_key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings.LEERID_PRIVATE_KEY_ID = "rp-key"
    login(client, op)
    client.post("/logout/")
    login(client, op)
    assertions = []
    for request in op.token_requests:
        data = request["data"]
        assert request["auth"] is None
        assert "client_secret" not in data
        assert data["client_assertion_type"].endswith(":jwt-bearer")
        assert jwt.get_unverified_header(data["client_assertion"])["kid"] == "rp-key"
        claims = jwt.decode(
            data["client_assertion"],
            client_key.private.public_key(),
            algorithms=["RS256"],
            audience=ISSUER,
        )
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert 0 < claims["exp"] - claims["iat"] < 600
        assertions.append(claims)
    assert assertions[0]["jti"] != assertions[1]["jti"]


def test_it_sends_pkce_s256_and_a_nonce(client, op):
    """The authorization request carries an S256 code challenge, a nonce and our scopes."""
    from tests.oidc.conftest import start_login

    params = start_login(client, op)
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["nonce"]
    assert params["scope"] == "openid profile vo ov_leerling"
