"""Reads of the service hall, scoped by the actor: applicants see their own appointments; the
kiosk belongs to the hall's staff; window clerks see the windows and tickets of their
departments; the waiting-time figures follow the staff scope (their departments, a supervisor's
regions). An outsider gets NotFound. What a hall shows on its calling screen (ticket numbers and
windows) and which slots are free are public."""

import datetime as dt
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from onewindow.accounts.choices import AccountKind
from onewindow.accounts.permissions import is_platform_admin, scope_q
from onewindow.catalogue.models import ImplementationItem
from onewindow.core import workdays
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.core.models import Department
from onewindow.hall import clock
from onewindow.hall.choices import CURRENT_TICKET_STATUSES, TicketStatus
from onewindow.hall.models import Appointment, Hall, QueueTicket, SlotCounter, Window
from onewindow.hall.services import (
    check_bookable_day,
    clerk_departments,
    is_hall_staff,
    serving_windows,
    waiting_for_window,
)

MAX_FIGURE_DAYS = 31
SCREEN_CALLS = 8


# --- booking (public availability) ---------------------------------------------------------------


def _bookable_windows() -> QuerySet[Window]:
    return Window.objects.filter(is_active=True, hall__is_active=True, schedule__is_active=True)


def bookable_items(*, q: str = "", limit: int = 50) -> list[ImplementationItem]:
    """Published items at least one window takes appointments for, by name."""
    windows = _bookable_windows()
    through = Window.items.through
    listed = through.objects.filter(window__in=windows).values("implementationitem_id")
    whole_departments = windows.exclude(pk__in=through.objects.values("window_id")).values("department_id")
    items = ImplementationItem.objects.filter(current_version__isnull=False).filter(
        Q(pk__in=listed) | Q(department_id__in=whole_departments)
    )
    text = q.strip()
    if text:
        items = items.filter(Q(name__icontains=text) | Q(impl_code__iexact=text))
    return list(items.select_related("department").order_by("department__name", "name", "pk")[:limit])


def bookable_item(impl_code: str) -> ImplementationItem:
    """A published item some window takes appointments for, by its implementation code."""
    item = None
    if isinstance(impl_code, str):
        item = (
            ImplementationItem.objects.filter(impl_code=impl_code.upper(), current_version__isnull=False)
            .select_related("department__region").first()
        )
    if item is None or not item_windows(item):
        raise NotFound(_("没有找到可预约的该事项。"))
    return item


def item_windows(item: ImplementationItem) -> list[Window]:
    """The windows that take appointments for `item`, with their halls and schedules."""
    return list(
        serving_windows(item).filter(schedule__is_active=True)
        .select_related("hall", "department__region", "schedule").order_by("hall__name", "number")
    )


def booking_days(item: ImplementationItem) -> list[dt.date]:
    """The working days from today on which some window takes appointments for `item` (today
    only while a slot is still to start)."""
    today, now = clock.today(), clock.now()
    days: set[dt.date] = set()
    for window in item_windows(item):
        region = window.department.region
        last = workdays.add_working_days(today, window.schedule.days_ahead, region=region).date
        later_today = any(clock.at(today, start) > now for start, _end in window.schedule.slots())
        day = today if later_today else today + dt.timedelta(days=1)
        while day <= last:
            if workdays.is_working_day(day, region=region):
                days.add(day)
            day += dt.timedelta(days=1)
    return sorted(days)


@dataclass(frozen=True)
class Slot:
    window: Window
    date: dt.date
    start: dt.time
    end: dt.time
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


def free_slots(item: ImplementationItem, day: dt.date) -> list[Slot]:
    """Every slot on `day` not yet started at the windows that take `item`, with its free places
    (0 when full), window by window. A day the windows do not open gives no slots."""
    now = clock.now()
    slots: list[Slot] = []
    for window in item_windows(item):
        try:
            check_bookable_day(window, window.schedule, day)
        except InvalidInput:
            continue
        booked = dict(SlotCounter.objects.filter(window=window, date=day).values_list("start", "booked"))
        for start, end in window.schedule.slots():
            if clock.at(day, start) <= now:
                continue
            slots.append(Slot(window, day, start, end, window.schedule.capacity, booked.get(start, 0)))
    return slots


# --- the applicant's appointments ----------------------------------------------------------------


def my_appointments(actor: Any) -> QuerySet[Appointment]:
    if not getattr(actor, "is_authenticated", False):
        return Appointment.objects.none()
    return (
        Appointment.objects.filter(applicant=actor)
        .select_related("item", "hall", "window", "ticket")
        .order_by("-date", "-start", "-pk")
    )


def my_appointment(actor: Any, pk: int) -> Appointment:
    found = my_appointments(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该预约。"))
    return found


# --- the hall: kiosk and calling screen -----------------------------------------------------------


def public_hall(code: str) -> Hall:
    """An active hall by code (its calling screen is public)."""
    found = Hall.objects.select_related("department").filter(code=code, is_active=True).first()
    if found is None:
        raise NotFound(_("没有找到该办事大厅。"))
    return found


def kiosk_hall(actor: Any, code: str) -> Hall:
    """A hall whose kiosk the actor may run; NotFound for anyone else."""
    hall = Hall.objects.select_related("department").filter(code=code, is_active=True).first()
    if hall is None or not is_hall_staff(actor, hall):
        raise NotFound(_("没有找到该办事大厅。"))
    return hall


def staff_halls(actor: Any) -> list[Hall]:
    """Active halls whose kiosk the actor may run (for links from the workbench): the same rule as
    `services.is_hall_staff`, for every hall in one query."""
    halls = Hall.objects.filter(is_active=True).order_by("name")
    if not getattr(actor, "is_authenticated", False) or actor.kind != AccountKind.STAFF:
        return []
    if is_platform_admin(actor):
        return list(halls)
    departments = clerk_departments(actor).values("pk")
    stationed = Window.objects.filter(is_active=True, department__in=departments).values("hall_id")
    return list(halls.filter(Q(department__in=departments) | Q(pk__in=stationed)))


@dataclass
class KioskDepartment:
    department: Department
    items: list[ImplementationItem] = field(default_factory=list)


def kiosk_items(hall: Hall) -> list[KioskDepartment]:
    """The published items the hall's active windows handle, grouped by department."""
    windows = Window.objects.filter(hall=hall, is_active=True)
    through = Window.items.through
    listed = through.objects.filter(window__in=windows).values("implementationitem_id")
    whole = windows.exclude(pk__in=through.objects.values("window_id")).values("department_id")
    items = (
        ImplementationItem.objects.filter(current_version__isnull=False)
        .filter(Q(pk__in=listed) | Q(department_id__in=whole))
        .select_related("department").order_by("department__name", "name", "pk")
    )
    groups: dict[int, KioskDepartment] = {}
    for item in items:
        groups.setdefault(item.department_id, KioskDepartment(item.department)).items.append(item)
    return list(groups.values())


def kiosk_item(hall: Hall, pk: int) -> ImplementationItem:
    for group in kiosk_items(hall):
        for item in group.items:
            if item.pk == pk:
                return item
    raise NotFound(_("本大厅不办理该事项。"))


def kiosk_ticket(actor: Any, hall: Hall, pk: int) -> QueueTicket:
    """A ticket the kiosk issued today (for its printout)."""
    found = (
        QueueTicket.objects.filter(hall=hall, day=clock.today(), pk=pk).select_related("item", "hall").first()
        if is_hall_staff(actor, hall) else None
    )
    if found is None:
        raise NotFound(_("没有找到该排队号。"))
    return found


def waiting_ahead(ticket: QueueTicket) -> int:
    """How many waiting tickets of the same group come before `ticket`."""
    # The calling order: priority first, then issue time, then the row id.
    earlier = Q(issued_at__lt=ticket.issued_at) | Q(issued_at=ticket.issued_at, pk__lt=ticket.pk)
    before = Q(priority=True) & earlier if ticket.priority else Q(priority=True) | earlier
    return (
        QueueTicket.objects.filter(hall_id=ticket.hall_id, day=ticket.day, letter=ticket.letter,
                                   status=TicketStatus.WAITING)
        .filter(before).exclude(pk=ticket.pk).count()
    )


@dataclass(frozen=True)
class ScreenGroup:
    letter: str
    windows: list[str]
    waiting: int


@dataclass(frozen=True)
class ScreenState:
    hall: Hall
    calls: list[QueueTicket]
    groups: list[ScreenGroup]
    at: dt.datetime


def screen(hall: Hall) -> ScreenState:
    """The calling screen (叫号屏): the tickets called most recently and still at a window, and
    how many wait in each window group. Ticket numbers and window numbers only: nothing personal."""
    today = clock.today()
    calls = list(
        QueueTicket.objects.filter(hall=hall, day=today, status__in=CURRENT_TICKET_STATUSES)
        .select_related("window").order_by("-last_called_at", "-pk")[:SCREEN_CALLS]
    )
    waiting = dict(
        QueueTicket.objects.filter(hall=hall, day=today, status=TicketStatus.WAITING)
        .values("letter").annotate(count=Count("pk")).values_list("letter", "count")
    )
    numbers: dict[str, list[str]] = defaultdict(list)
    for letter, number in Window.objects.filter(hall=hall, is_active=True).values_list("queue_letter", "number"):
        numbers[letter].append(number)
    letters = sorted(set(numbers) | set(waiting))
    groups = [ScreenGroup(letter, numbers.get(letter, []), waiting.get(letter, 0)) for letter in letters]
    return ScreenState(hall=hall, calls=calls, groups=groups, at=clock.local_now())


# --- the clerk's desk ------------------------------------------------------------------------------


def clerk_windows(actor: Any) -> QuerySet[Window]:
    """Active windows of the departments the actor works as a window clerk."""
    return (
        Window.objects.filter(is_active=True, hall__is_active=True, department__in=clerk_departments(actor))
        .select_related("hall", "department").order_by("hall__name", "queue_letter", "number")
    )


def own_window(actor: Any, windows: list[Window]) -> Window | None:
    """The window among `windows` the actor's staff profile names (window "12" or "A12", in the
    profile's hall when it names one), if exactly one matches."""
    from onewindow.accounts.models import StaffProfile

    profile = StaffProfile.objects.filter(user_id=getattr(actor, "pk", None)).first()
    wanted = (profile.window_number if profile else "").strip().upper()
    if not wanted:
        return None
    matches = [
        window for window in windows
        if wanted in (window.number.upper(), f"{window.queue_letter}{window.number}".upper())
        and (not profile.hall or profile.hall == window.hall.name)
    ]
    return matches[0] if len(matches) == 1 else None


def clerk_window(actor: Any, pk: int) -> Window:
    found = clerk_windows(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("没有找到该窗口。"))
    return found


def clerk_ticket(actor: Any, pk: int) -> QueueTicket:
    """A ticket of the departments the actor works for."""
    found = (
        QueueTicket.objects.filter(pk=pk, department__in=clerk_departments(actor))
        .select_related("hall", "item", "window", "department").first()
    )
    if found is None:
        raise NotFound(_("没有找到该排队号。"))
    return found


@dataclass(frozen=True)
class DeskState:
    window: Window
    current: QueueTicket | None
    waiting: list[QueueTicket]
    waiting_count: int
    served_today: int


def desk(window: Window, *, show: int = 10) -> DeskState:
    today = clock.today()
    current = (
        QueueTicket.objects.filter(window=window, day=today, status__in=CURRENT_TICKET_STATUSES)
        .select_related("item", "appointment").first()
    )
    waiting = waiting_for_window(window, today)
    return DeskState(
        window=window,
        current=current,
        waiting=list(waiting.select_related("item")[:show]),
        waiting_count=waiting.count(),
        served_today=QueueTicket.objects.filter(window=window, day=today, status=TicketStatus.DONE).count(),
    )


def case_for_clerk(actor: Any, number: str) -> Any:
    """A filed case of the actor's departments, by its number (to link a visit to it)."""
    from onewindow.cases.models import Case

    text = number.strip() if isinstance(number, str) else ""
    found = (
        Case.objects.filter(number=text, department__in=clerk_departments(actor)).first()
        if text and len(text) <= 50 else None
    )
    if found is None:
        raise NotFound(_("没有找到本部门编号为“%(number)s”的办件。") % {"number": text[:50]})
    return found


# --- waiting-time figures ---------------------------------------------------------------------------


def figure_departments(actor: Any) -> QuerySet[Department]:
    """Departments whose hall figures the actor may see."""
    departments = Department.objects.select_related("region").order_by("region__code", "name")
    if is_platform_admin(actor):
        return departments
    return departments.filter(scope_q(actor, department_field="pk", region_field="region"))


@dataclass(frozen=True)
class FigureRow:
    day: dt.date
    department: Department
    item: ImplementationItem | None  # None: every item of the department that day
    issued: int
    served: int
    median_wait: float | None  # seconds, issued → first call
    p90_wait: float | None
    median_service: float | None  # seconds, service start → finish


def percentile(values: list[int], share: float) -> float | None:
    """The nearest-rank percentile (`share` 0–1) of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(share * len(ordered)) - 1)])


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def figures(
    actor: Any, *, date_from: dt.date, date_to: dt.date, department: Department | None = None
) -> list[FigureRow]:
    """Per day, department and item: tickets issued and served, median and 90th-percentile wait,
    median service time; and a row per day and department for all its items. One query over
    the tickets of the days asked (indexed by day and department), at most a month."""
    if date_to < date_from:
        raise InvalidInput(_("结束日期不能早于开始日期。"), field="date_to")
    if (date_to - date_from).days >= MAX_FIGURE_DAYS:
        raise InvalidInput(_("一次最多统计 %(n)s 天。") % {"n": MAX_FIGURE_DAYS}, field="date_to")
    departments = figure_departments(actor)
    if department is not None:
        departments = departments.filter(pk=department.pk)
    tickets = QueueTicket.objects.filter(day__gte=date_from, day__lte=date_to, department__in=departments.values("pk"))
    rows = tickets.values_list("day", "department_id", "item_id", "status", "wait_seconds", "service_seconds")
    groups: dict[tuple[dt.date, int, int | None], dict[str, Any]] = {}
    for day, department_id, item_id, status, wait, service in rows.iterator():
        for key in ((day, department_id, item_id), (day, department_id, None)):
            group = groups.setdefault(key, {"issued": 0, "served": 0, "waits": [], "services": []})
            group["issued"] += 1
            if status == TicketStatus.DONE:
                group["served"] += 1
            if wait is not None:
                group["waits"].append(wait)
            if service is not None and status == TicketStatus.DONE:
                group["services"].append(service)
    if not groups:
        return []
    by_department = Department.objects.in_bulk({key[1] for key in groups})
    by_item = ImplementationItem.objects.in_bulk({key[2] for key in groups if key[2] is not None})
    result = [
        FigureRow(
            day=day, department=by_department[department_id], item=by_item.get(item_id) if item_id else None,
            issued=group["issued"], served=group["served"], median_wait=_median(group["waits"]),
            p90_wait=percentile(group["waits"], 0.9), median_service=_median(group["services"]),
        )
        for (day, department_id, item_id), group in groups.items()
    ]
    # Newest day first; within a day each department's total, then its items by name.
    result.sort(key=lambda row: (-row.day.toordinal(), row.department.name, row.item is not None,
                                 row.item.name if row.item else "", row.item.pk if row.item else 0))
    return result
