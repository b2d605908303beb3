"""Numbers of cases and their documents.

A case number (办件编号) is the implementation code + yyyyMMdd + a daily serial of at least 4
digits (GB/T 39046 §6.2; the layout the national platform's data uses). The serial row of
(code, day) is created if missing and incremented under a row lock in the submitting
transaction, so concurrent submissions of one item get consecutive, distinct numbers and a
rolled-back submission gives its number back.

A document number is the case number, the document's code and its count within the case
("…0001-SL01"): the case row is locked while a document is issued, so counts cannot collide.
"""

import datetime as dt
import secrets

from django.db import IntegrityError, transaction
from django.db.models import F

from onewindow.cases.choices import DocumentKind
from onewindow.cases.models import DailySerial

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


def next_serial(prefix: str, day: dt.date) -> int:
    """Must run inside the submitting transaction."""
    try:
        with transaction.atomic():
            DailySerial.objects.get_or_create(impl_code=prefix, day=day)
    except IntegrityError:
        pass  # another submission created the row first
    DailySerial.objects.filter(impl_code=prefix, day=day).update(last=F("last") + 1)
    return DailySerial.objects.values_list("last", flat=True).get(impl_code=prefix, day=day)


def case_number(impl_code: str, day: dt.date) -> str:
    return f"{impl_code}{day:%Y%m%d}{next_serial(impl_code, day):04d}"


def document_number(case_number: str, kind: str, count_so_far: int) -> str:
    return f"{case_number}-{DOCUMENT_CODES[kind]}{count_so_far + 1:02d}"


def query_code() -> str:
    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(QUERY_CODE_LENGTH))
