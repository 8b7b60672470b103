"""Encryption at rest for personal data (names and LeerID keys), with keys that rotate.

``FIELD_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts (``MultiFernet``), so a
new key is put in front, ``rotate_encryption_keys`` re-encrypts, then the old key is dropped.
"""

from __future__ import annotations

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.db import models


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def _clear_cache(setting: str, **kwargs) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_clear_cache)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # The message names no value: the token itself is personal data in disguise.
        raise ValueError("encrypted field cannot be decrypted with the configured keys") from exc


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; reads give back the plain text."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return encrypt(value)


class EncryptedJSONField(models.TextField):
    """A JSON value (a list of keys, say) stored as one Fernet token; reads give the value."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return json.loads(decrypt(value))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return encrypt(json.dumps(value, separators=(",", ":")))
