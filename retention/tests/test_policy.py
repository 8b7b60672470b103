from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from retention import policy

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)


def test_it_reads_the_periods_from_settings():
    """The defaults are the protocol's: 365 days for snapshots, 1,095 days for accounts."""
    rules = policy.rules()
    assert rules[policy.SNAPSHOTS].cutoff(NOW) == NOW - timedelta(days=365)
    assert rules[policy.ACCOUNTS].cutoff(NOW) == NOW - timedelta(days=1095)
    assert list(rules) == list(policy.RULE_ORDER)


@override_settings(RETENTION_SNAPSHOT_DAYS=30)
def test_it_follows_a_changed_setting():
    """Changing a period is a settings change only."""
    assert policy.rule(policy.SNAPSHOTS).cutoff(NOW) == NOW - timedelta(days=30)


def test_it_refuses_an_unknown_rule():
    """An unknown rule name is a clear error naming the known ones."""
    with pytest.raises(ValueError, match="snapshots"):
        policy.rule("everything")
