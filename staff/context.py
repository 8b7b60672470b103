"""Who is acting in this request, for the signal receivers that log changes of rights."""

from __future__ import annotations

import contextvars

from django.http import HttpRequest

_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "staff_request", default=None
)


def current_request() -> HttpRequest | None:
    return _request.get()


def set_current_request(request: HttpRequest | None) -> contextvars.Token:
    return _request.set(request)


def reset_current_request(token: contextvars.Token) -> None:
    _request.reset(token)


def current_actor() -> str:
    """``staff:<pk>`` of the signed-in user of this request, else ``system`` (a command, a task)."""
    request = current_request()
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return f"staff:{user.pk}"
    return "system"
