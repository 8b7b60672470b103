"""django_admin_log rows about pupils go (issue 10).

Older versions wrote one for every pupil a staff member erased ("leerling <pseudonym prefix>"),
kept forever, out of reach of the retention rules. The admin writes none any more; the rows
already there (about pupils, their snapshots, aliases or their Django users) are deleted here.
The privacy log keeps the record of each erasure (sensitive_delete).
"""

from django.db import migrations

# A pupil's Django user is named "pupil-<public_id hex>" (pupils.services._pupil_create).
PUPIL_USER_PREFIX = "pupil-"


def forget(apps, schema_editor) -> None:
    log_entry = apps.get_model("admin", "LogEntry")
    content_type = apps.get_model("contenttypes", "ContentType")
    pupil_user_ids = apps.get_model("pupils", "Pupil").objects.values_list("user_id", flat=True)
    pupil_types = content_type.objects.filter(app_label="pupils")
    user_type = content_type.objects.filter(app_label="auth", model="user").first()
    log_entry.objects.filter(content_type__in=pupil_types).delete()
    if user_type is not None:
        about_users = log_entry.objects.filter(content_type=user_type)
        about_users.filter(object_repr__startswith=PUPIL_USER_PREFIX).delete()
        about_users.filter(object_id__in=[str(pk) for pk in pupil_user_ids]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pupils", "0004_i10_encrypted_snapshot_keys"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop, elidable=False)]
