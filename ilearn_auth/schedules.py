"""A beat schedule on the clock every N seconds, for tests and drills (RETENTION_SCHEDULE_SECONDS).

Celery's plain interval counts from each beat's own start, so two beats would fire out of step;
``crontab`` (the production schedule) fires on the wall clock, so two beats fire together.
``EverySeconds`` keeps that property at a few seconds' period: it fires on multiples of N
seconds since the epoch, whichever beat asks.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from celery.schedules import schedstate, schedule


class EverySeconds(schedule):
    def __init__(self, seconds: float, **kwargs) -> None:
        super().__init__(run_every=timedelta(seconds=seconds), **kwargs)

    def __reduce__(self):
        return self.__class__, (self.run_every.total_seconds(),)

    def is_due(self, last_run_at: datetime) -> schedstate:
        period = self.run_every.total_seconds()
        now = self.now().timestamp()
        next_slot = (
            math.floor(self.maybe_make_aware(last_run_at).timestamp() / period) + 1
        ) * period
        if now >= next_slot:
            return schedstate(is_due=True, next=period - now % period)
        return schedstate(is_due=False, next=next_slot - now)
