"""Personas and helpers for the DPO workbench tests."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from dpo import protocol
from staff.testing import undertaking_signed


def make_staff(username: str, *groups: str, email: str = "") -> User:
    user = User.objects.create_user(
        username=username, password="a-long-test-password-1", email=email
    )
    user.is_staff = True
    user.save()
    undertaking_signed(user)  # Support and DPO need a confidentiality undertaking first
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def dpo_user(db) -> User:
    """Dirk, the data protection officer (DPO group), with a functional mail address."""
    return make_staff("dirk-dpo", "DPO", email="dpo@i-learn.example")


@pytest.fixture
def agreements_user(db) -> User:
    """Ann keeps the schools and agreements: no business on the DPO's dashboard."""
    return make_staff("ann-agreements", "Agreements")


@pytest.fixture(autouse=True)
def _tasks_run_in_the_test():
    """Tasks (and the mail task they queue) run here, also when REDIS_URL makes Celery send
    them to a broker: these tests check the work, not the transport (retention's tests do)."""
    from ilearn_auth.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture(autouse=True)
def _fresh_protocol_end_cache(settings):
    settings.PROTOCOL_END_CACHE_SECONDS = 0
    protocol.forget_cached_end()
    yield
    protocol.forget_cached_end()
