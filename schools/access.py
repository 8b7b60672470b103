"""The one question the login path asks: which of these schools may let pupils in today?"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
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
    wanted = sorted({number for number in numbers if isinstance(number, str)})
    if not wanted:
        return set()
    on = on if on is not None else timezone.localdate(timezone=BRUSSELS)
    if len(wanted) > _COMPILED_UP_TO:
        return set(_in_force(on, wanted))
    sql, slots = _compiled(len(wanted))
    day = connection.ops.adapt_datefield_value(on)
    params = [day if kind == "day" else wanted[value] if kind == "number" else value
              for kind, value in slots]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _in_force(on: dt.date, numbers: list[str]):
    return (
        Agreement.objects.filter(in_force_q(on), school__instellingsnummer__in=numbers)
        .values_list("school__instellingsnummer", flat=True)
        # No ordering: the model's default would join the DISTINCT and force a sort.
        .order_by()
        .distinct()
    )


# Every login asks this; building the query through the ORM cost more CPU than running it. Its
# SQL is made once per process and per count of numbers (a pupil has one to a few schools),
# from the same ORM query with stand-in values, whose places in the parameters say where the
# day and each number go.
_COMPILED_UP_TO = 8
_STAND_IN_DAY = dt.date(1, 1, 1)


@lru_cache(maxsize=_COMPILED_UP_TO)
def _compiled(count: int) -> tuple[str, tuple[tuple[str, Any], ...]]:
    stand_ins = [f"\x00stand-in-{index}" for index in range(count)]
    sql, params = _in_force(_STAND_IN_DAY, stand_ins).query.sql_with_params()
    day = connection.ops.adapt_datefield_value(_STAND_IN_DAY)
    slots = tuple(
        ("day", None) if param == day
        else ("number", stand_ins.index(param)) if param in stand_ins
        else ("value", param)
        for param in params
    )  # fmt: skip
    return sql, slots
