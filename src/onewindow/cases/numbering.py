"""Numbers of cases and their documents.

A case number (办件编号) is the implementation code + yyyyMMdd + a daily serial of at least 4
digits (GB/T 39046 §6.2; the layout the national platform's data uses). The serial row of
(code, day) is created at 1 or incremented by one upsert, which a submission runs as a statement
of its own once its checks pass (`services.case_submit`): concurrent submissions of one item get
distinct, increasing numbers without waiting for each other's transactions, and a submission
that fails after taking its number leaves that serial unused.

A document number is the case number, the document's code and its count within the case
("…0001-SL01"): the case row is locked while a document is issued, so counts cannot collide.
Only a notice a case may get more than once (REPEATED_KINDS) is counted; every other document
marks a step a case takes once (its receipt, its acceptance, its decision), so it is the first.
"""

import datetime as dt
import secrets

from django.db import connection

from onewindow.cases.choices import DocumentKind
from onewindow.cases.models import DailySerial
from onewindow.core.prepared import statement_cursor

# No 0/O, 1/I/L: a code read out over the phone or typed from paper is not mistaken.
QUERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 6

DOCUMENT_CODES = {
    DocumentKind.RECEIPT: "SJ",
    DocumentKind.ACCEPTANCE: "SL",
    DocumentKind.REFUSAL: "BSL",
    DocumentKind.SUPPLEMENT: "BZ",
    DocumentKind.DEFERRAL: "RQ",
    DocumentKind.APPROVAL: "XK",
    DocumentKind.DENIAL: "BXK",
    DocumentKind.TERMINATION: "ZZ",
}

REPEATED_KINDS = frozenset({DocumentKind.SUPPLEMENT})


def next_serial(prefix: str, day: dt.date) -> int:
    """One statement (INSERT … ON CONFLICT … RETURNING, PostgreSQL and SQLite ≥ 3.35), where the
    ORM would need a savepoint and three; outside a transaction, a transaction of its own."""
    table = connection.ops.quote_name(DailySerial._meta.db_table)
    cursor = statement_cursor(connection)
    cursor.execute(
        f"INSERT INTO {table} (impl_code, day, last) VALUES (%s, %s, 1) "
        f"ON CONFLICT (impl_code, day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
        [prefix, day],
    )
    return cursor.fetchone()[0]


def case_number(impl_code: str, day: dt.date) -> str:
    return f"{impl_code}{day:%Y%m%d}{next_serial(impl_code, day):04d}"


def document_number(case_number: str, kind: str, count_so_far: int) -> str:
    return f"{case_number}-{DOCUMENT_CODES[kind]}{count_so_far + 1:02d}"


def query_code() -> str:
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
