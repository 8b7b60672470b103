"""IdentitySnapshot's LeerID and account keys encrypted at rest, like the names (issue 10).

New encrypted columns are added, every existing row is copied into them in batches (encrypted
with the first FIELD_ENCRYPTION_KEYS key), the clear columns are dropped and the new ones take
their names. Reversible: going back decrypts into UUID and JSON columns again.
"""

from django.db import migrations, models

import pupils.fields

BATCH = 500
KEYS = ("leer_id_uuid", "account_uuid", "historiek_account_uuids")


def _copy(apps, *, source: str, target: str, convert) -> None:
    snapshot_model = apps.get_model("pupils", "IdentitySnapshot")
    last_pk = 0
    while True:
        batch = list(snapshot_model.objects.filter(pk__gt=last_pk).order_by("pk")[:BATCH])
        if not batch:
            return
        for snapshot in batch:
            for key in KEYS:
                setattr(
                    snapshot, f"{key}{target}", convert(key, getattr(snapshot, f"{key}{source}"))
                )
        snapshot_model.objects.bulk_update(batch, [f"{key}{target}" for key in KEYS])
        last_pk = batch[-1].pk


def _to_text(key, value):
    if key == "historiek_account_uuids":
        return [str(item) for item in value or []]
    return None if value is None else str(value)


def encrypt_keys(apps, schema_editor) -> None:
    _copy(apps, source="", target="_encrypted", convert=_to_text)


def decrypt_keys(apps, schema_editor) -> None:
    _copy(apps, source="_encrypted", target="", convert=lambda key, value: value)


class Migration(migrations.Migration):
    dependencies = [
        ("pupils", "0003_dutch_field_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="identitysnapshot",
            name="leer_id_uuid_encrypted",
            field=pupils.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="identitysnapshot",
            name="account_uuid_encrypted",
            field=pupils.fields.EncryptedTextField(null=True),
        ),
        migrations.AddField(
            model_name="identitysnapshot",
            name="historiek_account_uuids_encrypted",
            field=pupils.fields.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="identitysnapshot",
            name="account_uuid",
            field=models.UUIDField(null=True),
        ),
        migrations.RunPython(encrypt_keys, decrypt_keys, elidable=False),
        migrations.RemoveField(model_name="identitysnapshot", name="leer_id_uuid"),
        migrations.RemoveField(model_name="identitysnapshot", name="account_uuid"),
        migrations.RemoveField(model_name="identitysnapshot", name="historiek_account_uuids"),
        migrations.RenameField(
            model_name="identitysnapshot",
            old_name="leer_id_uuid_encrypted",
            new_name="leer_id_uuid",
        ),
        migrations.RenameField(
            model_name="identitysnapshot",
            old_name="account_uuid_encrypted",
            new_name="account_uuid",
        ),
        migrations.RenameField(
            model_name="identitysnapshot",
            old_name="historiek_account_uuids_encrypted",
            new_name="historiek_account_uuids",
        ),
        migrations.AlterField(
            model_name="identitysnapshot",
            name="account_uuid",
            field=pupils.fields.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="identitysnapshot",
            name="historiek_account_uuids",
            field=pupils.fields.EncryptedJSONField(blank=True, default=list),
        ),
    ]
