"""A refused request is one log line (who, path, permission), and staff refused on personal
data leave an ``authz_fail`` privacy-log entry."""

from __future__ import annotations

import logging

import pytest

from privacy.models import PrivacyLogEntry
from schools.tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def _staff(client, group: str):
    user = make_staff(f"fictief-{group.lower()}", group)
    client.force_login(user)
    return user


def test_it_logs_a_refusal_in_one_line_without_a_traceback(client, caplog):
    """Agreements staff opening the pupil list: one WARNING line, no traceback."""
    user = _staff(client, "Agreements")
    with caplog.at_level(logging.INFO):
        response = client.get("/admin/pupils/pupil/")
    assert response.status_code == 403
    assert "Geen toegang" in response.content.decode()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    record = warnings[0]
    assert record.exc_info is None and not record.exc_text
    message = record.getMessage()
    assert "\n" not in message
    assert message == (
        f"forbidden: user=staff:{user.pk} path=/admin/pupils/pupil/ permission=pupils.view_pupil"
    )
    assert user.username not in message


def test_it_writes_authz_fail_for_staff_refused_personal_data(client):
    """The refused look at the privacy log is itself in the privacy log, by pseudonym."""
    user = _staff(client, "Support")
    assert client.get("/admin/privacy/privacylogentry/").status_code == 403
    entry = PrivacyLogEntry.objects.get(action="authz_fail")
    assert entry.actor == f"staff:{user.pk}"
    assert entry.outcome == "failure"
    assert entry.details == {
        "page": "privacy_privacylogentry_changelist",
        "permission": "privacy.view_privacylogentry",
    }


def test_it_writes_no_authz_fail_for_pages_without_personal_data(client):
    """Support refused the schools list: one log line, nothing for the privacy log."""
    _staff(client, "Support")
    assert client.get("/admin/schools/agreement/").status_code == 403
    assert not PrivacyLogEntry.objects.filter(action="authz_fail").exists()


def test_it_serves_a_favicon(client):
    """/favicon.ico answers with an icon, not a 404 on every page."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"
