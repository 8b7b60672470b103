"""Writes to schools and agreements: the CSV import and the privacy log of every change."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import privacy
from schools.models import Agreement, School
from schools.numbers import INVALID_MESSAGE, is_instellingsnummer, restore_leading_zeros

IMPORT_COLUMNS = ("instellingsnummer", "name", "valid_from", "valid_until")
IMPORT_MAX_ROWS = 20_000
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NAME_MAX = School._meta.get_field("name").max_length


# --- The privacy log ---------------------------------------------------------------------------


def actor_key(user: AbstractBaseUser | None) -> str:
    """``staff:<pk>`` for a signed-in staff member, ``system`` for commands and tasks."""
    return f"staff:{user.pk}" if user is not None and user.pk is not None else "system"


def change(obj: str, operation: str, fields: Iterable[str] = (), pk: int | None = None) -> dict:
    """One item of an ``agreement_changed`` entry: which object, what was done, which fields."""
    item: dict[str, object] = {"object": obj, "operation": operation, "fields": sorted(fields)}
    if pk is not None:
        item["id"] = pk
    return item


def school_change_log(
    *,
    school_number: str,
    actor: str,
    via: str,
    changes: list[dict],
    previous_school_number: str | None = None,
) -> None:
    """One ``agreement_changed`` entry: who, which school, what changed (field names only).

    Values are left out on purpose: a contact or a note may name a person.
    """
    details: dict[str, object] = {"via": via, "changes": changes}
    if previous_school_number is not None:
        details["previous_subject"] = f"school:{previous_school_number}"
    privacy.log(
        "agreement_changed",
        actor=actor,
        subject=f"school:{school_number}",
        details=details,
    )


# --- The import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    line: int  # 1 is the header; 0 for the file as a whole
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return self.message
        return _("regel %(line)s: %(message)s") % {"line": self.line, "message": self.message}


@dataclass
class ImportResult:
    dry_run: bool
    errors: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    schools_created: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    number: str
    name: str
    valid_from: dt.date
    valid_until: dt.date | None


class _FileError(Exception):
    pass


def agreements_import(
    *,
    file: bytes | IO[bytes],
    actor: AbstractBaseUser | None,
    dry_run: bool = False,
) -> ImportResult:
    """Import ``instellingsnummer,name,valid_from,valid_until`` rows: all or nothing.

    Any bad row means nothing is written and every bad row is reported with its line number.
    A school is found by number (its name is updated), an agreement by school and
    ``valid_from`` (its ``valid_until`` is updated; its status is never touched). New
    agreements are active. Re-importing the same file changes nothing.
    """
    result = ImportResult(dry_run=dry_run)
    raw = file if isinstance(file, bytes) else file.read()
    try:
        rows = _parse(raw, result)
    except _FileError as exc:
        result.errors.append(ImportProblem(0, str(exc)))
        return result
    if result.errors:
        return result
    if dry_run:
        _plan_and_apply(rows, result, actor=actor, write=False)
        return result
    try:
        with transaction.atomic():
            _plan_and_apply(rows, result, actor=actor, write=True)
    except IntegrityError:
        # Someone changed the same schools at the same moment; the transaction rolled back.
        result.created = result.updated = result.unchanged = result.schools_created = 0
        result.errors.append(
            ImportProblem(0, _("Tegelijk gewijzigd door iemand anders; er is niets veranderd."))
        )
        return result
    result.applied = True
    return result


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


def _parse(raw: bytes, result: ImportResult) -> list[_Row]:
    text = _decode(raw)
    if not text.strip():
        raise _FileError(_("Het bestand is leeg."))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
        missing = [column for column in IMPORT_COLUMNS if column not in header]
        if missing:
            raise _FileError(
                _("Kolommen ontbreken in de eerste regel: %(missing)s. Verwacht: %(expected)s.")
                % {"missing": ", ".join(missing), "expected": ",".join(IMPORT_COLUMNS)}
            )
        ignored = [name for name in header if name and name not in IMPORT_COLUMNS]
        if ignored:
            result.warnings.append(
                ImportProblem(
                    1, _("kolommen genegeerd: %(columns)s") % {"columns": ", ".join(ignored)}
                )
            )
        index = {column: header.index(column) for column in IMPORT_COLUMNS}
        rows: list[_Row] = []
        for count, cells in enumerate(reader):
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets end files with empty ";;;" lines
            if count >= IMPORT_MAX_ROWS:
                raise _FileError(
                    _("Meer dan %(max)s regels; splits het bestand.") % {"max": IMPORT_MAX_ROWS}
                )
            row = _parse_row(reader.line_num, cells, index, len(header), result)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise _FileError(
            _("Regel %(line)s is geen geldige CSV.") % {"line": reader.line_num}
        ) from exc
    _check_duplicates(rows, result)
    if not rows and not result.errors:
        raise _FileError(_("Het bestand bevat geen rijen onder de kopregel."))
    return rows


def _parse_row(
    line: int, cells: list[str], index: dict[str, int], width: int, result: ImportResult
) -> _Row | None:
    def cell(column: str) -> str:
        position = index[column]
        return cells[position].strip() if position < len(cells) else ""

    errors_before = len(result.errors)

    def error(message: str) -> None:
        result.errors.append(ImportProblem(line, message))

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

    number = cell("instellingsnummer")
    if not is_instellingsnummer(number):
        restored = restore_leading_zeros(number)
        if restored:
            result.warnings.append(
                ImportProblem(
                    line,
                    _("%(value)s gelezen als %(number)s") % {"value": number, "number": restored},
                )
            )
            number = restored
        else:
            error(str(INVALID_MESSAGE) % {"value": number})

    name = cell("name")
    if not name:
        error(_("de naam ontbreekt"))
    elif _CONTROL.search(name):
        # PostgreSQL refuses NUL in text; other control characters are never meant.
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
    if len(result.errors) > errors_before:
        return None
    return _Row(line, number, name, valid_from, valid_until)


def _parse_date(value: str, column: str, error, *, required: bool) -> dt.date | None:
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


def _check_duplicates(rows: list[_Row], result: ImportResult) -> None:
    first_by_key: dict[tuple[str, dt.date], int] = {}
    name_by_number: dict[str, tuple[str, int]] = {}
    for row in rows:
        key = (row.number, row.valid_from)
        if key in first_by_key:
            result.errors.append(
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
            result.errors.append(
                ImportProblem(
                    row.line,
                    _("school %(number)s heeft op regel %(line)s een andere naam")
                    % {"number": row.number, "line": known[1]},
                )
            )


@dataclass
class _Plan:
    row: _Row
    school: School
    school_change: str | None  # "create", "change" or None
    school_fields: list[str]
    agreement: Agreement
    agreement_change: str | None
    agreement_fields: list[str]


def _plan_and_apply(
    rows: list[_Row], result: ImportResult, *, actor: AbstractBaseUser | None, write: bool
) -> None:
    plans = _plan(rows, result, actor=actor, lock=write)
    if write:
        _apply(plans, actor=actor)


def _plan(
    rows: list[_Row], result: ImportResult, *, actor: AbstractBaseUser | None, lock: bool
) -> list[_Plan]:
    numbers = {row.number for row in rows}
    schools_query = School.objects.filter(instellingsnummer__in=numbers)
    if lock:
        schools_query = schools_query.select_for_update()
    schools = {school.instellingsnummer: school for school in schools_query}
    number_by_id = {school.pk: number for number, school in schools.items()}
    agreements: dict[str, list[Agreement]] = {}
    for agreement in Agreement.objects.filter(school__in=schools.values()).order_by("valid_from"):
        agreements.setdefault(number_by_id[agreement.school_id], []).append(agreement)

    user_id = actor.pk if actor is not None else None
    plans = []
    for row in rows:
        school_change, school_fields = None, []
        school = schools.get(row.number)
        if school is None:
            school = schools[row.number] = School(instellingsnummer=row.number, name=row.name)
            school_change, school_fields = "create", ["instellingsnummer", "name"]
            result.schools_created += 1
        elif school.name != row.name:
            school.name = row.name
            school_change, school_fields = "change", ["name"]

        own = agreements.setdefault(row.number, [])
        agreement = next((a for a in own if a.valid_from == row.valid_from), None)
        agreement_change, agreement_fields = None, []
        if agreement is None:
            agreement = Agreement(
                school=school,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                created_by_id=user_id,
                updated_by_id=user_id,
            )
            own.append(agreement)
            agreement_change = "create"
            agreement_fields = ["school", "valid_from", "valid_until", "status"]
        elif agreement.valid_until != row.valid_until:
            agreement.valid_until = row.valid_until
            agreement.updated_by_id = user_id
            agreement_change, agreement_fields = "change", ["valid_until"]
        if agreement.status == Agreement.Status.SUSPENDED:
            result.warnings.append(
                ImportProblem(
                    row.line,
                    _(
                        "de overeenkomst van %(number)s is opgeschort; de import wijzigt de "
                        "status niet"
                    )
                    % {"number": row.number},
                )
            )
        if agreement_change and _overlaps(agreement, own):
            result.warnings.append(
                ImportProblem(
                    row.line,
                    _("deze overeenkomst overlapt met een andere van school %(number)s")
                    % {"number": row.number},
                )
            )
        if agreement_change == "create":
            result.created += 1
        elif agreement_change or school_change:
            result.updated += 1
        else:
            result.unchanged += 1
        plans.append(
            _Plan(
                row,
                school,
                school_change,
                school_fields,
                agreement,
                agreement_change,
                agreement_fields,
            )
        )
    return plans


def _apply(plans: list[_Plan], *, actor: AbstractBaseUser | None) -> None:
    """Write the plan in a few bulk statements, then its history and privacy-log entries."""
    now = timezone.now()
    new_schools = [p.school for p in plans if p.school_change == "create"]
    School.objects.bulk_create(new_schools)
    changed_schools = [p.school for p in plans if p.school_change == "change"]
    for school in changed_schools:
        school.updated_at = now
    School.objects.bulk_update(changed_schools, ["name", "updated_at"])
    Agreement.objects.bulk_create([p.agreement for p in plans if p.agreement_change == "create"])
    changed_agreements = [p.agreement for p in plans if p.agreement_change == "change"]
    for agreement in changed_agreements:
        agreement.updated_at = now
    Agreement.objects.bulk_update(changed_agreements, ["valid_until", "updated_by", "updated_at"])

    history: list[LogEntry] = []
    actor_name = actor_key(actor)
    for plan in plans:
        changes = []
        if plan.school_change:
            changes.append(change("school", plan.school_change, plan.school_fields, plan.school.pk))
            history.append(_history(actor, plan.school, plan.school_change, plan.school_fields))
        if plan.agreement_change:
            changes.append(
                change("agreement", plan.agreement_change, plan.agreement_fields, plan.agreement.pk)
            )
            history.append(
                _history(actor, plan.agreement, plan.agreement_change, plan.agreement_fields)
            )
        if changes:
            # One entry per row: the privacy log is a chain written one entry at a time.
            school_change_log(
                school_number=plan.row.number, actor=actor_name, via="import", changes=changes
            )
    if actor is not None:
        LogEntry.objects.bulk_create(history)


def _overlaps(agreement: Agreement, own: list[Agreement]) -> bool:
    end = agreement.valid_until or dt.date.max
    return any(
        other is not agreement
        and other.valid_from <= end
        and (other.valid_until or dt.date.max) >= agreement.valid_from
        for other in own
    )


def _history(
    actor: AbstractBaseUser | None, obj: School | Agreement, operation: str, fields: list[str]
) -> LogEntry | None:
    """An entry for the admin's history page; it needs a user, so ``system`` imports have none."""
    if actor is None:
        return None
    if operation == "create":
        message: list[dict] = [{"added": {}}]
    else:
        names = [str(obj._meta.get_field(name).verbose_name) for name in fields]
        message = [{"changed": {"fields": names}}]
    return LogEntry(
        user_id=actor.pk,
        content_type_id=ContentType.objects.get_for_model(obj).pk,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=ADDITION if operation == "create" else CHANGE,
        change_message=json.dumps(message),
    )
