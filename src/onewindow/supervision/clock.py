"""Supervision's clock: the moment and the Beijing date every warning is computed against.

Every rule that depends on today (a deadline near or passed, a notice's deadline, days overdue
before escalation) reads it from here, so the rules are exercised at chosen days in tests.
"""

import datetime as dt

from django.utils import timezone

from onewindow.core.workdays import SHANGHAI


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return now().astimezone(SHANGHAI).date()


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI).date()


def day_start(day: dt.date) -> dt.datetime:
    """The aware moment a Beijing calendar day begins."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=SHANGHAI)
