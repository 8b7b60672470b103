"""A request id for every request, carried into log lines and privacy-log entries.

The id itself lives in ``privacy.context`` (privacy imports no app of ours); this middleware
binds it for the request and names it in the ``X-Request-ID`` response header.
"""

from __future__ import annotations

import logging
import re
import uuid

from django.http import HttpRequest, HttpResponse

from privacy.context import current_request_id, request_id_bound

# An id from a trusted proxy is reused only when it is short and plain, so it cannot smuggle data.
_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        with request_id_bound(request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True
