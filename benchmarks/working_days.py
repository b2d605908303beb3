"""Working-day calendar throughput: add_working_days calls per second on the seeded calendar.

    python benchmarks/working_days.py                                # SQLite, throw-away data folder
    DATABASE_URL=postgres://user@host:5432/name python benchmarks/working_days.py

The database is a throw-away test database, created with Django's test machinery (migrated)
and dropped afterwards.
Each figure is the median of several runs; the add_working_days figure (nationwide, start dates
2020–2026, 1–60 working days) is printed last, on its own line.
"""

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

RUNS = 7
CALLS = 200_000


def median_rate(call: Callable[[object, object], object], inputs: list[tuple[object, object]]) -> float:
    rates = []
    for _ in range(RUNS):
        started = time.perf_counter()
        for first, second in inputs:
            call(first, second)
        rates.append(len(inputs) / (time.perf_counter() - started))
    return statistics.median(rates)


def measure() -> float:
    import datetime as dt

    from onewindow.core import workdays
    from onewindow.core.models import Region
    from onewindow.core.models.calendar import CalendarDayKind
    from onewindow.core.services.calendar import calendar_day_create, calendar_seed_from_package

    calendar_seed_from_package(actor="benchmark")
    province = Region.objects.create(code="520000", name="贵州省", level=1, path="520000/")
    city = Region.objects.create(code="520300", name="遵义市", level=2, parent=province, path="520000/520300/")
    county = Region.objects.create(code="520302", name="红花岗区", level=3, parent=city, path="520000/520300/520302/")
    calendar_day_create(actor="benchmark", date=dt.date(2025, 7, 15), region=city, kind=CalendarDayKind.HOLIDAY)

    rng = random.Random(20251001)
    first, span = dt.date(2020, 1, 1).toordinal(), dt.date(2026, 12, 31).toordinal() - dt.date(2020, 1, 1).toordinal()
    starts = [dt.date.fromordinal(first + rng.randrange(span)) for _ in range(CALLS)]
    counts = [rng.randint(1, 60) for _ in range(CALLS)]
    ends = [dt.date.fromordinal(day.toordinal() + rng.randrange(90)) for day in starts]
    add, between, is_working = workdays.add_working_days, workdays.working_days_between, workdays.is_working_day
    assert add(dt.date(2025, 9, 26), 20) == (dt.date(2025, 10, 30), True)

    print(f"database: {os.environ.get('DATABASE_URL', 'sqlite').split('://')[0]}; {RUNS} runs of {CALLS} calls each")
    rate = median_rate(lambda day, _: is_working(day), list(zip(starts, counts)))
    print(f"is_working_day: {rate:,.0f} calls/s")
    rate = median_rate(between, list(zip(starts, ends)))
    print(f"working_days_between: {rate:,.0f} calls/s")
    rate = median_rate(lambda day, n: add(day, n, region=county), list(zip(starts, counts)))
    print(f"add_working_days in a county with a city override: {rate:,.0f} calls/s")
    rate = median_rate(add, list(zip(starts, counts)))
    print("add_working_days (nationwide), calls/s, median:")
    return rate


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="onewindow-benchmark-")
    os.environ["ONEWINDOW_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onewindow.config.settings")
    try:
        import django

        django.setup()
        from django.db import connection
        from django.test.utils import setup_test_environment, teardown_test_environment

        if connection.vendor != "sqlite":  # SQLite's test database already sits in the throw-away folder
            connection.settings_dict["TEST"]["NAME"] = f"benchmark_calendar_{os.getpid()}"
        setup_test_environment()
        original_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            rate = measure()
        finally:
            connection.creation.destroy_test_db(original_name, verbosity=0)
            teardown_test_environment()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
