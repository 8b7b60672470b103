"""`make run` shows the DPO workbench filled: registers, a breach not overdue, dashboard data."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from dpo.models import DailyCount, LogVerification
from privacy.models import Breach, DataQualityReport, Processor

pytestmark = pytest.mark.django_db


def test_the_demo_has_registers_one_fresh_breach_and_dashboard_data(client, dpo_user):
    call_command("seed_demo")
    with time_machine.travel(dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)):
        call_command("seed_demo")  # a later `make run`: the breach is found anew, not overdue
        breach = Breach.objects.get()
        assert not breach.is_overdue()
        assert Processor.objects.filter(active=True).count() == 2
        assert DailyCount.objects.filter(metric="login_granted").count() >= 90
        assert LogVerification.objects.count() == 2
        assert all(check.ok for check in LogVerification.objects.all())
        assert DataQualityReport.objects.filter(status="draft").count() == 1
        client.force_login(dpo_user)
        page = client.get(reverse("dpo_dashboard")).content.decode()
    assert "031006 Demo-lyceum Afscheid" in page
    assert "gewijzigd sinds het laatste overzicht aan DOV" in page
    assert 'id="alarm-breaches"' not in page
