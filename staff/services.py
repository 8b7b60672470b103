"""Writes about staff accounts that are not the sign-in itself."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

import privacy
from privacy import actions
from staff import access
from staff.context import current_actor
from staff.exceptions import UndertakingMissing
from staff.models import StaffProfile


@transaction.atomic
def staff_undertaking_record(*, user, signed_on: dt.date | None) -> StaffProfile:
    """Record (or clear) the date of ``user``'s confidentiality undertaking; logged when changed."""
    if signed_on is None and access.reaches_personal_data(
        group_ids=user.groups.values_list("pk", flat=True),
        permission_ids=user.user_permissions.values_list("pk", flat=True),
    ):
        raise UndertakingMissing()
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    if profile.undertaking_signed_on != signed_on:
        profile.undertaking_signed_on = signed_on
        profile.save(update_fields=["undertaking_signed_on"])
        privacy.log(
            actions.AUTHZ_CHANGE,
            actor=current_actor(),
            subject=f"staff:{user.pk}",
            details={"undertaking_signed_on": signed_on.isoformat() if signed_on else None},
        )
    return profile
