"""privacy.log: what it writes, what it refuses, and how it chains."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import transaction

import privacy
from privacy import chain
from privacy.context import request_id_bound
from privacy.exceptions import PrivacyLogError
from privacy.models import PrivacyLogEntry
from privacy.services import encode, privacy_log_head
from privacy.tests.helpers import PSEUDONYM, write
from privacy.verification import privacy_log_verify

pytestmark = pytest.mark.django_db


def test_it_chains_entries_from_the_genesis_hash():
    """Each entry links to the previous one's hash; the first to the genesis."""
    first, second = write(2)
    assert (first.sequence, second.sequence) == (1, 2)
    assert chain.entry_hash(chain.GENESIS_HASH, encode(first)) == first.hash
    stored = PrivacyLogEntry.objects.get(sequence=2)
    assert chain.entry_hash(first.hash, encode(stored)) == stored.hash == second.hash
    assert privacy_log_head().hash == second.hash


def test_it_stores_exactly_what_it_hashed():
    """Details come back from the database equal to what was hashed (canonical JSON)."""
    entry = privacy.log(
        "retention_purge",
        actor="system",
        details={"b": 1, "a": [1, 2], "nested": {"z": True, "y": None}, "text": "é|\\n"},
    )
    stored = PrivacyLogEntry.objects.get(pk=entry.pk)
    assert stored.details == {
        "a": [1, 2],
        "b": 1,
        "nested": {"y": None, "z": True},
        "text": "é|\\n",
    }
    assert privacy_log_verify().ok


def test_it_takes_the_request_id_of_the_current_request():
    """Without request_id, the entry carries the id the middleware set for this request."""
    with request_id_bound("req-0123456789abcdef"):
        entry = write(1)[0]
    assert entry.request_id == "req-0123456789abcdef"
    assert write(1)[0].request_id == ""


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("no_such_action", {"actor": "system"}),
        ("authn_login_fail", {"actor": "Jan Janssens"}),
        ("authn_login_fail", {"actor": "staff:jan"}),
        ("authn_login_fail", {"actor": "system", "subject": "Jan Janssens"}),
        (
            "authn_login_fail",
            {"actor": "system", "subject": "leerid:0b5e8a3c-2f1d-4c6e-9a7b-1d2e3f4a5b6c"},
        ),
        ("authn_login_fail", {"actor": "system", "outcome": "maybe"}),
        ("authn_login_fail", {"actor": "system", "reason": "Not Enrolled!"}),
        ("authn_login_fail", {"actor": "system", "details": {"given_name": "Fictief"}}),
        (
            "authn_login_fail",
            {"actor": "system", "details": {"key": "0b5e8a3c-2f1d-4c6e-9a7b-1d2e3f4a5b6c"}},
        ),
        ("authn_login_fail", {"actor": "system", "details": {"t": "eyJhbGciOi.eyJzdWIiOi.sig"}}),
        ("authn_login_fail", {"actor": "system", "details": {"x": float("nan")}}),
        ("authn_login_fail", {"actor": "system", "details": {"x": [1e20]}}),
        ("authn_login_fail", {"actor": "system", "details": {"blob": "x" * 5000}}),
        ("authn_login_fail", {"actor": "system", "request_id": "has spaces"}),
    ],
)
def test_it_refuses_malformed_entries_and_personal_data(action, fields):
    """Unknown actions, names, raw LeerID keys and tokens never reach the log."""
    with pytest.raises(PrivacyLogError):
        privacy.log(action, **fields)
    assert not PrivacyLogEntry.objects.exists()


def test_it_accepts_every_documented_form_of_actor_and_subject():
    """system, staff:<pk> and pupil:<pseudonym>; pseudonym, "" or a non-personal key."""
    privacy.log("authz_fail", actor="staff:12", subject="school:012345", outcome="failure")
    privacy.log("authn_logout", actor=f"pupil:{PSEUDONYM}", subject=PSEUDONYM)
    privacy.log("retention_purge", actor="system")
    assert PrivacyLogEntry.objects.count() == 3


def test_it_leaves_no_gap_when_the_transaction_rolls_back():
    """An entry rolled back with its transaction frees its sequence number for the next one."""
    write(2)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        write(1)
        raise Abort
    entry = write(1)[0]
    assert entry.sequence == 3
    assert privacy_log_verify().ok


def test_it_does_not_import_models_on_import():
    """`import privacy` (from settings or logging config) loads no models."""
    code = (
        "import sys, privacy, privacy.logging, privacy.actions; "
        "assert 'privacy.models' not in sys.modules; assert 'django.db.models' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
