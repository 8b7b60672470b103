"""The protocol's end: refused in the past and twice; a dry run; logins refused from the date;
every pupil's data destroyed, the privacy log kept, the report logged and in the bundle."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from dpo import protocol, services, tasks
from dpo.models import ProtocolEnd
from privacy import actions
from privacy.models import PrivacyLogEntry
from pupils.models import AccountAlias, IdentitySnapshot, Pupil
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims, new_key

pytestmark = pytest.mark.django_db(transaction=True)


def pupils(n: int) -> None:
    for _ in range(n):
        pupil_record_login(claims=leerid_claims(leer_id_uuid=new_key()), granted_schools=["012345"])


def test_a_date_in_the_past_is_refused():
    yesterday = services.brussels_today() - timedelta(days=1)
    with pytest.raises(CommandError, match="lies in the past"):
        call_command("protocol_end", "--on", yesterday.isoformat())
    assert not ProtocolEnd.objects.exists()
    with pytest.raises(CommandError, match="must be a date"):
        call_command("protocol_end", "--on", "next week")


def test_the_dry_run_says_what_would_go_and_changes_nothing(capsys):
    pupils(2)
    call_command("protocol_end", "--on", services.brussels_today().isoformat(), "--dry-run")
    out = capsys.readouterr().out
    assert "2 pupils" in out and "2 snapshots" in out
    assert not ProtocolEnd.objects.exists()
    assert Pupil.objects.count() == 2
    assert not protocol.logins_refused()


def test_today_refuses_logins_destroys_everything_and_keeps_the_log(capsys, tmp_path):
    pupils(3)
    log_before = PrivacyLogEntry.objects.count()
    call_command("protocol_end", "--on", services.brussels_today().isoformat())
    assert protocol.logins_refused()
    assert (Pupil.objects.count(), IdentitySnapshot.objects.count()) == (0, 0)
    assert AccountAlias.objects.count() == 0
    assert "Destroyed 3 pupils" in capsys.readouterr().out
    assert PrivacyLogEntry.objects.count() >= log_before + 2  # the log stays, and grows
    entry = PrivacyLogEntry.objects.get(action=actions.PROTOCOL_END_DESTROYED)
    assert entry.details["deleted_pupils"] == 3
    assert entry.details["before"]["snapshots"] == 3
    assert entry.details["after"] == {"pupils": 0, "snapshots": 0, "aliases": 0}
    assert {"started_at", "finished_at", "run_by"} <= set(entry.details)
    out = tmp_path / "b.zip"
    call_command("evidence_bundle", "--out", str(out))
    with zipfile.ZipFile(out) as archive:
        report = json.loads(archive.read("protocol/protocol_end.json"))
    assert report["report"]["deleted_pupils"] == 3


def test_it_refuses_to_run_twice():
    today = services.brussels_today()
    call_command("protocol_end", "--on", (today + timedelta(days=5)).isoformat())
    with pytest.raises(CommandError, match="cannot be set twice"):
        call_command("protocol_end", "--on", (today + timedelta(days=9)).isoformat())
    with pytest.raises(CommandError, match="already set"):
        call_command("protocol_end", "--on", today.isoformat(), "--dry-run")
    assert ProtocolEnd.objects.get().ends_on == today + timedelta(days=5)


def test_a_future_end_refuses_logins_from_that_day_and_the_task_destroys_then():
    start = datetime(2026, 6, 29, 23, 0, tzinfo=services.BRUSSELS)
    with time_machine.travel(start, tick=False):
        pupils(2)
        call_command("protocol_end", "--on", "2026-06-30")
        assert not protocol.logins_refused()
        assert tasks.protocol_end.delay().get() is False
        assert Pupil.objects.count() == 2
    with time_machine.travel(datetime(2026, 6, 30, 0, 1, tzinfo=services.BRUSSELS), tick=False):
        assert protocol.logins_refused()
        assert tasks.protocol_end.delay().get() is True
        assert Pupil.objects.count() == 0
        assert tasks.protocol_end.delay().get() is False  # done once
    assert ProtocolEnd.objects.get().report["ends_on"] == str(date(2026, 6, 30))


def test_an_end_set_for_today_waits_until_every_process_has_seen_it(settings, monkeypatch):
    """Processes cache the end for PROTOCOL_END_CACHE_SECONDS: the last pupils go only after
    that long, or one could still be let in after the destruction (README: "waits those 10 s")."""
    settings.PROTOCOL_END_CACHE_SECONDS = 1
    pupils(1)
    slept: list[tuple[float, int]] = []
    monkeypatch.setattr(
        protocol.time, "sleep", lambda seconds: slept.append((seconds, Pupil.objects.count()))
    )
    call_command("protocol_end", "--on", services.brussels_today().isoformat())
    assert slept == [(1, 1)]  # it waited once, while the pupil was still there
    assert Pupil.objects.count() == 0
