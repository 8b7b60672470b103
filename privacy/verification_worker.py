"""The entry point of a parallel verification's worker process (``privacy.verification``).

Spawned processes unpickle their target by importing its module before Django is set up, so
this module imports nothing of Django or of the models at import time.
"""

from __future__ import annotations

import os


def setup(database: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ilearn_auth.settings")
    import django

    django.setup()
    from django.db import connection

    connection.settings_dict["NAME"] = database  # the test database, in tests


def walk_range(job: tuple):
    from privacy.verification import walk_range

    return walk_range(job)
