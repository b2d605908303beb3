"""Reads whose SQL is built once and run many times.

Building the SQL of an ORM query costs about a millisecond of CPU for a query with a few joins,
more than running it. For the busiest reads (public lookups answered hundreds of times a
second) a ``PreparedRead`` builds its query once per database connection, with placeholders
for the values that change, and afterwards only runs it: the same SQL, the same conversion of
the columns as the ORM's own (dates from SQLite, for example), without building it again.

A read may lock the rows of its own model (``select_for_update(of=("self",))``), as a service
does before it changes them; the rows it joins are read, not locked.

``insert`` and ``update`` write rows the same way: one INSERT or UPDATE whose SQL is made once
per model (and row count) and connection, instead of the ORM compiling it for every row a
service adds or changes. Neither sends save signals, so a model something listens to is refused.

All three run on one cursor per connection (`statement_cursor`).
"""

import datetime as dt
import functools
import threading
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connections
from django.db.models import Model, QuerySet, signals
from django.db.transaction import TransactionManagementError


# Per thread, as Django's connections are: the database connection its kept cursor belongs to.
_kept = threading.local()


def statement_cursor(connection: Any) -> Any:
    """A cursor of `connection` (a Django connection) for one statement whose rows are fetched
    at once, the same cursor for every such statement while the underlying database connection
    is the same. A new cursor per statement (Django's wrapper around it, the driver's cursor and
    its cache of how each type of parameter is sent) cost as much as sending a short statement.
    While queries are logged (DEBUG, a test counting them) each statement gets the logging cursor
    Django would give it."""
    if connection.queries_logged:
        return connection.cursor()
    connection.ensure_connection()
    kept = getattr(_kept, connection.alias, None)
    if kept is None or kept[0] is not connection.connection:
        kept = (connection.connection, connection.cursor())
        setattr(_kept, connection.alias, kept)
    return kept[1]


class _Text(str):
    """Stands for a text parameter while the query is built."""

    __slots__ = ()


# An integer parameter stands in as a value no key takes, inside every integer column's range
# (a value out of range would make the ORM drop the condition); a moment or a day as one in 1901.
_INTEGER_PLACEHOLDER = -2_000_000_000
_MOMENT_PLACEHOLDER = dt.datetime(1901, 1, 1, tzinfo=dt.timezone.utc)
_DAY_PLACEHOLDER = dt.date(1901, 1, 1)


def _placeholder(kind: type, index: int) -> Any:
    if kind is str:
        return _Text(f"\ue000{index}\ue000")
    if kind is int:
        return _INTEGER_PLACEHOLDER - index
    if kind is dt.datetime:
        return _MOMENT_PLACEHOLDER + dt.timedelta(microseconds=index + 1)
    if kind is dt.date:
        return _DAY_PLACEHOLDER + dt.timedelta(days=index + 1)
    raise TypeError(f"a PreparedRead parameter is str, int, datetime or date, not {kind}")


def _adapter(kind: type, connection: Any) -> Callable[[Any], Any]:
    """How the ORM hands a value of this kind to the database (SQLite takes moments and days as text)."""
    if kind is dt.datetime:
        return connection.ops.adapt_datetimefield_value
    if kind is dt.date:
        return connection.ops.adapt_datefield_value
    return lambda value: value


def _slot_key(value: Any) -> tuple[type, Any]:
    # A placeholder comes back as the plain value the field made of it.
    return (str, str(value)) if isinstance(value, str) else (type(value), value)


class PreparedRead:
    """``PreparedRead(build, number=str, code=str)``: ``build(number=..., code=...)`` returns a
    ``values_list`` queryset; ``read.rows(number="A", code="B")`` runs it and returns its rows as
    dicts keyed by the listed fields. A parameter is text (str), an integer (int: a user's id,
    say), a moment (datetime: now, say) or a day (date: today)."""

    def __init__(self, build: Callable[..., QuerySet], *, using: str = "default", **parameters: type) -> None:
        self._build, self._using, self._parameters = build, using, parameters
        # Connections belong to threads, so does what was built for one.
        self._built = threading.local()

    def _compile(self, connection: Any) -> tuple:
        placeholders = {name: _placeholder(kind, index) for index, (name, kind) in enumerate(self._parameters.items())}
        adapters = {name: _adapter(kind, connection) for name, kind in self._parameters.items()}
        query = self._build(**placeholders).query
        fields = tuple(query.values_select)
        if not fields or query.annotation_select:
            raise TypeError("a PreparedRead is a values_list() query of fields, without annotations")
        locks = query.select_for_update
        if locks:
            if query.select_for_update_of != ("self",) or query.select_for_update_nowait or \
                    query.select_for_update_skip_locked:
                raise TypeError('a PreparedRead locks the rows of its own model: select_for_update(of=("self",))')
            # A values query names no model to lock, so the ORM would lock every joined row.
            query = query.clone()
            query.select_for_update = False
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if locks and connection.features.has_select_for_update:
            own_table = compiler.quote_name_unless_alias(query.base_table)
            sql = f"{sql} {connection.ops.for_update_sql(of=[own_table], no_key=query.select_for_no_key_update)}"
        by_value = {_slot_key(adapters[name](value)): name for name, value in placeholders.items()}
        slots = {index: by_value[key] for index, value in enumerate(params) if (key := _slot_key(value)) in by_value}
        if set(slots.values()) != set(placeholders):
            raise TypeError("every parameter of a PreparedRead must reach the SQL unchanged")
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return compiler, sql, list(params), slots, adapters, fields, converters, locks

    def rows(self, **values: Any) -> list[dict[str, Any]]:
        connection = connections[self._using]
        compiled = getattr(self._built, "query", None)
        if compiled is None or compiled[0].connection is not connection:
            compiled = self._built.query = self._compile(connection)
        compiler, sql, params, slots, adapters, fields, converters, locks = compiled
        if locks and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        bound = list(params)
        for index, name in slots.items():
            bound[index] = adapters[name](values[name])
        cursor = statement_cursor(connection)
        cursor.execute(sql, bound)
        fetched = cursor.fetchall()
        if converters:
            fetched = compiler.apply_converters(fetched, converters)
        return [dict(zip(fields, row)) for row in fetched]


def columns(model: type, prefix: str = "") -> tuple[str, ...]:
    """Every column of `model` by attribute name, each behind `prefix` (``"user__"`` for the
    user a row points to): what a read lists to load whole instances."""
    return tuple(key for _, key in _keyed_columns(model, prefix))


def loaded(model: type, values: dict[str, Any], *, prefix: str = "", using: str = "default") -> Any:
    """An instance of `model` as the ORM makes it from a row holding only these columns (by
    attribute name behind `prefix`, ``department_id`` for a foreign key); the others are
    deferred."""
    present = [(name, key) for name, key in _keyed_columns(model, prefix) if key in values]
    return model.from_db(using, [name for name, _ in present], [values[key] for _, key in present])


@functools.cache
def _keyed_columns(model: type, prefix: str) -> tuple[tuple[str, str], ...]:
    """Each column's attribute name with its key in a row read with `prefix`."""
    return tuple((field.attname, f"{prefix}{field.attname}") for field in model._meta.concrete_fields)


def attach(instance: Any, relation: str, related: Any) -> None:
    """Give `instance` its `relation` (a foreign key, or the reverse of a one-to-one, None for
    none) as ``select_related`` does, so reading it asks nothing more."""
    instance._meta.get_field(relation).set_cached_value(instance, related)


@functools.cache
def _related_model(model: type, path: str) -> type:
    for name in path.split("__"):
        model = model._meta.get_field(name).related_model
    return model


@functools.cache
def _paths(relations: tuple[str, ...]) -> tuple[str, ...]:
    """The relation paths with the paths they pass through ("a__b" passes through "a"), shortest first."""
    paths = {"__".join(path.split("__")[:depth]) for path in relations for depth in range(1, path.count("__") + 2)}
    return tuple(sorted(paths, key=lambda path: (path.count("__"), path)))


def columns_along(model: type, relations: tuple[str, ...]) -> tuple[str, ...]:
    """Every column of `model` and of the rows its `relations` (``select_related`` paths such as
    ``"department__region"``) point to: what a read lists to load them with `loaded_along`."""
    names = list(columns(model))
    for path in _paths(relations):
        names += columns(_related_model(model, path), f"{path}__")
    return tuple(names)


def loaded_along(model: type, values: dict[str, Any], relations: tuple[str, ...], *, using: str = "default") -> Any:
    """The instance of `model` in a row read with `columns_along`, its `relations` attached
    (None where a foreign key is empty), as ``select_related`` makes them."""
    found: dict[str, Any] = {"": loaded(model, values, using=using)}
    for path in _paths(relations):
        parent_path, _, name = path.rpartition("__")
        parent, related_model = found[parent_path], _related_model(model, path)
        related = None
        if parent is not None and values[f"{path}__{related_model._meta.pk.attname}"] is not None:
            related = loaded(related_model, values, prefix=f"{path}__", using=using)
        if parent is not None:
            attach(parent, name, related)
        found[path] = related
    return found[""]


@functools.cache
def _written_fields(model: type) -> tuple:
    """What a write sets: every column but an automatic primary key."""
    fields = tuple(field for field in model._meta.concrete_fields if field is not model._meta.auto_field)
    if any(hasattr(field, "get_placeholder") for field in fields):
        raise TypeError(f"{model.__name__} has a field written with its own SQL: save it with the ORM")
    return fields


def _refuse_listened_to(model: type) -> None:
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        raise TypeError(f"{model.__name__} has save signal receivers: save it with the ORM")


@functools.cache
def _insert_sql(model: type, using: str, rows: int) -> str:
    quote = connections[using].ops.quote_name
    fields = _written_fields(model)
    row = f"({', '.join(['%s'] * len(fields))})"
    return (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES {', '.join([row] * rows)} RETURNING {quote(model._meta.pk.column)}")


def insert(*instances: Model, using: str = "default") -> None:
    """Write new instances of one model in one INSERT, as ``bulk_create`` would (fields' defaults
    and ``auto_now_add`` filled in, the ids set on the instances)."""
    if not instances:
        return
    model = type(instances[0])
    _refuse_listened_to(model)
    connection, fields = connections[using], _written_fields(model)
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection)
              for instance in instances for field in fields]
    cursor = statement_cursor(connection)
    cursor.execute(_insert_sql(model, using, len(instances)), params)
    ids = cursor.fetchall()
    for instance, (pk,) in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = using


@functools.cache
def _update_sql(model: type, using: str) -> str:
    quote = connections[using].ops.quote_name
    columns = ", ".join(f"{quote(field.column)} = %s" for field in _written_fields(model) if not field.primary_key)
    return f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {quote(model._meta.pk.column)} = %s"


def update(instance: Model, using: str = "default") -> None:
    """Write every field of an instance read from the database in one UPDATE, as ``save()``
    would (``auto_now`` filled in); a row that is gone is an error, as for a forced update."""
    model = type(instance)
    _refuse_listened_to(model)
    connection = connections[using]
    params = [field.get_db_prep_save(field.pre_save(instance, False), connection)
              for field in _written_fields(model) if not field.primary_key]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, connection))
    cursor = statement_cursor(connection)
    cursor.execute(_update_sql(model, using), params)
    if cursor.rowcount != 1:
        raise DatabaseError("Forced update did not affect any rows.")
