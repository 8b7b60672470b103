"""The HTTP client for LeerID's endpoints: urllib3's pool of kept-alive connections, directly.

A login makes two calls to LeerID (token, userinfo). Through ``requests`` each call cost about
a millisecond and a half of CPU before a byte left (session merging, hooks, cookie jars,
environment and CA-bundle look-ups, a check per call whether the CA bundle is a folder);
``requests`` itself sends through urllib3, which is what this uses, with the same guarantees:

- TLS verified against the same CA bundle as ``requests`` (certifi's, or ``REQUESTS_CA_BUNDLE``
  / ``CURL_CA_BUNDLE``); connections kept alive in a bounded pool shared by the process;
- a connect and a read timeout on every call, no retries;
- no cookies kept between calls (one client serves every pupil), and redirects are not
  followed: LeerID's endpoints answer JSON in place, so a redirect is an error answer.

The surface is the part of ``requests.Session`` the callers use (``get``, ``post``, a response
with ``status_code``, ``headers``, ``json()``, ``raise_for_status()``), and failures are raised
as ``requests`` exceptions, so callers catch one family whichever client serves them:
``oidc_config.http()`` keeps a ``requests.Session`` when a proxy is configured, for its
``no_proxy`` rules.
"""

from __future__ import annotations

import json
import os
from base64 import b64encode
from typing import Any
from urllib.parse import urlencode

import certifi
import requests
import urllib3


class OPResponse:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.content = body

    def json(self) -> Any:
        return json.loads(self.content)  # ValueError on anything but JSON

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(f"{self.status_code}")


class OPClient:
    def __init__(self, *, user_agent: str, pool_size: int = 32) -> None:
        ca_bundle = (
            os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or certifi.where()
        )
        self.headers = {"User-Agent": user_agent}
        self._pool = urllib3.PoolManager(
            num_pools=4, maxsize=pool_size, cert_reqs="CERT_REQUIRED", ca_certs=ca_bundle
        )

    def get(
        self, url: str, *, timeout: tuple[float, float], headers: dict | None = None
    ) -> OPResponse:
        return self._send("GET", url, timeout=timeout, headers=headers)

    def post(
        self,
        url: str,
        *,
        timeout: tuple[float, float],
        data: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        headers: dict | None = None,
    ) -> OPResponse:
        headers = dict(headers or {})
        if auth is not None:
            pair = f"{auth[0]}:{auth[1]}".encode("latin1")
            headers["Authorization"] = "Basic " + b64encode(pair).decode("ascii")
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self._send("POST", url, timeout=timeout, headers=headers, body=body)

    def _send(
        self,
        method: str,
        url: str,
        *,
        timeout: tuple[float, float],
        headers: dict | None,
        body: str | None = None,
    ) -> OPResponse:
        try:
            response = self._pool.request(
                method,
                url,
                body=body,
                headers={**self.headers, **(headers or {})},
                timeout=urllib3.Timeout(connect=timeout[0], read=timeout[1]),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.TimeoutError as exc:
            raise requests.Timeout(type(exc).__name__) from None
        except urllib3.exceptions.HTTPError as exc:
            raise requests.ConnectionError(type(exc).__name__) from None
        return OPResponse(response.status, response.headers, response.data)
