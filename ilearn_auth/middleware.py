"""A request id for every request, carried into log lines and privacy-log entries.

The id itself lives in ``privacy.context`` (privacy imports no app of ours); this middleware
binds it for the request and names it in the ``X-Request-ID`` response header.
"""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from privacy.context import current_request_id, request_id_bound

# The one shape we make and take: 32 lower-case hex digits (as nginx's $request_id). Anything
# else in the header is replaced, so a client cannot write its own text into the privacy log.
_REQUEST_ID = re.compile(r"[0-9a-f]{32}")


def request_id_for(request: HttpRequest) -> str:
    """The proxy's X-Request-ID when ``REQUEST_ID_FROM_PROXY`` trusts it and it has our shape;
    otherwise a new random one. Any client can send the header: only a proxy that sets it
    (overwriting the client's) may be trusted."""
    if settings.REQUEST_ID_FROM_PROXY:
        incoming = request.headers.get("X-Request-ID", "")
        if _REQUEST_ID.fullmatch(incoming):
            return incoming
    return new_request_id()


def new_request_id() -> str:
    """32 random hex digits whose 13th is 0: never a UUID's layout (its version digit is 1-8),
    so the log redaction of LeerID keys written without hyphens leaves request ids alone."""
    digits = secrets.token_hex(16)
    return digits[:12] + "0" + digits[13:]


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.request_id = request_id
        with request_id_bound(request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True
