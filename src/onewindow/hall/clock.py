"""The hall's clock: the current time and the date in the hall's time zone (Beijing time).

Every rule that depends on the time of day (a slot has started, an appointment can be checked in,
today's queue) reads it from here, so the rules are exercised at chosen moments in tests.
"""

import datetime as dt

from django.utils import timezone

from onewindow.core.workdays import SHANGHAI


def now() -> dt.datetime:
    return timezone.now()


def local_now() -> dt.datetime:
    return now().astimezone(SHANGHAI)


def today() -> dt.date:
    return local_now().date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware moment of a wall-clock time on `day` in the hall."""
    return dt.datetime.combine(day, time, tzinfo=SHANGHAI)
