"""The daily checks: overdue breaches and the log's self-check, each mailed to the DPO; a mail
server that is down makes the mail task retry and leaves the dashboard showing the alert."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

import privacy
from dpo import services, tasks
from dpo.models import Alert, LogVerification
from privacy import actions
from privacy.models import Breach, PrivacyLogEntry
from privacy.tests.helpers import tamper

pytestmark = pytest.mark.django_db(transaction=True)


def write_entries(count: int) -> None:
    for _ in range(count):
        privacy.log("authn_login_success", actor="system", subject="ab" * 32)


def test_an_overdue_breach_is_marked_logged_and_mailed_once(dpo_user, settings):
    settings.DPO_EMAILS = ["dpo-team@i-learn.example"]
    now = timezone.now()
    late = Breach.objects.create(found_at=now - timedelta(hours=73), description="a")
    Breach.objects.create(found_at=now - timedelta(hours=71), description="not yet")
    Breach.objects.create(
        found_at=now - timedelta(hours=100),
        description="told in time",
        reported_to_authority_at=now - timedelta(hours=90),
    )
    Breach.objects.create(
        found_at=now - timedelta(hours=100),
        description="no risk",
        authority_notification_required=False,
    )
    assert tasks.check_breaches.delay().get() == 1
    late.refresh_from_db()
    assert late.overdue_at is not None
    assert list(Breach.objects.filter(overdue_at__isnull=False)) == [late]
    assert PrivacyLogEntry.objects.filter(
        action=actions.BREACH_OVERDUE, subject=f"breach:{late.pk}"
    ).exists()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dpo-team@i-learn.example", "dpo@i-learn.example"]
    assert f"gegevenslek {late.pk}" in message.subject
    # The next day: nothing new, no second mail.
    assert tasks.check_breaches.delay().get() == 0
    assert len(mail.outbox) == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nobody listens


def test_a_mail_server_that_is_down_retries_and_the_dashboard_shows_it(client, dpo_user, settings):
    Breach.objects.create(found_at=timezone.now() - timedelta(days=4), description="a")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    with (
        mock.patch("dpo.tasks.send_alerts.retry", side_effect=RuntimeError("retry")) as retry,
        pytest.raises(RuntimeError, match="retry"),
    ):
        tasks.check_breaches.delay()
    assert retry.called  # autoretry_for asked Celery for another attempt
    # The overdue mark is kept; the alert waits, with its error class.
    assert Breach.objects.get().overdue_at is not None
    alert = Alert.objects.get()
    assert (alert.mailed_at, alert.attempts, alert.last_error) == (
        None,
        1,
        "ConnectionRefusedError",
    )
    client.force_login(dpo_user)
    page = client.get(reverse("dpo_dashboard")).content.decode()
    assert 'id="alarm-mail"' in page
    assert 'id="alarm-breaches"' in page
    # The server is back: the retry sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_alerts.delay().get() == 1
    assert Alert.objects.get().mailed_at is not None
    assert 'id="alarm-mail"' not in client.get(reverse("dpo_dashboard")).content.decode()


def test_the_log_checks_itself_from_the_last_checkpoint(caplog):
    write_entries(3)
    with caplog.at_level(logging.INFO, logger="dpo.services"):
        first = tasks.verify_privacy_log.delay().get()
    check = LogVerification.objects.get()
    assert first == {"ok": True, "head": check.head_hash}
    assert check.ok and check.since_sequence is None and check.head_sequence == 3
    # The head hash of the day is in the application log, for an outsider to keep.
    assert f"privacy log head {check.head_hash} sequence 3: verified" in caplog.text
    entry = PrivacyLogEntry.objects.get(action=actions.PRIVACY_LOG_VERIFIED)
    assert entry.details == {"head_sequence": 3, "head_hash": check.head_hash}
    write_entries(2)
    tasks.verify_privacy_log.delay()
    second = LogVerification.objects.order_by("-pk").first()
    assert second.ok
    assert second.since_sequence == 3  # started from the stored checkpoint
    assert second.head_sequence == 6  # three, the first check's entry, two more


def test_a_broken_log_mails_the_dpo_and_turns_the_dashboard_red(client, dpo_user):
    write_entries(4)
    services.privacy_log_selfcheck()
    checked = LogVerification.objects.get().head_sequence
    write_entries(2)
    # The daily check walks what came since the last one (older changes: the weekly full walk).
    # Staff fixtures write entries of their own, so the target is counted from the checkpoint.
    target = checked + 1
    with transaction.atomic():  # tamper's SET LOCAL needs a transaction
        tamper("UPDATE privacy_log SET reason = 'forged' WHERE sequence = %s", [target])
    tasks.verify_privacy_log.delay()
    broken = LogVerification.objects.order_by("-pk").first()
    assert not broken.ok
    assert (broken.problem_sequence, broken.problem_kind) == (target, "changed")
    assert len(mail.outbox) == 1
    assert "privacylog" in mail.outbox[0].subject
    client.force_login(dpo_user)
    page = client.get(reverse("dpo_dashboard")).content.decode()
    assert 'id="alarm-log"' in page
    assert "NIET IN ORDE" in page


def test_a_rewritten_tail_is_caught_against_the_last_checkpoint():
    write_entries(5)
    services.privacy_log_selfcheck()
    with transaction.atomic():
        tamper("DELETE FROM privacy_log WHERE sequence >= 5")
    check = services.privacy_log_selfcheck()
    assert not check.ok
    assert check.problem_kind == "missing"
