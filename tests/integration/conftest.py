"""Real OpenID Providers in their own processes, on free loopback ports, for the whole flow.

- ``mock_op``: oidc-provider-mock (PyPI), the stand-in LeerID of `make run` (no kid, no PKCE
  check, issuer from the Host header).
- ``panva_op``: panva's oidc-provider (npm, OpenID Certified) from ``tests/op``: PKCE required,
  kid in every token, RFC 9207 ``iss`` on the callback, real RP-initiated logout.
  ``npm ci`` installs it on first use (node_modules is not committed).

Each login uses a fresh ``requests`` session, as a fresh browser would.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from ilearn_auth import oidc_config

ROOT = Path(__file__).resolve().parents[2]
OP_DIR = ROOT / "tests" / "op"
CLIENT_ID = "ilearn-integration"
CLIENT_SECRET = "integration-secret-0123456789abcdef"
KEY_CLIENT_ID = "ilearn-integration-pkjwt"


@functools.cache
def client_key() -> dict:
    """An RSA key for private_key_jwt, made once per test run."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    public_jwk.update({"kid": "rp-1", "use": "sig", "alg": "RS256"})
    return {"pem": pem, "public_jwk": public_jwk}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_discovery(issuer: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the OP process exited with code {process.returncode}")
        try:
            response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
            if response.ok and response.json().get("issuer") == issuer:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    pytest.fail(f"the OP at {issuer} did not answer within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class OP:
    issuer: str
    kind: str

    def set_user(self, user_id: str, claims: dict) -> None:
        response = requests.put(f"{self.issuer}/users/{user_id}", json=claims, timeout=5)
        assert response.status_code == 204, response.status_code


@pytest.fixture(scope="session")
def mock_op() -> Iterator[OP]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_discovery(issuer, process)
    yield OP(issuer=issuer, kind="mock")
    stop(process)


def ensure_npm_op() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the panva oidc-provider tests")
    if not (OP_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=OP_DIR,
            check=True,
            timeout=300,
        )


@pytest.fixture(scope="session")
def panva_op(live_server) -> Iterator[OP]:
    ensure_npm_op()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{live_server.url}/oidc/callback/"],
        "post_logout_redirect_uris": [f"{live_server.url}/login/"],
        "token_endpoint_auth_method": "client_secret_basic",
        "id_token_signed_response_alg": "RS256",
    }
    # The same RP registered once more with private_key_jwt (ACM's other client authentication).
    key_client = {
        **client,
        "client_id": KEY_CLIENT_ID,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [client_key()["public_jwk"]]},
    }
    del key_client["client_secret"]
    clients = [client, key_client]
    env = {**os.environ, "OP_PORT": str(port), "OP_CLIENTS": json.dumps(clients)}
    process = subprocess.Popen(
        ["node", "op.mjs"],
        cwd=OP_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_discovery(issuer, process)
    yield OP(issuer=issuer, kind="panva")
    stop(process)


def use_op(settings, op: OP) -> None:
    settings.LEERID_ISSUER = op.issuer
    settings.LEERID_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.LEERID_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.LEERID_CLIENT_AUTH = "client_secret_basic"
    # The live server speaks plain http: secure (and __Host-) cookies would never come back.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    settings.SESSION_COOKIE_NAME = "sessionid"
    oidc_config.reset_caches()


@pytest.fixture
def demo_schools(transactional_db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()


@pytest.fixture
def leerid(panva_op, settings, demo_schools):
    """panva's OP in use, with the demo pupils as its users."""
    from demo.pupils import DEMO_PUPILS

    use_op(settings, panva_op)
    for pupil in DEMO_PUPILS:
        panva_op.set_user(pupil.sub, pupil.leerid_claims())
    return panva_op


def sign_in(live_server, op: OP, user_id: str) -> tuple[requests.Session, requests.Response]:
    """A fresh browser signs in as ``user_id`` at the OP; returns it and the final page."""
    browser = requests.Session()
    start = browser.get(f"{live_server.url}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, start.status_code
    authorize = start.headers["Location"]
    assert authorize.startswith(op.issuer)
    if op.kind == "mock":
        # Its login form: POST the chosen sub to the same authorize URL.
        response = browser.post(authorize, data={"sub": user_id}, allow_redirects=True)
    else:
        # panva's interactions auto-approve the account named by login_hint.
        response = browser.get(f"{authorize}&login_hint={user_id}", allow_redirects=True)
    return browser, response


def csrf_token(page: requests.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def follow_form(browser: requests.Session, page: requests.Response) -> requests.Response:
    """Submits the OP's logout confirmation form with 'yes'."""
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text[:500]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(2)))
    fields["logout"] = "yes"
    return browser.post(urljoin(page.url, form.group(1)), data=fields, allow_redirects=True)
