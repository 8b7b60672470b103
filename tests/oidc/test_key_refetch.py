"""The JWKS refetch rule: a rotation is followed at once, a flood of forged kids is not.

See ``ilearn_auth.oidc_config.signing_keys``: an unknown kid refetches at once; the same kid
at most once per LEERID_JWKS_REFETCH_INTERVAL; every fetch of the process within
LEERID_JWKS_FETCHES_PER_SECOND; a failed fetch backs off 1, 2, 4, ... seconds.
"""

from __future__ import annotations

import threading
import time
import uuid

import jwt
import pytest
import time_machine

from ilearn_auth import oidc_config
from ilearn_auth.failures import LoginFailure
from ilearn_auth.id_token import verify_signature_and_claims
from tests.oidc.conftest import CLIENT_ID, ISSUER, login, make_key
from tests.oidc.helpers import landed_on

pytestmark = pytest.mark.django_db


def forged_token(kid: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": now, "exp": now + 600, "nonce": "n"}
    return jwt.encode(claims, make_key(kid, 1).private, algorithm="RS256", headers={"kid": kid})


def refused_reason(token: str, kid: str) -> str:
    with pytest.raises(LoginFailure) as failure:
        verify_signature_and_claims(token, issuer=ISSUER, kid=kid)
    return failure.value.reason


def test_it_follows_a_rotation_one_second_after_the_first_fetch(client, op, demo_schools):
    """rp-key-rotation-op-sign-key: keys fetched, the OP rotates, a login 1 s later succeeds."""
    with time_machine.travel(time.time(), tick=False) as clock:
        assert login(client, op)["Location"] == "/"
        client.post("/logout/")
        rotated = make_key("key-2", 1)
        op.keys, op.signing_key = [rotated], rotated
        clock.shift(1)
        fetches = op.calls["jwks"]
        assert login(client, op)["Location"] == "/"
        assert op.calls["jwks"] == fetches + 1


def test_it_still_refuses_a_truly_unknown_kid_with_the_400_page(client, op):
    """A kid the OP does not publish, even after a refetch, ends on the 400 page."""
    op.signing_key = make_key("forged", 1)
    assert landed_on(client, login(client, op)) == (400, "id_token_unknown_kid")


def test_it_refetches_for_one_unknown_kid_at_most_once_per_interval(op, settings):
    """The same forged kid, again and again: one refetch per interval."""
    oidc_config.signing_keys()
    token = forged_token("forged")
    with time_machine.travel(time.time(), tick=False) as clock:
        for _ in range(10):
            assert refused_reason(token, "forged") == "id_token_unknown_kid"
            clock.shift(1)
        assert op.calls["jwks"] == 2
        clock.shift(settings.LEERID_JWKS_REFETCH_INTERVAL)
        refused_reason(token, "forged")
        assert op.calls["jwks"] == 3


def test_it_bounds_the_fetches_of_a_thousand_random_kids(op, settings):
    """1,000 tokens with random kids, over 10 s: at most the per-second ceiling's fetches."""
    oidc_config.signing_keys()
    rate = settings.LEERID_JWKS_FETCHES_PER_SECOND
    with time_machine.travel(time.time(), tick=False) as clock:
        for _ in range(1000):
            kid = uuid.uuid4().hex
            assert refused_reason(forged_token(kid), kid) == "id_token_unknown_kid"
            clock.shift(0.01)
    # The first fetch, then at most a full bucket plus what 10 s refill.
    assert op.calls["jwks"] <= 1 + rate + rate * 10
    assert op.calls["jwks"] > 2  # not one fetch per interval for all kids together


def test_it_fetches_once_for_a_class_signing_in_at_once_after_a_rotation(op):
    """25 logins with the new kid at the same moment: one fetch, every one finds the key."""
    oidc_config.signing_keys()
    rotated = make_key("key-2", 1)
    op.keys, op.signing_key = [rotated], rotated
    barrier = threading.Barrier(25)
    found: list[bool] = []

    def one_login() -> None:
        barrier.wait()
        keys = oidc_config.signing_keys(refresh=True, kid="key-2")
        found.append(any(key.key_id == "key-2" for key in keys))

    threads = [threading.Thread(target=one_login) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert found == [True] * 25
    assert op.calls["jwks"] == 2


def test_it_backs_off_after_failed_fetches_and_keeps_the_old_keys(op, monkeypatch):
    """The OP's JWKS fails: attempts 1, 2, 4 s apart; the keys held keep serving meanwhile."""
    keys = oidc_config.signing_keys()
    attempts = []
    original = op.get

    def failing_jwks(url, **kwargs):
        if url.endswith("/v1/keys"):
            attempts.append(time.time())
            raise oidc_config.requests.ConnectTimeout("simulated")
        return original(url, **kwargs)

    monkeypatch.setattr(op, "get", failing_jwks)
    with time_machine.travel(time.time(), tick=False) as clock:
        start = time.time()
        for _ in range(80):  # 8 s of new kids, one every 100 ms
            kid = uuid.uuid4().hex
            assert oidc_config.signing_keys(refresh=True, kid=kid) == keys
            clock.shift(0.1)
    offsets = [round(moment - start, 1) for moment in attempts]
    assert offsets == [0.0, 1.0, 3.0, 7.0]


def test_it_remembers_a_bounded_number_of_forged_kids(op):
    """2,000 distinct forged kids leave at most 1,024 remembered: memory does not grow."""
    oidc_config.signing_keys()
    with time_machine.travel(time.time(), tick=False) as clock:
        for _ in range(2000):
            oidc_config.signing_keys(refresh=True, kid=uuid.uuid4().hex)
            clock.shift(0.5)
    assert len(oidc_config._key_cache.refetched) <= 1024
