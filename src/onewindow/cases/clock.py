"""The case clock: legal and promised due dates in working days from acceptance, pushed back by
the working days special procedures paused it and by an authorised extension; how near a due
date is; how many working days remain.

Dates are Asia/Shanghai calendar days; the day of acceptance is not counted (the first working
day after it is day 1), as `workdays.add_working_days` counts.
"""

import datetime as dt
from typing import Any

from onewindow.cases.choices import NEAR_DAYS, CaseStatus, Urgency
from onewindow.catalogue.choices import TimeUnit
from onewindow.core import workdays


def _due(start: dt.date, limit: Any, extra_days: int, region: Any) -> tuple[dt.date | None, bool]:
    if not isinstance(limit, dict) or limit.get("amount") is None:
        return None, True
    amount = int(limit["amount"])
    if limit.get("unit") == TimeUnit.NATURAL_DAY:
        due = start + dt.timedelta(days=amount)
        if not extra_days:
            return due, True
        shifted = workdays.add_working_days(due, extra_days, region=region)
        return shifted.date, shifted.confirmed
    shifted = workdays.add_working_days(start, amount + extra_days, region=region)
    return shifted.date, shifted.confirmed


def set_due_dates(case: Any) -> None:
    """Recompute the case's legal and promised due dates from its clock fields."""
    content = case.version.content
    extra = case.paused_days + case.extension_days
    case.promised_due, promised_ok = _due(case.clock_start, content.get("promised_limit"), extra, case.region)
    case.legal_due, legal_ok = _due(case.clock_start, content.get("legal_limit"), extra, case.region)
    case.due_confirmed = promised_ok and legal_ok


def step_due(start: dt.date, limit_days: int, region: Any) -> dt.date:
    return workdays.add_working_days(start, limit_days, region=region).date


def paused_working_days(since: dt.date, until: dt.date, region: Any) -> int:
    """Working days a pause from `since` to `until` took out of the clock: a pause begun and
    ended on one day takes none, Monday to Wednesday takes two."""
    return max(0, workdays.working_days_between(since, until, region=region).days)


def remaining_days(due: dt.date | None, *, today: dt.date, region: Any = None) -> int | None:
    """Working days left until `due` (0 on the day itself, negative once it has passed)."""
    if due is None:
        return None
    return workdays.working_days_between(today, due, region=region).days


def urgency(due: dt.date | None, *, today: dt.date, paused: bool = False, region: Any = None) -> str:
    if paused:
        return Urgency.PAUSED
    left = remaining_days(due, today=today, region=region)
    if left is None:
        return Urgency.NORMAL
    if due < today:
        return Urgency.OVERDUE
    return Urgency.NEAR if left <= NEAR_DAYS else Urgency.NORMAL


def case_urgency(case: Any, *, today: dt.date) -> str:
    """The colour of a case on the workbench: its acceptance deadline before acceptance, its
    promised due date while the clock runs."""
    if case.status in (CaseStatus.SUBMITTED, CaseStatus.SUPPLEMENT):
        due = case.acceptance_due if case.status == CaseStatus.SUBMITTED else None
        return urgency(due, today=today, region=case.region)
    if case.status in (CaseStatus.IN_REVIEW, CaseStatus.SPECIAL):
        return urgency(case.promised_due, today=today, paused=case.status == CaseStatus.SPECIAL, region=case.region)
    return Urgency.NORMAL
