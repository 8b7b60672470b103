"""The one question the login path asks: which of these schools may let pupils in today?"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.utils import timezone

from schools.models import Agreement
from schools.selectors import in_force_q

# The protocol's days are Belgian days, whatever TIME_ZONE the server runs with.
BRUSSELS = ZoneInfo("Europe/Brussels")


def schools_with_agreement_in_force(
    numbers: Iterable[str], *, on: dt.date | None = None
) -> set[str]:
    """The instellingsnummers among ``numbers`` with an agreement in force on ``on``.

    ``on`` defaults to today in Europe/Brussels. A day is in force from ``valid_from`` through
    ``valid_until`` inclusive, for active agreements only. One query, whatever the count.
    """
    wanted = {number for number in numbers if isinstance(number, str)}
    if not wanted:
        return set()
    on = on if on is not None else timezone.localdate(timezone=BRUSSELS)
    rows = (
        Agreement.objects.filter(in_force_q(on), school__instellingsnummer__in=wanted)
        .values_list("school__instellingsnummer", flat=True)
        # No ordering: the model's default would join the DISTINCT and force a sort.
        .order_by()
        .distinct()
    )
    return set(rows)
