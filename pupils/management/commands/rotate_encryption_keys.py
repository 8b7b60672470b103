"""Re-encrypt every snapshot's names with the first key of FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from pupils.key_rotation import snapshot_rotate_encryption


class Command(BaseCommand):
    help = (
        "Re-encrypts all identity snapshot names with the first FIELD_ENCRYPTION_KEYS key, in "
        "batches. Run after putting a new key first; then the old key can be dropped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options) -> None:
        count = snapshot_rotate_encryption(batch_size=batch_size)
        self.stdout.write(f"Re-encrypted {count} identity snapshots.")
