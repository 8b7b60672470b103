"""Erasures on request go to the ledger (pseudonyms only), and apply_erasures replays it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from privacy.ledger import ErasureLedgerEntry, erasure_record
from privacy.models import PrivacyLogEntry
from pupils.models import AccountAlias, Pupil
from pupils.services import pupil_erase
from retention.tests.factories import make_pupil

pytestmark = pytest.mark.django_db


def test_it_enters_the_pupil_and_its_aliases_in_the_ledger():
    """An erasure writes the pupil's pseudonym and every alias pseudonym, nothing else."""
    pupil = make_pupil(login_at=timezone.now())
    aliases = set(pupil.aliases.values_list("pseudonym", flat=True))
    pupil_erase(pupil=pupil, actor="system")
    ledger = set(ErasureLedgerEntry.objects.values_list("pseudonym", flat=True))
    assert ledger == {pupil.pseudonym, *aliases}
    assert all(len(value) == 64 for value in ledger)


def test_apply_erasures_erases_a_pupil_the_ledger_names():
    """A pupil that came back (a restore) is erased again, and the privacy log says why."""
    back = make_pupil(login_at=timezone.now() - timedelta(days=3))
    kept = make_pupil(login_at=timezone.now())
    erasure_record(pseudonyms=[back.pseudonym])
    call_command("apply_erasures")
    assert list(Pupil.objects.all()) == [kept]
    entry = PrivacyLogEntry.objects.filter(action="sensitive_delete").get()
    assert (entry.subject, entry.actor, entry.reason) == (
        back.pseudonym,
        "system",
        "erasure_ledger",
    )


def test_apply_erasures_finds_a_pupil_by_an_account_alias():
    """A pupil the backup still holds under an old account key (before a merge) goes too."""
    pupil = make_pupil(login_at=timezone.now())
    alias = AccountAlias.objects.filter(pupil=pupil).values_list("pseudonym", flat=True).first()
    erasure_record(pseudonyms=[alias])
    call_command("apply_erasures")
    assert not Pupil.objects.exists()


def test_apply_erasures_twice_changes_nothing_more():
    """Replaying the ledger is idempotent."""
    pupil = make_pupil(login_at=timezone.now())
    erasure_record(pseudonyms=[pupil.pseudonym])
    call_command("apply_erasures")
    assert not Pupil.objects.exists()
    logged = PrivacyLogEntry.objects.count()
    call_command("apply_erasures")
    assert PrivacyLogEntry.objects.count() == logged


def test_the_deploy_check_warns_when_the_ledger_shares_the_main_database(settings):
    """check --deploy names the ledger when it has no database of its own."""
    from ilearn_auth.checks import check_erasure_ledger

    settings.ERASURE_LEDGER_DATABASE_URL = ""
    assert [warning.id for warning in check_erasure_ledger(None)] == ["ilearn_auth.W015"]
    settings.ERASURE_LEDGER_DATABASE_URL = "postgres://ledger-host/ledger"
    assert check_erasure_ledger(None) == []
