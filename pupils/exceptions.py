from __future__ import annotations

from django.db import DatabaseError


class PupilLookupConflict(DatabaseError):
    """The pupils reached by a login kept changing under us (concurrent merges).

    Transient, like a serialization failure: a ``DatabaseError``, so the login path answers
    "try again in a moment" as it does for any passing database trouble.
    """


class PupilNotGranted(ValueError):
    """``pupil_record_login`` was called for a pupil the login decision did not let in."""


class PupilInactive(Exception):
    """The pupil's account is deactivated: a login is refused and nothing of it is recorded."""

    def __init__(self, pseudonym: str) -> None:
        super().__init__("the pupil's account is deactivated")
        self.pseudonym = pseudonym
