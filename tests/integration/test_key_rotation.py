"""A key rotation at the OP between two logins (OpenID rp-key-rotation-op-sign-key), live.

panva's oidc-provider (tests/op) signs with a new key after ``POST /rotate-keys``; the old key
leaves its JWKS at once. The second login comes a second or two after the first fetched the
keys: it must succeed, not wait out LEERID_JWKS_REFETCH_INTERVAL.
"""

from __future__ import annotations

import pytest
import requests

from tests.integration.conftest import sign_in

pytestmark = [pytest.mark.integration]


def published_kids(issuer: str) -> list[str]:
    jwks_uri = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5).json()[
        "jwks_uri"
    ]
    return [key["kid"] for key in requests.get(jwks_uri, timeout=5).json()["keys"]]


def test_it_signs_in_right_after_the_op_rotated_its_keys(live_server, leerid):
    """Login, rotation (new kid, old key gone), login again at once: both reach home."""
    _, first = sign_in(live_server, leerid, "geidentificeerd")
    assert first.url == f"{live_server.url}/", first.status_code
    old_kids = published_kids(leerid.issuer)

    rotated = requests.post(f"{leerid.issuer}/rotate-keys", timeout=10).json()["kid"]
    assert published_kids(leerid.issuer) == [rotated]
    assert rotated not in old_kids

    browser, second = sign_in(live_server, leerid, "twee-scholen")
    assert second.status_code == 200, second.text[-400:]
    assert second.url == f"{live_server.url}/"
    assert browser.get(f"{live_server.url}/api/me").json()["schools"] == ["047001"]
