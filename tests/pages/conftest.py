from __future__ import annotations

import pytest


@pytest.fixture
def demo_schools(db):
    from schools.demo import seed_demo_schools

    seed_demo_schools()
