"""Every change in the service hall: one keyword-only function per action, one transaction, one
audit entry. Appointments and tickets follow declared lifecycles:

    appointment:  booked ──cancel──▶ cancelled      (the applicant, before the slot starts)
                    │  └──check_in──▶ checked_in    (the hall's kiosk; issues a priority ticket)
                    └──miss──▶ no_show              (the sweep, once the slot has ended)

    ticket:  waiting ──call──▶ called ──start──▶ serving ──finish──▶ done
                │                │ ▲
                │                │ └─recall (called again)
                │                └──skip──▶ skipped (过号: not at the window when called)
                └─(expire: the sweep, for tickets of past days still waiting or called)

Capacity and numbering hold under concurrency: a slot's places are taken with a conditional
update of its counter row (`booked < capacity`), ticket serials are incremented on a per-day row,
and a clerk claims the next ticket with `SELECT … FOR UPDATE SKIP LOCKED` where the database has
it and, everywhere, an `UPDATE … WHERE status = 'waiting'` that must change exactly one row, so
two clerks calling at once never get the same ticket.
"""

import datetime as dt
import re
import secrets
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.permissions import has_role, is_platform_admin, role_q
from onewindow.catalogue.models import ImplementationItem
from onewindow.core import audit, workdays
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.lifecycle import Lifecycle, Transition
from onewindow.core.models import Department
from onewindow.core.notifications import notify
from onewindow.core.periodic import sweep
from onewindow.core.text import listing
from onewindow.hall import clock
from onewindow.hall.choices import (
    ACTIVE_APPOINTMENT_STATUSES,
    CURRENT_TICKET_STATUSES,
    AppointmentStatus,
    TicketStatus,
)
from onewindow.hall.models import (
    Appointment,
    Hall,
    QueueTicket,
    SlotCounter,
    SlotSchedule,
    TicketSerial,
    Window,
)

# No 0/O, 1/I/L: a code read out at the kiosk or typed from an SMS is not mistaken.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
CODE_ATTEMPTS = 8
# Check-in opens an hour before the slot and closes when the slot ends.
CHECK_IN_EARLY = dt.timedelta(hours=1)
# Repeated no-shows suspend online booking for a while (爽约限制).
NO_SHOW_LIMIT = 3
NO_SHOW_WINDOW_DAYS = 90
# How many candidates a clerk's call tries before giving up (others claimed them meanwhile).
CALL_ATTEMPTS = 20
SWEEP_BATCH = 1000
APPLICANT_KINDS = (AccountKind.CITIZEN, AccountKind.ENTERPRISE)
HALL_CODE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$")


# --- who may act -----------------------------------------------------------------------------


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False) and actor.is_active


def clerk_departments(actor: Any) -> QuerySet[Department]:
    """Departments whose windows `actor` works as a window clerk (受理员)."""
    if not _is_user(actor):
        return Department.objects.none()
    return Department.objects.filter(role_q(actor, Role.WINDOW_CLERK, department_field="pk", region_field="region"))


def is_hall_staff(actor: Any, hall: Hall) -> bool:
    """Who may run the hall's kiosk: window clerks of the hall's operating department or of a
    department with an active window in it, and platform administrators."""
    if not _is_user(actor) or actor.kind != AccountKind.STAFF:
        return False
    if is_platform_admin(actor):
        return True
    stationed = Window.objects.filter(hall=hall, is_active=True).values("department_id")
    return clerk_departments(actor).filter(Q(pk=hall.department_id) | Q(pk__in=stationed)).exists()


def may_manage_hall(actor: Any, hall_department: Department) -> bool:
    return is_platform_admin(actor) or has_role(actor, Role.DEPARTMENT_ADMIN, department=hall_department)


def may_manage_window(actor: Any, department: Department) -> bool:
    return is_platform_admin(actor) or has_role(actor, Role.DEPARTMENT_ADMIN, department=department)


def _is_applicant(actor: Any, appointment: Appointment) -> bool:
    return _is_user(actor) and appointment.applicant_id == actor.pk


def _is_kiosk(actor: Any, appointment: Appointment) -> bool:
    return is_hall_staff(actor, appointment.hall)


def _is_clerk(actor: Any, ticket: QueueTicket) -> bool:
    return _is_user(actor) and has_role(actor, Role.WINDOW_CLERK, department=ticket.department)


def _is_system(actor: Any, obj: Any) -> bool:
    return actor is None


A = AppointmentStatus
APPOINTMENT_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该预约"),
    state_labels=dict(AppointmentStatus.choices),
    transitions=[
        Transition("cancel", frozenset({A.BOOKED}), A.CANCELLED, gettext_lazy("取消预约"), _is_applicant),
        Transition("check_in", frozenset({A.BOOKED}), A.CHECKED_IN, gettext_lazy("签到"), _is_kiosk),
        Transition("miss", frozenset({A.BOOKED}), A.NO_SHOW, gettext_lazy("记为爽约"), _is_system),
    ],
)

T = TicketStatus
TICKET_LIFECYCLE = Lifecycle(
    name=gettext_lazy("该排队号"),
    state_labels=dict(TicketStatus.choices),
    transitions=[
        Transition("call", frozenset({T.WAITING}), T.CALLED, gettext_lazy("叫号"), _is_clerk),
        Transition("recall", frozenset({T.CALLED}), T.CALLED, gettext_lazy("重复叫号"), _is_clerk),
        Transition("start", frozenset({T.CALLED}), T.SERVING, gettext_lazy("开始办理"), _is_clerk),
        Transition("finish", frozenset({T.SERVING}), T.DONE, gettext_lazy("办结"), _is_clerk),
        Transition("skip", frozenset({T.CALLED}), T.SKIPPED, gettext_lazy("过号"), _is_clerk),
        Transition("expire", frozenset({T.WAITING, T.CALLED}), T.EXPIRED, gettext_lazy("作废"), _is_system),
    ],
)


# --- shared reads ------------------------------------------------------------------------------


def serving_windows(item: ImplementationItem) -> QuerySet[Window]:
    """Active windows in active halls that handle `item`: those listing it, and those of its
    department that list no items (they handle all of the department's items)."""
    through = Window.items.through
    listing = through.objects.filter(implementationitem_id=item.pk).values("window_id")
    listing_any = through.objects.values("window_id")
    return Window.objects.filter(is_active=True, hall__is_active=True).filter(
        Q(pk__in=listing) | (Q(department_id=item.department_id) & ~Q(pk__in=listing_any))
    )


def _published(item: ImplementationItem) -> ImplementationItem:
    found = (
        ImplementationItem.objects.select_related("department__region")
        .filter(pk=getattr(item, "pk", None), current_version__isnull=False)
        .first()
    )
    if found is None:
        raise NotFound(_("没有找到该事项，或它尚未发布。"))
    return found


def queue_letter(hall: Hall, item: ImplementationItem) -> str | None:
    """The letter of the window group whose tickets `item` gets in `hall`: a window listing the
    item wins over one that takes all of its department's items, then the first letter."""
    windows = list(serving_windows(item).filter(hall=hall).values_list("pk", "queue_letter"))
    if not windows:
        return None
    listing = set(
        Window.items.through.objects.filter(implementationitem_id=item.pk, window_id__in=[pk for pk, _l in windows])
        .values_list("window_id", flat=True)
    )
    return min(windows, key=lambda row: (row[0] not in listing, row[1]))[1]


def waiting_for_window(window: Window, day: dt.date) -> QuerySet[QueueTicket]:
    """The tickets `window` may call on `day`, in calling order: priority (checked-in
    appointments) first, then the oldest."""
    tickets = QueueTicket.objects.filter(hall_id=window.hall_id, day=day, status=TicketStatus.WAITING)
    listed = Window.items.through.objects.filter(window_id=window.pk).values("implementationitem_id")
    if Window.items.through.objects.filter(window_id=window.pk).exists():
        tickets = tickets.filter(item_id__in=listed)
    else:
        tickets = tickets.filter(department_id=window.department_id)
    return tickets.order_by("-priority", "issued_at", "pk")


# --- appointments -------------------------------------------------------------------------------


def _as_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(_("日期格式不对。"), field=field)
    return value


def _as_time(value: Any, field: str) -> dt.time:
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise InvalidInput(_("时间格式不对。"), field=field)
    return value


def _appointment_facts(appointment: Appointment) -> dict[str, Any]:
    return {
        "code": appointment.code, "item": appointment.item.impl_code, "window": appointment.window_id,
        "date": appointment.date.isoformat(), "start": appointment.start.strftime("%H:%M"),
        "status": appointment.status,
    }


def _schedule_of(window: Window) -> SlotSchedule:
    schedule = SlotSchedule.objects.filter(window=window, is_active=True).first()
    if schedule is None:
        raise DomainError(_("该窗口暂不开放预约。"))
    return schedule


def check_bookable_day(window: Window, schedule: SlotSchedule, day: dt.date) -> None:
    """Refuse a day the window takes no appointments on: past, not a working day, or too far."""
    today = clock.today()
    if day < today:
        raise InvalidInput(_("不能预约今天以前的日期。"), field="date")
    region = window.department.region
    if not workdays.is_working_day(day, region=region):
        raise InvalidInput(_("%(date)s 不是工作日，不能预约。") % {"date": day.isoformat()}, field="date")
    last = workdays.add_working_days(today, schedule.days_ahead, region=region).date
    if day > last:
        raise InvalidInput(
            _("最多只能预约 %(n)s 个工作日以内的时段（%(date)s 及以前）。") % {"n": schedule.days_ahead, "date": last.isoformat()},
            field="date",
        )


def _take_place(window: Window, day: dt.date, start: dt.time, capacity: int) -> None:
    """One place of the slot, or DomainError when it is full. The counter row is created if
    missing; the conditional update serialises on that row, so the last place goes to one."""
    SlotCounter.objects.bulk_create([SlotCounter(window=window, date=day, start=start)], ignore_conflicts=True)
    taken = SlotCounter.objects.filter(window=window, date=day, start=start, booked__lt=capacity).update(
        booked=F("booked") + 1
    )
    if taken != 1:
        raise DomainError(_("该时段已约满，请选择其他时段。"), field="start")


def _release_place(appointment: Appointment) -> None:
    SlotCounter.objects.filter(
        window_id=appointment.window_id, date=appointment.date, start=appointment.start, booked__gt=0
    ).update(booked=F("booked") - 1)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def _already_booked(day: dt.date) -> DomainError:
    return DomainError(
        _("您在 %(date)s 已预约该事项；同一事项每人每天只能预约一次。") % {"date": day.isoformat()}, field="date"
    )


@transaction.atomic
def appointment_book(
    *, actor: Any, item: ImplementationItem, window: Window, date: dt.date, start: dt.time
) -> Appointment:
    """Book a place in one slot of `window` for `item` on `date` at `start`.

    Refused: a day in the past, not a working day of the department's region or beyond the
    window's booking horizon; a slot that is not in the window's schedule or has started; a full
    slot; a second active appointment for the same item and day; an applicant with repeated
    recent no-shows.
    """
    if not _is_user(actor) or actor.kind not in APPLICANT_KINDS:
        raise PermissionDenied(_("请使用个人或法人账户登录后预约。"))
    day = _as_date(date, "date")
    start = _as_time(start, "start")
    item = _published(item)
    window = (
        serving_windows(item).select_related("hall", "department__region")
        .filter(pk=getattr(window, "pk", None)).first()
    )
    if window is None:
        raise InvalidInput(_("所选窗口不办理该事项，或已停用。"), field="window")
    schedule = _schedule_of(window)
    check_bookable_day(window, schedule, day)
    slots = dict(schedule.slots())
    if start not in slots:
        raise InvalidInput(_("所选时间不是该窗口的预约时段。"), field="start")
    starts_at = clock.at(day, start)
    now = clock.now()
    if starts_at <= now:
        raise InvalidInput(_("该时段已开始，不能再预约。"), field="start")
    since = clock.today() - dt.timedelta(days=NO_SHOW_WINDOW_DAYS)
    missed = Appointment.objects.filter(applicant=actor, status=AppointmentStatus.NO_SHOW, date__gte=since).count()
    if missed >= NO_SHOW_LIMIT:
        raise DomainError(
            _("您在最近 %(days)s 天内爽约 %(n)s 次，暂停网上预约，可到大厅现场取号。")
            % {"days": NO_SHOW_WINDOW_DAYS, "n": missed}
        )
    active = Appointment.objects.filter(applicant=actor, item=item, date=day, status__in=ACTIVE_APPOINTMENT_STATUSES)
    if active.exists():
        raise _already_booked(day)
    _take_place(window, day, start, schedule.capacity)
    appointment = None
    for _attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                appointment = Appointment.objects.create(
                    code=_new_code(), applicant=actor, item=item, hall=window.hall, window=window,
                    department=item.department, date=day, start=start, end=slots[start], starts_at=starts_at,
                    ends_at=clock.at(day, slots[start]),
                )
            break
        except IntegrityError:
            if active.exists():  # the same applicant booked this item and day at the same moment
                raise _already_booked(day) from None
    if appointment is None:
        raise DomainError(_("暂时无法生成预约码，请稍后重试。"))
    audit.record(actor=actor, action="hall.appointment.book", target=appointment, after=_appointment_facts(appointment))
    notify(
        recipient=actor,
        subject=_("预约成功：%(item)s") % {"item": item.name},
        body=_(
            "您已预约 %(date)s %(start)s–%(end)s 到%(hall)s%(window)s办理“%(item)s”。预约码 %(code)s，"
            "请在时段开始前一小时内到大厅取号机签到；如不能前来，请在时段开始前取消。"
        ) % {
            "date": day.isoformat(), "start": start.strftime("%H:%M"), "end": slots[start].strftime("%H:%M"),
            "hall": window.hall.name, "window": str(window), "item": item.name, "code": appointment.code,
        },
        channels=("inbox", "sms"),
        kind="hall.appointment",
    )
    return appointment


def _locked_appointment(appointment: Appointment) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("hall", "window", "item", "department")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def appointment_cancel(*, actor: Any, appointment: Appointment) -> Appointment:
    """The applicant gives the place back, any time before the slot starts."""
    locked = _locked_appointment(appointment)
    transition = APPOINTMENT_LIFECYCLE.check("cancel", state=locked.status, actor=actor, obj=locked)
    now = clock.now()
    if locked.starts_at <= now:
        raise DomainError(_("预约时段已开始，不能再取消。"))
    locked.status = transition.target
    locked.cancelled_at = now
    locked.save(update_fields=["status", "cancelled_at", "updated_at"])
    _release_place(locked)
    audit.record(actor=actor, action="hall.appointment.cancel", target=locked,
                 before={"status": AppointmentStatus.BOOKED}, after=_appointment_facts(locked))
    return locked


def clean_code(value: Any) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not CODE_RE.fullmatch(code):
        raise InvalidInput(_("预约码应为6位字母或数字，请核对短信中的预约码。"), field="code")
    return code


@transaction.atomic
def appointment_check_in(*, actor: Any, hall: Hall, code: str) -> QueueTicket:
    """At the kiosk: the holder of today's appointment `code` in `hall` arrives and gets a
    priority ticket. Open from an hour before the slot until it ends."""
    code = clean_code(code)
    hall = _active_hall(hall)
    if not is_hall_staff(actor, hall):
        raise PermissionDenied(_("只有本大厅的工作人员（取号机）可以办理签到。"))
    found = Appointment.objects.filter(hall=hall, date=clock.today(), code=code).first()
    if found is None:
        raise NotFound(_("没有找到本大厅今天的这个预约码。"))
    locked = _locked_appointment(found)
    transition = APPOINTMENT_LIFECYCLE.check("check_in", state=locked.status, actor=actor, obj=locked)
    now = clock.now()
    times = {"start": locked.start.strftime("%H:%M"), "end": locked.end.strftime("%H:%M")}
    if now < locked.starts_at - CHECK_IN_EARLY:
        raise DomainError(_("预约时段为 %(start)s–%(end)s，请在时段开始前一小时内签到。") % times)
    if now > locked.ends_at:
        raise DomainError(_("预约时段 %(start)s–%(end)s 已过，请取普通号排队。") % times)
    letter = queue_letter(hall, locked.item) or locked.window.queue_letter
    ticket = _issue(hall=hall, item=locked.item, letter=letter, actor=actor, appointment=locked)
    locked.status = transition.target
    locked.checked_in_at = now
    locked.save(update_fields=["status", "checked_in_at", "updated_at"])
    audit.record(actor=actor, action="hall.appointment.check_in", target=locked,
                 before={"status": AppointmentStatus.BOOKED},
                 after={**_appointment_facts(locked), "ticket": ticket.number})
    return ticket


@transaction.atomic
def appointment_mark_missed(*, actor: Any = None) -> int:
    """Appointments whose slot ended without a check-in become no-shows (爽约); returns how many.
    A conditional update, so a check-in at the last moment is never overwritten."""
    transition = APPOINTMENT_LIFECYCLE.transition("miss")
    due = Appointment.objects.filter(status__in=transition.sources, ends_at__lt=clock.now())
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    if not ids:
        return 0
    marked = Appointment.objects.filter(pk__in=ids, status__in=transition.sources).update(
        status=transition.target, updated_at=clock.now()
    )
    audit.record(actor=actor, action="hall.appointment.miss", object_type="hall.appointment",
                 after={"appointments": ids, "marked": marked})
    return marked


# --- tickets ------------------------------------------------------------------------------------


def _active_hall(hall: Hall) -> Hall:
    found = Hall.objects.select_related("department").filter(pk=getattr(hall, "pk", None), is_active=True).first()
    if found is None:
        raise NotFound(_("没有找到该办事大厅。"))
    return found


def _next_serial(hall: Hall, day: dt.date, letter: str) -> int:
    """The next serial of `letter` in `hall` on `day`; the row lock taken by the update is held
    until the issuing transaction ends, so concurrent issues get distinct consecutive serials."""
    TicketSerial.objects.bulk_create([TicketSerial(hall=hall, day=day, letter=letter)], ignore_conflicts=True)
    TicketSerial.objects.filter(hall=hall, day=day, letter=letter).update(last=F("last") + 1)
    return TicketSerial.objects.filter(hall=hall, day=day, letter=letter).values_list("last", flat=True).get()


def ticket_number(letter: str, serial: int) -> str:
    """"A023": the group letter and the day's serial, three digits at least."""
    return f"{letter}{serial:03d}"


def _issue(*, hall: Hall, item: ImplementationItem, letter: str, actor: Any,
           appointment: Appointment | None = None) -> QueueTicket:
    day = clock.today()
    serial = _next_serial(hall, day, letter)
    return QueueTicket.objects.create(
        hall=hall, department_id=item.department_id, item=item, day=day, letter=letter, serial=serial,
        number=ticket_number(letter, serial), priority=appointment is not None, appointment=appointment,
        issued_at=clock.now(), issued_by=actor if _is_user(actor) else None,
    )


def _ticket_facts(ticket: QueueTicket) -> dict[str, Any]:
    return {
        "number": ticket.number, "day": ticket.day.isoformat(), "hall": ticket.hall_id, "item": ticket.item_id,
        "status": ticket.status, "window": ticket.window_id, "priority": ticket.priority,
    }


@transaction.atomic
def ticket_issue(*, actor: Any, hall: Hall, item: ImplementationItem) -> QueueTicket:
    """The kiosk takes a ticket for `item` (现场取号)."""
    hall = _active_hall(hall)
    if not is_hall_staff(actor, hall):
        raise PermissionDenied(_("只有本大厅的工作人员（取号机）可以取号。"))
    item = _published(item)
    letter = queue_letter(hall, item)
    if letter is None:
        raise InvalidInput(_("本大厅没有办理该事项的窗口。"), field="item")
    ticket = _issue(hall=hall, item=item, letter=letter, actor=actor)
    audit.record(actor=actor, action="hall.ticket.issue", target=ticket, after=_ticket_facts(ticket))
    return ticket


def _locked_ticket(ticket: QueueTicket) -> QueueTicket:
    return (
        QueueTicket.objects.select_for_update(of=("self",))
        .select_related("hall", "department", "item", "window")
        .get(pk=ticket.pk)
    )


def _claim(candidates: QuerySet[QueueTicket], *, actor: Any, window: Window, now: dt.datetime) -> QueueTicket | None:
    """Take the first candidate nobody else has taken. On PostgreSQL, rows other clerks hold
    locked are skipped; everywhere, the update only changes a ticket still waiting, and a
    candidate lost to another clerk is simply passed over."""
    skip_locked = connection.features.has_select_for_update_skip_locked
    passed: list[int] = []
    for _attempt in range(CALL_ATTEMPTS):
        pending = candidates.exclude(pk__in=passed)
        ticket = (pending.select_for_update(skip_locked=True) if skip_locked else pending).first()
        if ticket is None:
            return None
        TICKET_LIFECYCLE.check("call", state=ticket.status, actor=actor, obj=ticket)
        wait = max(0, int((now - ticket.issued_at).total_seconds()))
        claimed = QueueTicket.objects.filter(pk=ticket.pk, status=TicketStatus.WAITING).update(
            status=TicketStatus.CALLED, window=window, clerk=actor, called_at=now, last_called_at=now,
            call_count=1, wait_seconds=wait,
        )
        if claimed == 1:
            return QueueTicket.objects.select_related("hall", "item", "window").get(pk=ticket.pk)
        passed.append(ticket.pk)
    raise DomainError(_("叫号的人较多，请稍后再试。"))


@transaction.atomic
def ticket_call_next(*, actor: Any, window: Window) -> QueueTicket:
    """A window clerk calls the next ticket of the items the window handles: checked-in
    appointments first, then the oldest. The window works on one ticket at a time."""
    locked = (
        Window.objects.select_for_update(of=("self",)).select_related("hall", "department")
        .filter(pk=getattr(window, "pk", None)).first()
    )
    if locked is None:
        raise NotFound(_("没有找到该窗口。"))
    if not _is_user(actor) or not has_role(actor, Role.WINDOW_CLERK, department=locked.department):
        raise PermissionDenied(_("只有该窗口所属部门的窗口受理员可以叫号。"))
    if not (locked.is_active and locked.hall.is_active):
        raise DomainError(_("该窗口已停用。"))
    today = clock.today()
    current = QueueTicket.objects.filter(window=locked, day=today, status__in=CURRENT_TICKET_STATUSES).first()
    if current is not None:
        raise DomainError(
            _("本窗口的 %(number)s 号尚未办结或过号，请先处理。") % {"number": current.number}
        )
    ticket = _claim(waiting_for_window(locked, today), actor=actor, window=locked, now=clock.now())
    if ticket is None:
        raise DomainError(_("当前没有等候的号。"))
    audit.record(actor=actor, action="hall.ticket.call", target=ticket,
                 before={"status": TicketStatus.WAITING},
                 after={**_ticket_facts(ticket), "wait_seconds": ticket.wait_seconds})
    return ticket


def _act(action: str, ticket: QueueTicket, actor: Any) -> tuple[QueueTicket, Transition]:
    locked = _locked_ticket(ticket)
    return locked, TICKET_LIFECYCLE.check(action, state=locked.status, actor=actor, obj=locked)


@transaction.atomic
def ticket_recall(*, actor: Any, ticket: QueueTicket) -> QueueTicket:
    """Call the same ticket again (on the screen and by voice)."""
    locked, _transition = _act("recall", ticket, actor)
    locked.call_count += 1
    locked.last_called_at = clock.now()
    locked.save(update_fields=["call_count", "last_called_at"])
    audit.record(actor=actor, action="hall.ticket.recall", target=locked,
                 after={**_ticket_facts(locked), "call_count": locked.call_count})
    return locked


@transaction.atomic
def ticket_start(*, actor: Any, ticket: QueueTicket) -> QueueTicket:
    """The person called has come to the window: service starts."""
    locked, transition = _act("start", ticket, actor)
    locked.status = transition.target
    locked.started_at = clock.now()
    locked.clerk = actor
    locked.save(update_fields=["status", "started_at", "clerk"])
    audit.record(actor=actor, action="hall.ticket.start", target=locked,
                 before={"status": TicketStatus.CALLED}, after=_ticket_facts(locked))
    return locked


@transaction.atomic
def ticket_finish(*, actor: Any, ticket: QueueTicket, case: Any = None) -> QueueTicket:
    """Service at the window is over. With `case`, the visit is also recorded on the case
    (its count of visits to the hall, 跑动次数) by the cases app."""
    locked, transition = _act("finish", ticket, actor)
    if case is not None and case.department_id != locked.department_id:
        raise InvalidInput(_("该办件不属于本窗口的部门。"), field="case")
    now = clock.now()
    locked.status = transition.target
    locked.finished_at = now
    locked.service_seconds = max(0, int((now - (locked.started_at or now)).total_seconds()))
    locked.case = case
    locked.save(update_fields=["status", "finished_at", "service_seconds", "case"])
    audit.record(actor=actor, action="hall.ticket.finish", target=locked,
                 before={"status": TicketStatus.SERVING},
                 after={**_ticket_facts(locked), "service_seconds": locked.service_seconds,
                        "case": getattr(case, "number", None) or ""})
    if case is not None:
        from onewindow.cases.services import case_record_visit

        case_record_visit(actor=actor, case=case)
    return locked


@transaction.atomic
def ticket_skip(*, actor: Any, ticket: QueueTicket) -> QueueTicket:
    """过号: the person called did not come to the window."""
    locked, transition = _act("skip", ticket, actor)
    locked.status = transition.target
    locked.finished_at = clock.now()
    locked.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="hall.ticket.skip", target=locked,
                 before={"status": TicketStatus.CALLED}, after=_ticket_facts(locked))
    return locked


@transaction.atomic
def ticket_expire_past(*, actor: Any = None) -> int:
    """Tickets of past days still waiting or called are closed (当日未叫号); returns how many."""
    transition = TICKET_LIFECYCLE.transition("expire")
    due = QueueTicket.objects.filter(status__in=transition.sources, day__lt=clock.today())
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    if not ids:
        return 0
    expired = QueueTicket.objects.filter(pk__in=ids, status__in=transition.sources).update(status=transition.target)
    audit.record(actor=actor, action="hall.ticket.expire", object_type="hall.queueticket",
                 after={"tickets": ids, "expired": expired})
    return expired


@sweep(every_seconds=300)
def hall_day_end_sweep() -> int:
    """Missed appointments become no-shows; tickets of past days left waiting are closed."""
    return appointment_mark_missed(actor=None) + ticket_expire_past(actor=None)


# --- halls, windows and schedules (reference data) -------------------------------------------------


def _text(value: Any, *, field: str, label: str, max_length: int, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise InvalidInput(_("%(label)s不能超过 %(n)s 个字。") % {"label": label, "n": max_length}, field=field)
    return text


@transaction.atomic
def hall_save(
    *, actor: Any, code: str, name: str, department: Department, address: str = "", is_active: bool = True,
    hall: Hall | None = None,
) -> Hall:
    """Create a hall (no `hall`) or change one; the code names its kiosk and screen addresses."""
    if not isinstance(department, Department) or not department.is_active:
        raise InvalidInput(_("请选择启用中的运营部门。"), field="department")
    if not may_manage_hall(actor, department) or (hall is not None and not may_manage_hall(actor, hall.department)):
        raise PermissionDenied(_("只有平台管理员或大厅运营部门的部门管理员可以维护办事大厅。"))
    code = code.strip().lower() if isinstance(code, str) else ""
    if not HALL_CODE_RE.fullmatch(code):
        raise InvalidInput(_("大厅代码应为1至30位小写字母、数字或连字符。"), field="code")
    if Hall.objects.filter(code=code).exclude(pk=getattr(hall, "pk", None)).exists():
        raise InvalidInput(_("大厅代码 %(code)s 已被使用。") % {"code": code}, field="code")
    fields = {
        "code": code,
        "name": _text(name, field="name", label=_("大厅名称"), max_length=100),
        "department": department,
        "address": _text(address, field="address", label=_("地址"), max_length=200, required=False),
        "is_active": bool(is_active),
    }
    if hall is None:
        saved = Hall.objects.create(**fields)
        before: dict[str, Any] = {}
    else:
        saved = Hall.objects.select_for_update().get(pk=hall.pk)
        before = {"code": saved.code, "name": saved.name, "department": saved.department_id,
                  "is_active": saved.is_active}
        for name_, value in fields.items():
            setattr(saved, name_, value)
        saved.save()
    audit.record(actor=actor, action="hall.hall.save", target=saved, before=before,
                 after={"code": saved.code, "name": saved.name, "department": saved.department_id,
                        "is_active": saved.is_active})
    return saved


@transaction.atomic
def window_save(
    *, actor: Any, hall: Hall, department: Department, number: str, name: str, queue_letter: str,
    items: list[ImplementationItem] | QuerySet | None = None, is_active: bool = True, window: Window | None = None,
) -> Window:
    """Create a window (no `window`) or change one. Listed items must be its department's own;
    no items means all of them."""
    if not isinstance(hall, Hall) or not isinstance(department, Department):
        raise InvalidInput(_("请选择大厅和进驻部门。"), field="hall")
    if not may_manage_window(actor, department) or (
        window is not None and not may_manage_window(actor, window.department)
    ):
        raise PermissionDenied(_("只有平台管理员或该部门的部门管理员可以维护窗口。"))
    number = _text(number, field="number", label=_("窗口号"), max_length=10)
    letter = queue_letter.strip().upper() if isinstance(queue_letter, str) else ""
    if not re.fullmatch(r"[A-Z]", letter):
        raise InvalidInput(_("叫号字母应为一个大写英文字母。"), field="queue_letter")
    chosen = list(items or [])
    foreign = [item for item in chosen if item.department_id != department.pk]
    if foreign:
        raise InvalidInput(
            _("窗口只能办理本部门的事项：%(items)s 不属于%(department)s。")
            % {"items": listing(item.name or item.impl_code for item in foreign), "department": department.name},
            field="items",
        )
    duplicate = Window.objects.filter(hall=hall, number=number).exclude(pk=getattr(window, "pk", None))
    if duplicate.exists():
        raise InvalidInput(_("本大厅已有 %(number)s 号窗口。") % {"number": number}, field="number")
    fields = {"hall": hall, "department": department, "number": number,
              "name": _text(name, field="name", label=_("窗口名称"), max_length=100),
              "queue_letter": letter, "is_active": bool(is_active)}
    if window is None:
        saved = Window.objects.create(**fields)
        before: dict[str, Any] = {}
    else:
        saved = Window.objects.select_for_update().get(pk=window.pk)
        before = {"number": saved.number, "department": saved.department_id, "queue_letter": saved.queue_letter,
                  "is_active": saved.is_active, "items": sorted(saved.items.values_list("pk", flat=True))}
        for name_, value in fields.items():
            setattr(saved, name_, value)
        saved.save()
    saved.items.set(chosen)
    audit.record(actor=actor, action="hall.window.save", target=saved, before=before,
                 after={"hall": hall.code, "number": number, "department": department.pk, "queue_letter": letter,
                        "is_active": saved.is_active, "items": sorted(item.pk for item in chosen)})
    return saved


def _clean_schedule(fields: dict[str, Any]) -> None:
    for name, low, high, label in (
        ("slot_minutes", 5, 240, _("时段长度")), ("capacity", 1, 100, _("每时段可约人数")),
        ("days_ahead", 1, 30, _("可提前预约的工作日数")),
    ):
        value = fields[name]
        if value.__class__ is not int or not low <= value <= high:
            raise InvalidInput(_("%(label)s应为 %(low)s 到 %(high)s 之间的整数。") % {"label": label, "low": low, "high": high},
                               field=name)
    for name in ("morning_start", "morning_end"):
        if not isinstance(fields[name], dt.time):
            raise InvalidInput(_("请填写上午的开始和结束时间。"), field=name)
    if fields["morning_start"] >= fields["morning_end"]:
        raise InvalidInput(_("上午结束时间应晚于开始时间。"), field="morning_end")
    afternoon = (fields["afternoon_start"], fields["afternoon_end"])
    if (afternoon[0] is None) != (afternoon[1] is None):
        raise InvalidInput(_("下午的开始和结束时间须同时填写或同时留空。"), field="afternoon_start")
    if afternoon[0] is not None:
        if not all(isinstance(value, dt.time) for value in afternoon):
            raise InvalidInput(_("时间格式不对。"), field="afternoon_start")
        if afternoon[0] < fields["morning_end"]:
            raise InvalidInput(_("下午开始时间不能早于上午结束时间。"), field="afternoon_start")
        if afternoon[0] >= afternoon[1]:
            raise InvalidInput(_("下午结束时间应晚于开始时间。"), field="afternoon_end")
    if not SlotSchedule(**fields).slots():
        raise InvalidInput(_("按此设置一天没有完整的预约时段，请缩短时段长度或延长开放时间。"), field="slot_minutes")


@transaction.atomic
def schedule_save(
    *, actor: Any, window: Window, slot_minutes: int = 30, capacity: int = 2,
    morning_start: dt.time = dt.time(9, 0), morning_end: dt.time = dt.time(12, 0),
    afternoon_start: dt.time | None = dt.time(13, 30), afternoon_end: dt.time | None = dt.time(17, 0),
    days_ahead: int = 5, is_active: bool = True,
) -> SlotSchedule:
    """Set when a window takes appointments. Places already booked stay booked; a smaller
    capacity only limits new bookings."""
    window = Window.objects.select_for_update().select_related("department").get(pk=window.pk)
    if not may_manage_window(actor, window.department):
        raise PermissionDenied(_("只有平台管理员或该部门的部门管理员可以设置预约时段。"))
    fields = {"slot_minutes": slot_minutes, "capacity": capacity, "morning_start": morning_start,
              "morning_end": morning_end, "afternoon_start": afternoon_start, "afternoon_end": afternoon_end,
              "days_ahead": days_ahead}
    _clean_schedule(fields)
    schedule, created = SlotSchedule.objects.update_or_create(
        window=window, defaults={**fields, "is_active": bool(is_active)}
    )
    audit.record(actor=actor, action="hall.schedule.save", target=schedule,
                 after={**{k: (v.strftime("%H:%M") if isinstance(v, dt.time) else v) for k, v in fields.items()},
                        "window": window.pk, "is_active": schedule.is_active, "created": created})
    return schedule
