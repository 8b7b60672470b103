"""Routes the erasure ledger (``privacy.ledger``) to its own database when one is configured.

With ``ERASURE_LEDGER_DATABASE_URL`` set, ``DATABASES["erasure_ledger"]`` exists: the ledger's
table is read, written and migrated there only (``migrate --database erasure_ledger``), and
nothing else is migrated there. Without it, everything stays in ``default``.
"""

from __future__ import annotations

from django.conf import settings

LEDGER_ALIAS = "erasure_ledger"
_LEDGER_MODEL = "erasureledgerentry"


def _ledger_alias() -> str:
    return LEDGER_ALIAS if LEDGER_ALIAS in settings.DATABASES else "default"


class ErasureLedgerRouter:
    def db_for_read(self, model, **hints):
        return _ledger_alias() if model._meta.label_lower == f"privacy.{_LEDGER_MODEL}" else None

    db_for_write = db_for_read

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "privacy" and model_name == _LEDGER_MODEL:
            return db == _ledger_alias()
        if db == LEDGER_ALIAS:
            return False
        return None
