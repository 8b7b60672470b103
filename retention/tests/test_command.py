from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from pupils.models import IdentitySnapshot, Pupil
from retention.locking import retention_lock
from retention.models import RetentionRun
from retention.tests.factories import NOW, make_pupil

pytestmark = pytest.mark.django_db

OLD_SNAPSHOT = NOW - timedelta(days=365, seconds=1)
OLD_ACCOUNT = NOW - timedelta(days=1095, seconds=1)


def _run(*args: str) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("run_retention", *args, stdout=out)
    return out.getvalue()


def test_it_counts_without_deleting_with_dry_run():
    """--dry-run prints what the real run then deletes, and deletes nothing: the old
    account's snapshot goes with the account, so the snapshot rule has one left to delete."""
    make_pupil(login_at=OLD_ACCOUNT)
    make_pupil(login_at=OLD_SNAPSHOT)
    out = _run("--dry-run", "--rule", "accounts", "--rule", "snapshots")
    assert "accounts: would delete 1" in out
    assert "snapshots: would delete 1" in out
    assert Pupil.objects.count() == 2
    assert RetentionRun.objects.get().dry_run
    out = _run("--rule", "accounts", "--rule", "snapshots")
    assert "accounts: deleted 1" in out
    assert "snapshots: deleted 1" in out


def test_it_applies_only_the_named_rule():
    """--rule snapshots deletes snapshots and leaves expired accounts for their own rule."""
    make_pupil(login_at=OLD_ACCOUNT)
    out = _run("--rule", "snapshots")
    assert "snapshots: deleted 1" in out
    assert "accounts" not in out
    assert Pupil.objects.count() == 1
    assert not IdentitySnapshot.objects.exists()
    assert RetentionRun.objects.get().rules == ["snapshots"]


def test_it_shows_no_progress_bar_when_not_on_a_terminal():
    """Output to a file or pipe holds the summary only, no bar."""
    make_pupil(login_at=OLD_SNAPSHOT)
    out = _run("--rule", "snapshots")
    assert "rows/s" not in out and "%|" not in out
    assert out.splitlines()[0] == "snapshots: deleted 1"


def test_it_shows_a_progress_bar_on_a_terminal():
    """On a terminal each rule gets a tqdm bar sized by what is expired."""

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    make_pupil(login_at=OLD_SNAPSHOT)
    out = Terminal()
    with time_machine.travel(NOW, tick=False):
        call_command("run_retention", "--rule", "snapshots", stdout=out)
    assert "snapshots: 100%" in out.getvalue()


def test_it_says_when_another_run_is_busy():
    """With the lock held elsewhere, the command says it skipped."""
    out = StringIO()
    # The clock moves first: the demo's cache lock expires by the (moved) clock.
    with time_machine.travel(NOW, tick=False), retention_lock():
        call_command("run_retention", "--rule", "snapshots", stdout=out)
    assert "Skipped" in out.getvalue()


def test_it_refuses_an_unknown_rule():
    """--rule takes only the rules the policy knows."""
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("run_retention", "--rule", "everything")
    assert not RetentionRun.objects.exists()
