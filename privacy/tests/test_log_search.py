"""privacy.log_search: the admin's filters and the DPO's searches find exactly what they say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

import privacy
from privacy import log_search
from privacy.models import PrivacyLogEntry
from privacy.tests.helpers import OTHER_PSEUDONYM, PSEUDONYM, append_at

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 3, 10, tzinfo=UTC)


def sequences(queryset) -> list[int]:
    return sorted(queryset.values_list("sequence", flat=True))


def test_it_finds_one_day_among_others():
    """Entries of the day before, the day and the day after: only the day's come back."""
    for offset in (-1, 0, 1):
        append_at(DAY + timedelta(days=offset, hours=12), 2)
    found = log_search.by_dates(PrivacyLogEntry.objects.all(), DAY, DAY + timedelta(days=1))
    assert sequences(found) == [3, 4]
    empty = log_search.by_dates(PrivacyLogEntry.objects.all(), DAY + timedelta(days=5), None)
    assert sequences(empty) == []


def test_it_finds_a_pupil_as_subject_and_as_actor_on_someone_else():
    """A pseudonym finds the pupil's own entries and those where they acted on another."""
    privacy.log("authn_login_success", actor=f"pupil:{PSEUDONYM}", subject=PSEUDONYM)
    privacy.log("pupil_merged", actor=f"pupil:{PSEUDONYM}", subject=OTHER_PSEUDONYM)
    privacy.log("authn_login_success", actor=f"pupil:{OTHER_PSEUDONYM}", subject=OTHER_PSEUDONYM)
    assert sequences(log_search.by_term(PrivacyLogEntry.objects.all(), PSEUDONYM)) == [1, 2]
    assert sequences(log_search.by_actor(PrivacyLogEntry.objects.all(), "pupil:")) == [1, 2, 3]
    assert sequences(log_search.by_term(PrivacyLogEntry.objects.all(), "ef" * 32)) == []


def test_it_finds_request_ids_of_the_last_months_only():
    """Request ids match application logs, which are kept far shorter: recent months only."""
    with time_machine.travel(datetime.now(UTC) - timedelta(days=120), tick=False):
        privacy.log("authn_logout", actor="system", request_id="a" * 32)
    privacy.log("authn_logout", actor="system", request_id="b" * 32)
    privacy.log("authn_logout", actor="system", request_id="proxy-id-16chars")
    entries = PrivacyLogEntry.objects.all()
    assert sequences(log_search.by_term(entries, "a" * 32)) == []
    assert sequences(log_search.by_term(entries, "b" * 32)) == [2]
    assert sequences(log_search.by_term(entries, "proxy-id-16chars")) == [3]


def test_it_filters_actions_it_has_never_seen_to_nothing():
    """An action no entry has is no error: nothing found, the log untouched."""
    privacy.log("authn_logout", actor="system")
    assert sequences(log_search.by_action(PrivacyLogEntry.objects.all(), "user_deleted")) == []
    assert sequences(log_search.by_action(PrivacyLogEntry.objects.all(), "authn_logout")) == [1]
