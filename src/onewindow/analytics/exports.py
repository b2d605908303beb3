"""The figures as CSV and Excel (openpyxl), and the open-data file of non-personal aggregates."""

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

from onewindow.analytics.selectors import OPEN_DATA_COUNTERS, MetricRow, MetricTable


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def headings() -> list[str]:
    return [
        _("分组"),
        _("申请件数"),
        _("网上申报件数"),
        _("受理件数"),
        _("不予受理件数"),
        _("办结件数"),
        _("按时办结件数"),
        _("当场办结件数"),
        _("办结率(%)"),
        _("按时办结率(%)"),
        _("当场办结率(%)"),
        _("网上申报率(%)"),
        _("平均办结用时(工作日)"),
        _("P90办结用时(工作日)"),
        _("平均跑动次数"),
        _("最多跑一次占比(%)"),
        _("评价数"),
        _("好评数"),
        _("差评数"),
        _("平均分(5分制)"),
        _("满意率(%)"),
    ]


def row_values(row: MetricRow) -> list[Any]:
    return [
        row.label,
        row.applications,
        row.online_applications,
        row.acceptances,
        row.refusals,
        row.completions,
        row.on_time,
        row.on_the_spot,
        _percent(row.completion_rate),
        _percent(row.on_time_rate),
        _percent(row.on_the_spot_rate),
        _percent(row.online_rate),
        _number(row.average_days),
        "" if row.p90_days is None else row.p90_days,
        _number(row.average_visits),
        _percent(row.at_most_once_rate),
        row.ratings,
        row.good_ratings,
        row.bad_ratings,
        _number(row.average_score),
        _percent(row.satisfaction_rate),
    ]


def _rows(table: MetricTable) -> Iterable[list[Any]]:
    yield headings()
    for row in table.rows:
        yield row_values(row)
    yield row_values(table.total)


def as_csv(table: MetricTable) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for values in _rows(table):
        writer.writerow([_cell(value) for value in values])
    return ("\ufeff" + out.getvalue()).encode(
        "utf-8"
    )  # the BOM makes spreadsheet programs read UTF-8


def as_xlsx(table: MetricTable) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("统计")
    for values in _rows(table):
        sheet.append([_cell(value) for value in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet would take for a formula is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def open_data_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["month", "region_code", "region_name", "item_code", "item_name", *OPEN_DATA_COUNTERS]
    )
    for row in rows:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    row["month"].strftime("%Y-%m"),
                    row["region__code"],
                    row["region__name"],
                    row["item__impl_code"],
                    row["item__name"],
                    *(row[name] for name in OPEN_DATA_COUNTERS),
                )
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
