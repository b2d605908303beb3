"""The roll-up: the cases' timeline read past a cursor and counted into the daily and monthly
figures, in one transaction per batch with one audit entry. The cursor row is locked for the
batch, so two workers never count an event twice; the figures are written only here.

What each timeline action counts (on the Beijing day it happened):
  submit            an application (online when filed online)
  accept, accept_on_receipt   an acceptance
  refuse            a refusal (不予受理)
  complete          a completion: on time when by the promised date; its working days used
                    (acceptance to completion, less the days special procedures paused it)
  decide_on_spot    an acceptance and a completion on the spot (0 working days)
  auto_decide       an acceptance and a completion by smart approval (秒批, 0 working days)
  deliver           a delivery, with the case's trips to the hall (跑动次数)
"""

import datetime as dt
from collections import Counter, defaultdict
from itertools import takewhile
from typing import Any

from django.db import transaction

from onewindow.analytics.models import (
    COUNTERS,
    DailyFigures,
    MonthlyFigures,
    RollupCursor,
)
from onewindow.cases.choices import Channel
from onewindow.cases.models import Case, CaseEvent
from onewindow.core import audit, workdays
from onewindow.core.models import Region
from onewindow.core.periodic import sweep
from onewindow.core.workdays import SHANGHAI
from onewindow.supervision import clock
from onewindow.supervision.services import FEED_SETTLE

BATCH = 5000
COUNTED_ACTIONS = (
    "submit",
    "accept",
    "accept_on_receipt",
    "refuse",
    "complete",
    "decide_on_spot",
    "auto_decide",
    "deliver",
)
CASE_FIELDS = (
    "pk",
    "region_id",
    "department_id",
    "item_id",
    "channel",
    "clock_start",
    "promised_due",
    "paused_days",
    "visits",
)

Key = tuple[
    dt.date, int, int, int, str
]  # (day or month, region, department, item, channel)


def working_days_used(case: dict[str, Any], day: dt.date, region: Region | None) -> int:
    if case["clock_start"] is None:
        return 0
    used = (
        workdays.working_days_between(case["clock_start"], day, region=region).days
        - case["paused_days"]
    )
    return max(0, used)


def _counts(
    action: str, case: dict[str, Any], day: dt.date, region: Region | None
) -> tuple[Counter, int | None]:
    """The counters one event adds, and the working days of a completion (for the histogram)."""
    counts: Counter = Counter()
    days = None
    if action == "submit":
        counts["applications"] = 1
        counts["online_applications"] = int(case["channel"] == Channel.ONLINE)
    elif action in ("accept", "accept_on_receipt"):
        counts["acceptances"] = 1
    elif action == "refuse":
        counts["refusals"] = 1
    elif action == "complete":
        days = working_days_used(case, day, region)
        counts.update(
            completions=1,
            working_days=days,
            on_time=int(case["promised_due"] is None or day <= case["promised_due"]),
        )
    elif action in ("decide_on_spot", "auto_decide"):
        days = 0
        counts.update(
            acceptances=1,
            completions=1,
            on_time=1,
            on_the_spot=int(action == "decide_on_spot"),
        )
    elif action == "deliver":
        counts.update(
            deliveries=1, visits=case["visits"], at_most_once=int(case["visits"] <= 1)
        )
    return counts, days


def _apply(
    model: type,
    date_field: str,
    totals: dict[Key, Counter],
    histograms: dict[Key, Counter] | None,
) -> None:
    """Add the batch's counters to the rows of `model` (created when missing)."""
    if not totals:
        return
    dates = {key[0] for key in totals}
    departments = {key[2] for key in totals}
    existing = {
        (
            getattr(row, date_field),
            row.region_id,
            row.department_id,
            row.item_id,
            row.channel,
        ): row
        for row in model.objects.filter(
            **{f"{date_field}__in": dates}, department_id__in=departments
        )
    }
    created, updated = [], []
    for key, counts in totals.items():
        row = existing.get(key)
        if row is None:
            row = model(
                **{date_field: key[0]},
                region_id=key[1],
                department_id=key[2],
                item_id=key[3],
                channel=key[4],
            )
            created.append(row)
        else:
            updated.append(row)
        for name, value in counts.items():
            setattr(row, name, getattr(row, name) + value)
        if histograms is not None and histograms.get(key):
            merged = (
                Counter({int(k): v for k, v in row.days_histogram.items()})
                + histograms[key]
            )
            row.days_histogram = {str(k): v for k, v in sorted(merged.items())}
    model.objects.bulk_create(created, batch_size=1000)
    fields = list(COUNTERS) + (["days_histogram"] if histograms is not None else [])
    model.objects.bulk_update(updated, fields, batch_size=1000)


@transaction.atomic
def rollup_advance(*, actor: Any = None, batch: int = BATCH) -> int:
    """Count the next batch of timeline events; returns how many events were read. As the
    anomaly scan, it stops at the first event younger than FEED_SETTLE (one committing late
    behind it would otherwise be skipped for good)."""
    RollupCursor.objects.get_or_create(name="cases")
    cursor = RollupCursor.objects.select_for_update().get(name="cases")
    settled = clock.now() - FEED_SETTLE
    batch_read = (
        CaseEvent.objects.filter(pk__gt=cursor.last_id)
        .order_by("pk")
        .values("pk", "case_id", "action", "at")[:batch]
    )
    events = list(takewhile(lambda event: event["at"] < settled, batch_read))
    if not events:
        return 0
    counted = [event for event in events if event["action"] in COUNTED_ACTIONS]
    cases = {
        case["pk"]: case
        for case in Case.objects.filter(pk__in={e["case_id"] for e in counted}).values(
            *CASE_FIELDS
        )
    }
    regions = Region.objects.in_bulk({case["region_id"] for case in cases.values()})
    daily: dict[Key, Counter] = defaultdict(Counter)
    monthly: dict[Key, Counter] = defaultdict(Counter)
    histograms: dict[Key, Counter] = defaultdict(Counter)
    for event in counted:
        case = cases[event["case_id"]]
        day = event["at"].astimezone(SHANGHAI).date()
        counts, days = _counts(
            event["action"], case, day, regions.get(case["region_id"])
        )
        dims = (
            case["region_id"],
            case["department_id"],
            case["item_id"],
            case["channel"],
        )
        daily[(day, *dims)].update(counts)
        month_key = (day.replace(day=1), *dims)
        monthly[month_key].update(counts)
        if days is not None:
            histograms[month_key][days] += 1
    _apply(DailyFigures, "day", daily, None)
    _apply(MonthlyFigures, "month", monthly, histograms)
    cursor.last_id = events[-1]["pk"]
    cursor.save(update_fields=["last_id"])
    audit.record(
        actor=actor,
        action="analytics.rollup.advance",
        target=cursor,
        after={
            "events": len(events),
            "counted": len(counted),
            "last_id": cursor.last_id,
        },
    )
    return len(events)


def rollup_catch_up(*, actor: Any = None) -> int:
    """Advance batch after batch until the timeline is read to its end."""
    total = 0
    while read := rollup_advance(actor=actor):
        total += read
    return total


@sweep(every_seconds=60)
def rollup_sweep() -> int:
    return rollup_catch_up(actor=None)
