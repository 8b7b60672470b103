"""The checks on the secrets settings.py reads: real values off DEBUG, placeholders on it.

settings.py reads each variable from the environment and hands its value here; this module
reads no environment. With DEBUG on, an unset secret becomes its development placeholder; with
DEBUG off, an unset, placeholder, short or (for Fernet keys) malformed value stops the start.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# Development placeholders: accepted only with DEBUG on, refused by name otherwise.
DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production-0000000000"  # noqa: S105
DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-never-use-in-production-000000"
DEV_FIELD_ENCRYPTION_KEY = "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="
MIN_SECRET_LENGTH = 32
# Said with the refusal, so a developer running a bare manage.py knows the way out.
_DEV_HINT = " (set it in .env, or run with DEBUG=true on a development checkout)."


def checked_secret(name: str, value: str, dev_default: str, *, debug: bool) -> str:
    if debug:
        return value or dev_default
    if not value:
        raise ImproperlyConfigured(f"{name} is required when DEBUG is off{_DEV_HINT}")
    if value == dev_default or value.startswith(("change-me", "dev-only")):
        raise ImproperlyConfigured(f"{name} still has a placeholder value; set a real secret.")
    if len(value) < MIN_SECRET_LENGTH:
        raise ImproperlyConfigured(f"{name} must be at least {MIN_SECRET_LENGTH} characters long.")
    return value


def checked_encryption_keys(name: str, raw: str, *, debug: bool) -> list[str]:
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        if debug:
            return [DEV_FIELD_ENCRYPTION_KEY]
        raise ImproperlyConfigured(f"{name} is required when DEBUG is off{_DEV_HINT}")
    for key in keys:
        if key == DEV_FIELD_ENCRYPTION_KEY and not debug:
            raise ImproperlyConfigured(f"{name} still holds the development key; generate one.")
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"{name} holds a value that is not a Fernet key (32 url-safe base64 bytes)."
            ) from exc
    return keys
