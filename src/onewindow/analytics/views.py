"""Analytics on the web (mounted at /analytics/): the dashboard with charts drawn on the server,
the large screen for the hall, exports to CSV and Excel, and the open-data file.

Thin views: every figure comes from `selectors` (the roll-up tables). Filters outside the
reader's scope are NotFound; bad filters are a 400 with the reason.
"""

import datetime as dt
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import role_required
from onewindow.analytics import charts, exports, selectors
from onewindow.cases.choices import Channel
from onewindow.core.errors import InvalidInput
from onewindow.core.refusals import problem_page, refusals_as
from onewindow.supervision import clock

READER_ROLES = (Role.SUPERVISOR, Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
OPEN_DATA_MONTHS = 12

reader_required = role_required(*READER_ROLES)
domain_errors = refusals_as(
    problem_page("analytics:dashboard", gettext_lazy("返回数据分析"))
)


def _month(value: Any, field: str) -> dt.date | None:
    match = (
        _MONTH.fullmatch(value.strip())
        if isinstance(value, str) and value.strip()
        else None
    )
    if (
        isinstance(value, str)
        and value.strip()
        and (match is None or not 1 <= int(match[2]) <= 12)
    ):
        raise InvalidInput(_("月份格式应为 YYYY-MM。"), field=field)
    return dt.date(int(match[1]), int(match[2]), 1) if match else None


def _filters(request: HttpRequest) -> selectors.Filters:
    query = request.GET
    department = query.get("department", "")
    return selectors.filters_for(
        request.user,
        month_from=_month(query.get("from"), "from"),
        month_to=_month(query.get("to"), "to"),
        region_code=query.get("region", "")[:12],
        department_id=int(department) if department.isdigit() else None,
        item_code=query.get("item", "")[:36],
        channel=query.get("channel", "")[:10],
    )


def _charts(series: selectors.MetricTable) -> dict[str, Any]:
    labels = [row.label for row in series.rows]
    return {
        "volume": charts.bars(
            _("申请与办结件数"),
            labels,
            [
                charts.Series(
                    _("申请"), [row.applications for row in series.rows], "an-series-1"
                ),
                charts.Series(
                    _("办结"), [row.completions for row in series.rows], "an-series-2"
                ),
            ],
        ),
        "rates": charts.lines(
            _("按时办结率与网上申报率"),
            labels,
            [
                charts.Series(
                    _("按时办结率"),
                    [row.on_time_rate for row in series.rows],
                    "an-series-2",
                ),
                charts.Series(
                    _("网上申报率"),
                    [row.online_rate for row in series.rows],
                    "an-series-1",
                ),
            ],
            percent=True,
        ),
        "satisfaction": charts.lines(
            _("满意率（好差评）"),
            labels,
            [
                charts.Series(
                    _("满意率"),
                    [row.satisfaction_rate for row in series.rows],
                    "an-series-1",
                ),
            ],
            percent=True,
        ),
    }


def _context(request: HttpRequest) -> dict[str, Any]:
    filters = _filters(request)
    group = request.GET.get("group", "department")
    if group not in selectors.GROUPS:
        raise InvalidInput(_("未知的分组方式。"), field="group")
    series = selectors.metrics(request.user, filters, group="month")
    return {
        "filters": filters,
        "group": group,
        "series": series,
        "breakdown": series
        if group == "month"
        else selectors.metrics(request.user, filters, group=group),
        "charts": _charts(series),
        "groups": selectors.GROUPS,
        "channels": Channel.choices,
        "departments": selectors.analytics_departments(request.user).order_by(
            "region__code", "name"
        ),
        "query": request.GET.urlencode(),
    }


@require_safe
@reader_required
@domain_errors
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Twelve months (or the period chosen) of figures, by month and by the grouping chosen."""
    return render(request, "analytics/dashboard.html", _context(request))


@require_safe
@reader_required
@domain_errors
def screen_view(request: HttpRequest) -> HttpResponse:
    """大屏: today's and this period's figures in large type for the hall's screen; htmx
    refreshes the body every minute."""
    context = _context(request)
    context["today"] = selectors.today_figures(request.user, context["filters"])
    context["now"] = clock.now()
    template = (
        "analytics/_screen_body.html" if request.htmx else "analytics/screen.html"
    )
    return render(request, template, context)


@require_safe
@reader_required
@domain_errors
def export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    context = _context(request)
    table = context["breakdown"]
    stamp = f"{table.filters.month_from:%Y%m}-{table.filters.month_to:%Y%m}"
    if fmt == "xlsx":
        response = HttpResponse(
            exports.as_xlsx(table),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(
            exports.as_csv(table), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = (
        f'attachment; filename="figures-{table.group}-{stamp}.{fmt}"'
    )
    return response


@require_safe
def open_data_view(request: HttpRequest) -> HttpResponse:
    """Open data (公开数据): the last twelve months of counts per region and item; nothing about
    any person or any single case."""
    month_to = clock.today().replace(day=1)
    rows = selectors.open_data(
        month_from=selectors.add_months(month_to, -(OPEN_DATA_MONTHS - 1)),
        month_to=month_to,
    )
    response = HttpResponse(
        exports.open_data_csv(rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="onewindow-open-data.csv"'
    return response
