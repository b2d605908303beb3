"""The library's clock: the current moment and today's date in Beijing time.

Validity, expiry and reminders read it from here, so tests run them at chosen dates.
"""

import datetime as dt

from django.utils import timezone

from onewindow.core.workdays import SHANGHAI


def now() -> dt.datetime:
    return timezone.now()


def today() -> dt.date:
    return now().astimezone(SHANGHAI).date()
