"""The DPO dashboard: DPO group only, every chart as server-rendered SVG, counts from the
rollup, a bounded number of queries however much there is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dpo import services
from dpo.models import DailyCount
from privacy.models import Breach
from schools.models import Agreement, School

pytestmark = pytest.mark.django_db
CHARTS = (
    "chart-logins",
    "chart-retention",
    "chart-breaches",
    "chart-agreements",
    "chart-verification",
)


def seed_rollup(days: int) -> None:
    today = services.brussels_today()
    rows = []
    for n in range(1, days + 1):
        day = today - timedelta(days=n)
        rows += [
            DailyCount(day=day, metric="login_granted", key="", count=1000 + n),
            DailyCount(day=day, metric="login_refused", key="no_agreement", count=7),
            DailyCount(day=day, metric="login_refused", key="not_enrolled", count=3),
            DailyCount(day=day, metric="pupils", key="", count=50_000),
            DailyCount(day=day, metric="purged_accounts", key="", count=12),
        ]
    DailyCount.objects.bulk_create(rows)


def test_only_the_dpo_group_gets_in(client, dpo_user, agreements_user):
    url = reverse("dpo_dashboard")
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(agreements_user)
    assert client.get(url).status_code == 403
    client.force_login(dpo_user)
    assert client.get(url).status_code == 200


def test_every_chart_is_inline_svg_without_script(client, dpo_user):
    seed_rollup(100)
    now = timezone.now()
    Breach.objects.create(found_at=now - timedelta(hours=5), description="open")
    school = School.objects.create(instellingsnummer="031099", name="Fictieve school")
    Agreement.objects.create(
        school=school,
        valid_from=services.brussels_today() - timedelta(days=300),
        valid_until=services.brussels_today() + timedelta(days=12),
    )
    services.privacy_log_selfcheck()
    client.force_login(dpo_user)
    page = client.get(reverse("dpo_dashboard")).content.decode()
    for chart in CHARTS:
        assert f'<svg id="{chart}"' in page
    assert "<script" not in page.split('id="content-main"')[1]
    assert "http" not in "".join(
        part.split("</svg>")[0] for part in page.split("<svg")[1:]
    ).replace("http://www.w3.org/2000/svg", "")
    assert "no_agreement" in page
    assert "031099 Fictieve school" in page
    assert "nog 66 u" in page or "nog 67 u" in page  # the breach's countdown
    assert "in orde" in page


def test_an_empty_install_still_draws_every_chart(client, dpo_user):
    client.force_login(dpo_user)
    page = client.get(reverse("dpo_dashboard")).content.decode()
    for chart in CHARTS:
        assert f'<svg id="{chart}"' in page
    assert "Geen open gegevenslekken." in page
    assert "nog niet gecontroleerd" in page


def page_queries(client) -> list[str]:
    """The SQL of one dashboard request (a request's start clears Django's own query log)."""
    queries: list[str] = []

    def record(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get(reverse("dpo_dashboard")).status_code == 200
    return queries


def test_the_page_costs_the_same_with_three_years_of_rollup(client, dpo_user):
    client.force_login(dpo_user)
    seed_rollup(10)
    small = page_queries(client)
    DailyCount.objects.all().delete()
    seed_rollup(1096)
    large = page_queries(client)
    assert 5 < len(large) == len(small) < 25
    reads = [sql for sql in large if "dpo_dailycount" in sql]
    assert reads
    assert all(">=" in sql for sql in reads)  # bounded to the window shown


def test_the_admin_start_page_leads_the_dpo_to_the_dashboard(client, dpo_user, agreements_user):
    client.force_login(agreements_user)
    assert 'id="dpo-dashboard-link"' not in client.get(reverse("admin:index")).content.decode()
    client.force_login(dpo_user)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="dpo-dashboard-link"' in page
    assert reverse("dpo_dashboard") in page
