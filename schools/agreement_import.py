"""The CSV import of schools and agreements: all or nothing, each changed row logged.

``schools.agreement_csv`` turns the file into rows or reasons (pure); this module finds what
each row changes (``_plan``), then writes it in a few bulk statements (``_apply``) with the
admin's history and one ``agreement_changed`` entry per row (``via: import``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.agreement_csv import AgreementRow, ImportProblem, parse_agreements_csv
from schools.dates import day_text
from schools.models import Agreement, School
from schools.selectors import agreements_overlapping
from schools.services import agreement_changed_log, change_item


@dataclass(frozen=True)
class ImportChange:
    """One row that changes something, as the preview lists it (dates dd-mm-jjjj)."""

    line: int
    number: str
    name: str
    what: list[str]


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
    # What will be (or was) created and changed, row by row; unchanged rows are left out.
    changes: list[ImportChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Plan:
    row: AgreementRow
    school: School
    school_change: str | None  # "create", "change" or None
    school_fields: list[str]
    agreement: Agreement
    agreement_change: str | None
    agreement_fields: list[str]


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
    raw = file if isinstance(file, bytes) else file.read()
    parsed = parse_agreements_csv(raw)
    result = ImportResult(dry_run=dry_run, errors=parsed.errors, warnings=parsed.warnings)
    if result.errors:
        return result
    if dry_run:
        _plan(parsed.rows, result, actor=actor, lock=False)
        return result
    try:
        with transaction.atomic():
            _apply(_plan(parsed.rows, result, actor=actor, lock=True), actor=actor)
    except IntegrityError:
        # Someone changed the same schools at the same moment; the transaction rolled back.
        result.created = result.updated = result.unchanged = result.schools_created = 0
        result.changes = []
        result.errors.append(
            ImportProblem(0, _("Tegelijk gewijzigd door iemand anders; er is niets veranderd."))
        )
        return result
    result.applied = True
    return result


def _plan(
    rows: list[AgreementRow], result: ImportResult, *, actor: AbstractBaseUser | None, lock: bool
) -> list[_Plan]:
    """What each row changes (nothing written yet), counted and warned about in ``result``."""
    schools, agreements = _existing({row.number for row in rows}, lock=lock)
    user_id = actor.pk if actor is not None else None
    plans = []
    for row in rows:
        before = _before(row, schools, agreements)
        school, school_change, school_fields = _plan_school(row, schools)
        own = agreements.setdefault(row.number, [])
        agreement, agreement_change, agreement_fields = _plan_agreement(row, school, own, user_id)
        plan = _Plan(
            row, school, school_change, school_fields, agreement, agreement_change, agreement_fields
        )
        _count(plan, own, result)
        _describe(plan, before, result)
        plans.append(plan)
    return plans


_NEW = object()


def _before(
    row: AgreementRow, schools: dict[str, School], agreements: dict[str, list[Agreement]]
) -> tuple[object, object]:
    """The school's name and the agreement's end date before this row (``_NEW``: none yet)."""
    school = schools.get(row.number)
    agreement = next(
        (a for a in agreements.get(row.number, []) if a.valid_from == row.valid_from), None
    )
    return (
        school.name if school else _NEW,
        agreement.valid_until if agreement else _NEW,
    )


def _describe(plan: _Plan, before: tuple[object, object], result: ImportResult) -> None:
    old_name, old_until = before
    what = []
    if plan.school_change == "create":
        what.append(_("nieuwe school"))
    elif plan.school_change == "change":
        what.append(
            _("naam: “%(old)s” wordt “%(new)s”") % {"old": old_name, "new": plan.school.name}
        )
    if plan.agreement_change == "create":
        what.append(
            _("nieuwe overeenkomst van %(start)s tot en met %(until)s")
            % {
                "start": day_text(plan.row.valid_from),
                "until": day_text(plan.row.valid_until, empty=_("onbepaald")),
            }
        )
    elif plan.agreement_change == "change":
        what.append(
            _("overeenkomst vanaf %(start)s: einde %(old)s wordt %(new)s")
            % {
                "start": day_text(plan.row.valid_from),
                "old": day_text(old_until, empty=_("onbepaald")),
                "new": day_text(plan.row.valid_until, empty=_("onbepaald")),
            }
        )
    if what:
        result.changes.append(ImportChange(plan.row.line, plan.row.number, plan.school.name, what))


def _existing(
    numbers: set[str], *, lock: bool
) -> tuple[dict[str, School], dict[str, list[Agreement]]]:
    """The schools with these numbers (locked for the write), and their agreements by number."""
    schools_query = School.objects.filter(instellingsnummer__in=numbers)
    if lock:
        schools_query = schools_query.select_for_update()
    schools = {school.instellingsnummer: school for school in schools_query}
    number_by_id = {school.pk: number for number, school in schools.items()}
    agreements: dict[str, list[Agreement]] = {}
    for agreement in Agreement.objects.filter(school__in=schools.values()).order_by("valid_from"):
        agreements.setdefault(number_by_id[agreement.school_id], []).append(agreement)
    return schools, agreements


def _plan_school(
    row: AgreementRow, schools: dict[str, School]
) -> tuple[School, str | None, list[str]]:
    school = schools.get(row.number)
    if school is None:
        school = schools[row.number] = School(instellingsnummer=row.number, name=row.name)
        return school, "create", ["instellingsnummer", "name"]
    if school.name != row.name:
        school.name = row.name
        return school, "change", ["name"]
    return school, None, []


def _plan_agreement(
    row: AgreementRow, school: School, own: list[Agreement], user_id: int | None
) -> tuple[Agreement, str | None, list[str]]:
    agreement = next((a for a in own if a.valid_from == row.valid_from), None)
    if agreement is None:
        agreement = Agreement(
            school=school,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            created_by_id=user_id,
            updated_by_id=user_id,
        )
        own.append(agreement)
        return agreement, "create", ["school", "valid_from", "valid_until", "status"]
    if agreement.valid_until != row.valid_until:
        agreement.valid_until = row.valid_until
        agreement.updated_by_id = user_id
        return agreement, "change", ["valid_until"]
    return agreement, None, []


def _count(plan: _Plan, own: list[Agreement], result: ImportResult) -> None:
    """Count the row as created, updated or unchanged; warn about what staff should know."""
    number, line = plan.row.number, plan.row.line
    if plan.agreement.status == Agreement.Status.SUSPENDED:
        result.warnings.append(
            ImportProblem(
                line,
                _("de overeenkomst van %(number)s is opgeschort; de import wijzigt de status niet")
                % {"number": number},
            )
        )
    if plan.agreement_change and agreements_overlapping(plan.agreement, own):
        result.warnings.append(
            ImportProblem(
                line,
                _("deze overeenkomst overlapt met een andere van school %(number)s")
                % {"number": number},
            )
        )
    if plan.school_change == "create":
        result.schools_created += 1
    if plan.agreement_change == "create":
        result.created += 1
    elif plan.agreement_change or plan.school_change:
        result.updated += 1
    else:
        result.unchanged += 1


def _apply(plans: list[_Plan], *, actor: AbstractBaseUser | None) -> None:
    """Write the plan in a few bulk statements, then its history and privacy-log entries."""
    now = timezone.now()
    School.objects.bulk_create([p.school for p in plans if p.school_change == "create"])
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
    for plan in plans:
        changes = []
        if plan.school_change:
            changes.append(
                change_item("school", plan.school_change, plan.school_fields, plan.school.pk)
            )
            history.append(_history(actor, plan.school, plan.school_change, plan.school_fields))
        if plan.agreement_change:
            changes.append(
                change_item(
                    "agreement", plan.agreement_change, plan.agreement_fields, plan.agreement.pk
                )
            )
            history.append(
                _history(actor, plan.agreement, plan.agreement_change, plan.agreement_fields)
            )
        if changes:
            # One entry per row: the privacy log is a chain written one entry at a time.
            agreement_changed_log(plan.school, actor=actor, via="import", changes=changes)
    if actor is not None:
        LogEntry.objects.bulk_create(history)


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
