"""Case lifecycles per second through the HTTP API, and how close that comes to the database's
own ceiling for the same SQL.

    python benchmarks/case_lifecycle.py                        # PostgreSQL, then SQLite
    python benchmarks/case_lifecycle.py --backends postgres --clients 8 --workers 2 --threads 3 --seconds 20

For each database a throw-away instance is built (a temporary data folder for SQLite; a
temporary database next to DATABASE_URL's, default postgres://postgres@127.0.0.1:5432/postgres,
for PostgreSQL): migrate, the demo data (`onewindow demo`: departments, the demo window clerk,
reviewer and chief representative with his written authorisation, citizens), then ITEMS
published items of the demo 市场监督管理局 made through the catalogue services (a form with one
text field, two required materials, steps accept → review → decide) and an API token per user.

(a) HTTP. uvicorn (one worker per CPU with 3 request threads each, `harness.served`) serves
    the API; CLIENTS threads keep-alive HTTP clients,
    each acting in turn as a citizen, the window clerk, the reviewer and the chief
    representative, with their tokens:
      drafts      start a draft (POST /api/cases/), save the form, attach the two materials
                  (multipart uploads): for DRAFT_SECONDS, figures reported on their own;
      lifecycles  on those drafts: submit (Idempotency-Key) → accept → pass the review step →
                  decide (approve) → complete → deliver, for SECONDS (or until the drafts run out).
    Reported: full lifecycles per second, p50/p99 per action, and the CPU each part of the
    machine spent per lifecycle (the uvicorn workers; the PostgreSQL server, all of its
    sessions; the client threads). The figures mean something only on an otherwise idle
    machine: the load average is printed before and after each database, and before it the CPU
    time of a fixed Python task (`harness.reference_task_ms`), against which runs on a machine
    whose speed changes are compared.
(b) Ceiling. One draft and one lifecycle are run in-process through the same API (Django's test
    client, tokens and all) while every SQL statement is recorded with its parameters and the
    transaction boundaries. The statements are replayed without Python in between: on
    PostgreSQL with `pgbench` (one script execution = one lifecycle; ids returned by INSERTs
    are carried in pgbench variables, each lifecycle gets its own cloned draft, unique values
    are made unique per run; -M prepared when the settings have Django prepare statements, as
    they do, else -M simple), at PG_CLIENTS concurrent clients for PG_SECONDS; on SQLite by one process executing them in order (one writer is
    what SQLite allows). The ratio measured / ceiling says how much of what the database could
    do the application delivers.

Goals of the issue: ≥ 100 full lifecycles/s on the 2-core machine, p99 ≤ 100 ms for every
action, ratio ≥ 0.25. The last line printed holds the figures of every database.
"""

import argparse
import collections
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from harness import SERVER_THREADS, SERVER_WORKERS, machine_after, machine_before, percentile, run_child, served, setup_django

ITEMS = 4
CLIENTS = 8
SECONDS = 20.0
DRAFT_SECONDS = 15.0
WARMUP_LIFECYCLES = 3
PG_CLIENTS = (8, 16)
PG_SECONDS = 10
SQLITE_REPLAYS = 300
DRAFT_ACTIONS = ("start", "save_form", "attach", "attach_2")
LIFECYCLE_ACTIONS = ("submit", "accept", "pass_step", "decide", "complete", "deliver")
GOAL_RATE, GOAL_P99, GOAL_RATIO = 100.0, 100.0, 0.25
ID_BASE = 1_000_000_000  # ids made after this are recognisable in recorded parameters
ID_STRIDE = 5_000_000


def _png(seed: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    pixel = bytes([0, seed % 256, (seed * 7) % 256, (seed * 13) % 256, 255])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


def _multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = "owbench" + uuid.uuid4().hex
    lines = []
    for name, value in fields.items():
        lines.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    lines.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: image/png\r\n\r\n".encode() + content + b"\r\n")
    lines.append(f"--{boundary}--\r\n".encode())
    return b"".join(lines), f"multipart/form-data; boundary={boundary}"



# --- the child: one database ----------------------------------------------------------------------



def _item_content(name: str) -> dict:
    return {
        "name": name, "item_type": "01", "legal_basis": "《城市市容和环境卫生管理条例》第十一条", "exercise_level": "3",
        "legal_limit": {"amount": 20, "unit": "working_day", "note": ""},
        "conditions": "设置户外广告符合城市户外广告设置规划。",
        "materials": [
            {"key": "application", "name": "户外广告设置申请表", "required": True},
            {"key": "site_photos", "name": "设置地点现状照片", "required": True},
        ],
        "service_objects": ["1", "2"], "handling_forms": ["1", "2"], "case_type": "2",
        "promised_limit": {"amount": 8, "unit": "working_day", "note": ""}, "visits": 1, "online_depth": 4,
        "delivery_methods": ["window", "post"], "themes": [], "lists": [], "keywords": ["广告牌"],
        "steps": [
            {"key": "accept", "name": "受理", "kind": "accept", "role": "window_clerk", "limit_days": 1},
            {"key": "review", "name": "审查", "kind": "review", "role": "reviewer", "limit_days": 5},
            {"key": "decide", "name": "决定", "kind": "decide", "role": "approver", "limit_days": 2},
        ],
        "form": {"fields": [{"key": "location", "label": "设置地点", "type": "text", "required": True}]},
    }


def build_world(items: int) -> dict:
    """Benchmark items in the demo department and a token per demo user who acts."""
    from onewindow.accounts.models import User
    from onewindow.accounts.services import api_token_create
    from onewindow.catalogue import services as catalogue
    from onewindow.catalogue.models import ImplementationItem

    users = {name: User.objects.get(username=name)
             for name in ("admin", "deptadmin", "legal", "clerk", "reviewer", "approver",
                          "citizen1", "citizen2", "citizen3")}
    department = users["clerk"].staff_profile.department
    codes = []
    for n in range(items):
        content = _item_content(f"户外广告设置许可（基准{n + 1}）")
        standard = {key: content[key] for key in ("name", "item_type", "legal_basis", "exercise_level",
                                                  "legal_limit", "conditions", "materials")}
        basic = catalogue.basic_item_create(actor=users["admin"], basic_code=f"XK{90001 + n:05d}000",
                                            standard=standard)
        version = catalogue.item_create(actor=users["deptadmin"], basic_item=basic, department=department,
                                        content=content)
        version = catalogue.version_update(actor=users["deptadmin"], version=version, content=version.content,
                                           change_note="基准测试事项")
        version = catalogue.version_submit(actor=users["deptadmin"], version=version)
        version = catalogue.version_approve(actor=users["legal"], version=version)
        catalogue.version_publish_urgent(actor=users["admin"], version=version, reason="基准测试")
        codes.append(ImplementationItem.objects.get(pk=version.item_id).impl_code)
    tokens = {name: api_token_create(actor=users[name], name="benchmark")[1]
              for name in ("clerk", "reviewer", "approver", "citizen1", "citizen2", "citizen3")}
    return {"items": codes, "tokens": tokens, "citizens": ["citizen1", "citizen2", "citizen3"]}


def bump_sequences() -> None:
    """Start every table's ids at its own large base, so that an id made from now on cannot be
    mistaken for any other number in a recorded statement's parameters."""
    from django.apps import apps
    from django.db import connection

    tables = sorted({(model._meta.db_table, model._meta.pk.column) for model in apps.get_models()
                     if model._meta.managed and not model._meta.proxy
                     and model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "SmallAutoField")})
    assert ID_BASE + len(tables) * ID_STRIDE < 2**31 - 1, "the bases must fit 32-bit ids"
    with connection.cursor() as cursor:
        for index, (table, column) in enumerate(tables):
            base = ID_BASE + index * ID_STRIDE
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
                row = cursor.fetchone()
                if row and row[0]:
                    cursor.execute("SELECT setval(%s, %s)", [row[0], base])
            else:
                cursor.execute("SELECT 1 FROM sqlite_sequence WHERE name = %s", [table])
                if cursor.fetchone():
                    cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [base, table])
                else:
                    cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, base])


# --- HTTP calls, shared by the in-process capture and the load clients -------------------------------


class Actions:
    """The API calls of a draft and of a lifecycle; `send(method, path, token, body, content_type,
    headers)` returns (status, parsed JSON)."""

    def __init__(self, send, world: dict) -> None:
        self.send = send
        self.world = world
        self.tokens = world["tokens"]

    def _json(self, method: str, path: str, who: str, body=None, expect=200, headers=None):
        data = json.dumps(body).encode() if body is not None else b""
        status, parsed = self.send(method, path, self.tokens[who], data, "application/json", headers or {})
        if status != expect:
            raise RuntimeError(f"{method} {path} as {who}: HTTP {status} {parsed}")
        return parsed

    def start(self, citizen: str, impl_code: str) -> int:
        return self._json("POST", "/api/cases/", citizen, {"impl_code": impl_code}, expect=201)["id"]

    def save_form(self, citizen: str, case_id: int) -> None:
        self._json("PUT", f"/api/cases/{case_id}/form", citizen, {"form_data": {"location": "红花岗区中华南路88号"}})

    def attach(self, citizen: str, case_id: int, key: str, seed: int) -> None:
        body, content_type = _multipart({"material_key": key}, "现场照片.png", _png(seed))
        status, parsed = self.send("POST", f"/api/cases/{case_id}/materials", self.tokens[citizen], body,
                                   content_type, {})
        if status != 201:
            raise RuntimeError(f"attach {key} to {case_id}: HTTP {status} {parsed}")

    def draft_steps(self, citizen: str, impl_code: str, seed: int):
        """The draft part, one call per step (a generator, so that each call can be timed)."""
        case_id = self.start(citizen, impl_code)
        yield "start", case_id
        self.save_form(citizen, case_id)
        yield "save_form", case_id
        self.attach(citizen, case_id, "application", seed)
        yield "attach", case_id
        self.attach(citizen, case_id, "site_photos", seed + 1)
        yield "attach_2", case_id

    def lifecycle_steps(self, citizen: str, case_id: int, key: str):
        case = f"/api/cases/{case_id}"
        self._json("POST", f"{case}/submit", citizen, headers={"Idempotency-Key": key})
        yield "submit"
        self._json("POST", f"{case}/accept", "clerk")
        yield "accept"
        self._json("POST", f"{case}/pass", "reviewer", {"opinion": "材料齐全，设置地点符合规划。"})
        yield "pass_step"
        self._json("POST", f"{case}/decide", "approver", {"decision": "approved", "opinion": "准予设置。"})
        yield "decide"
        self._json("POST", f"{case}/complete", "clerk")
        yield "complete"
        self._json("POST", f"{case}/deliver", "clerk", {"method": "window"})
        yield "deliver"


# --- (b) recording the SQL of one draft and one lifecycle -----------------------------------------


class Var:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f":{self.name}"


class JsonText(str):
    """A JSON parameter, kept as its text (cast back to jsonb on PostgreSQL)."""


class Recorder:
    """Every statement the connection runs (with parameters, the id an INSERT returned, and
    the transaction boundaries), labelled with the action under way."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.action = ""
        self.statements: list[dict] = []
        self.in_transaction = False
        self.failed: list[str] = []

    def _mark(self, sql: str) -> None:
        self.statements.append({"action": self.action, "sql": sql, "params": (), "returned": None})

    def __call__(self, execute, sql, params, many, context):
        connection = self.connection
        if connection.vendor == "postgresql" and not connection.get_autocommit() and not self.in_transaction:
            self._mark("BEGIN")
            self.in_transaction = True
        if connection.vendor == "sqlite" and sql.startswith("BEGIN"):
            self.in_transaction = True
        try:
            result = execute(sql, params, many, context)
        except Exception as error:
            self.failed.append(f"{sql[:120]}: {error!r}")
            raise
        returned = None
        if " RETURNING " in sql and not many:
            raw = context["cursor"].cursor
            if connection.vendor == "postgresql":
                result_set = raw.pgresult
                if result_set is not None:
                    values = [result_set.get_value(row, 0).decode() for row in range(result_set.ntuples)]
                    returned = [int(value) for value in values if value.isdigit()]
            else:
                # SQLite makes every row of an INSERT at its first step, numbering them in turn.
                insert = _INSERT.match(sql)
                rows = len(params) // len(insert.group(2).split(",")) if insert and params else 1
                returned = list(range(raw.lastrowid - rows + 1, raw.lastrowid + 1)) if raw.lastrowid else []
        self.statements.append({"action": self.action, "sql": sql, "params": tuple(params or ()) if not many else None,
                                "returned": returned})
        return result

    def install(self):
        connection = self.connection
        commit, rollback = connection.commit, connection.rollback

        def recorded_commit():
            commit()
            if self.in_transaction:
                self._mark("COMMIT")
                self.in_transaction = False

        def recorded_rollback():
            rollback()
            if self.in_transaction:
                self._mark("ROLLBACK")
                self.in_transaction = False

        connection.commit, connection.rollback = recorded_commit, recorded_rollback
        return connection.execute_wrapper(self)


def capture(world: dict) -> dict:
    """Run a draft and a lifecycle in-process through the API and record their SQL."""
    from django.db import connection
    from django.test import Client

    client = Client(SERVER_NAME="127.0.0.1")

    def send(method, path, token, body, content_type, headers):
        response = client.generic(method, path, body, content_type=content_type,
                                  headers={"Authorization": f"Bearer {token}", **headers})
        return response.status_code, response.json()

    actions = Actions(send, world)
    impl_code, citizen = world["items"][0], world["citizens"][0]
    # Warm up: the day's serial row, the token's last-used time, caches; then the template
    # draft that (b) clones for pgbench.
    for n in range(2):
        case_id = [step for step in actions.draft_steps(citizen, impl_code, 900 + 2 * n)][-1][1]
        for _ in actions.lifecycle_steps(citizen, case_id, f"bench-warm-{n}"):
            pass
    template = [step for step in actions.draft_steps(citizen, impl_code, 990)][-1][1]

    recorder = Recorder(connection)
    with recorder.install():
        # A generator runs an action's call when asked for it, so the label is set first.
        steps = actions.draft_steps(citizen, impl_code, 1000)
        for action in DRAFT_ACTIONS:
            recorder.action = action
            done, case_id = next(steps)
            assert done == action
        key = "bench-capture-0001"
        steps = actions.lifecycle_steps(citizen, case_id, key)
        for action in LIFECYCLE_ACTIONS:
            recorder.action = action
            assert next(steps) == action
    if recorder.failed:
        raise SystemExit("a recorded statement failed: " + "; ".join(recorder.failed))
    from onewindow.cases.models import Case

    number = Case.objects.values_list("number", flat=True).get(pk=case_id)
    return {"statements": recorder.statements, "case_id": case_id, "number": number, "key": key,
            "template": template}


# --- turning recorded statements into replayable templates ------------------------------------------


def _unique_columns() -> dict[str, set[str]]:
    """Columns with a single-column unique constraint (primary keys included), by table."""
    from django.apps import apps

    found: dict[str, set[str]] = collections.defaultdict(set)
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.unique:
                found[model._meta.db_table].add(field.column)
    return found


_INSERT = re.compile(r'^INSERT INTO "(\w+)" \(([^)]*)\) (VALUES \(|SELECT \* FROM UNNEST\()')


def _plain(value):
    """The recorded parameter as a plain value: JSON adapters become their text."""
    dumps = getattr(value, "dumps", None)
    if dumps is not None and hasattr(value, "obj"):
        return JsonText(dumps(value.obj))
    return value


class Templater:
    """Replaces what must differ from one replayed run to the next: ids the run's own INSERTs
    return, the case (one cloned draft per run), and values of unique columns."""

    def __init__(self, recorded: dict, *, case_var: str, uniq_var: str) -> None:
        self.ids: dict[int, Var] = {}
        self.texts: dict[str, list] = {}
        self.uuid_vars: dict[str, Var] = {}
        self.uniq_var = uniq_var
        self.unique = _unique_columns()
        if case_var:
            self.ids[int(recorded["case_id"])] = Var(case_var)
        self.texts[recorded["key"]] = ["bench-", Var(uniq_var)]
        if recorded["number"]:
            self.texts[recorded["number"]] = [recorded["number"][:-4], Var(uniq_var)]
        self.counter = 0

    def _text(self, value: str):
        """`value` with every known run-specific part replaced, as a list of str and Var."""
        keys = [k for k in self.texts if k and k in value]
        keys += [str(i) for i in self.ids if str(i) in value]
        if not keys:
            return value
        pattern = re.compile("|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)))
        parts: list = []
        position = 0
        for match in pattern.finditer(value):
            parts.append(value[position:match.start()])
            token = match.group(0)
            parts.extend(self.texts[token] if token in self.texts else [self.ids[int(token)]])
            position = match.end()
        parts.append(value[position:])
        return [part for part in parts if part != ""]

    def _unique_value(self, value):
        if isinstance(value, uuid.UUID) or (isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value)):
            var = self.uuid_vars.setdefault(str(value), Var(f"ow_u{len(self.uuid_vars) + 1}"))
            self.texts[str(value)] = [var]
            return
        # A value made of run-specific parts (a document number holds the case number) is
        # unique once those parts are replaced.
        if isinstance(value, str) and value not in self.texts and not isinstance(self._text(value), list):
            self.texts[value] = [value[:max(1, len(value) - 12)], Var(self.uniq_var)]

    def _template(self, value):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return self.ids.get(value, value)
        if isinstance(value, uuid.UUID):
            return ("uuid", self._text(str(value)))
        if isinstance(value, str):
            text = self._text(value)
            return ("json" if isinstance(value, JsonText) else "text", text) if isinstance(text, list) else value
        if isinstance(value, list):
            return ("array", [self._template(item) for item in value])
        return value

    def statement(self, recorded: dict, index: int) -> dict:
        sql, params = recorded["sql"], [_plain(p) for p in recorded["params"] or ()]
        insert = _INSERT.match(sql)
        if insert and recorded["params"] is not None:
            columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
            unique = self.unique.get(insert.group(1), set())
            if insert.group(3).startswith("SELECT"):  # PostgreSQL's bulk_create: an array per column
                values = [(column, value) for column, array in zip(columns, params) for value in array]
            else:  # one row, or several
                values = list(zip(columns * (len(params) // len(columns)), params))
            for column, value in values:
                if column in unique and value is not None and not isinstance(value, int):
                    self._unique_value(value)
        templated = [self._template(value) for value in params]
        # The ids the statement made, in order (an INSERT of several rows numbers them in turn).
        returns = []
        made = sorted(recorded["returned"] or ())
        for row, returned in enumerate(made, start=1):
            if returned >= ID_BASE:
                returns.append(Var(f"ow_v{index}_id" if len(made) == 1 else f"ow_v{index}_r{row}"))
                self.ids[returned] = returns[-1]
        return {"action": recorded["action"], "sql": sql, "params": templated, "returns": returns}

    def all(self, statements: list[dict]) -> list[dict]:
        return [self.statement(recorded, index) for index, recorded in enumerate(statements)]


# --- the PostgreSQL ceiling (pgbench) --------------------------------------------------------------


_NAME_AFTER_COLON = re.compile(r":(?=[A-Za-z0-9_])")


def _plain_literal(value, conn) -> str:
    """A literal in which pgbench sees no variable: -M prepared takes every ":name" in a
    statement for one, inside quotes too ("09:30", '"deferred":false'), so a literal holding
    one is cut after each such colon and joined again."""
    from psycopg import sql

    literal = sql.Literal(value).as_string(conn)
    quoted = re.fullmatch(r"(E?)'(.*)'(::[a-z ]+)?", literal, re.S)
    if quoted is None or not _NAME_AFTER_COLON.search(quoted.group(2)):
        return literal
    prefix, body, cast = quoted.groups()
    cut = _NAME_AFTER_COLON.sub(":' || " + prefix + "'", body)
    return f"({prefix}'{cut}'){cast or ''}"


def _pg_literal(value, conn) -> str:
    if isinstance(value, Var):
        return f":{value.name}"
    if isinstance(value, tuple) and value[0] == "array":
        return "ARRAY[" + ", ".join(_pg_literal(item, conn) for item in value[1]) + "]"
    if isinstance(value, tuple):
        kind, parts = value
        # A text with variables in it is a concatenation, so that a prepared statement (-M prepared)
        # takes the variables as parameters rather than as characters of a literal.
        pieces = [_plain_literal(p, conn) if isinstance(p, str) else f":{p.name}::text" for p in parts if p != ""]
        literal = f"({' || '.join(pieces)})" if len(pieces) > 1 else (pieces[0] if pieces else "''")
        return {"json": f"{literal}::jsonb", "uuid": f"{literal}::uuid"}.get(kind, literal)
    if isinstance(value, JsonText):
        return f"({_plain_literal(str(value), conn)})::jsonb"
    return _plain_literal(value, conn)


def _pg_statement(statement: dict, conn) -> str:
    params = iter(statement["params"])

    def replace(match):
        return "%" if match.group(0) == "%%" else _pg_literal(next(params), conn)

    text = re.sub(r"%s|%%", replace, statement["sql"]) if statement["params"] else statement["sql"].replace("%%", "%")
    text = text.replace("\n", " ")
    returns = statement["returns"]
    if len(returns) == 1:
        return f"{text} \\gset {returns[0].name[:-2]}"
    if returns:  # several rows: their ids, in order, one variable each
        prefix = returns[0].name.rsplit("_", 1)[0]
        picked = ", ".join(f"(array_agg(made.id ORDER BY made.id))[{row}] AS r{row}" for row in range(1, len(returns) + 1))
        return f"WITH made AS ({text}) SELECT {picked} FROM made \\gset {prefix}_"
    return f"{text};"


def pgbench_script(templated: list[dict], *, head: list[str], conn) -> str:
    lines = list(head)
    for statement in templated:
        lines.append(_pg_statement(statement, conn))
    return "\n".join(lines) + "\n"


def _uuid_heads(templater: Templater) -> list[str]:
    return [f"SELECT gen_random_uuid() AS {var.name} \\gset" for var in templater.uuid_vars.values()]


def clone_drafts(template: int, count: int) -> tuple[int, int]:
    """`count` copies of the template draft (its row and its materials); their first and last id."""
    from django.db import connection, transaction

    from onewindow.cases.models import Case, CaseMaterial

    case_columns = [f.column for f in Case._meta.concrete_fields if not f.primary_key]
    material_columns = [f.column for f in CaseMaterial._meta.concrete_fields
                        if not f.primary_key and f.column != "case_id"]
    quoted = ", ".join(f'"{c}"' for c in case_columns)
    material_quoted = ", ".join(f'"{c}"' for c in material_columns)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute('SELECT COALESCE(MAX(id), 0) FROM "cases_case"')
        before = cursor.fetchone()[0]
        if connection.vendor == "postgresql":
            cursor.execute(f'INSERT INTO "cases_case" ({quoted}) SELECT {quoted} FROM "cases_case", '
                           f'generate_series(1, %s) AS n WHERE id = %s ORDER BY n', [count, template])
        else:
            cursor.execute(f'WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < %s) '
                           f'INSERT INTO "cases_case" ({quoted}) SELECT {quoted} FROM "cases_case", s '
                           f'WHERE id = %s ORDER BY n', [count, template])
        cursor.execute('SELECT MIN(id), MAX(id), COUNT(*) FROM "cases_case" WHERE id > %s', [before])
        first, last, made = cursor.fetchone()
        assert made == count and last - first + 1 == count, (first, last, made)
        cursor.execute(f'INSERT INTO "cases_casematerial" ("case_id", {material_quoted}) '
                       f'SELECT c.id, {", ".join("m." + chr(34) + col + chr(34) for col in material_columns)} '
                       f'FROM "cases_case" c, "cases_casematerial" m WHERE c.id BETWEEN %s AND %s '
                       f'AND m.case_id = %s', [first, last, template])
    return first, last


def _pg_conninfo() -> dict:
    from django.db import connection

    settings = connection.settings_dict
    return {"host": settings["HOST"] or "127.0.0.1", "port": str(settings["PORT"] or 5432),
            "user": settings["USER"] or "postgres", "dbname": settings["NAME"]}


def _run_pgbench(script: Path, clients: int, seconds: int) -> dict:
    info = _pg_conninfo()
    env = {**os.environ}
    from django.db import connection

    if connection.settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = connection.settings_dict["PASSWORD"]
    prepared = connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold") is not None
    result = subprocess.run(
        ["pgbench", "-n", "-M", "prepared" if prepared else "simple", "-f", str(script), "-c", str(clients), "-j", str(min(clients, 4)),
         "-T", str(seconds), "-h", info["host"], "-p", info["port"], "-U", info["user"], info["dbname"]],
        capture_output=True, text=True, env=env,
    )
    output = result.stdout + result.stderr
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if result.returncode != 0 or tps is None or "aborted" in output or (failed and int(failed.group(1))):
        command = re.search(r"aborted in command (\d+)", output)
        line = script.read_text(encoding="utf-8").splitlines()[int(command.group(1))] if command else ""
        raise SystemExit(f"pgbench failed:\n{output[-3000:]}\n{line[:2000]}")
    latency = re.search(r"latency average = ([0-9.]+) ms", output)
    return {"tps": float(tps.group(1)), "latency_ms": float(latency.group(1)) if latency else 0.0}


def pg_ceiling(recorded: dict, http_rate: float, draft_rate: float, work: Path) -> dict:
    from django.db import connection

    from onewindow.core.models import Notification  # noqa: F401  (models loaded)

    connection.ensure_connection()
    conn = connection.connection
    lifecycle = [s for s in recorded["statements"] if s["action"] in LIFECYCLE_ACTIONS]
    drafts = [s for s in recorded["statements"] if s["action"] in DRAFT_ACTIONS]

    life_templater = Templater(recorded, case_var="ow_case", uniq_var="ow_case")
    life = life_templater.all(lifecycle)
    draft_templater = Templater(recorded, case_var="", uniq_var="ow_uniq")
    draft = draft_templater.all(drafts)

    with connection.cursor() as cursor:
        cursor.execute("DROP SEQUENCE IF EXISTS ow_bench_uniq")
        cursor.execute("CREATE SEQUENCE ow_bench_uniq START 1")
    draft_script = work / "drafts.sql"
    draft_script.write_text(pgbench_script(
        draft, head=["SELECT nextval('ow_bench_uniq') AS ow_uniq \\gset", *_uuid_heads(draft_templater)], conn=conn),
        encoding="utf-8")
    life_script = work / "lifecycle.sql"

    results = {"draft": {}, "lifecycle": {}}
    for clients in PG_CLIENTS:
        results["draft"][clients] = _run_pgbench(draft_script, clients, PG_SECONDS)
    for clients in PG_CLIENTS:
        # A probe tells how many cloned drafts a full run needs.
        needed = 0
        for seconds in (2, PG_SECONDS):
            budget = int((needed or 3000) * 1.5) + 1000
            first, last = clone_drafts(recorded["template"], budget)
            with connection.cursor() as cursor:
                cursor.execute("DROP SEQUENCE IF EXISTS ow_bench_case")
                cursor.execute(f"CREATE SEQUENCE ow_bench_case START {first} MAXVALUE {last}")
            life_script.write_text(pgbench_script(
                life, head=["SELECT nextval('ow_bench_case') AS ow_case \\gset", *_uuid_heads(life_templater)],
                conn=conn), encoding="utf-8")
            run = _run_pgbench(life_script, clients, seconds)
            needed = int(run["tps"] * PG_SECONDS)
        results["lifecycle"][clients] = run
    best_life = max(results["lifecycle"].values(), key=lambda r: r["tps"])
    best_draft = max(results["draft"].values(), key=lambda r: r["tps"])
    return {
        "ceiling_lifecycles": best_life["tps"], "ceiling_drafts": best_draft["tps"],
        "ceiling_detail": {kind: {str(c): round(r["tps"], 1) for c, r in runs.items()}
                           for kind, runs in results.items()},
        "ratio": http_rate / best_life["tps"], "draft_ratio": draft_rate / best_draft["tps"],
    }


# --- the SQLite ceiling (one process, the statements in order) -------------------------------------


def _sqlite_value(value, variables: dict):
    if isinstance(value, Var):
        return variables[value.name]
    if isinstance(value, tuple):
        return "".join(p if isinstance(p, str) else str(variables[p.name]) for p in value[1])
    if isinstance(value, JsonText):
        return str(value)
    if isinstance(value, uuid.UUID):
        return value.hex
    return value


def sqlite_ceiling(recorded: dict, http_rate: float, draft_rate: float) -> dict:
    from django.db import connection

    path = connection.settings_dict["NAME"]
    connection.close()
    # Room for every distinct statement of a draft and a lifecycle in the statement cache.
    db = sqlite3.connect(path, isolation_level=None, timeout=20, check_same_thread=False, cached_statements=1024)
    for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"):
        db.execute(pragma)

    def run(templated: list[dict], variables: dict) -> None:
        for statement in templated:
            sql = statement["sql"]
            if sql in ("COMMIT", "ROLLBACK"):
                db.execute(sql)
                continue
            params = [_sqlite_value(p, variables) for p in statement["params"]]
            cursor = db.execute(sql.replace("%s", "?").replace("%%", "%"), params)
            if " RETURNING " in sql:
                made = sorted(row[0] for row in cursor.fetchall())
                for var, made_id in zip(statement["returns"], made):
                    variables[var.name] = made_id

    lifecycle = [s for s in recorded["statements"] if s["action"] in LIFECYCLE_ACTIONS]
    drafts = [s for s in recorded["statements"] if s["action"] in DRAFT_ACTIONS]
    life_templater = Templater(recorded, case_var="ow_case", uniq_var="ow_case")
    life = life_templater.all(lifecycle)
    draft_templater = Templater(recorded, case_var="", uniq_var="ow_uniq")
    draft = draft_templater.all(drafts)

    first, last = clone_drafts(recorded["template"], SQLITE_REPLAYS)
    connection.close()

    def fresh(templater: Templater, **base) -> dict:
        return {**base, **{var.name: uuid.uuid4().hex for var in templater.uuid_vars.values()}}

    started = time.perf_counter()
    for n in range(SQLITE_REPLAYS):
        run(draft, fresh(draft_templater, ow_uniq=n + 1))
    draft_rate_ceiling = SQLITE_REPLAYS / (time.perf_counter() - started)
    started = time.perf_counter()
    for case_id in range(first, last + 1):
        run(life, fresh(life_templater, ow_case=case_id))
    life_rate = SQLITE_REPLAYS / (time.perf_counter() - started)
    db.close()
    return {"ceiling_lifecycles": life_rate, "ceiling_drafts": draft_rate_ceiling,
            "ceiling_detail": {"replays": SQLITE_REPLAYS},
            "ratio": http_rate / life_rate, "draft_ratio": draft_rate / draft_rate_ceiling}


# --- (a) the HTTP load -----------------------------------------------------------------------------



def _cpu_seconds(pid: int) -> tuple[float, float]:
    """(own, reaped children) CPU seconds of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds spent by the server (uvicorn and its workers), the database server (the
    postmaster with its live and exited backends; on SQLite it runs inside the workers) and
    this process (the client threads)."""

    def __init__(self, server_pid: int, postmaster_pid: int | None) -> None:
        self.server_pid, self.postmaster_pid = server_pid, postmaster_pid

    def read(self) -> dict[str, float]:
        server = sum(sum(_cpu_seconds(pid)) for pid in [self.server_pid, *_children(self.server_pid)])
        database = 0.0
        if self.postmaster_pid:
            database = sum(_cpu_seconds(self.postmaster_pid))
            database += sum(_cpu_seconds(pid)[0] for pid in _children(self.postmaster_pid))
        times = os.times()
        return {"server": server, "database": database, "client": times.user + times.system}


def _postmaster_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    try:
        return int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


class HttpClient:
    def __init__(self, port: int) -> None:
        import http.client

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def send(self, method, path, token, body, content_type, headers):
        all_headers = {"Authorization": f"Bearer {token}", **headers}
        if body:
            all_headers["Content-Type"] = content_type
        self.connection.request(method, path, body=body or None, headers=all_headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None


def run_load(world: dict, port: int, clients: int, draft_seconds: float, seconds: float, meter: CpuMeter) -> dict:
    """Warm-up, then drafts for `draft_seconds`, then lifecycles on them for `seconds`; the
    clients pass a barrier between phases, whose action starts the next phase's clock."""
    pool: collections.deque = collections.deque()
    samples: dict[str, list[float]] = collections.defaultdict(list)
    counts = {"drafts": 0, "lifecycles": 0}
    errors: list[str] = []
    lock = threading.Lock()
    marks: list[tuple[float, dict]] = []
    deadline = [0.0]
    seeds = iter(range(10_000, 10_000_000, 2))

    def next_phase() -> None:
        now = time.perf_counter()
        marks.append((now, meter.read()))
        deadline[0] = now + (draft_seconds if len(marks) == 1 else seconds)

    barrier = threading.Barrier(clients, action=next_phase)

    def client(index: int) -> None:
        http = HttpClient(port)
        actions = Actions(http.send, world)
        citizen = world["citizens"][index % len(world["citizens"])]
        items = world["items"]
        try:
            for n in range(WARMUP_LIFECYCLES):
                with lock:
                    seed = next(seeds)
                case_id = [s for s in actions.draft_steps(citizen, items[(index + n) % len(items)], seed)][-1][1]
                for _ in actions.lifecycle_steps(citizen, case_id, f"bench-warm-{index}-{n}"):
                    pass
            barrier.wait()
            n = 0
            while time.perf_counter() < deadline[0]:
                with lock:
                    seed = next(seeds)
                started = time.perf_counter()
                for action, case_id in actions.draft_steps(citizen, items[(index + n) % len(items)], seed):
                    now = time.perf_counter()
                    samples[action].append((now - started) * 1000)
                    started = now
                with lock:
                    pool.append((case_id, citizen))
                    counts["drafts"] += 1
                n += 1
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                with lock:
                    if not pool:
                        break
                    case_id, owner = pool.popleft()
                started = time.perf_counter()
                for action in actions.lifecycle_steps(owner, case_id, f"bench-{case_id}"):
                    now = time.perf_counter()
                    samples[action].append((now - started) * 1000)
                    started = now
                with lock:
                    counts["lifecycles"] += 1
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        except Exception as error:  # reported, and the run fails
            errors.append(f"client {index}: {error}")
            barrier.abort()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit("HTTP load failed: " + "; ".join(errors[:3]))
    (draft_start, draft_cpu), (life_start, life_cpu), (life_end, life_cpu_end) = marks
    draft_elapsed, life_elapsed = life_start - draft_start, life_end - life_start
    if not pool and life_elapsed < seconds * 0.9:
        print(f"  (the drafts ran out after {life_elapsed:.1f} s)", flush=True)
    drafts, lifecycles = counts["drafts"], counts["lifecycles"]

    def per(start: dict, end: dict, count: int) -> dict:
        return {key: 1000 * (end[key] - start[key]) / max(count, 1) for key in start}

    return {
        "drafts_per_s": drafts / draft_elapsed,
        "lifecycles_per_s": lifecycles / life_elapsed,
        "lifecycles": lifecycles,
        "lifecycle_seconds": life_elapsed,
        "latency": {action: {"p50": statistics.median(values), "p99": percentile(values, 0.99), "n": len(values)}
                    for action, values in samples.items()},
        "cpu_ms_per_draft": per(draft_cpu, life_cpu, drafts),
        "cpu_ms_per_lifecycle": per(life_cpu, life_cpu_end, lifecycles),
        "cpu_share": {key: (life_cpu_end[key] - life_cpu[key]) / life_elapsed for key in life_cpu},
    }


def http_figures(world: dict, args) -> dict:
    from django.db import connection

    with served(workers=args.workers, threads=args.threads) as (server, port):
        meter = CpuMeter(server.pid, _postmaster_pid())
        connection.close()
        return run_load(world, port, args.clients, args.draft_seconds, args.seconds, meter)


def child(args) -> None:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("demo", quiet_logins=True, verbosity=0, stdout=open(os.devnull, "w"))
    world = build_world(args.items)
    bump_sequences()
    recorded = capture(world)
    per_action = collections.Counter(s["action"] for s in recorded["statements"]
                                     if not s["sql"].startswith(("BEGIN", "COMMIT", "ROLLBACK")))
    connection.close()
    figures = http_figures(world, args)
    figures["statements"] = dict(per_action)
    work = Path(tempfile.mkdtemp(prefix="ow-bench-pgbench-"))
    try:
        if args.skip_ceiling:
            figures.update({"ceiling_lifecycles": float("nan"), "ceiling_drafts": float("nan"),
                            "ceiling_detail": {}, "ratio": float("nan"), "draft_ratio": float("nan")})
        elif connection.vendor == "postgresql":
            figures.update(pg_ceiling(recorded, figures["lifecycles_per_s"], figures["drafts_per_s"], work))
        else:
            figures.update(sqlite_ceiling(recorded, figures["lifecycles_per_s"], figures["drafts_per_s"]))
    finally:
        if os.environ.get("OW_BENCH_KEEP"):
            print(f"  scripts kept in {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("FIGURES " + json.dumps(figures), flush=True)


# --- the parent: one child per database ------------------------------------------------------------


def _run(backend: str, args) -> dict:
    return run_child(__file__, backend, "cases", [
        "--clients", str(args.clients), "--workers", str(args.workers), "--threads", str(args.threads),
        "--seconds", str(args.seconds),
        "--draft-seconds", str(args.draft_seconds), "--items", str(args.items),
        *(["--skip-ceiling"] if args.skip_ceiling else [])])


def _report(backend: str, f: dict, args) -> None:
    print(f"  drafts: {f['drafts_per_s']:.1f}/s (start, form, 2 uploads); ceiling for the same SQL "
          f"{f['ceiling_drafts']:.0f}/s, ratio {f['draft_ratio']:.2f}")
    print(f"  full lifecycles: {f['lifecycles_per_s']:.1f}/s ({f['lifecycles']} in {args.seconds:.0f} s); "
          f"ceiling for the same SQL {f['ceiling_lifecycles']:.0f}/s {f['ceiling_detail']}; "
          f"ratio {f['ratio']:.2f}")
    print("  latency ms (p50 / p99), SQL statements per action:")
    for action in (*DRAFT_ACTIONS, *LIFECYCLE_ACTIONS):
        lat = f["latency"].get(action)
        if lat:
            print(f"    {action:<10} {lat['p50']:7.1f} / {lat['p99']:7.1f}   "
                  f"{f['statements'].get(action, 0):3d} statements")
    cpu = f["cpu_ms_per_lifecycle"]
    share = f["cpu_share"]
    database = (f"PostgreSQL server {cpu['database']:.1f} ms (all of its sessions, other users' included)"
                if backend == "postgres" else "SQLite runs inside the workers")
    print(f"  CPU per lifecycle: uvicorn workers {cpu['server']:.1f} ms, {database}, client threads "
          f"{cpu['client']:.1f} ms; cores busy: workers {share['server']:.2f}, PostgreSQL {share['database']:.2f}, "
          f"client {share['client']:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--workers", type=int, default=SERVER_WORKERS)
    parser.add_argument("--threads", type=int, default=SERVER_THREADS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--draft-seconds", type=float, default=DRAFT_SECONDS)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--skip-ceiling", action="store_true", help="HTTP figures only (no replay)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = {}
    for backend in args.backends.split(","):
        print(f"{backend}: {args.clients} clients, {args.workers} uvicorn workers × {args.threads} threads, "
              f"{args.items} items, "
              f"{os.cpu_count()} CPUs, {machine_before()}", flush=True)
        results[backend] = figures = _run(backend, args)
        _report(backend, figures, args)
        print(machine_after(), flush=True)
    summary = []
    for backend, f in results.items():
        worst = max(f["latency"][a]["p99"] for a in LIFECYCLE_ACTIONS)
        met = f["lifecycles_per_s"] >= GOAL_RATE and worst <= GOAL_P99 and f["ratio"] >= GOAL_RATIO
        summary.append(f"{backend}: {f['lifecycles_per_s']:.1f} lifecycles/s, worst p99 {worst:.0f} ms, "
                       f"ratio {f['ratio']:.2f} to {f['ceiling_lifecycles']:.0f}/s "
                       f"({'goals met' if met else 'goals not met'})")
    print("; ".join(summary))


if __name__ == "__main__":
    main()
