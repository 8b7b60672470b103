"""verify_privacy_log and privacy_log_head: the mutation matrix on real rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from privacy import chain
from privacy.models import PrivacyLogVerification
from privacy.services import privacy_log_head
from privacy.tests.helpers import PSEUDONYM, tamper, text_id, write
from privacy.verification import privacy_log_verify, privacy_log_verify_incremental

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
        ("UPDATE privacy_log SET actor_id = %s WHERE sequence = 5", lambda: [text_id("system")]),
        ("UPDATE privacy_log SET subject_id = %s WHERE sequence = 5", lambda: [text_id("ef" * 32)]),
        (
            "UPDATE privacy_log SET action_id = %s WHERE sequence = 5",
            lambda: [text_id("authz_fail")],
        ),
        ("UPDATE privacy_log SET failed = true WHERE sequence = 5", list),
        ("UPDATE privacy_log SET reason = 'x' WHERE sequence = 5", list),
        ("UPDATE privacy_log SET request_id = %s WHERE sequence = 5", lambda: [b"\1" * 16]),
        (
            "UPDATE privacy_log SET created_at = created_at + interval '1 microsecond'"
            " WHERE sequence = 5",
            list,
        ),
        ("UPDATE privacy_log SET hash = %s WHERE sequence = 5", lambda: [bytes(32)]),
    ],
)
def test_it_detects_a_changed_field(ten, sql, params):
    """Changing any stored column of entry 5 is reported as changed at sequence 5."""
    if "interval" in sql and connection.vendor != "postgresql":
        pytest.skip("interval arithmetic is PostgreSQL's")
    tamper(sql, params())
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (5, "changed")
    code, _, err = run_verify()
    assert code == 1
    assert "sequence 5: changed" in err


def test_it_detects_changed_details(ten):
    """Details rewritten (valid JSON) are reported as changed."""
    tamper(
        "UPDATE privacy_log SET details = %s WHERE sequence = 7",
        ['{"schools":["047001"]}'],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (7, "changed")


def test_it_detects_a_changed_dictionary_value(ten):
    """A pseudonym rewritten in the dictionary changes every entry about it: the first is named."""
    tamper("UPDATE privacy_log_text SET value = %s WHERE value = %s", ["ef" * 32, PSEUDONYM])
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (1, "changed")


def test_it_detects_a_rehashed_entry_by_its_successor(ten):
    """An entry changed with its own hash recomputed breaks the next one: reported there.

    Rows keep their own hash only (the previous one is the previous row's), so the walk
    cannot tell "6 changed" from "5 rewritten with a valid hash"; it names 6.
    """
    forged = chain.entry_hash(
        ten[3].hash,
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
        "UPDATE privacy_log SET actor_id = %s, request_id = %s, hash = %s WHERE sequence = 5",
        [text_id("system"), b"", bytes.fromhex(forged)],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (6, "changed")


def test_it_detects_a_deleted_entry(ten):
    """Deleting entry 4 is reported as missing at sequence 4."""
    tamper("DELETE FROM privacy_log WHERE sequence = 4")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (4, "missing")
    code, _, err = run_verify()
    assert (code, "sequence 4: missing" in err) == (1, True)


def test_it_detects_a_deleted_first_entry(ten):
    """Deleting the very first entry (no checkpoint) is reported as missing at 1."""
    tamper("DELETE FROM privacy_log WHERE sequence = 1")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (1, "missing")


def test_it_detects_two_swapped_entries(ten):
    """Swapping entries 6 and 7 is reported as reordered at sequence 6."""
    tamper("UPDATE privacy_log SET sequence = -6 WHERE sequence = 6")
    tamper("UPDATE privacy_log SET sequence = 6 WHERE sequence = 7")
    tamper("UPDATE privacy_log SET sequence = 7 WHERE sequence = -6")
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (6, "reordered")


def test_it_detects_an_inserted_entry(ten):
    """An entry slipped in at 5 (later ones renumbered, its own hash valid) is inserted at 5."""
    tamper("UPDATE privacy_log SET sequence = sequence + 1000 WHERE sequence >= 5")
    tamper("UPDATE privacy_log SET sequence = sequence - 999 WHERE sequence >= 1000")
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
        "INSERT INTO privacy_log (sequence, created_at, actor_id, subject_id, action_id, period,"
        " failed, reason, request_id, details, hash)"
        " SELECT 5, %s, %s, %s, %s, period, false, '', %s, '', %s FROM privacy_log"
        " WHERE sequence = 4",
        [
            created_at,
            text_id("system"),
            text_id(""),
            text_id("retention_purge"),
            b"",
            bytes.fromhex(forged),
        ],
    )
    result = privacy_log_verify()
    assert (result.problem.sequence, result.problem.kind) == (5, "inserted")


def test_it_detects_a_truncated_tail_against_an_expected_head(ten):
    """Without --expect-head a cut tail looks whole; with it, the first missing one is named."""
    head = privacy_log_head().hash
    tamper("DELETE FROM privacy_log WHERE sequence > 7")
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


def test_it_verifies_only_what_was_added_since_the_last_verified_head(ten):
    """The daily check walks the new entries only, from the head the previous one recorded."""
    first = privacy_log_verify_incremental()
    assert (first.ok, first.count) == (True, 10)
    write(3)
    code, out, _ = run_verify("--since-last")
    assert (code, out.startswith("3 entries verified")) == (0, True)
    assert list(PrivacyLogVerification.objects.values_list("sequence", flat=True)) == [13, 10]


def test_it_finds_a_change_in_the_new_entries_incrementally(ten):
    """A change after the last verified head fails the daily check."""
    privacy_log_verify_incremental()
    write(3)
    tamper("UPDATE privacy_log SET reason = 'x' WHERE sequence = 12")
    result = privacy_log_verify_incremental()
    assert (result.problem.sequence, result.problem.kind) == (12, "changed")
    assert PrivacyLogVerification.objects.count() == 1


def test_it_leaves_older_changes_to_the_full_verification(ten):
    """An entry changed before the last verified head is the full verification's to find."""
    privacy_log_verify_incremental()
    tamper("UPDATE privacy_log SET reason = 'x' WHERE sequence = 3")
    write(1)
    assert privacy_log_verify_incremental().ok
    assert privacy_log_verify().problem.sequence == 3


def test_it_notices_the_last_verified_entry_itself_changed(ten):
    """The verified head is where the daily check starts: its stored hash must still match."""
    privacy_log_verify_incremental()
    tamper("UPDATE privacy_log SET hash = %s WHERE sequence = 10", [bytes(32)])
    result = privacy_log_verify_incremental()
    assert (result.problem.sequence, result.problem.kind) == (10, "changed")
