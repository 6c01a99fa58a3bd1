"""Small query helpers for hot paths."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]

# Per connection (each thread has its own) and model: the columns to select,
# and the converters Django applies to each (JSON text to objects on
# PostgreSQL; text to datetimes, UUIDs and booleans on SQLite).
_columns: weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[type[Model], Any]] = weakref.WeakKeyDictionary()


def one_or_none(queryset: QuerySet[M]) -> M | None:
    """The row a unique lookup finds, or None.

    Unlike ``.first()`` it adds no ORDER BY: on the submission path compiling
    that ordering cost about as much as running the query.
    """
    return next(iter(queryset.order_by()[:1]), None)


def _model_columns(
    connection: BaseDatabaseWrapper, model: type[Model]
) -> tuple[str, list[tuple[int, list[Converter], Any]]]:
    """The model's columns as a select list, and the converters per column."""
    known = _columns.setdefault(connection, {})
    if model not in known:
        table = model._meta.db_table
        columns = [field.get_col(table) for field in model._meta.concrete_fields]
        converters = [
            (index, converters, column)
            for index, column in enumerate(columns)
            if (
                converters := [
                    *connection.ops.get_db_converters(column),
                    *column.get_db_converters(connection),
                ]
            )
        ]
        selected = ", ".join(connection.ops.quote_name(column.target.column) for column in columns)
        known[model] = (selected, converters)
    return known[model]


def _where(
    connection: BaseDatabaseWrapper, model: type[Model], equal: dict[str, Any]
) -> tuple[str, list[Any]]:
    """``field = %s AND ...`` (``IS NULL`` for None), with the values as the database takes them."""
    conditions, params = [], []
    for name, value in equal.items():
        field = cast(Field, model._meta.get_field(name))
        column = connection.ops.quote_name(field.column)
        if value is None:
            conditions.append(f"{column} IS NULL")
        else:
            conditions.append(f"{column} = %s")
            params.append(field.get_db_prep_value(value, connection))
    return " AND ".join(conditions), params


def _one(
    model: type[M], equal: dict[str, Any], statement: Callable[[str, str, str], str], values: list[Any]
) -> M | None:
    """Run ``statement(table, columns, where)`` (taking ``values``, then the
    condition's) and build the one row it returns, or None."""
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's
    selected, converters = _model_columns(connection, model)
    where, params = _where(connection, model, equal)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement(table, selected, where), [*values, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    stored = list(row)
    for index, functions, column in converters:
        for function in functions:
            stored[index] = function(stored[index], column, connection)
    return model.from_db(connection.alias, None, stored)  # type: ignore[arg-type]


def fetch_one(model: type[M], **equal: Any) -> M | None:
    """The one row of ``model`` whose fields equal ``equal``, or None.

    For the pages read on every request: the same instance the ORM would
    build (every field, converted as the ORM converts it), from a statement
    without a compiled query or a raw query's column mapping on every call.
    The fields must make the row unique.
    """

    def select(table: str, columns: str, where: str) -> str:
        return f"SELECT {columns} FROM {table} WHERE {where}"  # noqa: S608 - the model's own names

    return _one(model, equal, select, [])


def update_one(model: type[M], assignments: str, values: list[Any], **equal: Any) -> M | None:
    """UPDATE the one row of ``model`` whose fields equal ``equal`` with the
    SQL ``assignments`` (taking ``values``); the row as stored after, or None
    when no row matched. One round trip (RETURNING: PostgreSQL, SQLite 3.35+)."""

    def update(table: str, columns: str, where: str) -> str:
        return f"UPDATE {table} SET {assignments} WHERE {where} RETURNING {columns}"  # noqa: S608 - the caller's fixed SQL

    return _one(model, equal, update, values)
