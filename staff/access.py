"""Need-to-know: which groups and permissions reach personal data, and who has a role at all.

A group is a *personal-data group* when it holds one of ``STAFF_PERSONAL_DATA_PERMISSIONS``
(with the matrix of ``ilearn_auth/roles.py``: DPO and Support). Joining one, or holding such a
permission directly, needs a recorded confidentiality undertaking (protocol article 6).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db.models import Q


def _permission_filter(prefix: str = "") -> Q:
    query = Q(pk__in=[])
    for dotted in settings.STAFF_PERSONAL_DATA_PERMISSIONS:
        app_label, codename = dotted.split(".", 1)
        query |= Q(**{f"{prefix}content_type__app_label": app_label, f"{prefix}codename": codename})
    return query


def personal_data_group_ids() -> set[int]:
    return set(
        Group.objects.filter(_permission_filter("permissions__")).values_list("pk", flat=True)
    )


def personal_data_permission_ids() -> set[int]:
    return set(Permission.objects.filter(_permission_filter()).values_list("pk", flat=True))


def reaches_personal_data(*, group_ids: Iterable[int] = (), permission_ids: Iterable[int] = ()):
    """True when these groups or direct permissions let their holder see personal data."""
    return bool(set(group_ids) & personal_data_group_ids()) or bool(
        set(permission_ids) & personal_data_permission_ids()
    )


def has_undertaking(user_id: int | None) -> bool:
    """Asked of the database, not of a cached ``user.staff_profile`` (it may have just changed)."""
    from staff.models import StaffProfile

    return (
        bool(user_id)
        and StaffProfile.objects.filter(
            user_id=user_id, undertaking_signed_on__isnull=False
        ).exists()
    )


def has_role(user) -> bool:
    """A superuser, or a member of a group, or a holder of a permission: else no admin at all."""
    return bool(user.is_superuser or user.groups.exists() or user.user_permissions.exists())
