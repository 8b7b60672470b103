"""The four statements of a returning pupil's login, as SQL built once per process (PostgreSQL).

``pupil_record_login`` runs on every login, and building its queries through the ORM (joins,
a UNION, ``FOR UPDATE``, an upsert) cost more CPU than everything else in the login together
(docs/performance.md, issue 17). These are the SAME statements, in the same order with the
same locks; only their text is made once per process from the models' ``_meta`` (column
names), with list parameters as ``= ANY(%s)`` so the text never changes. Values still go
through the fields (``get_db_prep_save``: encryption, JSON, UUIDs) and rows come back as model
instances (``Model.from_db``), so a field added to a model is carried along.

SQLite has no ``ANY`` and no row locks: ``pupils.services`` keeps the ORM form for it. Table
and column names come from ``_meta``, never from input (hence the S608 waivers); every value
goes in as a query parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from pupils.models import AccountAlias, IdentitySnapshot, Pupil


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


@cache
def _reached_pupils_sql() -> str:
    user = get_user_model()
    # One IN over a UNION, not an OR with a subquery: PostgreSQL answers the OR form with a
    # sequential scan of the pupils (half a second at a million pupils), this one with indexes.
    return (
        f"SELECT {_columns(Pupil, 'p')}, {_columns(user, 'u')}"  # noqa: S608
        f' FROM "{Pupil._meta.db_table}" p JOIN "{user._meta.db_table}" u ON u.id = p.user_id'
        f' WHERE p.id IN (SELECT id FROM "{Pupil._meta.db_table}"'
        f"   WHERE pseudonym = ANY(%s) OR id = ANY(%s)"
        f' UNION SELECT pupil_id FROM "{AccountAlias._meta.db_table}" WHERE pseudonym = ANY(%s))'
        f" ORDER BY p.id FOR UPDATE OF p"
    )


def _instance(model, values: Sequence):
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def reached_pupils(pseudonym: str, aliases: Sequence[str], also: Iterable[int]) -> list[Pupil]:
    """Pupils keyed on one of these pseudonyms or owning one of the aliases, locked, by pk.

    Each comes with its Django user loaded (as ``select_related("user")`` would).
    """
    user_model = get_user_model()
    width = len(Pupil._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(_reached_pupils_sql(), [[pseudonym, *aliases], sorted(also), list(aliases)])
        rows = cursor.fetchall()
    pupils = []
    for row in rows:
        pupil = _instance(Pupil, row[:width])
        pupil.user = _instance(user_model, row[width:])
        pupils.append(pupil)
    return pupils


def alias_owners(aliases: Sequence[str]) -> dict[str, int]:
    """Which pupil owns each of these alias pseudonyms that is known."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT pseudonym, pupil_id FROM "{AccountAlias._meta.db_table}"'  # noqa: S608
            " WHERE pseudonym = ANY(%s)",
            [list(aliases)],
        )
        return dict(cursor.fetchall())


def stamp_login(pupil: Pupil, now: dt.datetime) -> None:
    """``last_login_at`` of a returning pupil (``save(update_fields=...)`` without signals)."""
    field = Pupil._meta.get_field("last_login_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Pupil._meta.db_table}" SET "{field.column}" = %s WHERE id = %s',  # noqa: S608
            [field.get_db_prep_save(now, connection), pupil.pk],
        )
    pupil.last_login_at = now


@cache
def _snapshot_upsert_sql(update_fields: tuple[str, ...]) -> str:
    fields = IdentitySnapshot._meta.concrete_fields
    columns = ", ".join(f'"{field.column}"' for field in fields)
    updates = ", ".join(
        f'"{column}" = EXCLUDED."{column}"'
        for column in (IdentitySnapshot._meta.get_field(name).column for name in update_fields)
    )
    pk = IdentitySnapshot._meta.pk.column
    return (
        f'INSERT INTO "{IdentitySnapshot._meta.db_table}" ({columns})'  # noqa: S608
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        f' ON CONFLICT ("{pk}") DO UPDATE SET {updates}'
    )


def snapshot_upsert(snapshot: IdentitySnapshot, update_fields: Sequence[str]) -> None:
    """Insert the pupil's snapshot, or overwrite ``update_fields`` of the one it has."""
    values = [
        field.get_db_prep_save(field.pre_save(snapshot, add=True), connection)
        for field in IdentitySnapshot._meta.concrete_fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_upsert_sql(tuple(update_fields)), values)
    snapshot._state.adding = False
    snapshot._state.db = connection.alias
