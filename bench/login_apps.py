"""What bench/login.py runs under gunicorn besides our own app.

- ``QueryCountMiddleware``: outermost middleware in both apps; answers every request with
  ``X-Bench-Queries``, the number of SQL statements it ran (sessions included).
- The **stock** reference: mozilla-django-oidc 5.0.2 as its documentation configures it for
  RS256 (static endpoints, ``OIDC_OP_JWKS_ENDPOINT``), users keyed on ``sub``, Django's defaults
  (no persistent connections, sessions in the database).
"""

from __future__ import annotations

import os
import sys

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from ilearn_auth import health


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            if os.environ.get("BENCH_PRINT_SQL"):
                print("SQL", request.path, sql[:100], file=sys.stderr, flush=True)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(count)
        return response


class StockBackend(OIDCAuthenticationBackend):
    """The documented way to key users on ``sub`` instead of email."""

    def filter_users_by_claims(self, claims):
        sub = claims.get("sub")
        if not sub:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=sub)

    def create_user(self, claims):
        return self.UserModel.objects.create_user(claims["sub"])

    def verify_claims(self, claims):
        return "sub" in claims


def stock_home(request):
    return HttpResponse("signed in" if request.user.is_authenticated else "anonymous")


urlpatterns = [
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("bench-home/", stock_home),
    # The driver waits on /healthz; the site's error pages link to the language switch.
    path("healthz", health.healthz),
    path("i18n/", include("django.conf.urls.i18n")),
]
