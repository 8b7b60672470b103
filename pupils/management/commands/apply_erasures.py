"""``manage.py apply_erasures``: after restoring a backup, erase again the pupils erased since."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy.ledger import ledger_is_separate
from pupils.services import pupil_apply_erasures


class Command(BaseCommand):
    help = (
        "Erase every pupil named in the erasure ledger that this database still holds "
        "(run right after restoring a backup, before run_retention)."
    )

    def handle(self, *args, **options) -> None:
        if not ledger_is_separate():
            self.stderr.write(
                self.style.WARNING(
                    "The erasure ledger is in the main database (ERASURE_LEDGER_DATABASE_URL is "
                    "unset): a restored database holds only the ledger of its own backup."
                )
            )
        erased = pupil_apply_erasures()
        self.stdout.write(self.style.SUCCESS(f"{erased} pupils erased again from the ledger."))
