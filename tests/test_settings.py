from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD = {
    "SECRET_KEY": "a" * 50,
    "PSEUDONYM_KEY": "b" * 40,
    "FIELD_ENCRYPTION_KEYS": "dGVzdC1maWVsZC1lbmNyeXB0aW9uLWtleS0wMDAwMDA=",
}


def load_settings(**overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {*GOOD, "DEBUG", "DATABASE_URL"}}
    env.update({"DEBUG": "false", "DJANGO_SETTINGS_MODULE": "ilearn_auth.settings"})
    env.update({k: v for k, v in {**GOOD, **overrides}.items() if v is not None})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_starts_with_real_secrets():
    """Production settings load when every secret is set."""
    result = load_settings()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "PSEUDONYM_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_it_refuses_a_missing_secret(name):
    """With DEBUG off, a missing secret stops startup and the error names it."""
    result = load_settings(**{name: ""})
    assert result.returncode != 0
    assert f"{name} is required" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "PSEUDONYM_KEY"])
def test_it_refuses_a_short_secret(name):
    """A short secret is refused by name."""
    result = load_settings(**{name: "short"})
    assert result.returncode != 0
    assert f"{name} must be at least" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "dev-only-secret-key-never-use-in-production-0000000000"),
        ("PSEUDONYM_KEY", "change-me-change-me-change-me-change-me-change-me"),
        ("FIELD_ENCRYPTION_KEYS", "ZGV2LW9ubHktZmllbGQta2V5LW5vdC1mb3ItcHJvZCE="),
    ],
)
def test_it_refuses_a_placeholder_secret(name, value):
    """The development placeholders are refused when DEBUG is off."""
    result = load_settings(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_it_refuses_a_malformed_encryption_key():
    """An encryption key that is not a Fernet key is refused by name."""
    result = load_settings(FIELD_ENCRYPTION_KEYS="not-a-key")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key" in result.stderr


def test_it_uses_dutch_and_brussels_time():
    """The product speaks Dutch first and keeps Brussels time."""
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "nl"
    assert [code for code, _ in settings.LANGUAGES] == ["nl", "en"]
    assert settings.TIME_ZONE == "Europe/Brussels"
    assert settings.USE_TZ
