"""rotate_encryption_keys: names re-encrypted with the first key, so old keys can go."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection

from pupils.models import IdentitySnapshot
from pupils.services import pupil_record_login
from pupils.tests.factories import leerid_claims

pytestmark = pytest.mark.django_db
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw_names() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT family_name, given_name FROM pupils_identitysnapshot ORDER BY 1")
        return cursor.fetchall()


def raw_keys() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_uuid, historiek_account_uuids FROM pupils_identitysnapshot")
        return cursor.fetchall()


def test_it_reencrypts_every_snapshot_with_the_first_key(settings, capsys):
    """After rotation every name decrypts with the new key alone; reads still work."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    for number in range(7):
        pupil_record_login(
            claims=leerid_claims(given_name=f"Testa{number}"), granted_schools={"012345"}
        )
    with pytest.raises(InvalidToken):
        Fernet(NEW_KEY).decrypt(raw_names()[0][0].encode())

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_keys", batch_size=3)
    assert "Re-encrypted 7 identity snapshots." in capsys.readouterr().out

    for family, given in raw_names():
        assert Fernet(NEW_KEY).decrypt(family.encode()) == b"Voorbeeldig"
        assert Fernet(NEW_KEY).decrypt(given.encode()).startswith(b"Testa")
    for keys in raw_keys():
        for token in keys:  # the LeerID and account keys are rotated too
            Fernet(NEW_KEY).decrypt(token.encode())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert sorted(IdentitySnapshot.objects.values_list("given_name", flat=True)) == [
        f"Testa{number}" for number in range(7)
    ]


def test_it_refuses_to_read_names_without_the_key(settings):
    """Dropping a key before rotating makes reads fail loudly, naming no value."""
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    pupil_record_login(claims=leerid_claims(), granted_schools={"012345"})
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(ValueError, match="cannot be decrypted") as error:
        IdentitySnapshot.objects.get()
    assert "Voorbeeldig" not in str(error.value)
