"""Database triggers that keep the audit tables append-only.

Installed after every `migrate` (post_migrate). Entries may be inserted, and sealed once:
`seq` and `leaf_hash` go from empty to set while every other column stays as it was. Tree
heads and tree nodes may only be inserted. Every other UPDATE, any DELETE and (PostgreSQL)
TRUNCATE is refused with an integrity error, whoever issues it: the ORM, the admin or a SQL
console. Someone who can drop triggers (a database superuser or, for SQLite, anyone with
the file) can still write; `onewindow audit verify` is what catches that.
"""

from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.signals import post_migrate

from onewindow.core.models.audit import AuditEntry, AuditNode, TreeHead

_MESSAGE = "audit ledger is append-only"
_FUNCTION = "core_audit_append_only"
_SEAL_COLUMNS = ("seq", "leaf_hash")


def _triggers(connection: BaseDatabaseWrapper) -> list[tuple[str, str, str]]:
    """(trigger name, table, kind) for every trigger the database has; kind is "seal",
    "update", "delete" or "truncate" (not on SQLite, which has no TRUNCATE; DELETE covers it)."""
    triggers = []
    for model in (AuditEntry, TreeHead, AuditNode):
        table = model._meta.db_table
        triggers.append((f"{table}_no_update", table, "seal" if model is AuditEntry else "update"))
        triggers.append((f"{table}_no_delete", table, "delete"))
        if connection.vendor != "sqlite":
            triggers.append((f"{table}_no_truncate", table, "truncate"))
    return triggers


def _seal_condition(connection: BaseDatabaseWrapper) -> str:
    """True exactly for the one allowed update of an entry: sealing it."""
    q = connection.ops.quote_name
    kept = [f.column for f in AuditEntry._meta.concrete_fields if f.column not in _SEAL_COLUMNS]
    if connection.vendor == "sqlite":
        same = " AND ".join(f"NEW.{q(c)} IS OLD.{q(c)}" for c in kept)
    else:
        same = (
            f"ROW({', '.join(f'NEW.{q(c)}' for c in kept)}) "
            f"IS NOT DISTINCT FROM ROW({', '.join(f'OLD.{q(c)}' for c in kept)})"
        )
    return f"OLD.seq IS NULL AND NEW.seq IS NOT NULL AND COALESCE(NEW.leaf_hash, '') <> '' AND {same}"


def _sqlite_statements(connection: BaseDatabaseWrapper) -> list[str]:
    q = connection.ops.quote_name
    statements = []
    for name, table, kind in _triggers(connection):
        statements.append(f"DROP TRIGGER IF EXISTS {q(name)}")
        event = "DELETE" if kind == "delete" else "UPDATE"
        when = f" WHEN NOT ({_seal_condition(connection)})" if kind == "seal" else ""
        statements.append(
            f"CREATE TRIGGER {q(name)} BEFORE {event} ON {q(table)} FOR EACH ROW{when} "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )
    return statements


def _postgresql_statements(connection: BaseDatabaseWrapper) -> list[str]:
    q = connection.ops.quote_name
    statements = [
        f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"RAISE EXCEPTION '{_MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME "
        "USING ERRCODE = 'integrity_constraint_violation'; END $$"
    ]
    for name, table, kind in _triggers(connection):
        statements.append(f"DROP TRIGGER IF EXISTS {q(name)} ON {q(table)}")
        if kind == "truncate":
            timing = "BEFORE TRUNCATE"
            scope = "FOR EACH STATEMENT"
        else:
            timing = f"BEFORE {'DELETE' if kind == 'delete' else 'UPDATE'}"
            # The WHEN clause keeps the legitimate seal update from calling plpgsql at all.
            when = f" WHEN (NOT COALESCE({_seal_condition(connection)}, false))" if kind == "seal" else ""
            scope = f"FOR EACH ROW{when}"
        statements.append(f"CREATE TRIGGER {q(name)} {timing} ON {q(table)} {scope} EXECUTE FUNCTION {_FUNCTION}()")
    return statements


def _statements(connection: BaseDatabaseWrapper) -> list[str]:
    if connection.vendor == "sqlite":
        return _sqlite_statements(connection)
    if connection.vendor == "postgresql":
        return _postgresql_statements(connection)
    return []


def _tables_exist(connection: BaseDatabaseWrapper) -> bool:
    tables = set(connection.introspection.table_names())
    return all(m._meta.db_table in tables for m in (AuditEntry, TreeHead, AuditNode))


def install(sender: object = None, *, using: str = DEFAULT_DB_ALIAS, **kwargs: object) -> None:
    """post_migrate handler: (re)create the triggers, so they follow the current columns."""
    connection = connections[using]
    if not _tables_exist(connection):
        return
    with connection.cursor() as cursor:
        for statement in _statements(connection):
            cursor.execute(statement)


def connect(app_config: AppConfig) -> None:
    post_migrate.connect(install, sender=app_config, dispatch_uid="onewindow.core.audit.triggers")


def uninstall(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop the triggers: what an attacker with superuser rights does, and what the test
    suite does before Django flushes the database after a transactional test."""
    connection = connections[using]
    if not _tables_exist(connection):
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name, table, _kind in _triggers(connection):
            if connection.vendor == "sqlite":
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)}")
            elif connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {q(name)} ON {q(table)}")


def installed(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether every trigger is in place (tests, and `onewindow audit verify` warns otherwise)."""
    connection = connections[using]
    names = {name for name, _table, _kind in _triggers(connection)}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            return False
        present = {row[0] for row in cursor.fetchall()}
    return names <= present
