"""Every page is sent with a Content-Security-Policy that allows this origin only."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/login/", "/privacy/", "/nergens/", "/admin/login/"])
def test_it_sends_a_strict_policy(client, path):
    """Scripts, styles and images from this origin only; no frames, no plugins."""
    policy = _policy(client.get(path))
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


def test_it_lets_forms_end_at_leerid_only(client, settings):
    """form-action: this origin and LeerID's (the login and logout redirects), nothing else."""
    settings.LEERID_ISSUER = "https://authenticatie-ti.vlaanderen.be/op"
    policy = _policy(client.get("/login/"))
    assert policy["form-action"] == ["'self'", "https://authenticatie-ti.vlaanderen.be"]
