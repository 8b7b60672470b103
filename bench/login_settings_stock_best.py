"""Stock mozilla-django-oidc configured as a careful team would: otherwise as stock.

Persistent database connections (``CONN_MAX_AGE=60``, as Django's docs advise) and sessions
in ``cached_db`` (read from a cache shared by every worker, written through to the database).
The cache is Django's own Redis backend at ``REDIS_URL`` (a per-process memory cache would
serve stale sessions across workers).
"""

from __future__ import annotations

import os

from bench.login_settings_stock import *  # noqa: F403
from bench.login_settings_stock import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 60
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }
}
