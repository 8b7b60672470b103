"""Test settings: the production settings with test secrets and what only tests need."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-secret-key-for-the-suite-only-0123456789abcdef")
os.environ.setdefault("PSEUDONYM_KEY", "test-pseudonym-key-for-the-suite-only-0123456789ab")
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0wMDAwMDA=,b2xkLXRlc3QtZmllbGQtZW5jcnlwdGlvbi1rZXktMDA=",
)
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("ALLOW_INSECURE_LOOPBACK_ISSUER", "true")

from ilearn_auth.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests render pages without running collectstatic first: no manifest of hashed names needed.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves the apps' static folders directly (no STATIC_ROOT to scan in tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Tests read an entry right after writing it; the sealer's tests turn it on themselves.
PRIVACY_LOG_SEALER = False
CELERY_BEAT_SCHEDULE.pop("privacy-log-seal", None)  # noqa: F405
