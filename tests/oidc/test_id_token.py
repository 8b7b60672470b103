"""ID token validation (OpenID Connect Core 3.1.3.7), named after the OpenID RP conformance cases.

Every token is signed by the test with keys made by the test; the OP is the in-process fake.
"""

from __future__ import annotations

import time

import jwt
import pytest

from tests.oidc.conftest import CLIENT_ID, CLIENT_SECRET, login, make_key
from tests.oidc.helpers import landed_on, privacy_entries

pytestmark = pytest.mark.django_db


def _refused_as(client, op, reason: str) -> None:
    status, landed_reason = landed_on(client, login(client, op))
    assert (status, landed_reason) == (400, reason)
    assert not client.session.get("_auth_user_id")


def test_it_accepts_a_valid_token_and_signs_the_pupil_in(client, op, demo_schools):
    """The happy path: a correctly signed token for a pupil at a school with an agreement."""
    response = login(client, op)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session.get("_auth_user_id")


def test_it_rp_id_token_issuer_mismatch(client, op):
    """rp-id_token-issuer-mismatch: an iss other than the configured issuer is refused."""
    op.id_token_overrides["iss"] = "https://evil.test/op"
    _refused_as(client, op, "id_token_issuer_mismatch")


def test_it_rp_id_token_aud(client, op):
    """rp-id_token-aud: a token for another client is refused."""
    op.id_token_overrides["aud"] = "someone-else"
    _refused_as(client, op, "id_token_audience")


def test_it_refuses_several_audiences_without_azp(client, op):
    """With several audiences, azp must name us."""
    op.id_token_overrides["aud"] = [CLIENT_ID, "other-rp"]
    _refused_as(client, op, "id_token_azp")


def test_it_refuses_an_untrusted_extra_audience_even_with_our_azp(client, op):
    """With several audiences, each must be trusted, even when azp is ours."""
    op.id_token_overrides.update(aud=[CLIENT_ID, "other-rp"], azp=CLIENT_ID)
    _refused_as(client, op, "id_token_audience")


def test_it_accepts_a_trusted_extra_audience_with_our_azp(client, op, demo_schools, settings):
    """A trusted second audience with azp = our client id passes."""
    settings.LEERID_TRUSTED_AUDIENCES = ["ilearn-api"]
    op.id_token_overrides.update(aud=[CLIENT_ID, "ilearn-api"], azp=CLIENT_ID)
    assert login(client, op)["Location"] == "/"


def test_it_refuses_a_foreign_azp(client, op):
    """An azp that is not our client id is refused, even with one audience."""
    op.id_token_overrides["azp"] = "other-rp"
    _refused_as(client, op, "id_token_azp")


def test_it_rp_id_token_iat(client, op):
    """rp-id_token-iat: a token without iat is refused."""
    op.id_token_overrides["iat"] = None
    _refused_as(client, op, "id_token_missing_claim")


def test_it_refuses_a_token_issued_in_the_future(client, op):
    """An iat beyond the leeway in the future is refused."""
    op.id_token_overrides["iat"] = int(time.time()) + 3600
    _refused_as(client, op, "id_token_iat")


def test_it_refuses_an_expired_token(client, op):
    """An exp in the past (beyond the leeway) is refused with a page, not a 500."""
    op.id_token_overrides.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    _refused_as(client, op, "id_token_expired")


def test_it_refuses_a_token_without_exp(client, op):
    """exp is required."""
    op.id_token_overrides["exp"] = None
    _refused_as(client, op, "id_token_missing_claim")


def test_it_rp_id_token_bad_sig_rs256(client, op):
    """rp-id_token-bad-sig-rs256: a token signed by another key under our kid is refused."""
    op.signing_key = make_key("key-1", 1)
    _refused_as(client, op, "id_token_bad_signature")


def test_it_rp_id_token_sig_none(client, op):
    """rp-id_token-sig-none: an unsigned token (alg none) is refused."""
    payload = {"iss": "x", "aud": CLIENT_ID, "iat": int(time.time()), "exp": int(time.time()) + 60}
    op.raw_id_token = jwt.encode(payload, None, algorithm="none")
    _refused_as(client, op, "id_token_alg")


def test_it_refuses_hs256_signed_with_the_client_secret(client, op):
    """HS256 with the client secret (mozilla-django-oidc's default) is refused."""
    now = int(time.time())
    payload = {"iss": op.metadata()["issuer"], "aud": CLIENT_ID, "iat": now, "exp": now + 60}
    op.raw_id_token = jwt.encode(payload, CLIENT_SECRET, algorithm="HS256")
    _refused_as(client, op, "id_token_alg")


def test_it_refuses_hs256_signed_with_the_public_key_as_secret(client, op, signing_key):
    """The key-confusion attack: HS256 with the OP's public key as HMAC secret is refused."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": signing_key.kid}
    payload = {"iss": op.metadata()["issuer"], "aud": CLIENT_ID, "iat": now, "exp": now + 60}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.new(signing_key.public_pem, signing_input.encode(), hashlib.sha256).digest()
    op.raw_id_token = f"{signing_input}.{b64(signature)}"
    _refused_as(client, op, "id_token_alg")


def test_it_refuses_rs512(client, op, signing_key):
    """RS512, though a fine algorithm, is not what LeerID uses: refused."""
    now = int(time.time())
    payload = {"iss": op.metadata()["issuer"], "aud": CLIENT_ID, "iat": now, "exp": now + 60}
    op.raw_id_token = jwt.encode(
        payload, signing_key.private, algorithm="RS512", headers={"kid": signing_key.kid}
    )
    _refused_as(client, op, "id_token_alg")


def test_it_ignores_an_embedded_jwk_header(client, op):
    """A token signed by the attacker's key, carrying that key in a jwk header, is refused."""
    attacker = make_key("key-1", 1)
    op.signing_key = attacker
    op.header_overrides.update(jwk=attacker.public_jwk, jku="https://evil.test/keys")
    _refused_as(client, op, "id_token_bad_signature")


def test_it_rp_id_token_kid_absent_single_jwks(client, op, demo_schools):
    """rp-id_token-kid-absent-single-jwks: no kid and exactly one key: accepted."""
    op.signing_key = op.keys[0] = make_key(None, 0)
    assert login(client, op)["Location"] == "/"


def test_it_rp_id_token_kid_absent_multiple_jwks(client, op):
    """rp-id_token-kid-absent-multiple-jwks: no kid and several keys: refused cleanly."""
    op.keys = [make_key("key-1", 0), make_key("key-2", 1)]
    op.header_overrides["kid"] = None
    _refused_as(client, op, "id_token_kid_ambiguous")


def test_it_caches_the_jwks_between_logins(client, op, demo_schools):
    """A second login does not fetch the JWKS or the discovery document again."""
    login(client, op)
    client.post("/logout/")
    login(client, op)
    assert op.calls["jwks"] == 1
    assert op.calls["discovery"] == 1


def test_it_rp_nonce_invalid(client, op):
    """rp-nonce-invalid: a nonce other than the one we sent is refused."""
    op.id_token_overrides["nonce"] = "not-our-nonce"
    _refused_as(client, op, "nonce_mismatch")


def test_it_refuses_a_token_without_nonce(client, op):
    """A missing nonce is refused too."""
    op.id_token_overrides["nonce"] = None
    _refused_as(client, op, "nonce_mismatch")


def test_it_rp_userinfo_bad_sub_claim(client, op):
    """rp-userinfo-bad-sub-claim: userinfo about another sub is refused."""
    op.userinfo = {"sub": "someone-else", "given_name": "Other"}
    _refused_as(client, op, "userinfo_sub_mismatch")


def test_it_accepts_a_pupil_without_sub_by_default(client, op, demo_schools):
    """LeerID may omit sub: accepted (pupils are keyed on LeerID keys), unless required."""
    op.claims["sub"] = None
    assert login(client, op)["Location"] == "/"


def test_it_refuses_a_missing_sub_when_required(client, op, settings):
    """LEERID_REQUIRE_SUB makes sub mandatory."""
    settings.LEERID_REQUIRE_SUB = True
    op.claims["sub"] = None
    _refused_as(client, op, "missing_sub")


def test_it_refuses_garbage_instead_of_a_token(client, op):
    """An id_token that is not a JWT at all ends on the 400 page."""
    op.raw_id_token = "not-a-jwt"
    _refused_as(client, op, "id_token_malformed")
    entries = privacy_entries(action="authn_login_fail")
    assert [entry.reason for entry in entries] == ["id_token_malformed"]


@pytest.mark.parametrize("alg", ["eyJhb.eyJzd", "bearer x", "a\u0000b", "0a1b2c3d-4e5f"])
def test_it_refuses_a_forged_alg_with_a_page_and_a_clean_log_entry(client, op, alg):
    """An alg header shaped like a token, a credential or a key ends on the 400 page and in
    the privacy log under a fixed word; the header's text is neither logged nor a 500."""
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    op.raw_id_token = f"{header}.{b64(b'{}')}.{b64(b'signature')}"
    _refused_as(client, op, "id_token_alg")
    [entry] = privacy_entries(action="authn_login_fail")
    assert (entry.reason, entry.details) == ("id_token_alg", {"detail": "unsupported"})
