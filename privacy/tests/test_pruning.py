"""Pruning the privacy log: old entries go, a checkpoint keeps the chain verifiable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from privacy import actions
from privacy.models import PrivacyLogCheckpoint, PrivacyLogEntry
from privacy.pruning import privacy_log_prune
from privacy.tests.helpers import append_at, tamper, write
from privacy.verification import privacy_log_verify

pytestmark = pytest.mark.django_db
OLD = datetime(2022, 3, 1, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
def old_and_new():
    old = append_at(OLD, 10)
    new = write(4)
    return old, new


def test_it_prunes_old_entries_and_the_rest_still_verifies(old_and_new):
    """Entries before the cutoff go; the checkpoint anchors the rest; verify passes."""
    old, _new = old_and_new
    assert privacy_log_prune(older_than=CUTOFF, batch_size=100) == 10
    assert list(
        PrivacyLogEntry.objects.order_by("sequence").values_list("sequence", flat=True)
    ) == [
        11,
        12,
        13,
        14,
        15,
    ]
    checkpoint = PrivacyLogCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.hash) == (10, old[-1].hash)
    prune_entry = PrivacyLogEntry.objects.get(action=actions.PRIVACY_LOG_PRUNE)
    assert prune_entry.details["through_sequence"] == 10
    result = privacy_log_verify()
    assert result.ok
    assert result.count == 5


def test_it_prunes_in_batches(old_and_new):
    """Batches of 3: four checkpoints, four prune entries, still one valid chain."""
    assert privacy_log_prune(older_than=CUTOFF, batch_size=3) == 10
    assert PrivacyLogCheckpoint.objects.count() == 4
    assert PrivacyLogEntry.objects.filter(action=actions.PRIVACY_LOG_PRUNE).count() == 4
    assert privacy_log_verify().ok


def test_it_prunes_nothing_when_nothing_is_old():
    """No entry before the cutoff: nothing removed, no checkpoint, no prune entry."""
    write(3)
    assert privacy_log_prune(older_than=CUTOFF, batch_size=100) == 0
    assert not PrivacyLogCheckpoint.objects.exists()
    assert PrivacyLogEntry.objects.count() == 3


def test_it_keeps_writing_after_pruning_everything():
    """When every entry was old, the next one links to the checkpoint."""
    append_at(OLD, 3)
    privacy_log_prune(older_than=datetime.now(UTC) + timedelta(days=1), batch_size=100)
    write(2)
    assert privacy_log_verify().ok


def test_it_detects_a_forged_checkpoint(old_and_new):
    """A checkpoint moved by hand no longer matches the prune entry: verify fails."""
    privacy_log_prune(older_than=CUTOFF, batch_size=100)
    tamper("DELETE FROM privacy_privacylogentry WHERE sequence = 11")
    tamper("UPDATE privacy_privacylogcheckpoint SET sequence = 11, hash = %s", ["1" * 64])
    result = privacy_log_verify()
    assert result.problem is not None
    assert result.problem.kind == "changed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL only")
def test_it_prunes_through_the_append_only_trigger(old_and_new):
    """Pruning is the one path the trigger lets DELETE through."""
    assert privacy_log_prune(older_than=CUTOFF, batch_size=100) == 10
