"""Fictitious pupils made in code, with whatever login moment a test needs."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model

from privacy.pseudonyms import pseudonymize
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from retention import policy

# The tests' fixed now (the ``clock`` fixture, conftest.py) and the periods around it.
NOW = datetime(2027, 6, 15, 10, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
SECOND = timedelta(seconds=1)
BOTH = [policy.ACCOUNTS, policy.SNAPSHOTS]

_numbers = itertools.count(1)


def make_pupil(
    *, login_at: datetime, kind: str = Pupil.Kind.IDENTIFIED, snapshot: bool = True
) -> Pupil:
    """A pupil as a login leaves it: a user without personal data, a snapshot, one alias."""
    n = next(_numbers)
    account_uuid = uuid.uuid4()
    leer_id_uuid = uuid.uuid4() if kind == Pupil.Kind.IDENTIFIED else None
    user = get_user_model().objects.create_user(username=f"pupil-{uuid.uuid4().hex[:16]}")
    pupil = Pupil.objects.create(
        pseudonym=pseudonymize(str(leer_id_uuid or account_uuid)),
        kind=kind,
        user=user,
        last_login_at=login_at,
    )
    if snapshot:
        IdentitySnapshot.objects.create(
            pupil=pupil,
            family_name="Fictief",
            given_name=f"Testleerling {n}",
            leer_id_uuid=leer_id_uuid,
            account_uuid=account_uuid,
            enrollments=["012345"],
            granted_schools=["012345"],
            login_at=login_at,
        )
    AccountAlias.objects.create(pupil=pupil, pseudonym=pseudonymize(str(account_uuid)))
    return pupil
