"""The hook the rest of i-Learn uses to forget a pupil the 3-year rule removes.

``pupils_purging`` is sent once per batch, inside the batch's transaction and before any row
is deleted, with ``public_ids``: the ``Pupil.public_id`` values (UUIDs) about to disappear.
A receiver deletes what its app keeps under those ids without a foreign key; if it raises,
the batch rolls back and the run fails (nothing half-deleted). Models with a foreign key to
``Pupil`` or to the pupil's ``User`` need no receiver: the purge follows ``on_delete``
(CASCADE deletes, SET_NULL nulls) for them in SQL. Not sent in a dry run.
"""

from __future__ import annotations

from django.dispatch import Signal

pupils_purging = Signal()
