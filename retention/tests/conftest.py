"""Fixtures shared by retention's tests."""

from __future__ import annotations

import pytest
import time_machine

from retention.tests.factories import NOW


@pytest.fixture
def clock():
    """Time stands still at ``NOW``; shift it to let a period pass."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller
