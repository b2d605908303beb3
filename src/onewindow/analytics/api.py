"""/api/analytics/: the figures of the dashboard as JSON, scoped to the caller's region
(supervisors) or departments (department administrators); outside is 404. Read from the roll-up
tables only. Every operation needs a bearer token or a browser session (401 without)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from onewindow.accounts.auth import api_auth
from onewindow.analytics import selectors
from onewindow.cases.choices import Channel
from onewindow.core.api import ErrorOut, ValidationErrorOut

router = Router(tags=["analytics"], auth=api_auth)

MONTH = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"  # years a date can hold and a report can mean




ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ValidationErrorOut,
}


class MetricOut(Schema):
    key: str = Field(
        description="YYYY-MM, department id, 实施编码 id, channel or region id, by the grouping"
    )
    label: str
    applications: int
    online_applications: int
    acceptances: int
    refusals: int
    completions: int
    on_time: int
    on_the_spot: int
    deliveries: int
    completion_rate: float | None = Field(
        description="办结率: completions / acceptances"
    )
    on_time_rate: float | None = Field(description="按时办结率: on time / completions")
    on_the_spot_rate: float | None = Field(description="当场办结率")
    online_rate: float | None = Field(description="网上申报率")
    average_working_days: float | None
    p90_working_days: int | None
    average_visits: float | None = Field(description="跑动次数 per delivered case")
    at_most_once_rate: float | None = Field(
        description="Share of delivered cases with at most one trip"
    )
    ratings: int = Field(
        description="Ratings (好差评) given in the period; those voided on appeal are left out"
    )
    good_ratings: int = Field(description="好评: 非常满意, 满意, 基本满意")
    bad_ratings: int = Field(description="差评: 不满意, 非常不满意")
    average_score: float | None = Field(
        description="Average rating, 非常满意 5 points down to 非常不满意 1"
    )
    satisfaction_rate: float | None = Field(
        description="满意率: good ratings / ratings"
    )


class MetricsOut(Schema):
    month_from: dt.date
    month_to: dt.date
    group: str
    daily_applications: float
    rows: list[MetricOut]
    total: MetricOut


def _row(row: selectors.MetricRow) -> dict[str, Any]:
    key = row.key.strftime("%Y-%m") if isinstance(row.key, dt.date) else str(row.key)
    return {
        "key": key,
        "label": row.label,
        **{
            name: row.counts[name]
            for name in (
                "applications",
                "online_applications",
                "acceptances",
                "refusals",
                "completions",
                "on_time",
                "on_the_spot",
                "deliveries",
            )
        },
        "completion_rate": row.completion_rate,
        "on_time_rate": row.on_time_rate,
        "on_the_spot_rate": row.on_the_spot_rate,
        "online_rate": row.online_rate,
        "average_working_days": row.average_days,
        "p90_working_days": row.p90_days,
        "average_visits": row.average_visits,
        "at_most_once_rate": row.at_most_once_rate,
        "ratings": row.ratings,
        "good_ratings": row.good_ratings,
        "bad_ratings": row.bad_ratings,
        "average_score": row.average_score,
        "satisfaction_rate": row.satisfaction_rate,
    }


def _month(text: str | None) -> dt.date | None:
    return dt.date(int(text[:4]), int(text[5:]), 1) if text else None


@router.get(
    "/metrics",
    response={200: MetricsOut, **ERRORS},
    summary="Figures by month, department, item, channel or region",
)
def metrics(
    request: HttpRequest,
    month_from: str | None = Query(
        None, pattern=MONTH, description="YYYY-MM; default 11 months before month_to"
    ),
    month_to: str | None = Query(
        None, pattern=MONTH, description="YYYY-MM; default this month"
    ),
    group: str = Query("month", pattern=r"^(month|department|item|channel|region)$"),
    region: str | None = Query(None, pattern=r"^[0-9]{6,12}$"),
    department_id: int | None = Query(None, ge=1, le=2**63 - 1),
    item: str | None = Query(None, pattern=r"^[0-9A-Za-z-]{1,36}$"),
    channel: Channel | None = Query(None),
) -> dict[str, Any]:
    filters = selectors.filters_for(
        request.auth,
        month_from=_month(month_from),
        month_to=_month(month_to),
        region_code=region or "",
        department_id=department_id,
        item_code=item or "",
        channel=channel or "",
    )
    table = selectors.metrics(request.auth, filters, group=group)
    return {
        "month_from": filters.month_from,
        "month_to": filters.month_to,
        "group": group,
        "daily_applications": table.daily_applications,
        "rows": [_row(r) for r in table.rows],
        "total": _row(table.total),
    }
