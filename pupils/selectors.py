"""Reads about pupils that are not trivial."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from privacy.pseudonyms import typed_key, typed_key_pseudonym
from pupils.models import AccountAlias, IdentitySnapshot, Pupil

_PSEUDONYM_PREFIX = re.compile(r"^[0-9a-f]{12,64}$")


def pupils_matching(text: str) -> QuerySet[Pupil]:
    """Pupils for a pseudonym (or its first 12+ characters), a public id (what i-Learn's front
    end knows), a LeerID key or an account key.

    A key is hashed on the fly and looked for as a pupil's pseudonym and among account aliases;
    a UUID is also tried as a public id (a random UUID never equals someone's key).
    32 hex digits may be a key without hyphens or a pseudonym prefix: the key is tried first.
    """
    text = text.strip().lower()
    pseudonym = typed_key_pseudonym(text)
    if pseudonym is not None:
        # IN over a UNION keeps every lookup on its unique index (an OR across the join
        # would scan every pupil).
        owners = (
            Pupil.objects.filter(pseudonym=pseudonym)
            .values("pk")
            .union(
                AccountAlias.objects.filter(pseudonym=pseudonym).values("pupil_id"),
                Pupil.objects.filter(public_id=uuid.UUID(typed_key(text))).values("pk"),
            )
        )
        by_key = Pupil.objects.filter(pk__in=owners)
        if "-" in text or by_key.exists():
            return by_key
    if _PSEUDONYM_PREFIX.match(text):
        return Pupil.objects.filter(pseudonym__startswith=text)
    return Pupil.objects.none()


def pupils_at_school(number: str) -> QuerySet[Pupil]:
    """Pupils whose last login listed this school (an instellingsnummer) among their
    enrollments. A pupil whose snapshot the 1-year rule deleted is no longer found this way."""
    return Pupil.objects.filter(snapshot__enrollments__icontains=f'"{number}"')


def pupils_signed_in_through(numbers: list[str], *, since: datetime) -> int:
    """How many pupils signed in through one of these schools (access granted by it) since
    ``since``: a count from the snapshots, which hold the last login only."""
    through = Q()
    for number in numbers:
        # The JSON text holds each number quoted: six digits in quotes match only that school.
        through |= Q(granted_schools__icontains=f'"{number}"')
    if not numbers:
        return 0
    return IdentitySnapshot.objects.filter(through, login_at__gte=since).count()
