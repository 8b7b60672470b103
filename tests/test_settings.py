from __future__ import annotations

import os
import re
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


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "ilearn_auth" / "settings.py").read_text()
    # env.str("X", ...), env.db("X"), and the secret helpers that call env.str(name).
    calls = r'(?:\benv(?:\.\w+)?|\b_secret|\b_encryption_keys)\(\s*"([A-Z][A-Z0-9_]*)"'
    return set(re.findall(calls, source))


def _undocumented(names: set[str], example: str) -> set[str]:
    """Names without a `NAME=` line (maybe commented out) or without a comment block that
    names them next to their default."""
    blocks, block = [], []
    for line in example.splitlines():
        if line.startswith("#"):
            block.append(line)
        else:
            blocks.append("\n".join(block))
            block = []
    blocks.append("\n".join(block))
    missing = set()
    for name in names:
        assigned = re.search(rf"^(# ?)?{name}=", example, re.MULTILINE)
        explained = any(re.search(rf"\b{name}\b", b) and "default" in b for b in blocks)
        if not (assigned and explained):
            missing.add(name)
    return missing


def test_it_documents_every_setting_variable_in_env_example():
    """Each variable settings.py reads from the environment has a line in .env.example and a
    comment giving its default."""
    names = _variables_read_by_settings()
    assert {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL", "LEERID_ISSUER"} <= names
    assert _undocumented(names, (ROOT / ".env.example").read_text()) == set()
    assert _undocumented({"NOT_A_VARIABLE"}, "# something (default: 1)\nOTHER=1\n") == {
        "NOT_A_VARIABLE"
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETENTION_SNAPSHOT_DAYS", "366"),
        ("RETENTION_SNAPSHOT_DAYS", "3650"),
        ("RETENTION_SNAPSHOT_DAYS", "0"),
        ("RETENTION_ACCOUNT_DAYS", "1096"),
        ("RETENTION_ACCOUNT_DAYS", "-1"),
    ],
)
def test_it_refuses_a_retention_period_outside_the_protocol(name, value):
    """Above the protocol's maximum (365 / 1,095 days) or below 1 day: refused by name."""
    result = load_settings(**{name: value})
    assert result.returncode != 0
    assert f"{name} must be between 1 and" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"), [("RETENTION_SNAPSHOT_DAYS", "30"), ("RETENTION_ACCOUNT_DAYS", "1095")]
)
def test_it_accepts_a_retention_period_within_the_protocol(name, value):
    """A shorter period, or exactly the maximum, is allowed."""
    result = load_settings(**{name: value})
    assert result.returncode == 0, result.stderr
