"""Reads about pupils that are not trivial."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from privacy.pseudonyms import typed_key_pseudonym
from pupils.models import AccountAlias, Pupil

_PSEUDONYM_PREFIX = re.compile(r"^[0-9a-f]{12,64}$")


def pupils_matching(text: str) -> QuerySet[Pupil]:
    """Pupils for a pseudonym (or its first 12+ characters), a LeerID key or an account key.

    A key is hashed on the fly and looked for as a pupil's pseudonym and among account aliases.
    32 hex digits may be a key without hyphens or a pseudonym prefix: the key is tried first.
    """
    text = text.strip().lower()
    pseudonym = typed_key_pseudonym(text)
    if pseudonym is not None:
        # IN over a UNION keeps both lookups on their unique indexes (an OR across the join
        # would scan every pupil).
        owners = (
            Pupil.objects.filter(pseudonym=pseudonym)
            .values("pk")
            .union(AccountAlias.objects.filter(pseudonym=pseudonym).values("pupil_id"))
        )
        by_key = Pupil.objects.filter(pk__in=owners)
        if "-" in text or by_key.exists():
            return by_key
    if _PSEUDONYM_PREFIX.match(text):
        return Pupil.objects.filter(pseudonym__startswith=text)
    return Pupil.objects.none()
