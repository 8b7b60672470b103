"""LeerID settings that must stop startup (production settings, DEBUG off)."""

from __future__ import annotations

import pytest

from tests.test_settings import load_settings


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"LEERID_ISSUER": "http://authenticatie.vlaanderen.be/op"}, "LEERID_ISSUER"),
        (
            {"LEERID_ISSUER": "http://127.0.0.1:9400", "ALLOW_INSECURE_LOOPBACK_ISSUER": "false"},
            "ALLOW_INSECURE_LOOPBACK_ISSUER",
        ),
        ({"LEERID_CLIENT_AUTH": "client_secret_jwt"}, "LEERID_CLIENT_AUTH"),
        ({"LEERID_CLIENT_AUTH": "private_key_jwt", "LEERID_PRIVATE_KEY": ""}, "LEERID_PRIVATE_KEY"),
    ],
)
def test_it_refuses_unsafe_leerid_settings_at_startup(overrides, named):
    """An insecure issuer or an unusable client authentication stops startup, named."""
    result = load_settings(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


def test_it_starts_with_an_https_issuer():
    """A plain https issuer is accepted."""
    result = load_settings(LEERID_ISSUER="https://authenticatie-ti.vlaanderen.be/op")
    assert result.returncode == 0, result.stderr
