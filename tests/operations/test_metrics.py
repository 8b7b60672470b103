"""/metrics: Prometheus text for listed addresses only, with the state of retention and the log."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

import privacy
from ilearn_auth import metrics
from privacy.metrics import verification_finished
from retention.models import RetentionRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def allowed(settings):
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.1.0.0/16"]


def test_it_hides_metrics_from_unlisted_addresses(client, settings):
    """Nobody is listed by default: a 404, as if there were no such page."""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404


def test_it_serves_listed_addresses_and_networks(client, allowed):
    """A listed address and an address in a listed network get the Prometheus text."""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 404


def test_it_refuses_what_came_through_the_proxy(client, allowed):
    """A request relayed by the proxy (X-Forwarded-For) is refused even from a listed address."""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert response.status_code == 404


def test_it_counts_logins_by_outcome_and_reason(client, allowed):
    """login_decided shows up as a labelled counter."""
    metrics.login_decided(outcome="refused", reason="no_agreement")
    body = client.get("/metrics").content.decode()
    assert 'ilearn_logins_total{outcome="refused",reason="no_agreement"}' in body


def test_it_counts_privacy_log_writes(client, allowed):
    """Every privacy.log call is counted by action and outcome."""
    privacy.log("retention_purge", actor="system", details={"counts": {}})
    body = client.get("/metrics").content.decode()
    assert 'ilearn_privacy_log_writes_total{action="retention_purge",outcome="success"}' in body


def test_it_reports_retention_rows_and_freshness_per_rule(client, allowed):
    """The newest successful run of each rule gives its rows and its finishing time."""
    now = timezone.now()
    for hours, counts in ((30, {"snapshots": 7}), (2, {"snapshots": 3, "accounts": 1})):
        RetentionRun.objects.create(
            started_at=now - timedelta(hours=hours),
            finished_at=now - timedelta(hours=hours),
            status=RetentionRun.Status.SUCCESS,
            counts=counts,
        )
    body = client.get("/metrics").content.decode()
    assert 'ilearn_retention_rows{rule="snapshots"} 3.0' in body
    assert 'ilearn_retention_rows{rule="accounts"} 1.0' in body
    assert 'ilearn_retention_last_success_timestamp_seconds{rule="snapshots"}' in body
    assert "ilearn_metrics_database_up 1.0" in body


def test_it_reports_the_last_verification(client, allowed):
    """A broken chain found by the last verification is a 0, for an alert."""
    verification_finished(ok=False, entries=12)
    body = client.get("/metrics").content.decode()
    assert "ilearn_privacy_log_last_verification_ok 0.0" in body
    assert "ilearn_privacy_log_verified_entries 12.0" in body


def test_a_failed_callback_is_counted_with_its_reason_and_timed(client, allowed):
    """The login path's own hooks: the failure's category and reason, and the callback time."""
    client.get("/oidc/callback/", {"code": "c", "state": "never-issued"})
    body = client.get("/metrics").content.decode()
    assert 'ilearn_logins_total{outcome="broken",reason="state_missing"}' in body
    assert "ilearn_login_callback_seconds_count" in body


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the sealer is PostgreSQL's (set DATABASE_URL)"
)
def test_it_reports_how_far_the_sealer_lags(client, allowed, settings):
    """Entries written but not sealed: how many, and how long the oldest has waited."""
    from privacy.services import privacy_log_seal

    settings.PRIVACY_LOG_SEALER = True
    with time_machine.travel(timezone.now() - timedelta(minutes=5), tick=False):
        privacy.log("authn_logout", actor="system")
    privacy.log("authn_logout", actor="system")
    body = client.get("/metrics").content.decode()
    assert "ilearn_privacy_log_pending_entries 2.0" in body
    age = float(re.search(r"^ilearn_privacy_log_oldest_pending_age_seconds (\S+)$", body, re.M)[1])
    assert 299 <= age < 400
    privacy_log_seal()
    body = client.get("/metrics").content.decode()
    assert "ilearn_privacy_log_pending_entries 0.0" in body
    assert "ilearn_privacy_log_oldest_pending_age_seconds 0.0" in body
