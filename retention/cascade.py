"""The SQL that deletes a batch of users with everything hanging on them, built from the models.

``account_purge_inactive`` runs these statements per batch instead of ``QuerySet.delete()``,
whose collector would load every related object. They follow each relation's ``on_delete``
as Django's collector would (CASCADE, SET_NULL, DO_NOTHING; anything else is refused), so a
model another app adds with a foreign key to ``User`` or ``Pupil`` is covered without
touching this code. Table and column names come from the models' metadata, quoted by the
backend (hence the S608 waivers); the keys go in as query parameters (``with_ids``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models.deletion import get_candidate_relations_to_delete

from pupils.models import Pupil
from retention.exceptions import RetentionError


def user_cascade_statements() -> list[str]:
    """The SQL that deletes a batch of users with everything that depends on them, children
    before parents, following each relation's ``on_delete`` as Django's collector would.

    Each statement holds one placeholder: ``{user_ids}`` or ``{pupil_ids}``, the batch's keys
    (the pupils' keys are known too, which spares their children a join). Built from the
    models, so a model another app adds with a foreign key to ``User`` or ``Pupil`` (or to
    anything below them) is covered without touching this code.
    """
    user_model = get_user_model()
    statements: list[str] = []
    _cascade(user_model, f"{_quoted_pk(user_model)} {{user_ids}}", statements, seen=())
    return statements


# Models whose rows in a batch are known by key: their rows are selected by that key directly.
_KNOWN = {Pupil: "pupil_ids"}


def _cascade(model: type[models.Model], where: str, statements: list[str], *, seen: tuple) -> None:
    """Append the statements for rows of ``model`` matching ``where``, dependants first."""
    if model in seen:
        raise RetentionError(f"a cycle of CASCADE relations through {model._meta.label}")
    quote = connection.ops.quote_name
    for relation in get_candidate_relations_to_delete(model._meta):
        field = relation.field
        child = relation.related_model
        on_delete = field.remote_field.on_delete
        target = field.target_field
        if on_delete is models.CASCADE and child in _KNOWN and len(seen) == 0:
            # The batch's pupils are exactly the users' pupils (a one-to-one): use their keys.
            child_where = f"{_quoted_pk(child)} {{{_KNOWN[child]}}}"
        elif target.primary_key and (len(seen) == 0 or model in _KNOWN):
            # Straight from the batch's keys: no need to go through the parent table.
            key = "user_ids" if len(seen) == 0 else _KNOWN[model]
            child_where = f"{quote(field.column)} {{{key}}}"
        else:
            child_where = (
                f"{quote(field.column)} IN (SELECT {quote(target.column)} "  # noqa: S608
                f"FROM {quote(model._meta.db_table)} WHERE {where})"
            )
        if on_delete is models.CASCADE:
            _cascade(child, child_where, statements, seen=(*seen, model))
        elif on_delete is models.SET_NULL:
            statements.append(
                f"UPDATE {quote(child._meta.db_table)} SET {quote(field.column)} = NULL "  # noqa: S608
                f"WHERE {child_where}"
            )
        elif on_delete is not models.DO_NOTHING:
            raise RetentionError(
                f"{child._meta.label}.{field.name} has on_delete={on_delete.__name__}: "
                "the account purge only follows CASCADE, SET_NULL and DO_NOTHING"
            )
    statements.append(f"DELETE FROM {quote(model._meta.db_table)} WHERE {where}")  # noqa: S608


def with_ids(sql: str, keys: dict[str, list]) -> tuple[str, list]:
    """One statement of ``user_cascade_statements`` with the batch's keys filled in."""
    (name,) = (name for name in keys if f"{{{name}}}" in sql)
    ids = keys[name]
    if connection.vendor == "postgresql":
        # One array parameter: one plan whatever the batch size.
        return sql.replace(f"{{{name}}}", "= ANY(%s)"), [ids]
    placeholders = ", ".join(["%s"] * len(ids))
    return sql.replace(f"{{{name}}}", f"IN ({placeholders})"), ids


def _quoted_pk(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.pk.column)
