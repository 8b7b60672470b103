"""Who an agreement change shuts out: a count the pupils app provides.

Before staff suspend or end agreements, the confirmation page says how many pupils signed in
through those schools lately. Only the pupils app can count that (from its snapshots), and
``schools`` and ``pupils`` do not import each other, so the project registers pupils' counter
here at start-up (``IlearnAuthConfig.ready``). Without one, the page says nothing about pupils.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# (school numbers, since) -> how many pupils signed in through one of them since then.
SigninCounter = Callable[..., int]
RECENT_DAYS = 30

_counter: list[SigninCounter] = []


def signin_counter_register(counter: SigninCounter) -> None:
    _counter[:] = [counter]


def recent_signins(numbers: list[str], *, now: dt.datetime) -> int | None:
    """Pupils who signed in through these schools in the last ``RECENT_DAYS`` days, or None
    when no app counts them."""
    if not _counter:
        return None
    return _counter[0](numbers, since=now - dt.timedelta(days=RECENT_DAYS))
