"""The staff groups and exactly what each may do: the one permission matrix.

``roles_sync()`` runs after every ``migrate`` (see ``IlearnAuthConfig.ready``): it creates
the groups and gives each exactly the permissions listed here, removing any other, so a
permission granted by hand in the admin does not survive the next deploy. To give a group
access to your app's models, add lines under that group (``"app_label.codename"``).
"""

from __future__ import annotations

import logging

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

logger = logging.getLogger(__name__)

DPO = "DPO"
AGREEMENTS = "Agreements"
SUPPORT = "Support"

PERMISSIONS: dict[str, list[str]] = {
    # The data protection officer: everything personal, read-mostly on schools.
    DPO: [
        "schools.view_school",
        "schools.view_agreement",
        # privacy (helper A), retention (helper D), pupils (helper C1): add yours below.
        "retention.view_retentionrun",
        # privacy: the log and its checkpoints are view-only for everyone (no other
        # permission exists). Breaches and data-quality reports are records the GDPR asks us
        # to keep (art. 33(5)): added and changed, never deleted. Processors and processing
        # activities end and may be removed. Every register change is itself logged.
        "privacy.view_privacylogentry",
        "privacy.view_privacylogcheckpoint",
        "privacy.add_breach",
        "privacy.change_breach",
        "privacy.view_breach",
        "privacy.add_dataqualityreport",
        "privacy.change_dataqualityreport",
        "privacy.view_dataqualityreport",
        "privacy.add_processor",
        "privacy.change_processor",
        "privacy.delete_processor",
        "privacy.view_processor",
        "privacy.add_processingactivity",
        "privacy.change_processingactivity",
        "privacy.delete_processingactivity",
        "privacy.view_processingactivity",
        # pupils: find and look up a pupil (each view of names logged), export one pupil's
        # data (logged), erase a pupil with its user (logged). Never add or change: pupils are
        # written by their own logins only.
        "pupils.view_pupil",
        "pupils.view_identitysnapshot",
        "pupils.export_pupil",
        "pupils.delete_pupil",
        # staff: see every staff account, review who may see what (logged), reset a second
        # factor and lift a sign-in lockout (both logged). Accounts and groups are given by a
        # superuser (setting up), never by a day-to-day role.
        "auth.view_user",
        "staff.view_access_review",
        "staff.reset_second_factor",
        "staff.unlock_signin",
        # dpo (issue 12): the dashboard, and what the workbench's tasks did (read-only); the
        # retention terms of the processing register are kept like the register itself.
        "dpo.view_dashboard",
        "dpo.view_dailycount",
        "dpo.view_logverification",
        "dpo.view_alert",
        "dpo.view_evidencebundle",
        "dpo.view_protocolend",
        "privacy.add_retentionterm",
        "privacy.change_retentionterm",
        "privacy.delete_retentionterm",
        "privacy.view_retentionterm",
    ],
    # Staff who keep the list of schools with an agreement. No pupil or privacy data.
    # Schools are never deleted by staff (agreements point at them and the history matters);
    # a wrongly entered agreement may be deleted, which is logged like any change.
    AGREEMENTS: [
        "schools.add_school",
        "schools.change_school",
        "schools.view_school",
        "schools.add_agreement",
        "schools.change_agreement",
        "schools.delete_agreement",
        "schools.view_agreement",
    ],
    # Helpdesk: find a pupil by pseudonym or LeerID key (pupil permissions added by pupils).
    SUPPORT: [
        # pupils: find a pupil and see the last login's names and keys; each view is logged.
        "pupils.view_pupil",
        "pupils.view_identitysnapshot",
    ],
}


def roles_sync(*, using: str = DEFAULT_DB_ALIAS, apps=global_apps) -> None:
    """Create the groups and set each one's permissions to exactly the matrix. Idempotent.

    A listed permission that does not exist (yet) is skipped with a warning rather than
    failing the migrate; ``schools/tests/test_roles.py`` makes sure none is missing.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {codename for codenames in PERMISSIONS.values() for codename in codenames}
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
        if f"{app_label}.{codename}" in wanted
    }
    for name, codenames in PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        missing = [codename for codename in codenames if codename not in found]
        if missing:
            logger.warning("roles_sync: group %s: unknown permissions %s", name, missing)
        group.permissions.set([found[codename] for codename in codenames if codename in found])


def roles_sync_after_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, apps=None, **kwargs):
    """post_migrate handler: runs once, after the last app has had its permissions created."""
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if not with_models or sender.label != with_models[-1].label:
        return
    # The real models, not the migration state: `migrate <one app>` hands over a state without
    # auth, and post_migrate runs after every migration has been applied anyway.
    from django.db import connections

    if "auth_permission" not in connections[using].introspection.table_names():
        return  # `migrate <app>` on an empty database: auth comes later, and syncs then.
    roles_sync(using=using)
