"""The agreements CSV parser on its own: bytes in, rows or reasons out, no database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from schools.agreement_csv import AgreementRow, parse_agreements_csv

HEADER = "instellingsnummer;name;valid_from;valid_until\n"


def test_it_reads_rows_with_restored_zeros_and_a_warning():
    """Good rows come back typed; a number that lost its zeros is restored and warned about."""
    parsed = parse_agreements_csv((HEADER + "12345;Testschool;2026-09-01;\n").encode())
    assert parsed.errors == []
    assert parsed.rows == [AgreementRow(2, "012345", "Testschool", dt.date(2026, 9, 1), None)]
    assert [problem.line for problem in parsed.warnings] == [2]


def test_it_gives_every_bad_line_a_reason():
    """Each bad line is reported with its number; no row of it is returned."""
    body = "12A456;Testschool;2026-09-01;\n047001;;2026-13-01;\n"
    parsed = parse_agreements_csv((HEADER + body).encode())
    assert parsed.rows == []
    assert sorted({problem.line for problem in parsed.errors}) == [2, 3]


def test_it_reports_a_file_problem_on_line_zero():
    """A spreadsheet instead of a CSV is one problem for the whole file."""
    parsed = parse_agreements_csv(b"PK\x03\x04rest")
    assert [problem.line for problem in parsed.errors] == [0]


@given(st.binary(max_size=200))
def test_it_never_raises(raw):
    """Whatever the bytes, the parser answers with rows or a reason, never an exception."""
    parsed = parse_agreements_csv(raw)
    assert parsed.rows or parsed.errors
