"""Writes to schools and agreements, each with its ``agreement_changed`` privacy-log entry.

The admin's saves, deletes and actions and the CSV import all come here, so the rules for an
agreement live in one place and a test reaches them without HTTP. An entry names the school,
who acted (``staff:<pk>`` or ``system``), through what (``admin`` or ``import``) and which
fields changed; values are left out on purpose, as a contact or a note may name a person.
The CSV import is the service in ``schools.agreement_import``, its pure parsing in
``schools.agreement_csv``; both write through ``agreement_changed_log``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

import privacy
from privacy.audit import staff_actor
from schools.models import Agreement, School


@transaction.atomic
def school_save(
    *,
    school: School,
    actor: AbstractBaseUser | None,
    fields: Iterable[str],
    created: bool,
    previous_number: str | None = None,
    via: str = "admin",
) -> School:
    """Save a school; log it when it is new or ``fields`` changed. ``previous_number``: the
    instellingsnummer it had, when that changed (the log then names both)."""
    school.save()
    fields = list(fields)
    if created or fields:
        agreement_changed_log(
            school,
            actor=actor,
            via=via,
            changes=[change_item("school", "create" if created else "change", fields, school.pk)],
            previous_number=previous_number,
        )
    return school


@transaction.atomic
def school_delete(*, school: School, actor: AbstractBaseUser | None, via: str = "admin") -> None:
    """Delete a school without agreements (they protect it) and log it."""
    agreement_changed_log(
        school, actor=actor, via=via, changes=[change_item("school", "delete", [], school.pk)]
    )
    school.delete()


@transaction.atomic
def agreement_save(
    *,
    agreement: Agreement,
    actor: AbstractBaseUser | None,
    fields: Iterable[str],
    created: bool,
    via: str = "admin",
) -> Agreement:
    """Save an agreement, recording who created or last changed it; log it when it is new or
    ``fields`` changed."""
    if created:
        agreement.created_by = actor
    agreement.updated_by = actor
    agreement.save()
    fields = [name for name in fields if name != "id"]  # an inline form's hidden key
    if created or fields:
        operation = "create" if created else "change"
        agreement_changed_log(
            agreement.school,
            actor=actor,
            via=via,
            changes=[change_item("agreement", operation, fields, agreement.pk)],
        )
    return agreement


@transaction.atomic
def agreement_delete(
    *, agreement: Agreement, actor: AbstractBaseUser | None, via: str = "admin"
) -> None:
    """Delete a (wrongly entered) agreement and log it."""
    agreement_changed_log(
        agreement.school,
        actor=actor,
        via=via,
        changes=[change_item("agreement", "delete", [], agreement.pk)],
    )
    agreement.delete()


def agreements_suspend(
    *, agreements: Iterable[Agreement], actor: AbstractBaseUser | None
) -> list[Agreement]:
    """Suspend the active ones of ``agreements``; return those changed."""
    due = [a for a in agreements if a.status != Agreement.Status.SUSPENDED]
    return _set_field(due, "status", Agreement.Status.SUSPENDED, actor=actor)


def agreements_reactivate(
    *, agreements: Iterable[Agreement], actor: AbstractBaseUser | None
) -> list[Agreement]:
    """Make the suspended ones of ``agreements`` active again; return those changed."""
    due = [a for a in agreements if a.status != Agreement.Status.ACTIVE]
    return _set_field(due, "status", Agreement.Status.ACTIVE, actor=actor)


def agreements_end(
    *, agreements: Iterable[Agreement], actor: AbstractBaseUser | None, on: dt.date
) -> list[Agreement]:
    """End ``agreements`` on ``on`` (valid until and including that day); return those changed.

    Skipped: those already ended by then, and those not started yet, which cannot end before
    they start (suspend or delete those).
    """
    due = [
        a
        for a in agreements
        if a.valid_from <= on and (a.valid_until is None or a.valid_until > on)
    ]
    return _set_field(due, "valid_until", on, actor=actor)


@transaction.atomic
def _set_field(
    agreements: list[Agreement], name: str, value: object, *, actor: AbstractBaseUser | None
) -> list[Agreement]:
    for agreement in agreements:
        setattr(agreement, name, value)
        agreement.updated_by = actor
        agreement.save(update_fields=[name, "updated_by", "updated_at"])
        agreement_changed_log(
            agreement.school,
            actor=actor,
            via="admin",
            changes=[change_item("agreement", "change", [name], agreement.pk)],
        )
    return agreements


def agreement_changed_log(
    school: School,
    *,
    actor: AbstractBaseUser | None,
    via: str,
    changes: list[dict],
    previous_number: str | None = None,
) -> None:
    """One ``agreement_changed`` entry: who, which school, what changed (field names only)."""
    details: dict[str, object] = {"via": via, "changes": changes}
    if previous_number is not None:
        details["previous_subject"] = f"school:{previous_number}"
    privacy.log(
        "agreement_changed",
        actor="system" if actor is None else staff_actor(actor),
        subject=school.subject,
        details=details,
    )


def change_item(
    obj: str, operation: str, fields: Iterable[str] = (), pk: int | None = None
) -> dict:
    """One item of an ``agreement_changed`` entry: which object, what was done, which fields."""
    item: dict[str, object] = {"object": obj, "operation": operation, "fields": sorted(fields)}
    if pk is not None:
        item["id"] = pk
    return item
