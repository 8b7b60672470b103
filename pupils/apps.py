from __future__ import annotations

from django.apps import AppConfig


class PupilsConfig(AppConfig):
    name = "pupils"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # A pupil's login is stamped once, as Pupil.last_login_at in pupil_record_login's
        # transaction. Django's own receiver would write the same moment to auth_user again on
        # every login: one more UPDATE and row lock on the hot path, for state nobody reads.
        if user_logged_in.disconnect(dispatch_uid="update_last_login"):
            user_logged_in.connect(_update_staff_last_login, dispatch_uid="update_last_login")


def _update_staff_last_login(sender, user, **kwargs) -> None:
    from django.contrib.auth.models import update_last_login

    # A pupil's user has its pupil cached by pupil_record_login: no query on the login path.
    if getattr(user, "pupil", None) is None:
        update_last_login(sender, user, **kwargs)
