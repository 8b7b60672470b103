"""Stock mozilla-django-oidc with its documented RS256 settings and Django's defaults."""

from __future__ import annotations

import os

from ilearn_auth.settings import *  # noqa: F403
from ilearn_auth.settings import DATABASES, MIDDLEWARE

MIDDLEWARE = ["bench.login_apps.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.login_apps"
AUTHENTICATION_BACKENDS = ["bench.login_apps.StockBackend"]
# Django's defaults: a new database connection per request, sessions in the database.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_CACHE_ALIAS = "default"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

_issuer = os.environ["LEERID_ISSUER"]
OIDC_RP_CLIENT_ID = os.environ["STOCK_CLIENT_ID"]
OIDC_RP_CLIENT_SECRET = os.environ["STOCK_CLIENT_SECRET"]
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid profile"
OIDC_OP_AUTHORIZATION_ENDPOINT = f"{_issuer}/auth"
OIDC_OP_TOKEN_ENDPOINT = f"{_issuer}/token"
OIDC_OP_USER_ENDPOINT = f"{_issuer}/me"
OIDC_OP_JWKS_ENDPOINT = f"{_issuer}/jwks"
OIDC_USE_PKCE = False
LOGIN_REDIRECT_URL = "/bench-home/"
