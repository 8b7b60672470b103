"""The request id of the work in progress, for privacy-log entries and log lines.

It lives here, in the room that imports no app of ours, so ``privacy`` can read it without
importing the project: ``ilearn_auth.middleware.RequestIdMiddleware`` binds it for each request
(``request_id_bound``); outside a request (Celery, commands) it is empty.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being served, or "" outside a request."""
    return _request_id.get()


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Everything inside (in this thread or task) runs with this request id."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
