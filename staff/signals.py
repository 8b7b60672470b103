"""Privacy-log entries for staff sessions and for every change of a user's rights.

- sign-out (by hand, or a session time-out: ``request.staff_logout_reason``) -> ``authn_logout``;
- groups or permissions added, removed or cleared, from either side -> ``authz_change``
  (who changed whose what: actor, subject ``staff:<pk>``, the group names or permission codes);
- ``is_staff``/``is_superuser`` switched (or a new account created with them) -> ``authz_change``.

The guard: a personal-data group (or permission) is refused, before anything is written, to an
account without a recorded confidentiality undertaking (``staff.exceptions.UndertakingMissing``).
Sign-ins, failures and lockouts are logged where they happen (``staff.views``, ``staff.lockout``).
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

import privacy
from privacy import actions
from staff import access
from staff.context import current_actor
from staff.exceptions import UndertakingMissing

User = get_user_model()
SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"
_FLAGS = ("is_staff", "is_superuser")


@receiver(user_logged_in, dispatch_uid="staff.session_start")
def staff_session_start(sender, request, user, **kwargs) -> None:
    """Stamp a staff session, for the idle and absolute time-outs (staff/middleware.py)."""
    if request is not None and user.is_staff and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[SEEN_AT] = now


@receiver(user_logged_out, dispatch_uid="staff.logged_out")
def staff_logged_out(sender, request, user, **kwargs) -> None:
    if user is None or not user.is_staff:
        return
    privacy.log(
        actions.AUTHN_LOGOUT,
        actor=f"staff:{user.pk}",
        subject=f"staff:{user.pk}",
        reason=getattr(request, "staff_logout_reason", "signed_out"),
    )


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="staff.groups_changed")
def groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    _rights_changed(instance, action, reverse, pk_set, kind="groups")


@receiver(
    m2m_changed, sender=User.user_permissions.through, dispatch_uid="staff.permissions_changed"
)
def permissions_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    _rights_changed(instance, action, reverse, pk_set, kind="permissions")


@receiver(pre_save, sender=User, dispatch_uid="staff.flags_before")
def flags_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not set(update_fields) & set(_FLAGS):
        instance._staff_flags_before = None  # e.g. last_login: no query, nothing to log
        return
    old = User.objects.filter(pk=instance.pk).values(*_FLAGS).first() if instance.pk else None
    instance._staff_flags_before = old or dict.fromkeys(_FLAGS, False)


@receiver(post_save, sender=User, dispatch_uid="staff.flags_after")
def flags_after(sender, instance, raw=False, **kwargs) -> None:
    before = getattr(instance, "_staff_flags_before", None)
    if raw or before is None:
        return
    changed = {
        flag: [before[flag], getattr(instance, flag)]
        for flag in _FLAGS
        if before[flag] != getattr(instance, flag)
    }
    if changed:
        _log_change(instance.pk, changed)


def _rights_changed(instance, action: str, reverse: bool, pk_set, *, kind: str) -> None:
    if action == "pre_clear":
        # The set is gone after the clear: remember it to log what was removed.
        instance._staff_cleared = _current_set(instance, reverse, kind)
        return
    if action == "pre_add":
        _guard(instance, reverse, pk_set, kind)
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = getattr(instance, "_staff_cleared", set())
    if not pk_set:
        return
    verb = "added" if action == "post_add" else "removed"
    if reverse:  # a group's (or permission's) users changed: one entry per user
        names = _names(kind, {instance.pk})
        for user_id in sorted(pk_set):
            _log_change(user_id, {f"{kind}_{verb}": names})
    else:
        _log_change(instance.pk, {f"{kind}_{verb}": _names(kind, pk_set)})


def _guard(instance, reverse: bool, pk_set, kind: str) -> None:
    rights = {instance.pk} if reverse else set(pk_set or ())
    user_ids = set(pk_set or ()) if reverse else {instance.pk}
    if kind == "groups" and not rights & access.personal_data_group_ids():
        return
    if kind == "permissions" and not rights & access.personal_data_permission_ids():
        return
    if not all(access.has_undertaking(user_id) for user_id in user_ids):
        raise UndertakingMissing()


def _current_set(instance, reverse: bool, kind: str) -> set[int]:
    if reverse:
        return set(instance.user_set.values_list("pk", flat=True))
    related = instance.groups if kind == "groups" else instance.user_permissions
    return set(related.values_list("pk", flat=True))


def _names(kind: str, pks) -> list[str]:
    if kind == "groups":
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(pk__in=pks).values_list(
            "content_type__app_label", "codename"
        )
    )


def _log_change(user_id: int, details: dict) -> None:
    privacy.log(
        actions.AUTHZ_CHANGE,
        actor=current_actor(),
        subject=f"staff:{user_id}",
        details=details,
    )
