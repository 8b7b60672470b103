"""The staff groups. Their permissions are set by ``ilearn_auth.roles.roles_sync`` after every
migrate: on a fresh database the permissions only exist once all migrations have run."""

from django.db import migrations

GROUPS = ("DPO", "Agreements", "Support")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in GROUPS:
        Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("schools", "0001_initial"),
    ]

    # Reversing leaves the groups: staff may already be members.
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
