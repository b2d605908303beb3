"""Working days for legal and promised time limits, in China's calendar (Asia/Shanghai).

    from onewindow.core import workdays

    due = workdays.add_working_days(received_at, 20, region=case.region)
    case.due_date, case.due_confirmed = due.date, due.confirmed

Every function takes a `date` or an aware `datetime` (converted to its date in Beijing time),
for years 1900–2200, and an optional `Region`: its own and its ancestors' overrides apply on top
of the nationwide ones, the most local winning.

Counting follows the legal-limit rule: the day of receipt is not counted, so
`add_working_days(day, 1)` is the first working day after `day`, whatever `day` is.
chinesecalendar's `find_workday(n, day)` first moves to a working day and counts from there:
it agrees with `add_working_days(day, n)` when `day` is a working day (both give 2025-10-30 for
20 working days from Friday 2025-09-26), and equals `add_working_days(day, n + 1)` for n ≥ 1 when
`day` is not.

Years without a confirmed schedule (no `CalendarYear` marked confirmed) count weekends only;
days entered for such a year wait for its confirmation. So that no caller can take this guess
for fact, `add_working_days` and `working_days_between` return a `WorkdayDate(date, confirmed)`
/ `WorkdayCount(days, confirmed)`: a named tuple, not a date or an int, so comparing it with a
date or a number or saving it in a model field fails loudly until the caller takes `.date` /
`.days`, with `.confirmed` beside it (False when any year from the start to the result is
unconfirmed).
`is_working_day` stays a plain bool, because a truthy wrapper would make `if is_working_day(d)`
always true; `calendar_confirmed(day)` gives its flag.

Speed: the overrides of each region scope become one sorted list of working-day ordinals over
the span the overrides cover, with closed-form weekday arithmetic outside it, so every call is
a bisect or an index. The lists are rebuilt when the calendar's revision token (one database
row, changed with every edit) differs; each process reads the token at most once a second, and
the thread that made an edit sees it at once (inside its transaction, from a private copy).
"""

import datetime as dt
import threading
import time
from bisect import bisect_right
from typing import NamedTuple
from uuid import uuid4
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onewindow.core.errors import InvalidInput
from onewindow.core.models import CalendarDay, CalendarRevision, CalendarYear, Region
from onewindow.core.models.calendar import MAX_YEAR, MIN_YEAR, CalendarDayKind, CalendarYearStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECHECK_SECONDS = 1.0
_MIN_ORDINAL = dt.date(MIN_YEAR, 1, 1).toordinal()
_MAX_ORDINAL = dt.date(MAX_YEAR, 12, 31).toordinal()
_MAX_CACHED_REGIONS = 50_000


class WorkdayDate(NamedTuple):
    date: dt.date
    confirmed: bool


class WorkdayCount(NamedTuple):
    days: int
    confirmed: bool


# --- arithmetic on day ordinals (ordinal 1 = Monday 0001-01-01) ---------------------------


def _weekdays_through(ordinal: int) -> int:
    """How many Monday–Fridays there are among ordinals 1..ordinal."""
    weeks, rest = divmod(ordinal, 7)
    return weeks * 5 + (rest if rest < 5 else 5)


def _nth_weekday(k: int) -> int:
    """The ordinal of the k-th Monday–Friday counted from ordinal 1."""
    weeks, rest = divmod(k - 1, 5)
    return weeks * 7 + rest + 1


class _Scope:
    """The working days of one set of overrides.

    `count(o)` is a running count of working days up to ordinal o (weekdays outside the
    overrides' span, the precomputed list inside it); `nth(k)` is its inverse.
    """

    __slots__ = ("flags", "lo", "hi", "days", "base", "top")

    def __init__(self, flags: dict[int, bool]) -> None:
        self.flags = flags
        if flags:
            lo, hi = min(flags), max(flags)
            days = [o for o in range(lo, hi + 1) if flags.get(o, (o + 6) % 7 < 5)]
        else:
            lo, hi, days = 1, 0, []
        self.lo, self.hi, self.days = lo, hi, days
        self.base = _weekdays_through(lo - 1)
        self.top = self.base + len(days) - _weekdays_through(hi)

    def working(self, o: int) -> bool:
        flag = self.flags.get(o)
        return (o + 6) % 7 < 5 if flag is None else flag

    def count(self, o: int) -> int:
        if o < self.lo:
            return _weekdays_through(o)
        if o > self.hi:
            return _weekdays_through(o) + self.top
        return self.base + bisect_right(self.days, o)

    def nth(self, k: int) -> int:
        if k <= self.base:
            return _nth_weekday(k)
        i = k - self.base
        if i <= len(self.days):
            return self.days[i - 1]
        return _nth_weekday(k - self.top)


class _Calendar:
    """One loaded revision: confirmed years and the overrides by region path ("" = nationwide)."""

    def __init__(self, token: str, confirmed: frozenset[int], overrides: dict[str, dict[int, bool]]) -> None:
        self.token = token
        self.confirmed = confirmed
        self.overrides = overrides
        # Ancestors before descendants, so the most local override is applied last.
        self.paths = sorted(overrides, key=lambda path: (len(path), path))
        self.by_key: dict[tuple[str, ...], _Scope] = {}
        self.by_path: dict[str, _Scope] = {}
        self.national = self.scope(("",) if "" in overrides else ())

    def scope(self, key: tuple[str, ...]) -> _Scope:
        found = self.by_key.get(key)
        if found is None:
            flags: dict[int, bool] = {}
            for path in key:
                flags.update(self.overrides[path])
            found = self.by_key[key] = _Scope(flags)
        return found

    def for_path(self, region_path: str) -> _Scope:
        found = self.by_path.get(region_path)
        if found is None:
            found = self.scope(tuple(path for path in self.paths if region_path.startswith(path)))
            if len(self.by_path) >= _MAX_CACHED_REGIONS:
                self.by_path.clear()
            self.by_path[region_path] = found
        return found

    def all_confirmed(self, first_year: int, last_year: int) -> bool:
        if first_year == last_year:
            return first_year in self.confirmed
        return all(year in self.confirmed for year in range(first_year, last_year + 1))


# --- loading and invalidation --------------------------------------------------------------


def _read_token() -> str:
    return CalendarRevision.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def _load(token: str) -> _Calendar:
    confirmed = frozenset(
        CalendarYear.objects.filter(status=CalendarYearStatus.CONFIRMED).values_list("year", flat=True)
    )
    overrides: dict[str, dict[int, bool]] = {}
    rows = CalendarDay.objects.values_list("date", "kind", "region_id", "region__path")
    for day, kind, region_id, path in rows:
        # Overrides wait for their year to be confirmed, so a half-entered schedule never
        # moves a deadline; regions without a path cannot be placed in the tree.
        if day.year not in confirmed or (region_id is not None and not path):
            continue
        overrides.setdefault(path or "", {})[day.toordinal()] = kind != CalendarDayKind.HOLIDAY
    return _Calendar(token, confirmed, overrides)


class _ThreadState(threading.local):
    # True while this thread's open transaction holds calendar edits nobody else can see yet.
    pending = False
    calendar: _Calendar | None = None


_thread = _ThreadState()
_shared: _Calendar | None = None
_recheck_at = float("-inf")
_generation = 0


def _calendar() -> _Calendar:
    if _thread.pending:
        return _own_calendar()
    if time.monotonic() < _recheck_at:
        return _shared
    return _refresh()


def _refresh() -> _Calendar:
    global _shared, _recheck_at
    generation = _generation
    # The token is read before the rows: a change landing in between leaves a stale token,
    # which only causes one more reload.
    token = _read_token()
    shared = _shared
    if shared is None or shared.token != token:
        shared = _shared = _load(token)
    if generation == _generation:  # an edit committed meanwhile must not be hidden for a second
        _recheck_at = time.monotonic() + RECHECK_SECONDS
    return shared


def _own_calendar() -> _Calendar:
    """The calendar as this thread's transaction sees it, kept apart from the shared one."""
    if not connection.in_atomic_block:
        # The transaction is over: a commit already refreshed everyone, a rollback left nothing.
        _thread.pending = False
        _thread.calendar = None
        return _calendar()
    token = _read_token()
    own = _thread.calendar
    if own is None or own.token != token:
        own = _thread.calendar = _load(token)
    return own


def _committed() -> None:
    _thread.pending = False
    _thread.calendar = None
    forget_cache()


def forget_cache() -> None:
    """Make this process re-read the revision token on the next call."""
    global _recheck_at, _generation
    _generation += 1
    _recheck_at = float("-inf")


def calendar_changed() -> None:
    """Give the calendar a new revision token; called for every change to its rows.

    A random token rather than a counter: a rolled-back edit must not leave a cache that a
    later, different edit would appear to match.
    """
    CalendarRevision.objects.update_or_create(pk=1, defaults={"token": uuid4().hex, "changed_at": timezone.now()})
    if connection.in_atomic_block:
        _thread.pending = True
        transaction.on_commit(_committed)
    else:
        forget_cache()


# --- input -----------------------------------------------------------------------------------


def _as_date(value: object, field: str) -> dt.date:
    if value.__class__ is dt.date:
        day = value
    elif isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise InvalidInput(_("时间缺少时区信息，无法换算为北京时间的日期。"), field=field)
        day = value.astimezone(SHANGHAI).date()
    elif isinstance(value, dt.date):
        day = dt.date(value.year, value.month, value.day)
    else:
        raise InvalidInput(
            _("需要日期或带时区的时间，收到的是 %(type)s。") % {"type": type(value).__name__}, field=field
        )
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InvalidInput(
            _("日期须在 %(min)s 年至 %(max)s 年之间。") % {"min": MIN_YEAR, "max": MAX_YEAR}, field=field
        )
    return day


def _scope(calendar: _Calendar, region: object) -> _Scope:
    if region is None:
        return calendar.national
    if not isinstance(region, Region):
        raise InvalidInput(_("区划参数须为行政区划对象。"), field="region")
    if not region.path:
        raise InvalidInput(_("行政区划 %(region)s 缺少层级路径。") % {"region": region}, field="region")
    return calendar.for_path(region.path)


def _date_at(ordinal: int) -> dt.date:
    if not _MIN_ORDINAL <= ordinal <= _MAX_ORDINAL:
        raise InvalidInput(
            _("计算结果超出 %(min)s 年至 %(max)s 年的支持范围。") % {"min": MIN_YEAR, "max": MAX_YEAR}, field="n"
        )
    return dt.date.fromordinal(ordinal)


# --- public API ------------------------------------------------------------------------------


def shanghai_today() -> dt.date:
    return timezone.now().astimezone(SHANGHAI).date()


def is_working_day(day: dt.date | dt.datetime, *, region: Region | None = None) -> bool:
    """Whether `day` is a working day (weekends-only in unconfirmed years: see `calendar_confirmed`)."""
    ordinal = _as_date(day, "day").toordinal()
    return _scope(_calendar(), region).working(ordinal)


def add_working_days(start: dt.date | dt.datetime, n: int, *, region: Region | None = None) -> WorkdayDate:
    """The date `n` working days after `start`, the day of `start` not counted.

    n = 0 gives `start` if it is a working day, else the next working day; negative `n`
    counts backwards (−1 is the last working day before `start`).
    """
    day = _as_date(start, "start")
    if n.__class__ is not int:
        raise InvalidInput(_("工作日数须为整数。"), field="n")
    calendar = _calendar()
    scope = _scope(calendar, region)
    s = day.toordinal()
    if n > 0:
        result = _date_at(scope.nth(scope.count(s) + n))
    elif n == 0:
        result = day if scope.working(s) else _date_at(scope.nth(scope.count(s) + 1))
    else:
        result = _date_at(scope.nth(scope.count(s - 1) + n + 1))
    first, last = (day.year, result.year) if n >= 0 else (result.year, day.year)
    return WorkdayDate(result, calendar.all_confirmed(first, last))


def working_days_between(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime, *, region: Region | None = None
) -> WorkdayCount:
    """Working days after `start` up to and including `end`; negative when `end` is earlier."""
    first = _as_date(start, "start")
    last = _as_date(end, "end")
    calendar = _calendar()
    scope = _scope(calendar, region)
    days = scope.count(last.toordinal()) - scope.count(first.toordinal())
    low, high = (first.year, last.year) if first <= last else (last.year, first.year)
    return WorkdayCount(days, calendar.all_confirmed(low, high))


def calendar_confirmed(start: dt.date | dt.datetime, end: dt.date | dt.datetime | None = None) -> bool:
    """Whether every year from `start` to `end` (default: `start`'s year) has a confirmed schedule."""
    first = _as_date(start, "start").year
    last = first if end is None else _as_date(end, "end").year
    low, high = (first, last) if first <= last else (last, first)
    return _calendar().all_confirmed(low, high)


def missing_years(horizon_years: int = 1) -> list[int]:
    """This year and the next `horizon_years` years that have no confirmed schedule."""
    if horizon_years.__class__ is not int or not 0 <= horizon_years <= 10:
        raise InvalidInput(_("提前检查的年数须为 0 到 10 之间的整数。"), field="horizon_years")
    this_year = shanghai_today().year
    confirmed = _calendar().confirmed
    return [year for year in range(this_year, this_year + horizon_years + 1) if year not in confirmed]
