"""Data migrations of pupils: existing rows are rewritten, not only new ones."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from pupils.fields import decrypt

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("pupils", "0003_dutch_field_names")]
AFTER = [("pupils", "0004_i10_encrypted_snapshot_keys")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def at_latest_afterwards():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_it_encrypts_the_keys_of_existing_snapshots(at_latest_afterwards):
    """Snapshots written before the change hold their keys encrypted after it, readable."""
    apps = migrate(BEFORE)
    leer_id, account, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    user = apps.get_model("auth", "User").objects.create(username="pupil-migration")
    pupil = apps.get_model("pupils", "Pupil").objects.create(
        pseudonym="a" * 64, kind="identified", user=user, last_login_at=timezone.now()
    )
    apps.get_model("pupils", "IdentitySnapshot").objects.create(
        pupil=pupil,
        family_name="Voorbeeldig",
        given_name="Testa",
        leer_id_uuid=leer_id,
        account_uuid=account,
        historiek_account_uuids=[str(old)],
        login_at=timezone.now(),
    )

    apps = migrate(AFTER)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT leer_id_uuid, account_uuid, historiek_account_uuids"
            " FROM pupils_identitysnapshot"
        )
        raw = cursor.fetchone()
    dumped = " ".join(raw).lower()
    for key in (leer_id, account, old):
        assert str(key) not in dumped
        assert key.hex not in dumped
    assert decrypt(raw[0]) == str(leer_id)
    snapshot = apps.get_model("pupils", "IdentitySnapshot").objects.get()
    assert snapshot.account_uuid == str(account)
    assert snapshot.historiek_account_uuids == [str(old)]

    # And back: the clear columns return with the same values.
    apps = migrate(BEFORE)
    snapshot = apps.get_model("pupils", "IdentitySnapshot").objects.get()
    assert (snapshot.leer_id_uuid, snapshot.account_uuid) == (leer_id, account)
    assert snapshot.historiek_account_uuids == [str(old)]


def test_it_deletes_the_admin_log_rows_about_pupils(at_latest_afterwards):
    """Rows about pupils and their users go; rows about staff and schools stay."""
    admin = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    apps = migrate([("pupils", "0004_i10_encrypted_snapshot_keys"), *admin])
    user_model = apps.get_model("auth", "User")
    content_type = apps.get_model("contenttypes", "ContentType")
    log_entry = apps.get_model("admin", "LogEntry")
    staff = user_model.objects.create(username="dana-dpo", is_staff=True)
    pupil_user = user_model.objects.create(username="pupil-" + "0" * 32)
    pupil = apps.get_model("pupils", "Pupil").objects.create(
        pseudonym="b" * 64, kind="identified", user=pupil_user, last_login_at=timezone.now()
    )
    pupil_type, _ = content_type.objects.get_or_create(app_label="pupils", model="pupil")
    user_type, _ = content_type.objects.get_or_create(app_label="auth", model="user")
    school_type, _ = content_type.objects.get_or_create(app_label="schools", model="school")

    def entry(type_, object_id, repr_):
        log_entry.objects.create(
            user=staff,
            content_type=type_,
            object_id=object_id,
            object_repr=repr_,
            action_flag=3,
            action_time=timezone.now(),
        )

    entry(pupil_type, str(pupil.pk), "leerling bbbbbbbbbbbb")
    entry(pupil_type, "999", "leerling cccccccccccc")  # a pupil erased long ago
    entry(user_type, str(pupil_user.pk), pupil_user.username)
    entry(user_type, str(staff.pk), "dana-dpo")
    entry(school_type, "1", "012345 Testschool")

    apps = migrate([("pupils", "0005_i10_forget_admin_log_about_pupils"), *admin])
    left = apps.get_model("admin", "LogEntry").objects.values_list("object_repr", flat=True)
    assert sorted(left) == ["012345 Testschool", "dana-dpo"]
