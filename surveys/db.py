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
    known = _columns.setdefault(connection, {})
    if model not in known:
        table = model._meta.db_table
        quote = connection.ops.quote_name
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
        selected = ", ".join(quote(column.target.column) for column in columns)
        known[model] = (f"SELECT {selected} FROM {quote(table)}", converters)  # noqa: S608 - the model's own names
    return known[model]


def fetch_one(model: type[M], **equal: Any) -> M | None:
    """The one row of ``model`` whose fields equal ``equal``, or None.

    For the pages read on every request: the same instance the ORM would
    build (every field, converted as the ORM converts it), from a statement
    written once per connection, without compiling a query or mapping a raw
    query's columns on every call. The fields must make the row unique.
    """
    connection = connections[DEFAULT_DB_ALIAS]  # this thread's
    select, converters = _model_columns(connection, model)
    fields = [cast(Field, model._meta.get_field(name)) for name in equal]
    where = " AND ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    params = [
        field.get_db_prep_value(value, connection)
        for field, value in zip(fields, equal.values(), strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"{select} WHERE {where}", params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for index, functions, column in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, None, values)  # type: ignore[arg-type]
