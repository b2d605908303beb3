"""The roll-up: the cases' timeline and the ratings on the audit ledger, each read past its own
cursor and counted into the daily and monthly figures, in one transaction per batch with one
audit entry. Both cursor rows are locked for the batch, so two workers never count an event
twice and the figures have one writer at a time; they are written only here.

What each timeline action counts (on the Beijing day it happened):
  submit            an application (online when filed online)
  accept, accept_on_receipt   an acceptance
  refuse            a refusal (不予受理)
  complete          a completion: on time when by the promised date; its working days used
                    (acceptance to completion, less the days special procedures paused it)
  decide_on_spot    an acceptance and a completion on the spot (0 working days)
  auto_decide       an acceptance and a completion by smart approval (秒批, 0 working days)
  deliver           a delivery, with the case's trips to the hall (跑动次数)

Ratings (好差评) are counted on the Beijing day they were given, under the item's region, the
responsible department, the item, and the case's channel (a visit to a window: the window
channel). The ledger says what changed them:
  evaluation.rate                       one rating at its level
  evaluation.change                     the rater changed the level: moved from the old to the new
  evaluation.rectification.uphold       the department's appeal upheld: the rating leaves the figures
A bad review's rectification (回访, 整改) leaves the rating as it was given.
"""

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import takewhile
from typing import Any

from django.db import transaction

from onewindow.analytics.models import (
    COUNTERS,
    RATING_COUNTERS,
    DailyFigures,
    MonthlyFigures,
    RollupCursor,
)
from onewindow.cases.choices import Channel
from onewindow.cases.models import Case, CaseEvent
from onewindow.core import audit, workdays
from onewindow.core.models import AuditEntry, Region
from onewindow.core.periodic import sweep
from onewindow.core.workdays import SHANGHAI
from onewindow.evaluation.models import Evaluation, Rectification
from onewindow.supervision import clock
from onewindow.supervision.services import FEED_SETTLE

BATCH = 5000
CASES_FEED, RATINGS_FEED = "cases", "ratings"
RATING_ACTIONS = (
    "evaluation.rate",
    "evaluation.change",
    "evaluation.rectification.uphold",
)
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


def _lock_cursor(name: str) -> RollupCursor:
    """Lock both cursors, always in the same order, and return the one asked for: the feeds
    add to the same rows, so a batch of one waits for a batch of the other."""
    for feed in (CASES_FEED, RATINGS_FEED):
        RollupCursor.objects.get_or_create(name=feed)
    cursors = RollupCursor.objects.select_for_update().filter(
        name__in=(CASES_FEED, RATINGS_FEED)
    )
    return {cursor.name: cursor for cursor in cursors.order_by("name")}[name]


@transaction.atomic
def rollup_advance(*, actor: Any = None, batch: int = BATCH) -> int:
    """Count the next batch of timeline events; returns how many events were read. As the
    anomaly scan, it stops at the first event younger than FEED_SETTLE (one committing late
    behind it would otherwise be skipped for good)."""
    cursor = _lock_cursor(CASES_FEED)
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


def _rating_moves(
    entries: Iterable[tuple[str, str, str]],
) -> list[tuple[int, int, int]]:
    """(evaluation, level, +1 or -1) for each ledger entry about a rating, in ledger order."""
    entries = list(entries)
    upheld = dict(
        Rectification.objects.filter(
            pk__in=[
                int(object_id)
                for action, object_id, _changes in entries
                if action == "evaluation.rectification.uphold"
            ]
        ).values_list("pk", "evaluation_id")
    )
    # A voided rating cannot be changed any more: its level now is the level it was counted at.
    voided_levels = dict(
        Evaluation.objects.filter(pk__in=upheld.values()).values_list("pk", "level")
    )
    moves = []
    for action, object_id, changes in entries:
        if action == "evaluation.rectification.uphold":
            evaluation = upheld[int(object_id)]
            moves.append((evaluation, voided_levels[evaluation], -1))
            continue
        facts = json.loads(changes)
        level = facts["after"]["level"]
        if action == "evaluation.change":
            before = facts["before"]["level"]
            if before == level:
                continue
            moves.append((int(object_id), before, -1))
        moves.append((int(object_id), level, 1))
    return moves


@transaction.atomic
def ratings_advance(*, actor: Any = None, batch: int = BATCH) -> int:
    """Count the ratings given, changed or voided in the next batch of the audit ledger; returns
    how many ledger entries were read. Ledger ids are handed out before commit too, so it also
    stops at the first entry younger than FEED_SETTLE."""
    cursor = _lock_cursor(RATINGS_FEED)
    settled = clock.now() - FEED_SETTLE
    window = (
        AuditEntry.objects.filter(pk__gt=cursor.last_id)
        .order_by("pk")
        .values_list("pk", "created_at", "action")[:batch]
    )
    read = list(takewhile(lambda entry: entry[1] < settled, window))
    if not read:
        return 0
    rating_entries = [pk for pk, _at, action in read if action in RATING_ACTIONS]
    moves = _rating_moves(
        AuditEntry.objects.filter(pk__in=rating_entries)
        .order_by("pk")
        .values_list("action", "object_id", "changes")
    )
    ratings = {
        row["pk"]: row
        for row in Evaluation.objects.filter(
            pk__in={evaluation for evaluation, _level, _sign in moves}
        ).values(
            "pk",
            "rated_at",
            "item__region_id",
            "department_id",
            "item_id",
            "case__channel",
        )
    }
    daily: dict[Key, Counter] = defaultdict(Counter)
    monthly: dict[Key, Counter] = defaultdict(Counter)
    for evaluation, level, sign in moves:
        rating = ratings[evaluation]
        day = rating["rated_at"].astimezone(SHANGHAI).date()
        dims = (
            rating["item__region_id"],
            rating["department_id"],
            rating["item_id"],
            rating["case__channel"] or Channel.WINDOW,
        )
        daily[(day, *dims)][RATING_COUNTERS[level]] += sign
        monthly[(day.replace(day=1), *dims)][RATING_COUNTERS[level]] += sign
    _apply(DailyFigures, "day", daily, None)
    _apply(MonthlyFigures, "month", monthly, None)
    cursor.last_id = read[-1][0]
    cursor.save(update_fields=["last_id"])
    # Only a batch that moved a figure is recorded: the entry of a batch that counted nothing
    # would itself be all the next batch reads, and the sweep would write one a minute forever.
    if moves:
        audit.record(
            actor=actor,
            action="analytics.rollup.ratings",
            target=cursor,
            after={
                "entries": len(read),
                "moves": len(moves),
                "last_id": cursor.last_id,
            },
        )
    return len(read)


def rollup_catch_up(*, actor: Any = None) -> int:
    """Advance batch after batch until the timeline and the ledger are read to their ends."""
    total = 0
    for advance in (rollup_advance, ratings_advance):
        while read := advance(actor=actor):
            total += read
    return total


@sweep(every_seconds=60)
def rollup_sweep() -> int:
    return rollup_catch_up(actor=None)
