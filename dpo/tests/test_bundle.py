"""Proof on request: the evidence bundle, by command and by the DPO's button."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from dpo import services
from dpo.models import EvidenceBundle
from privacy import actions
from privacy.models import Breach, PrivacyLogEntry
from retention.models import RetentionRun

pytestmark = pytest.mark.django_db


def seed() -> None:
    Breach.objects.create(found_at=timezone.now() - timedelta(hours=100), description="fictief")
    RetentionRun.objects.create(
        started_at=timezone.now() - timedelta(days=10), status="success", counts={"accounts": 2}
    )
    RetentionRun.objects.create(
        started_at=timezone.now() - timedelta(days=401), status="success", counts={"accounts": 1}
    )
    services.privacy_log_selfcheck()


def test_the_command_writes_every_part_and_logs_it(tmp_path):
    seed()
    out = tmp_path / "bundle.zip"
    call_command("evidence_bundle", "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        for name in (
            "registers/processing_activities",
            "registers/breaches",
            "registers/processors",
            "registers/data_quality_reports",
            "retention/runs",
            "privacy_log/verifications",
            "roles/role_matrix",
        ):
            assert {f"{name}.csv", f"{name}.json"} <= names
        assert {"index.html", "manifest.json", "protocol/settings.json"} <= names
        runs = json.loads(archive.read("retention/runs.json"))
        assert len(runs) == 1  # the last 400 days only
        checks = json.loads(archive.read("privacy_log/verifications.json"))
        assert checks[0]["head_hash"] and checks[0]["ok"] is True
        roles = json.loads(archive.read("roles/role_matrix.json"))
        assert {"group": "DPO", "permission": "dpo.view_dashboard"}.items() <= next(
            r for r in roles if r["permission"] == "dpo.view_dashboard"
        ).items()
        breaches = json.loads(archive.read("registers/breaches.json"))
        assert breaches[0]["overdue"] is True
        index = archive.read("index.html").decode()
        assert "Bewijsbundel i-Learn Auth" in index
        assert "Toegangsreview van de medewerkers" in index
    bundle = EvidenceBundle.objects.get()
    entry = PrivacyLogEntry.objects.get(action=actions.EVIDENCE_BUNDLE_CREATED)
    assert entry.details["sha256"] == bundle.sha256


def test_no_secret_goes_into_the_bundle(tmp_path):
    out = tmp_path / "bundle.zip"
    call_command("evidence_bundle", "--out", str(out))
    secrets = [settings.SECRET_KEY, settings.PSEUDONYM_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    if settings.LEERID_CLIENT_SECRET:
        secrets.append(settings.LEERID_CLIENT_SECRET)
    with zipfile.ZipFile(out) as archive:
        for name in archive.namelist():
            content = archive.read(name).decode("utf-8-sig")
            for secret in secrets:
                assert secret not in content, name
        protocol = json.loads(archive.read("protocol/settings.json"))
    assert protocol["RETENTION_SNAPSHOT_DAYS"] == settings.RETENTION_SNAPSHOT_DAYS
    assert protocol["LEERID_SCOPES"] == settings.LEERID_SCOPES


def test_an_existing_path_is_refused_unless_forced(tmp_path):
    out = tmp_path / "bundle.zip"
    out.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists; use --force"):
        call_command("evidence_bundle", "--out", str(out))
    assert out.read_bytes() == b"keep me"
    assert not EvidenceBundle.objects.exists()
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
    call_command("evidence_bundle", "--out", str(out), "--force")
    assert zipfile.is_zipfile(out)


def test_a_folder_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("evidence_bundle", "--out", str(tmp_path / "nope" / "b.zip"))


def test_the_dpo_downloads_it_from_the_dashboard(client, dpo_user, agreements_user):
    client.force_login(agreements_user)
    assert client.post(reverse("dpo_bundle")).status_code == 403
    client.force_login(dpo_user)
    assert client.get(reverse("dpo_bundle")).status_code == 405
    response = client.post(reverse("dpo_bundle"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert EvidenceBundle.objects.get().created_by == f"staff:{dpo_user.pk}"
