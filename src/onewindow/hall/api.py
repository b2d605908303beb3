"""/api/hall/: appointments and the queue, scoped as on the web.

Applicants list free slots, book, cancel and list their appointments; a hall's kiosk issues
tickets and checks appointments in; window clerks call, start, finish, recall and skip tickets;
staff read the waiting-time figures of their departments (supervisors: their regions). The
calling screen's board is public. Every operation except the board needs a bearer token or a
browser session (401 without); a refusal is a 4xx with a translated `detail`.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status

from onewindow.accounts.auth import api_auth
from onewindow.core.api import ACTION_ERRORS, ErrorOut, ValidationErrorOut
from onewindow.core.errors import InvalidInput, NotFound
from onewindow.hall import selectors, services
from onewindow.hall.models import Appointment, QueueTicket

router = Router(tags=["hall"], auth=api_auth)

MAX_ID = 2**63 - 1
IMPL_CODE = r"^[0-9A-Za-z-]{1,36}$"
HALL_CODE = r"^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$"
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)




ERRORS = ACTION_ERRORS


class SlotOut(Schema):
    window_id: int
    window_number: str
    window_name: str
    hall_code: str
    hall_name: str
    date: dt.date
    start: str = Field(description="HH:MM, Beijing time")
    end: str
    capacity: int
    free: int


class AppointmentIn(Schema):
    item: str = Field(pattern=IMPL_CODE, description="实施编码 of the item")
    window_id: int = Field(ge=1, le=MAX_ID)
    date: dt.date = Field(ge=EARLIEST, le=LATEST)
    start: str = Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, one of the window's slots")


class AppointmentOut(Schema):
    id: int
    code: str = Field(description="预约码, shown at the kiosk to check in")
    status: str
    status_label: str
    item: str
    item_name: str
    hall_code: str
    hall_name: str
    window_number: str
    window_name: str
    date: dt.date
    start: str
    end: str
    ticket_number: str | None


class TicketIn(Schema):
    item: str = Field(pattern=IMPL_CODE, description="实施编码 of the item")


class CheckInIn(Schema):
    code: str = Field(min_length=1, max_length=20, description="The appointment's 6-character code")


class FinishIn(Schema):
    case_number: str | None = Field(None, max_length=50, description="办件编号 to record the visit on")


class TicketOut(Schema):
    id: int
    number: str
    status: str
    status_label: str
    priority: bool
    hall_code: str
    item: str
    item_name: str
    day: dt.date
    issued_at: dt.datetime
    called_at: dt.datetime | None
    call_count: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    window_number: str | None
    waiting_ahead: int = Field(description="Waiting tickets of the same group before this one")


class ScreenCallOut(Schema):
    number: str
    window_number: str
    status: str


class ScreenGroupOut(Schema):
    letter: str
    windows: list[str]
    waiting: int


class ScreenOut(Schema):
    hall_code: str
    hall_name: str
    calls: list[ScreenCallOut]
    groups: list[ScreenGroupOut]


class FigureOut(Schema):
    day: dt.date
    department_id: int
    department_name: str
    item: str | None = Field(description="实施编码; null for the department's total")
    item_name: str | None
    issued: int
    served: int
    median_wait_seconds: float | None
    p90_wait_seconds: float | None
    median_service_seconds: float | None


def _hm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _appointment_out(appointment: Appointment) -> dict[str, Any]:
    ticket = getattr(appointment, "ticket", None)  # the reverse one-to-one raises when there is none
    return {
        "id": appointment.pk, "code": appointment.code, "status": appointment.status,
        "status_label": appointment.get_status_display(), "item": appointment.item.impl_code,
        "item_name": appointment.item.name, "hall_code": appointment.hall.code, "hall_name": appointment.hall.name,
        "window_number": appointment.window.number, "window_name": appointment.window.name,
        "date": appointment.date, "start": _hm(appointment.start), "end": _hm(appointment.end),
        "ticket_number": ticket.number if ticket else None,
    }


def _ticket_out(ticket: QueueTicket) -> dict[str, Any]:
    return {
        "id": ticket.pk, "number": ticket.number, "status": ticket.status, "status_label": ticket.status_label,
        "priority": ticket.priority, "hall_code": ticket.hall.code, "item": ticket.item.impl_code,
        "item_name": ticket.item.name, "day": ticket.day, "issued_at": ticket.issued_at,
        "called_at": ticket.called_at, "call_count": ticket.call_count, "started_at": ticket.started_at,
        "finished_at": ticket.finished_at, "window_number": ticket.window.number if ticket.window else None,
        "waiting_ahead": selectors.waiting_ahead(ticket),
    }


def _parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


# --- applicants -----------------------------------------------------------------------------------


@router.get("/slots", response={200: list[SlotOut], **ERRORS}, summary="Free slots for an item on a day")
def slots_list(
    request: HttpRequest,
    item: str = Query(..., pattern=IMPL_CODE, description="实施编码"),
    date: dt.date = Query(..., ge=EARLIEST, le=LATEST),
) -> list[dict[str, Any]]:
    """Every slot not yet started at the windows taking appointments for the item; `free` is 0
    when a slot is full. A day the windows do not open (not a working day, past, too far) is empty."""
    found = selectors.bookable_item(item)
    return [
        {"window_id": slot.window.pk, "window_number": slot.window.number, "window_name": slot.window.name,
         "hall_code": slot.window.hall.code, "hall_name": slot.window.hall.name, "date": slot.date,
         "start": _hm(slot.start), "end": _hm(slot.end), "capacity": slot.capacity, "free": slot.free}
        for slot in selectors.free_slots(found, date)
    ]


@router.get("/appointments", response={200: list[AppointmentOut], **ERRORS}, summary="My appointments")
def appointments_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_appointment_out(a) for a in selectors.my_appointments(request.auth)[:200]]


@router.post("/appointments", response={201: AppointmentOut, **ERRORS}, summary="Book a slot")
def appointments_book(request: HttpRequest, payload: AppointmentIn) -> Status:
    """Refused (400/409) for a past day, a non-working day, a day beyond the booking horizon, a
    slot not in the schedule or already started, a full slot, or a second appointment for the
    same item and day."""
    item = selectors.bookable_item(payload.item)
    window = next((w for w in selectors.item_windows(item) if w.pk == payload.window_id), None)
    if window is None:
        raise InvalidInput(_("所选窗口不办理该事项，或不开放预约。"), field="window_id")
    appointment = services.appointment_book(
        actor=request.auth, item=item, window=window, date=payload.date, start=_parse_time(payload.start)
    )
    return Status(201, _appointment_out(appointment))


@router.post(
    "/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **ERRORS}, summary="Cancel my appointment"
)
def appointments_cancel(request: HttpRequest, appointment_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    appointment = selectors.my_appointment(request.auth, appointment_id)
    return _appointment_out(services.appointment_cancel(actor=request.auth, appointment=appointment))


# --- the kiosk ----------------------------------------------------------------------------------------


@router.post("/halls/{code}/tickets", response={201: TicketOut, **ERRORS}, summary="Issue a ticket (kiosk)")
def tickets_issue(request: HttpRequest, payload: TicketIn, code: str = Path(..., pattern=HALL_CODE)) -> Status:
    hall = selectors.kiosk_hall(request.auth, code)
    wanted = payload.item.upper()
    item = next((i for group in selectors.kiosk_items(hall) for i in group.items if i.impl_code == wanted), None)
    if item is None:
        raise NotFound(_("本大厅不办理该事项。"))
    return Status(201, _ticket_out(services.ticket_issue(actor=request.auth, hall=hall, item=item)))


@router.post("/halls/{code}/check-in", response={201: TicketOut, **ERRORS}, summary="Check in an appointment (kiosk)")
def appointments_check_in(request: HttpRequest, payload: CheckInIn, code: str = Path(..., pattern=HALL_CODE)) -> Status:
    hall = selectors.kiosk_hall(request.auth, code)
    return Status(201, _ticket_out(services.appointment_check_in(actor=request.auth, hall=hall, code=payload.code)))


@router.get("/halls/{code}/screen", auth=None, response={200: ScreenOut, 404: ErrorOut, 422: ValidationErrorOut},
            summary="The calling screen's board (public)")
def screen_board(request: HttpRequest, code: str = Path(..., pattern=HALL_CODE)) -> dict[str, Any]:
    state = selectors.screen(selectors.public_hall(code))
    return {
        "hall_code": state.hall.code, "hall_name": state.hall.name,
        "calls": [{"number": t.number, "window_number": t.window.number if t.window else "", "status": t.status}
                  for t in state.calls],
        "groups": [{"letter": g.letter, "windows": g.windows, "waiting": g.waiting} for g in state.groups],
    }


# --- window clerks --------------------------------------------------------------------------------------


@router.post("/windows/{window_id}/call-next", response={200: TicketOut, **ERRORS}, summary="Call the next ticket")
def tickets_call_next(request: HttpRequest, window_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """409 when nothing waits or the window still has a ticket called or in service."""
    window = selectors.clerk_window(request.auth, window_id)
    return _ticket_out(services.ticket_call_next(actor=request.auth, window=window))


def _ticket_action(request: HttpRequest, ticket_id: int, action: Any, **kwargs: Any) -> dict[str, Any]:
    ticket = selectors.clerk_ticket(request.auth, ticket_id)
    return _ticket_out(action(actor=request.auth, ticket=ticket, **kwargs))


@router.post("/tickets/{ticket_id}/recall", response={200: TicketOut, **ERRORS}, summary="Call a ticket again")
def tickets_recall(request: HttpRequest, ticket_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    return _ticket_action(request, ticket_id, services.ticket_recall)


@router.post("/tickets/{ticket_id}/start", response={200: TicketOut, **ERRORS}, summary="Start serving a ticket")
def tickets_start(request: HttpRequest, ticket_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    return _ticket_action(request, ticket_id, services.ticket_start)


@router.post("/tickets/{ticket_id}/skip", response={200: TicketOut, **ERRORS}, summary="Skip a called ticket (过号)")
def tickets_skip(request: HttpRequest, ticket_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    return _ticket_action(request, ticket_id, services.ticket_skip)


@router.post("/tickets/{ticket_id}/finish", response={200: TicketOut, **ERRORS}, summary="Finish a ticket")
def tickets_finish(
    request: HttpRequest, payload: FinishIn, ticket_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    """With `case_number`, the visit is also recorded on that case of the window's department."""
    kwargs: dict[str, Any] = {}
    number = (payload.case_number or "").strip()
    if number:
        try:
            kwargs["case"] = selectors.case_for_clerk(request.auth, number)
        except NotFound as exc:
            raise InvalidInput(exc.message, field="case_number") from None
    return _ticket_action(request, ticket_id, services.ticket_finish, **kwargs)


# --- figures -----------------------------------------------------------------------------------------------


@router.get("/figures", response={200: list[FigureOut], **ERRORS}, summary="Waiting-time figures")
def figures_list(
    request: HttpRequest,
    date_from: dt.date = Query(..., ge=EARLIEST, le=LATEST),
    date_to: dt.date | None = Query(None, ge=EARLIEST, le=LATEST, description="Default: date_from; at most 31 days"),
    department: int | None = Query(None, ge=1, le=MAX_ID, description="Department id"),
) -> list[dict[str, Any]]:
    """Per day, department and item (and a total per day and department, `item` null): tickets
    issued and served, median and 90th-percentile wait from issue to first call, median service
    time. Only departments within the caller's scope."""
    chosen = None
    if department is not None:
        chosen = selectors.figure_departments(request.auth).filter(pk=department).first()
        if chosen is None:
            raise NotFound(_("没有找到该部门。"))
    rows = selectors.figures(request.auth, date_from=date_from, date_to=date_to or date_from, department=chosen)
    return [
        {"day": row.day, "department_id": row.department.pk, "department_name": row.department.name,
         "item": row.item.impl_code if row.item else None, "item_name": row.item.name if row.item else None,
         "issued": row.issued, "served": row.served, "median_wait_seconds": row.median_wait,
         "p90_wait_seconds": row.p90_wait, "median_service_seconds": row.median_service}
        for row in rows
    ]
