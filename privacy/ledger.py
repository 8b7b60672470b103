"""The erasure ledger: pseudonyms of pupils erased on request, to replay after a restore.

A backup taken before an erasure still holds the erased pupil. Restoring it must not bring the
pupil back, so every erasure on request is also written here, as pseudonyms only (the pupil's
and its account aliases', never a name or a LeerID key), and ``manage.py apply_erasures``
erases again whatever a restored database still holds of them.

The ledger lives in a database of its own (``ERASURE_LEDGER_DATABASE_URL``, routed by
``privacy.routers``), which a restore of the main database does not touch. Without that
setting it is a table of the main database: fine for development, useless after a restore.
It is written before the erasure, in its own transaction there: an erasure that then fails
leaves an entry that ``apply_erasures`` completes later, which is what the DPO asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ErasureLedgerEntry(models.Model):
    # A pupil's pseudonym or one of its account aliases' (64 hex), never a LeerID key.
    pseudonym = models.CharField(_("pseudoniem"), max_length=64, unique=True)
    erased_at = models.DateTimeField(_("gewist op"))

    class Meta:
        app_label = "privacy"
        verbose_name = _("gewiste leerling")
        verbose_name_plural = _("register van gewiste leerlingen")

    def __str__(self) -> str:
        return f"{self.pseudonym[:12]} ({self.erased_at:%Y-%m-%d})"


def erasure_record(*, pseudonyms: Iterable[str]) -> None:
    """Add the pseudonyms of an erased pupil to the ledger (idempotent)."""
    now = timezone.now()
    ErasureLedgerEntry.objects.bulk_create(
        [ErasureLedgerEntry(pseudonym=value, erased_at=now) for value in set(pseudonyms)],
        ignore_conflicts=True,
    )


def erased_pseudonyms() -> list[str]:
    """Every pseudonym in the ledger (a few per erasure: small enough to hold in memory)."""
    return list(ErasureLedgerEntry.objects.values_list("pseudonym", flat=True))


def ledger_is_separate() -> bool:
    """Whether the ledger lives outside the main database (as it must in production)."""
    return router.db_for_write(ErasureLedgerEntry) != "default"
