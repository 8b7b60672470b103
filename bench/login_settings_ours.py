"""Our production settings, as deployed, plus the benchmark's query counter."""

from __future__ import annotations

from ilearn_auth.settings import *  # noqa: F403
from ilearn_auth.settings import MIDDLEWARE

MIDDLEWARE = ["bench.login_apps.QueryCountMiddleware", *MIDDLEWARE]
