from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IlearnAuthConfig(AppConfig):
    name = "ilearn_auth"
    verbose_name = "i-Learn Auth"

    def ready(self) -> None:
        from ilearn_auth import checks  # noqa: F401 - registers the deploy checks
        from ilearn_auth.refusal_codes import REFUSAL_CODES
        from ilearn_auth.roles import roles_sync_after_migrate
        from privacy.reasons import reasons_register
        from pupils.selectors import pupils_signed_in_through
        from schools.impact import signin_counter_register

        # The privacy-log admin explains the login's failure codes (privacy imports no app).
        reasons_register({code: meaning for code, (meaning, _todo) in REFUSAL_CODES.items()})
        # Agreements staff see how many pupils a suspension shuts out (a count, no names);
        # schools and pupils do not import each other, so the project connects them.
        signin_counter_register(pupils_signed_in_through)

        # Connected after auth's own handler (INSTALLED_APPS order), so permissions exist.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="ilearn_auth.roles_sync")
