"""Reads about staff accounts: the access review (protocol article 4: need-to-know)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Prefetch
from django.utils import timezone

from privacy.csv_cells import guard
from staff import access
from staff.models import Lockout
from staff.second_factor import confirmed_totp_devices


@dataclass(frozen=True)
class AccessReviewRow:
    user_id: int
    username: str
    is_active: bool
    is_superuser: bool
    groups: tuple[str, ...]
    # The apps whose data the account may view (app labels), or ("*",) for a superuser.
    areas: tuple[str, ...]
    sees_personal_data: bool
    second_factor: bool
    undertaking_signed_on: dt.date | None
    last_login: dt.datetime | None
    locked: bool

    def as_csv_row(self) -> list[str]:
        cells = [
            self.username,
            _yes(self.is_active),
            _yes(self.is_superuser),
            " ".join(self.groups),
            " ".join(self.areas),
            _yes(self.sees_personal_data),
            _yes(self.second_factor),
            self.undertaking_signed_on.isoformat() if self.undertaking_signed_on else "",
            self.last_login.isoformat() if self.last_login else "",
            _yes(self.locked),
        ]
        return [guard(cell) for cell in cells]  # names are typed by people: no formulas


def access_review_rows() -> list[AccessReviewRow]:
    """Every staff account (active or not), its groups and what they let it see.

    A plain function so the DPO's evidence bundle can include the same table.
    """
    personal_groups = access.personal_data_group_ids()
    personal_permissions = access.personal_data_permission_ids()
    with_device = set(confirmed_totp_devices().values_list("user_id", flat=True))
    locked = _locked_user_ids()
    rows = []
    for user in _staff_users():
        group_ids = {group.pk for group in user.groups.all()}
        permissions = [
            *user.user_permissions.all(),
            *(p for group in user.groups.all() for p in group.permissions.all()),
        ]
        permission_ids = {permission.pk for permission in user.user_permissions.all()}
        profile = getattr(user, "staff_profile", None)
        rows.append(
            AccessReviewRow(
                user_id=user.pk,
                username=user.get_username(),
                is_active=user.is_active,
                is_superuser=user.is_superuser,
                groups=tuple(group.name for group in user.groups.all()),
                areas=("*",)
                if user.is_superuser
                else tuple(sorted({p.content_type.app_label for p in permissions})),
                sees_personal_data=user.is_superuser
                or bool(group_ids & personal_groups)
                or bool(permission_ids & personal_permissions),
                second_factor=user.pk in with_device,
                undertaking_signed_on=profile.undertaking_signed_on if profile else None,
                last_login=user.last_login,
                locked=user.pk in locked,
            )
        )
    return rows


def _locked_user_ids() -> set[int]:
    return set(
        Lockout.objects.filter(
            user__isnull=False, until__gt=timezone.now(), lifted_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def _staff_users():
    """Staff accounts with their groups and permissions, in one query each."""
    return (
        get_user_model()
        .objects.filter(is_staff=True)
        .select_related("staff_profile")
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=Group.objects.order_by("name").prefetch_related(
                    Prefetch("permissions", queryset=_permissions())
                ),
            ),
            Prefetch("user_permissions", queryset=_permissions()),
        )
        .order_by("username")
    )


def _permissions():
    return Permission.objects.select_related("content_type").only("pk", "content_type__app_label")


def _yes(value: bool) -> str:
    return "yes" if value else "no"
