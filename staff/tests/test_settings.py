"""The staff settings: a bad TRUSTED_PROXIES entry stops start-up; an empty one trusts nobody."""

from __future__ import annotations

from tests.test_settings import load_settings


def test_it_refuses_a_trusted_proxy_that_is_not_an_address():
    """TRUSTED_PROXIES=proxy.example is refused by name (only addresses and networks)."""
    result = load_settings(TRUSTED_PROXIES="10.0.0.5,proxy.example")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES holds 'proxy.example'" in result.stderr


def test_it_accepts_addresses_and_networks_or_nothing():
    """Addresses, networks (IPv4 and IPv6) and an empty value all start."""
    for value in ("10.0.0.5,172.16.0.0/12,fd00::/8", ""):
        result = load_settings(TRUSTED_PROXIES=value)
        assert result.returncode == 0, result.stderr
