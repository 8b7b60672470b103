"""Demo schools for `make run` (filled in by the schools issue)."""

from __future__ import annotations


def seed_demo_schools() -> None:
    """Create the demo schools and agreements; idempotent."""
