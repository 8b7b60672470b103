"""verify_privacy_log and privacy_log_head: the mutation matrix on real rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from privacy import chain
from privacy.services import privacy_log_head
from privacy.tests.helpers import PSEUDONYM, tamper, write
from privacy.verification import privacy_log_verify

pytestmark = pytest.mark.django_db


def run_verify(*args: str) -> tuple[int, str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("verify_privacy_log", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def ten():
    return write(10)


def test_it_verifies_an_untouched_chain(ten):
    """An untouched chain verifies: count and head printed, exit code 0."""
    code, out, _ = run_verify()
    assert code == 0
    assert out.strip() == f"10 entries verified, head {ten[-1].hash}"


def test_it_verifies_an_empty_log():
    """An empty log is a valid log whose head is the genesis hash."""
    assert run_verify() == (0, f"0 entries verified, head {chain.GENESIS_HASH}\n", "")


def test_it_prints_the_head(ten, capsys):
    """privacy_log_head prints the hash to store elsewhere."""
    call_command("privacy_log_head")
    assert capsys.readouterr().out.strip() == ten[-1].hash


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("UPDATE privacy_privacylogentry SET actor = 'system' WHERE sequence = 5", []),
        ("UPDATE privacy_privacylogentry SET subject = %s WHERE sequence = 5", ["ef" * 32]),
        ("UPDATE privacy_privacylogentry SET outcome = 'failure' WHERE sequence = 5", []),
        ("UPDATE privacy_privacylogentry SET hash = %s WHERE sequence = 5", ["0" * 64]),
    ],
)
def test_it_detects_a_changed_field(ten, sql, params):
    """Changing any field of entry 5 is reported as changed at sequence 5."""
    tamper(sql, params)
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (5, "changed")
    code, _, err = run_verify()
    assert code == 1
    assert "sequence 5: changed" in err


def test_it_detects_changed_details(ten):
    """Details rewritten (valid JSON) are reported as changed."""
    tamper(
        "UPDATE privacy_privacylogentry SET details = %s WHERE sequence = 7",
        ['{"schools": ["047001"]}'],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (7, "changed")


def test_it_detects_a_rehashed_entry_by_its_successor(ten):
    """An entry changed with its own hash recomputed breaks the next entry's link."""
    stored_prev = ten[3].hash
    forged = chain.entry_hash(
        stored_prev,
        chain.canonical(
            sequence=5,
            created_at=ten[4].created_at,
            actor="system",
            action=ten[4].action,
            subject=ten[4].subject,
            outcome=ten[4].outcome,
            reason="",
            details=ten[4].details,
            request_id="",
        ),
    )
    tamper(
        "UPDATE privacy_privacylogentry SET actor = 'system', hash = %s WHERE sequence = 5",
        [forged],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (5, "changed")


def test_it_detects_a_deleted_entry(ten):
    """Deleting entry 4 is reported as missing at sequence 4."""
    tamper("DELETE FROM privacy_privacylogentry WHERE sequence = 4")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (4, "missing")
    code, _, err = run_verify()
    assert (code, "sequence 4: missing" in err) == (1, True)


def test_it_detects_a_deleted_first_entry(ten):
    """Deleting the very first entry (no checkpoint) is reported as missing at 1."""
    tamper("DELETE FROM privacy_privacylogentry WHERE sequence = 1")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (1, "missing")


def test_it_detects_two_swapped_entries(ten):
    """Swapping entries 6 and 7 is reported as reordered at sequence 6."""
    tamper("UPDATE privacy_privacylogentry SET sequence = -6 WHERE sequence = 6")
    tamper("UPDATE privacy_privacylogentry SET sequence = 6 WHERE sequence = 7")
    tamper("UPDATE privacy_privacylogentry SET sequence = 7 WHERE sequence = -6")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (6, "reordered")


def test_it_detects_an_inserted_entry(ten):
    """An entry slipped in at 5 (later ones renumbered, its own hash valid) is inserted at 5."""
    tamper("UPDATE privacy_privacylogentry SET sequence = sequence + 1000 WHERE sequence >= 5")
    tamper("UPDATE privacy_privacylogentry SET sequence = sequence - 999 WHERE sequence >= 1000")
    created_at = datetime(2026, 1, 1, tzinfo=UTC)
    fields = {
        "sequence": 5,
        "created_at": created_at,
        "actor": "system",
        "action": "retention_purge",
        "subject": "",
        "outcome": "success",
        "reason": "",
        "details": {},
        "request_id": "",
    }
    forged = chain.entry_hash(ten[3].hash, chain.canonical(**fields))
    tamper(
        "INSERT INTO privacy_privacylogentry (sequence, created_at, actor, action, subject,"
        " outcome, reason, details, request_id, prev_hash, hash)"
        " VALUES (5, %s, 'system', 'retention_purge', '', 'success', '', '{}', '', %s, %s)",
        [created_at, ten[3].hash, forged],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (5, "inserted")


def test_it_detects_a_truncated_tail_against_an_expected_head(ten):
    """Without --expect-head a cut tail looks whole; with it, the first missing one is named."""
    head = privacy_log_head().hash
    tamper("DELETE FROM privacy_privacylogentry WHERE sequence > 7")
    assert privacy_log_verify().ok
    result = privacy_log_verify(expect_head=head)
    assert (result.problem.sequence, result.problem.kind) == (8, "missing")
    code, _, err = run_verify("--expect-head", head)
    assert (code, "sequence 8: missing" in err) == (1, True)


def test_it_accepts_an_expected_head_the_chain_has_grown_past(ten):
    """An earlier head still in the chain verifies: the log only grew since."""
    head = privacy_log_head().hash
    write(3, subject=PSEUDONYM)
    code, out, _ = run_verify("--expect-head", head)
    assert code == 0
    assert out.startswith("13 entries verified")


def test_it_rejects_a_malformed_expected_head():
    """--expect-head takes 64 hex characters."""
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify_privacy_log", "--expect-head", "nope")
