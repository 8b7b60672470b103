"""LeerID down or hanging, over real sockets: the pupil gets the 503 page, not a wait or a 500."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ilearn_auth import oidc_config
from tests.integration.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


class HangingTokenEndpoint(BaseHTTPRequestHandler):
    """Discovery and keys answer; the token endpoint never does (within the test)."""

    def do_GET(self):
        issuer = f"http://127.0.0.1:{self.server.server_port}"
        if self.path == "/.well-known/openid-configuration":
            body = {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/auth",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
            }
        else:
            body = {"keys": []}
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        time.sleep(3)

    def log_message(self, *args):
        pass


@pytest.fixture
def hanging_op(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), HangingTokenEndpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LEERID_ISSUER = f"http://127.0.0.1:{server.server_port}"
    settings.LEERID_READ_TIMEOUT = 0.5
    oidc_config.reset_caches()
    yield server
    server.shutdown()
    oidc_config.reset_caches()


def _start_and_return(client) -> object:
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 302
    state = response["Location"].split("state=")[1].split("&")[0]
    return client.get("/oidc/callback/", {"code": "c", "state": state})


def test_it_answers_503_when_the_token_endpoint_hangs(client, hanging_op):
    """A token endpoint that does not answer within the read timeout: the 503 page."""
    response = _start_and_return(client)
    assert response["Location"] == "/login/failed/"
    page = client.get(response["Location"])
    assert page.status_code == 503
    assert page.context["reason"] == "op_unavailable"


def test_it_answers_503_when_nothing_listens_at_the_issuer(client, settings):
    """Connection refused at discovery: the 503 page at the start of the login."""
    settings.LEERID_ISSUER = f"http://127.0.0.1:{free_port()}"
    oidc_config.reset_caches()
    response = client.get("/oidc/authenticate/")
    page = client.get(response["Location"])
    assert page.status_code == 503
    assert "niet bereikbaar" in page.content.decode()
    oidc_config.reset_caches()
