"""The ``LOGGING`` dictionary: every line through the request-id and redacting filters.

settings.py reads ``LOG_LEVEL`` and ``LOG_FORMAT`` from the environment and builds the
dictionary here; this module reads no environment.
"""

from __future__ import annotations


def logging_config(*, log_format: str, log_level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "ilearn_auth.middleware.RequestIdLogFilter"},
            # Strips tokens, code/state values, claim values and UUIDs (LeerID keys) from every
            # line.
            "redact": {"()": "privacy.logging.RedactingFilter"},
        },
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            # LOG_FORMAT=json: one JSON object a line, for a log collector
            # (ilearn_auth/json_logs.py).
            "json": {"()": "ilearn_auth.json_logs.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id", "redact"],
            },
        },
        # Django's own defaults give "django" and "django.server" (request lines with query
        # strings) handlers without our filter; route them through the redacting console instead.
        "loggers": {
            "django": {"handlers": ["console"], "level": log_level, "propagate": False},
            "django.server": {"handlers": ["console"], "level": log_level, "propagate": False},
            # gunicorn's error log (the access log is configured in gunicorn.conf.py).
            "gunicorn.error": {"handlers": ["console"], "level": log_level, "propagate": False},
        },
        "root": {"handlers": ["console"], "level": log_level},
    }
