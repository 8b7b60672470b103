from __future__ import annotations


class PupilLookupConflict(Exception):
    """The pupils reached by a login kept changing under us (concurrent merges); retry the login."""


class PupilNotGranted(ValueError):
    """``pupil_record_login`` was called for a pupil the login decision did not let in."""
