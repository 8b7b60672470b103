from __future__ import annotations


class PrivacyLogError(ValueError):
    """An entry that must not be written: unknown action, a malformed actor, personal data..."""
