from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PupilsConfig(AppConfig):
    name = "pupils"
    verbose_name = _("Leerlingen")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # A pupil's login is stamped once, as Pupil.last_login_at in pupil_record_login's
        # transaction. Django's own receiver would write the same moment to auth_user again on
        # every login: one more UPDATE and row lock on the hot path, for state nobody reads.
        if user_logged_in.disconnect(dispatch_uid="update_last_login"):
            user_logged_in.connect(_update_staff_last_login, dispatch_uid="update_last_login")


def _update_staff_last_login(sender, user, **kwargs) -> None:
    from django.contrib.auth.models import update_last_login

    # The LeerID login hands over the user with its pupil loaded by pupil_record_login; only
    # the cache is looked at, so no login (staff, or the stock app of bench/login.py) pays a
    # query for this check.
    relation = getattr(type(user), "pupil", None)
    if relation is not None and relation.related.is_cached(user) and user.pupil is not None:
        return
    update_last_login(sender, user, **kwargs)
