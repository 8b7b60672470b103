"""Re-encrypting the identity snapshots with the newest key (``FIELD_ENCRYPTION_KEYS``: the
first key encrypts, all of them decrypt). Run by ``manage.py rotate_encryption_keys``.
"""

from __future__ import annotations

from django.db import transaction

from pupils.models import IdentitySnapshot

_ENCRYPTED_SNAPSHOT_FIELDS = [
    "family_name",
    "given_name",
    "leer_id_uuid",
    "account_uuid",
    "historiek_account_uuids",
]


def snapshot_rotate_encryption(*, batch_size: int = 500) -> int:
    """Re-encrypt every snapshot's names and keys with the first key; returns how many.

    Batches by primary key, each in its own short transaction with the rows locked, so a login
    replacing a snapshot meanwhile is neither blocked long nor overwritten with old names.
    """
    done = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                IdentitySnapshot.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .only("pupil_id", *_ENCRYPTED_SNAPSHOT_FIELDS)[:batch_size]
            )
            if not batch:
                return done
            # Read back decrypted, saved encrypted with the first key (get_prep_value).
            IdentitySnapshot.objects.bulk_update(batch, _ENCRYPTED_SNAPSHOT_FIELDS)
        done += len(batch)
        last_pk = batch[-1].pk
