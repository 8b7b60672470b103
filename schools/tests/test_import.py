from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from schools.agreement_import import agreements_import
from schools.models import Agreement, School
from schools.tests.conftest import agreement_log_entries, make_agreement, make_school

pytestmark = pytest.mark.django_db

GOOD = (
    "instellingsnummer,name,valid_from,valid_until\n"
    "012345,Testschool Eén,2026-09-01,\n"
    "047001,Testschool Twee,2026-09-01,2027-08-31\n"
)


def run(text: str | bytes, *, dry_run: bool = False, actor=None):
    raw = text.encode() if isinstance(text, str) else text
    return agreements_import(file=raw, actor=actor, dry_run=dry_run)


def snapshot():
    return sorted(
        Agreement.objects.values_list(
            "school__instellingsnummer", "school__name", "valid_from", "valid_until", "status"
        )
    )


def test_it_imports_a_good_file():
    """A good file creates the schools and their active agreements and says how many."""
    result = run(GOOD)
    assert result.ok and result.applied
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert result.schools_created == 2
    assert snapshot() == [
        ("012345", "Testschool Eén", dt.date(2026, 9, 1), None, "active"),
        ("047001", "Testschool Twee", dt.date(2026, 9, 1), dt.date(2027, 8, 31), "active"),
    ]


def test_it_changes_nothing_on_re_import():
    """Importing the same file twice changes nothing the second time."""
    run(GOOD)
    before = snapshot()
    log_count = len(agreement_log_entries())
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert snapshot() == before
    assert len(agreement_log_entries()) == log_count


def test_it_updates_names_and_end_dates(agreements_staff):
    """A known school and start date update the name and valid_until in place, logged."""
    from django.contrib.admin.models import CHANGE, LogEntry

    run(GOOD)
    logged_before = len(agreement_log_entries())
    result = run(
        "instellingsnummer,name,valid_from,valid_until\n"
        "012345,Testschool Eén Hernoemd,2026-09-01,2028-08-31\n"
        "047001,Testschool Twee,2026-09-01,2027-08-31\n",
        actor=agreements_staff,
    )
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert School.objects.get(instellingsnummer="012345").name == "Testschool Eén Hernoemd"
    agreement = Agreement.objects.get(school__instellingsnummer="012345")
    assert agreement.valid_until == dt.date(2028, 8, 31)
    assert agreement.updated_by == agreements_staff
    [entry] = agreement_log_entries()[logged_before:]
    assert entry.subject == "school:012345"
    assert [(c["object"], c["fields"]) for c in entry.details["changes"]] == [
        ("school", ["name"]),
        ("agreement", ["valid_until"]),
    ]
    history = LogEntry.objects.get(object_id=str(agreement.pk), content_type__model="agreement")
    assert history.action_flag == CHANGE and "geldig tot en met" in history.change_message


def test_it_changes_nothing_when_a_row_is_bad_and_reports_every_bad_row():
    """One bad row stops the whole file; each bad row is named by line and reason."""
    make_agreement(make_school("012345", "Bestaande Naam"), dt.date(2026, 9, 1))
    before = snapshot()
    result = run(
        "instellingsnummer,name,valid_from,valid_until\n"
        "012345,Nieuwe Naam,2026-09-01,2027-08-31\n"  # good, but must not apply
        "12A456,Testschool Letter,2026-09-01,\n"
        "047001,,2026-09-01,\n"
        "047002,Testschool Datum,01/09/2026,\n"
        "047003,Testschool Omgekeerd,2026-09-01,2025-08-31\n"
        "047004,Testschool Geen Start,,\n"
        "047005,Testschool Dag,2026-02-30,\n"
    )
    assert not result.ok and not result.applied
    lines = sorted({problem.line for problem in result.errors})
    assert lines == [3, 4, 5, 6, 7, 8]
    messages = {problem.line: problem.message for problem in result.errors}
    assert "12A456" in messages[3] and "6 cijfers" in messages[3]
    assert "naam" in messages[4]
    assert "01/09/2026" in messages[5]
    assert "2025-08-31" in messages[6]
    assert "valid_from" in messages[7]
    assert "2026-02-30" in messages[8]
    assert snapshot() == before
    assert School.objects.count() == 1
    assert agreement_log_entries() == []


def test_it_reads_numbers_that_lost_their_leading_zero():
    """``12345`` (a spreadsheet dropped the zero) is read as 012345, with a warning."""
    result = run("instellingsnummer,name,valid_from,valid_until\n12345,Testschool,2026-09-01,\n")
    assert result.ok
    assert School.objects.get().instellingsnummer == "012345"
    assert [str(w) for w in result.warnings] == ["regel 2: 12345 gelezen als 012345"]


def test_it_refuses_numbers_with_more_than_six_digits():
    """Seven digits cannot be repaired: an error with the value."""
    result = run("instellingsnummer,name,valid_from,valid_until\n0123456,Test,2026-09-01,\n")
    assert not result.ok
    assert "0123456" in result.errors[0].message


def test_it_accepts_a_byte_order_mark_and_semicolons():
    """A spreadsheet's 'CSV UTF-8' with semicolons and a BOM imports like the plain file."""
    text = "\ufeff" + GOOD.replace(",", ";").replace("\n", "\r\n")
    result = run(text.encode("utf-8"))
    assert result.ok, [str(e) for e in result.errors]
    assert result.created == 2
    assert School.objects.get(instellingsnummer="012345").name == "Testschool Eén"


def test_it_accepts_quoted_names_with_the_delimiter_inside():
    """A quoted name may hold a comma; columns may come in another order."""
    result = run(
        'name,valid_until,valid_from,instellingsnummer\n"School, De Fictieve",,2026-09-01,012345\n'
    )
    assert result.ok
    assert School.objects.get().name == "School, De Fictieve"


def test_it_skips_empty_lines_spreadsheets_leave_behind():
    """Trailing ``;;;`` lines are not rows."""
    result = run(GOOD.replace(",", ";") + ";;;\n;;;\n")
    assert result.ok and result.created == 2


def test_it_refuses_a_file_that_is_not_utf8():
    """A Windows-1252 file gets one clear file-level error."""
    result = run(
        "instellingsnummer,name,valid_from,valid_until\n012345,Café,2026-09-01,\n".encode("cp1252")
    )
    assert not result.ok
    assert result.errors[0].line == 0 and "UTF-8" in result.errors[0].message


def test_it_refuses_a_file_without_the_columns():
    """A header without the expected columns names what is missing."""
    result = run("nummer,naam\n012345,Test\n")
    assert not result.ok
    assert "valid_from" in result.errors[0].message


def test_it_refuses_duplicate_rows_in_one_file():
    """The same school and start date twice, or one number with two names, is an error."""
    result = run(
        "instellingsnummer,name,valid_from,valid_until\n"
        "012345,Test,2026-09-01,\n"
        "012345,Test,2026-09-01,2027-01-01\n"
        "012345,Andere Naam,2027-09-01,\n"
    )
    assert not result.ok
    assert [problem.line for problem in result.errors] == [3, 4]


def test_it_writes_nothing_on_a_dry_run():
    """A dry run reports what would change and writes nothing."""
    result = run(GOOD, dry_run=True)
    assert result.ok and not result.applied
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert School.objects.count() == 0
    assert agreement_log_entries() == []


def test_it_never_touches_the_status_of_a_suspended_agreement():
    """A suspended agreement stays suspended; the import warns about it."""
    school = make_school("012345", "Testschool Eén")
    make_agreement(school, dt.date(2026, 9, 1), status=Agreement.Status.SUSPENDED)
    result = run(GOOD)
    assert result.ok
    assert Agreement.objects.get(school=school).status == Agreement.Status.SUSPENDED
    assert any("opgeschort" in str(w) for w in result.warnings)


def test_it_warns_about_overlapping_agreements():
    """A new agreement overlapping an existing one is imported, with a warning."""
    make_agreement(make_school("012345", "Testschool Eén"), dt.date(2026, 1, 1))
    result = run(GOOD)
    assert result.ok
    assert any("overlapt" in str(w) and w.line == 2 for w in result.warnings)


def test_it_logs_every_change_to_the_privacy_log(agreements_staff):
    """Each created school and agreement is an agreement_changed entry by the staff member."""
    run(GOOD, actor=agreements_staff)
    entries = agreement_log_entries()
    assert [e.subject for e in entries] == ["school:012345", "school:047001"]
    assert [(c["object"], c["operation"]) for c in entries[0].details["changes"]] == [
        ("school", "create"),
        ("agreement", "create"),
    ]
    assert {e.actor for e in entries} == {f"staff:{agreements_staff.pk}"}
    assert all(e.details["via"] == "import" for e in entries)
    assert "Testschool" not in str([e.details for e in entries])


def test_it_records_the_import_in_the_agreements_history(agreements_staff):
    """An import by a staff member shows on the agreement's admin history."""
    from django.contrib.admin.models import LogEntry

    run(GOOD, actor=agreements_staff)
    agreement = Agreement.objects.get(school__instellingsnummer="012345")
    assert LogEntry.objects.filter(
        object_id=str(agreement.pk), content_type__model="agreement", user=agreements_staff
    ).exists()


def test_the_command_imports_and_reports_counts(tmp_path, capsys):
    """``import_agreements FILE`` imports as the service does and prints the counts."""
    path = tmp_path / "overeenkomsten.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_agreements", str(path))
    assert "Aangemaakt: 2, gewijzigd: 0, ongewijzigd: 0" in capsys.readouterr().out
    assert School.objects.count() == 2
    assert {e.actor for e in agreement_log_entries()} == {"system"}


def test_the_command_dry_run_writes_nothing(tmp_path, capsys):
    """``--dry-run`` prints what would change and writes nothing."""
    path = tmp_path / "overeenkomsten.csv"
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_agreements", str(path), "--dry-run")
    assert "Proefdraai, niets geschreven. Zou aanmaken: 2," in capsys.readouterr().out
    assert School.objects.count() == 0


def test_the_command_fails_with_every_error_listed(tmp_path, capsys):
    """A bad file makes the command fail, listing every bad line on stderr."""
    path = tmp_path / "fout.csv"
    path.write_text(GOOD + "1234567,X,2026-09-01,\nabc,Y,2026-09-01,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="2 fout"):
        call_command("import_agreements", str(path))
    err = capsys.readouterr().err
    assert "regel 4" in err and "regel 5" in err
    assert School.objects.count() == 0


def test_the_command_prints_cell_values_escaped(tmp_path, capsys):
    """Terminal escape sequences and bidi controls in a cell are printed as escapes, not run."""
    hostile = "\x1b]0;titel\x07\x1b[2J\u202e"
    path = tmp_path / "vijandig.csv"
    path.write_text(f"instellingsnummer,name,valid_from,valid_until\n{hostile},X,{hostile},\n")
    with pytest.raises(CommandError):
        call_command("import_agreements", str(path))
    printed = capsys.readouterr()
    output = printed.out + printed.err
    assert "regel 2" in output
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in output
    assert "\\x1b]0;titel\\x07\\x1b[2J\\u202e" in output


def test_it_explains_shifted_columns():
    """A name with an unquoted delimiter gives a row with too many fields, named as such."""
    result = run(
        "instellingsnummer,name,valid_from,valid_until\n012345,School, De Fictieve,2026-09-01,\n"
    )
    assert not result.ok
    assert result.errors[0].line == 2 and "5 velden in plaats van 4" in result.errors[0].message


def test_it_recognises_a_spreadsheet_that_is_not_csv():
    """An .xlsx (a zip) is refused with a hint to save it as CSV."""
    result = run(b"PK\x03\x04" + b"\x00" * 40)
    assert not result.ok and "CSV UTF-8" in result.errors[0].message


@pytest.mark.parametrize(
    "invisible", ["\x00", "\x1b", "\u202e", "\u200b"], ids=["nul", "escape", "bidi", "zwsp"]
)
def test_it_refuses_control_characters_in_names(invisible):
    """A NUL, a control character, a bidi override or a zero-width space in a name is a row
    error, not a crash and not a name that reads otherwise than it is stored."""
    result = run(
        f"instellingsnummer,name,valid_from,valid_until\n012345,Test{invisible}school,2026-09-01,\n"
    )
    assert not result.ok and result.errors[0].line == 2
    assert School.objects.count() == 0


def test_it_refuses_files_with_too_many_rows(monkeypatch):
    """Past the row limit the file is refused as a whole, bad rows included."""
    monkeypatch.setattr("schools.agreement_csv.IMPORT_MAX_ROWS", 2)
    result = run(GOOD + "abc,,,\n")
    assert not result.ok and result.errors[-1].line == 0
