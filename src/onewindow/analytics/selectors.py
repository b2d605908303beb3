"""Reads of the roll-ups, scoped by the actor: a supervisor sees the departments of their
regions, a department administrator their departments, a platform administrator everything.
Figures come from the daily and monthly roll-up tables only, never from the cases.

Periods are whole months (`month_from` to `month_to`, first days of the months).
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from onewindow.accounts.permissions import admin_departments
from onewindow.analytics.models import (
    COUNTERS,
    RATING_COUNTERS,
    DailyFigures,
    MonthlyFigures,
)
from onewindow.cases.choices import Channel
from onewindow.catalogue.models import ImplementationItem
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import Department, Region
from onewindow.evaluation.choices import BAD_LEVELS, SATISFIED_LEVELS, Level
from onewindow.supervision import clock
from onewindow.supervision.selectors import supervised_departments

MAX_MONTHS = 36
GROUPS = ("month", "department", "item", "channel", "region")
# The average score counts 非常满意 as 5 points down to 非常不满意 as 1 (the stars of the rating form).
SCORES = {level: 6 - level for level in Level}


def analytics_departments(actor: Any) -> QuerySet[Department]:
    return Department.objects.filter(
        Q(pk__in=supervised_departments(actor).values("pk"))
        | Q(pk__in=admin_departments(actor).values("pk"))
    )


def may_read(actor: Any) -> bool:
    return analytics_departments(actor).exists()


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


@dataclass
class Filters:
    month_from: dt.date
    month_to: dt.date
    region: Region | None = None
    department: Department | None = None
    item: ImplementationItem | None = None
    channel: str = ""

    @property
    def days(self) -> int:
        """Calendar days of the period, up to today (for daily averages)."""
        end = min(add_months(self.month_to, 1) - dt.timedelta(days=1), clock.today())
        return max(1, (end - self.month_from).days + 1)


@dataclass
class MetricRow:
    key: Any
    label: str
    counts: Counter = field(default_factory=Counter)
    histogram: Counter = field(default_factory=Counter)

    def _share(self, part: str, whole: str) -> float | None:
        return self.counts[part] / self.counts[whole] if self.counts[whole] else None

    def __getattr__(self, name: str) -> int:
        if name in COUNTERS and "counts" in self.__dict__:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def completion_rate(self) -> float | None:
        """办结率: completions over acceptances."""
        return self._share("completions", "acceptances")

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: completions by the promised date over completions."""
        return self._share("on_time", "completions")

    @property
    def on_the_spot_rate(self) -> float | None:
        return self._share("on_the_spot", "completions")

    @property
    def online_rate(self) -> float | None:
        """网上申报率: applications filed online over applications."""
        return self._share("online_applications", "applications")

    @property
    def average_visits(self) -> float | None:
        return (
            self.counts["visits"] / self.counts["deliveries"]
            if self.counts["deliveries"]
            else None
        )

    @property
    def at_most_once_rate(self) -> float | None:
        """最多跑一次: delivered cases with at most one trip to the hall."""
        return self._share("at_most_once", "deliveries")

    @property
    def average_days(self) -> float | None:
        return (
            self.counts["working_days"] / self.counts["completions"]
            if self.counts["completions"]
            else None
        )

    def _rated(self, levels: Iterable[int]) -> int:
        return sum(self.counts[RATING_COUNTERS[level]] for level in levels)

    @property
    def ratings(self) -> int:
        """Counted ratings (好差评); those voided on appeal are not counted."""
        return self._rated(Level)

    @property
    def good_ratings(self) -> int:
        """好评: 非常满意, 满意 and 基本满意, the levels the satisfaction rate counts."""
        return self._rated(SATISFIED_LEVELS)

    @property
    def bad_ratings(self) -> int:
        """差评: 不满意 and 非常不满意, each of which opened a rectification item."""
        return self._rated(BAD_LEVELS)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: good ratings over ratings."""
        return self.good_ratings / self.ratings if self.ratings else None

    @property
    def average_score(self) -> float | None:
        """Average of the ratings on a 5-point scale (非常满意 5 … 非常不满意 1)."""
        if not self.ratings:
            return None
        points = sum(
            SCORES[level] * self.counts[name] for level, name in RATING_COUNTERS.items()
        )
        return points / self.ratings

    @property
    def p90_days(self) -> int | None:
        """The working days within which 90 % of completed cases were done."""
        total = sum(self.histogram.values())
        if not total:
            return None
        seen = 0
        for days in sorted(self.histogram):
            seen += self.histogram[days]
            if seen >= 0.9 * total:
                return days
        return None


@dataclass
class MetricTable:
    filters: Filters
    group: str
    rows: list[MetricRow]
    total: MetricRow

    @property
    def daily_applications(self) -> float:
        return self.total.applications / self.filters.days


def filters_for(
    actor: Any,
    *,
    month_from: dt.date | None = None,
    month_to: dt.date | None = None,
    region_code: str = "",
    department_id: int | None = None,
    item_code: str = "",
    channel: str = "",
) -> Filters:
    """The filters of a request, each checked against the actor's scope (outside is NotFound)."""
    month_to = month_start(month_to or clock.today())
    month_from = month_start(month_from or add_months(month_to, -11))
    if month_from > month_to:
        raise InvalidInput(_("开始月份不能晚于结束月份。"), field="month_from")
    if len(months_between(month_from, month_to)) > MAX_MONTHS:
        raise InvalidInput(
            _("统计期间不能超过 %(n)s 个月。") % {"n": MAX_MONTHS}, field="month_from"
        )
    departments = analytics_departments(actor)
    filters = Filters(month_from=month_from, month_to=month_to)
    if region_code:
        filters.region = Region.objects.filter(code=region_code).first()
        if (
            filters.region is None
            or not departments.filter(
                region__path__startswith=filters.region.path
            ).exists()
        ):
            raise NotFound(_("没有找到该行政区划，或它不在您的统计范围内。"))
    if department_id is not None:
        filters.department = departments.filter(pk=department_id).first()
        if filters.department is None:
            raise NotFound(_("没有找到该部门，或它不在您的统计范围内。"))
    if item_code:
        filters.item = ImplementationItem.objects.filter(
            impl_code=item_code, department__in=departments
        ).first()
        if filters.item is None:
            raise NotFound(_("没有找到该事项，或它不在您的统计范围内。"))
    if channel:
        if channel not in Channel.values:
            raise InvalidInput(_("未知的申报来源。"), field="channel")
        filters.channel = channel
    return filters


def _scoped(actor: Any, rows: QuerySet, filters: Filters) -> QuerySet:
    rows = rows.filter(department_id__in=analytics_departments(actor).values("pk"))
    if filters.region is not None:
        rows = rows.filter(region__path__startswith=filters.region.path)
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    if filters.item is not None:
        rows = rows.filter(item=filters.item)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    return rows


_GROUP_FIELDS = {
    "month": "month",
    "department": "department_id",
    "item": "item_id",
    "channel": "channel",
    "region": "region_id",
}


def _labels(group: str, keys: set[Any]) -> dict[Any, str]:
    if group == "month":
        return {key: key.strftime("%Y-%m") for key in keys}
    if group == "channel":
        return {key: str(Channel(key).label) for key in keys}
    model = {"department": Department, "item": ImplementationItem, "region": Region}[
        group
    ]
    return {pk: obj.name for pk, obj in model.objects.in_bulk(keys).items()}


def metrics(actor: Any, filters: Filters, *, group: str = "month") -> MetricTable:
    """The figures of the period grouped by month, department, item, channel or region, with the
    period's total. Sums are done by the database; only the histograms are merged here."""
    if group not in GROUPS:
        raise InvalidInput(_("未知的分组方式。"), field="group")
    column = _GROUP_FIELDS[group]
    rows = _scoped(
        actor,
        MonthlyFigures.objects.filter(
            month__gte=filters.month_from, month__lte=filters.month_to
        ),
        filters,
    )
    sums = (
        rows.values(column)
        .annotate(**{name: Sum(name) for name in COUNTERS})
        .order_by(column)
    )
    histograms: dict[Any, Counter] = {}
    for key, histogram in rows.exclude(days_histogram={}).values_list(
        column, "days_histogram"
    ):
        merged = histograms.setdefault(key, Counter())
        for days, count in histogram.items():
            merged[int(days)] += count
    found = {entry[column]: entry for entry in sums}
    keys = (
        months_between(filters.month_from, filters.month_to)
        if group == "month"
        else list(found)
    )
    labels = _labels(group, set(keys))
    table_rows, total = [], MetricRow("total", _("合计"))
    for key in keys:
        entry = found.get(key, {})
        row = MetricRow(
            key,
            labels.get(key, str(key)),
            Counter({name: entry.get(name) or 0 for name in COUNTERS}),
            histograms.get(key, Counter()),
        )
        total.counts.update(row.counts)
        total.histogram.update(row.histogram)
        table_rows.append(row)
    if group != "month":
        table_rows.sort(key=lambda row: (-row.applications, row.label))
    return MetricTable(filters=filters, group=group, rows=table_rows, total=total)


def today_figures(actor: Any, filters: Filters) -> MetricRow:
    """Today's counters (the large screen), from the daily roll-up."""
    rows = _scoped(actor, DailyFigures.objects.filter(day=clock.today()), filters)
    sums = rows.aggregate(**{name: Sum(name) for name in COUNTERS})
    return MetricRow(
        "today", _("今日"), Counter({name: sums[name] or 0 for name in COUNTERS})
    )


# What open data publishes per month, region and item: counts no person can be found in.
OPEN_DATA_COUNTERS = (
    "applications",
    "online_applications",
    "acceptances",
    "completions",
    "on_time",
    "on_the_spot",
    *RATING_COUNTERS.values(),
)


def open_data(*, month_from: dt.date, month_to: dt.date) -> list[dict[str, Any]]:
    """Non-personal aggregates for open data: per month, region and item, counts only."""
    rows = (
        MonthlyFigures.objects.filter(month__gte=month_from, month__lte=month_to)
        .values(
            "month", "region__code", "region__name", "item__impl_code", "item__name"
        )
        .annotate(**{name: Sum(name) for name in OPEN_DATA_COUNTERS})
        .order_by("month", "region__code", "item__impl_code")
    )
    return list(rows)
