"""Reads whose SQL is built once and run many times.

Building the SQL of an ORM query costs about a millisecond of CPU for a query with a few joins,
more than running it. For the busiest reads (public lookups answered hundreds of times a
second) a ``PreparedRead`` builds its query once per database connection, with placeholders
for the values that change, and afterwards only runs it: the same SQL, the same conversion of
the columns as the ORM's own (dates from SQLite, for example), without building it again.
"""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import QuerySet


class _Placeholder(str):
    """Stands for a parameter while the query is built; recognised in the compiled parameters."""

    __slots__ = ()


class PreparedRead:
    """``PreparedRead(build, "number", "code")``: ``build(number=..., code=...)`` returns a
    ``values_list`` queryset over string parameters; ``read.rows(number="A", code="B")`` runs it
    and returns its rows as dicts keyed by the listed fields."""

    def __init__(self, build: Callable[..., QuerySet], *parameters: str, using: str = "default") -> None:
        self._build, self._parameters, self._using = build, parameters, using
        # Connections belong to threads, so does what was built for one.
        self._built = threading.local()

    def _compile(self, connection: Any) -> tuple[Any, str, list[Any], dict[int, str], tuple[str, ...]]:
        placeholders = {name: _Placeholder(f"\ue000{name}\ue000") for name in self._parameters}
        queryset = self._build(**placeholders)
        fields = tuple(queryset.query.values_select)
        if not fields or queryset.query.annotation_select:
            raise TypeError("a PreparedRead is a values_list() query of fields, without annotations")
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_text = {str(value): name for name, value in placeholders.items()}
        slots = {index: by_text[value] for index, value in enumerate(params) if isinstance(value, str) and value in by_text}
        if sorted(set(slots.values())) != sorted(self._parameters):
            raise TypeError("every parameter of a PreparedRead must reach the SQL unchanged")
        return compiler, sql, list(params), slots, fields

    def rows(self, **values: str) -> list[dict[str, Any]]:
        connection = connections[self._using]
        compiled = getattr(self._built, "query", None)
        if compiled is None or compiled[0].connection is not connection:
            compiled = self._built.query = self._compile(connection)
        compiler, sql, params, slots, fields = compiled
        bound = list(params)
        for index, name in slots.items():
            bound[index] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            fetched = cursor.fetchall()
        return [dict(zip(fields, row)) for row in compiler.results_iter(results=[fetched])]


def loaded(model: type, values: dict[str, Any], *, using: str = "default") -> Any:
    """An instance of `model` as the ORM makes it from a row holding only these columns (by
    attribute name, ``department_id`` for a foreign key); the others are deferred."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(using, names, [values[name] for name in names])
