"""The tests' short retention schedule fires on the clock, so two beats fire together."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

from ilearn_auth.schedules import EverySeconds

T0 = datetime(2026, 12, 7, 4, 0, 0, tzinfo=UTC)


def at(moment: datetime) -> EverySeconds:
    return EverySeconds(4, nowfun=lambda: moment)


def test_it_fires_on_multiples_of_its_period_whatever_the_last_run():
    """Two beats that last ran 1.5 s apart are both due at the same slot, and not before."""
    early, late = T0 + timedelta(seconds=0.5), T0 + timedelta(seconds=2.0)
    assert not at(T0 + timedelta(seconds=3.9)).is_due(early).is_due
    assert not at(T0 + timedelta(seconds=3.9)).is_due(late).is_due
    assert at(T0 + timedelta(seconds=4.1)).is_due(early).is_due
    assert at(T0 + timedelta(seconds=4.1)).is_due(late).is_due


def test_it_survives_beats_schedule_file():
    """Beat pickles its schedule into its state file and reads it back."""
    restored = pickle.loads(pickle.dumps(EverySeconds(4)))  # noqa: S301 - our own bytes
    assert restored.run_every == timedelta(seconds=4)
