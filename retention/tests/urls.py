"""A one-view URLconf for the session test: it answers who the request is authenticated as."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path


def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.user.pk) if request.user.is_authenticated else "anonymous")


urlpatterns = [path("whoami/", whoami)]
