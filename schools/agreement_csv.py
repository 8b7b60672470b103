"""The agreements CSV in, parsed rows or reasons out. Pure: no database, no I/O, never raises.

``parse_agreements_csv`` reads the bytes of an ``instellingsnummer,name,valid_from,valid_until``
file (comma or semicolon, UTF-8 with or without byte order mark) and returns every row it could
read plus every problem it found, each with its line number; ``schools.services`` decides what
the rows mean for the database. A file-wide problem (not CSV, no header, too long) is reported
on line 0.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from privacy.csv_cells import unguard
from schools.models import School
from schools.numbers import INVALID_MESSAGE, is_instellingsnummer, restore_leading_zeros

IMPORT_COLUMNS = ("instellingsnummer", "name", "valid_from", "valid_until")
IMPORT_MAX_ROWS = 20_000
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Joiners some scripts need in names; every other control or format character (NUL, a bidi
# override, a zero-width space) is refused: invisible on a page, it can disguise a name.
_KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
# Read from the model's metadata (no query): a longer name would fail on save.
_NAME_MAX = School._meta.get_field("name").max_length


# The export guards cells (privacy.csv_cells); the import takes the mark off again.


@dataclass(frozen=True)
class ImportProblem:
    line: int  # 1 is the header; 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return self.message
        return _("regel %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass(frozen=True)
class AgreementRow:
    line: int
    number: str
    name: str
    valid_from: dt.date
    valid_until: dt.date | None


@dataclass
class ParsedFile:
    rows: list[AgreementRow] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)


class _FileError(Exception):
    pass


def parse_agreements_csv(raw: bytes) -> ParsedFile:
    """Every readable row and every problem of the file; rows are usable only without errors."""
    parsed = ParsedFile()
    try:
        _parse(raw, parsed)
    except _FileError as exc:
        parsed.errors.append(ImportProblem(0, str(exc)))
    return parsed


def _decode(raw: bytes) -> str:
    if raw.startswith(b"PK\x03\x04"):  # a zip: .xlsx or .ods
        raise _FileError(
            _("Dit is een spreadsheet, geen CSV. Bewaar het als “CSV UTF-8” en probeer opnieuw.")
        )
    try:
        # utf-8-sig drops the byte order mark that spreadsheets put in front.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _FileError(
            _("Het bestand is geen UTF-8. Bewaar het als “CSV UTF-8” en probeer opnieuw.")
        ) from exc


def _delimiter(text: str) -> str:
    # The header decides: it has no quoted commas, and csv.Sniffer guesses wrong on short files.
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _parse(raw: bytes, parsed: ParsedFile) -> None:
    text = _decode(raw)
    if not text.strip():
        raise _FileError(_("Het bestand is leeg."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        index = _columns(header, parsed)
        for count, cells in enumerate(reader):
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets end files with empty ";;;" lines
            if count >= IMPORT_MAX_ROWS:
                raise _FileError(
                    _("Meer dan %(max)s regels; splits het bestand.") % {"max": IMPORT_MAX_ROWS}
                )
            row = _parse_row(reader.line_num, cells, index, len(header), parsed)
            if row is not None:
                parsed.rows.append(row)
    except csv.Error as exc:
        raise _FileError(
            _("Regel %(line)s is geen geldige CSV.") % {"line": reader.line_num}
        ) from exc
    _check_duplicates(parsed)
    if not parsed.rows and not parsed.errors:
        raise _FileError(_("Het bestand bevat geen rijen onder de kopregel."))


def _columns(header: list[str], parsed: ParsedFile) -> dict[str, int]:
    """Where each expected column sits; a missing one is a file error, extra ones a warning."""
    missing = [column for column in IMPORT_COLUMNS if column not in header]
    if missing:
        raise _FileError(
            _("Kolommen ontbreken in de eerste regel: %(missing)s. Verwacht: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ",".join(IMPORT_COLUMNS)}
        )
    ignored = [name for name in header if name and name not in IMPORT_COLUMNS]
    if ignored:
        parsed.warnings.append(
            ImportProblem(1, _("kolommen genegeerd: %(columns)s") % {"columns": ", ".join(ignored)})
        )
    return {column: header.index(column) for column in IMPORT_COLUMNS}


def _parse_row(
    line: int, cells: list[str], index: dict[str, int], width: int, parsed: ParsedFile
) -> AgreementRow | None:
    def cell(column: str) -> str:
        position = index[column]
        return unguard(cells[position].strip()) if position < len(cells) else ""

    errors_before = len(parsed.errors)

    def error(message: str) -> None:
        parsed.errors.append(ImportProblem(line, message))

    if len(cells) > width:
        # Most often a name holding the delimiter without quotes: the columns shift. (A
        # spreadsheet writes as many cells on every line as in the header, so this is rare.)
        error(
            _(
                "%(count)s velden in plaats van %(expected)s; staat er een scheidingsteken in "
                "een naam zonder aanhalingstekens?"
            )
            % {"count": len(cells), "expected": width}
        )
        return None
    number = _parse_number(line, cell("instellingsnummer"), error, parsed)
    name = cell("name")
    if not name:
        error(_("de naam ontbreekt"))
    elif _has_invisible_characters(name):
        # PostgreSQL refuses NUL in text; the others are never meant in a school's name.
        error(_("de naam bevat onzichtbare stuurtekens"))
    elif len(name) > _NAME_MAX:
        error(_("de naam is langer dan %(max)s tekens") % {"max": _NAME_MAX})
    valid_from = _parse_date(cell("valid_from"), "valid_from", error, required=True)
    valid_until = _parse_date(cell("valid_until"), "valid_until", error, required=False)
    if valid_from and valid_until and valid_until < valid_from:
        error(
            _("valid_until (%(until)s) ligt vóór valid_from (%(start)s)")
            % {"until": valid_until.isoformat(), "start": valid_from.isoformat()}
        )
    if len(parsed.errors) > errors_before:
        return None
    return AgreementRow(line, number, name, valid_from, valid_until)


def _parse_number(line: int, number: str, error: Callable[[str], None], parsed: ParsedFile) -> str:
    """The instellingsnummer, with leading zeros a spreadsheet dropped put back (and said so)."""
    if is_instellingsnummer(number):
        return number
    restored = restore_leading_zeros(number)
    if not restored:
        error(str(INVALID_MESSAGE) % {"value": number})
        return number
    parsed.warnings.append(
        ImportProblem(
            line, _("%(value)s gelezen als %(number)s") % {"value": number, "number": restored}
        )
    )
    return restored


def _parse_date(
    value: str, column: str, error: Callable[[str], None], *, required: bool
) -> dt.date | None:
    if not value:
        if required:
            error(_("%(column)s ontbreekt") % {"column": column})
        return None
    if _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    error(
        _("%(column)s “%(value)s” is geen datum als JJJJ-MM-DD")
        % {"column": column, "value": value}
    )
    return None


def _check_duplicates(parsed: ParsedFile) -> None:
    first_by_key: dict[tuple[str, dt.date], int] = {}
    name_by_number: dict[str, tuple[str, int]] = {}
    for row in parsed.rows:
        key = (row.number, row.valid_from)
        if key in first_by_key:
            parsed.errors.append(
                ImportProblem(
                    row.line,
                    _("dezelfde school en begindatum staan ook op regel %(line)s")
                    % {"line": first_by_key[key]},
                )
            )
        else:
            first_by_key[key] = row.line
        known = name_by_number.setdefault(row.number, (row.name, row.line))
        if known[0] != row.name:
            parsed.errors.append(
                ImportProblem(
                    row.line,
                    _("school %(number)s heeft op regel %(line)s een andere naam")
                    % {"number": row.number, "line": known[1]},
                )
            )


def _has_invisible_characters(name: str) -> bool:
    return any(
        unicodedata.category(char)[0] == "C" and char not in _KEPT_FORMAT_CHARACTERS
        for char in name
    )
