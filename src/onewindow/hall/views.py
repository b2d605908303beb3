"""The service hall on the web: booking and my appointments on the portal, the kiosk (取号机) and
the calling screen (叫号屏) in the hall, the window clerk's queue desk and the waiting-time
figures in the workbench.

Thin views: reads through `selectors`, every change through `services`. A refusal is shown with
the service's message and its 4xx status and changes nothing; a successful POST redirects.
The calling screen is public (ticket and window numbers only) and refreshes its board every
five seconds with htmx polling.
"""

import datetime as dt
import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from onewindow.accounts.choices import Role
from onewindow.accounts.permissions import account_required, role_required, staff_required
from onewindow.core.errors import DomainError, InvalidInput, NotFound
from onewindow.core.refusals import problem_page, refusals_as, render_in_shell
from onewindow.evaluation import services as evaluation
from onewindow.hall import clock, selectors, services
from onewindow.hall.choices import AppointmentStatus
from onewindow.hall.models import Window

MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")
_IMPL_CODE = re.compile(r"[0-9A-Za-z-]{1,36}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
TICKET_ACTIONS = {
    "recall": services.ticket_recall,
    "start": services.ticket_start,
    "skip": services.ticket_skip,
    "finish": services.ticket_finish,
}


domain_errors = refusals_as(problem_page())


def _id(value: Any) -> int | None:
    text = value if isinstance(value, str) else ""
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _day(value: Any) -> dt.date | None:
    text = value if isinstance(value, str) else ""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _time(value: Any) -> dt.time | None:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    return dt.time(int(match[1]), int(match[2])) if match else None


# --- portal: booking and my appointments ------------------------------------------------------


@require_safe
@account_required
def appointments_view(request: HttpRequest) -> HttpResponse:
    """我的预约: the applicant's appointments, newest first, with cancel for those not started."""
    now = clock.now()
    appointments = list(selectors.my_appointments(request.user)[:100])
    for appointment in appointments:
        appointment.cancellable = appointment.status == AppointmentStatus.BOOKED and appointment.starts_at > now
    return render_in_shell(request, "hall/appointments.html", {"appointments": appointments})


def _booking_context(data: Any) -> dict[str, Any]:
    """The booking steps as far as `data` (GET or POST) takes them: item → day → slot."""
    q = (data.get("q") or "").strip()[:50]
    context: dict[str, Any] = {"q": q, "item": None, "days": [], "day": None, "windows": []}
    impl_code = data.get("item") or ""
    if not impl_code:
        context["items"] = selectors.bookable_items(q=q)
        return context
    if not _IMPL_CODE.fullmatch(impl_code):
        raise NotFound(_("没有找到可预约的该事项。"))
    item = selectors.bookable_item(impl_code)
    context["item"] = item
    context["days"] = selectors.booking_days(item)
    day = _day(data.get("date"))
    if day is None or day not in context["days"]:
        return context
    context["day"] = day
    by_window: dict[int, dict[str, Any]] = {}
    for slot in selectors.free_slots(item, day):
        by_window.setdefault(slot.window.pk, {"window": slot.window, "slots": []})["slots"].append(slot)
    context["windows"] = list(by_window.values())
    return context


@require_http_methods(["GET", "HEAD", "POST"])
@account_required
@domain_errors
def book_view(request: HttpRequest) -> HttpResponse:
    """预约: choose the item, then a working day, then a slot with free places."""
    if request.method != "POST":
        return render_in_shell(request, "hall/book.html", _booking_context(request.GET))
    context = _booking_context(request.POST)
    # A slot is posted as "<window id>|<HH:MM>".
    window_text, _sep, start_text = (request.POST.get("slot") or "").partition("|")
    window_id, day, start = _id(window_text), _day(request.POST.get("date")), _time(start_text)
    item = context["item"]
    window = next((w for w in selectors.item_windows(item) if w.pk == window_id), None) if item else None
    try:
        if window is None or day is None or start is None:
            raise InvalidInput(_("请选择预约日期和时段。"), field="start")
        appointment = services.appointment_book(actor=request.user, item=item, window=window, date=day, start=start)
    except DomainError as exc:
        context["error"] = exc.message
        return render_in_shell(request, "hall/book.html", context, status=exc.status_code)
    messages.success(request, _("预约成功，预约码 %(code)s。请在时段开始前一小时内到大厅取号机签到。") % {"code": appointment.code})
    return redirect("hall:appointments")


@require_POST
@account_required
@domain_errors
def cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.my_appointment(request.user, pk)
    services.appointment_cancel(actor=request.user, appointment=appointment)
    messages.success(request, _("已取消 %(date)s %(start)s 的预约。") % {
        "date": appointment.date.isoformat(), "start": appointment.start.strftime("%H:%M")})
    return redirect("hall:appointments")


# --- the kiosk ----------------------------------------------------------------------------------


@require_safe
@staff_required
@domain_errors
def kiosk_view(request: HttpRequest, code: str) -> HttpResponse:
    """取号机: take a ticket for an item, or check in an appointment by its code."""
    hall = selectors.kiosk_hall(request.user, code)
    return render(request, "hall/kiosk.html", {"hall": hall, "groups": selectors.kiosk_items(hall)})


def _kiosk_refusal(request: HttpRequest, hall: Any, exc: DomainError) -> HttpResponse:
    context = {"hall": hall, "groups": selectors.kiosk_items(hall), "error": exc.message}
    return render(request, "hall/kiosk.html", context, status=exc.status_code)


@require_POST
@staff_required
@domain_errors
def kiosk_take_view(request: HttpRequest, code: str) -> HttpResponse:
    hall = selectors.kiosk_hall(request.user, code)
    try:
        item_id = _id(request.POST.get("item"))
        if item_id is None:
            raise InvalidInput(_("请选择要办理的事项。"), field="item")
        ticket = services.ticket_issue(actor=request.user, hall=hall, item=selectors.kiosk_item(hall, item_id))
    except DomainError as exc:
        return _kiosk_refusal(request, hall, exc)
    return redirect("hall:kiosk_ticket", code=hall.code, pk=ticket.pk)


@require_POST
@staff_required
@domain_errors
def kiosk_check_in_view(request: HttpRequest, code: str) -> HttpResponse:
    hall = selectors.kiosk_hall(request.user, code)
    try:
        ticket = services.appointment_check_in(actor=request.user, hall=hall, code=request.POST.get("code", ""))
    except DomainError as exc:
        return _kiosk_refusal(request, hall, exc)
    return redirect("hall:kiosk_ticket", code=hall.code, pk=ticket.pk)


@require_safe
@staff_required
@domain_errors
def kiosk_ticket_view(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """The ticket as printed: number, item, time, how many wait before it, and the QR code that
    leads to rating this one visit (一次一评; no sign-in needed). The code points at the
    platform's public address when one is set (the kiosk's own address may be a hall network
    phones cannot reach)."""
    hall = selectors.kiosk_hall(request.user, code)
    ticket = selectors.kiosk_ticket(request.user, hall, pk)
    base_url = evaluation.public_base_url() or request.build_absolute_uri("/").rstrip("/")
    return render(request, "hall/kiosk_ticket.html", {
        "hall": hall, "ticket": ticket, "ahead": selectors.waiting_ahead(ticket),
        "rating_url": evaluation.visit_rating_url(ticket, base_url=base_url),
    })


# --- the calling screen (public) ------------------------------------------------------------------


def _public_hall(code: str) -> Any:
    try:
        return selectors.public_hall(code)
    except NotFound:
        raise Http404 from None


@require_safe
def screen_view(request: HttpRequest, code: str) -> HttpResponse:
    """叫号屏: the hall's calling screen; its board refreshes itself every five seconds."""
    response = render(request, "hall/screen.html", {"state": selectors.screen(_public_hall(code))})
    patch_cache_control(response, no_store=True)
    return response


@require_safe
def screen_board_view(request: HttpRequest, code: str) -> HttpResponse:
    """The board alone, for the screen's polling."""
    response = render(request, "hall/_screen_board.html", {"state": selectors.screen(_public_hall(code))})
    patch_cache_control(response, no_store=True)
    return response


# --- the clerk's desk ------------------------------------------------------------------------------


@require_safe
@role_required(Role.WINDOW_CLERK)
def desk_view(request: HttpRequest) -> HttpResponse:
    """取号叫号: the windows the clerk may work at; straight to the only one, or to the one the
    clerk's staff profile names."""
    windows = list(selectors.clerk_windows(request.user))
    chosen = windows[0] if len(windows) == 1 else selectors.own_window(request.user, windows)
    if chosen is not None:
        return redirect("hall:desk_window", pk=chosen.pk)
    return render(request, "hall/desk.html", {"windows": windows, "halls": selectors.staff_halls(request.user)})


def _desk(request: HttpRequest, window: Window, *, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "hall/desk_window.html", {
        "state": selectors.desk(window), "windows": list(selectors.clerk_windows(request.user)), "error": error,
        "halls": selectors.staff_halls(request.user),
    }, status=status)


@require_safe
@role_required(Role.WINDOW_CLERK)
@domain_errors
def desk_window_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _desk(request, selectors.clerk_window(request.user, pk))


@require_safe
@role_required(Role.WINDOW_CLERK)
@domain_errors
def desk_waiting_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The waiting list alone, for the desk's polling."""
    window = selectors.clerk_window(request.user, pk)
    return render(request, "hall/_desk_waiting.html", {"state": selectors.desk(window)})


@require_POST
@role_required(Role.WINDOW_CLERK)
@domain_errors
def call_next_view(request: HttpRequest, pk: int) -> HttpResponse:
    window = selectors.clerk_window(request.user, pk)
    try:
        ticket = services.ticket_call_next(actor=request.user, window=window)
    except DomainError as exc:
        return _desk(request, window, error=exc.message, status=exc.status_code)
    messages.success(request, _("已叫号：请 %(number)s 号到 %(window)s 号窗口。") % {
        "number": ticket.number, "window": window.number})
    return redirect("hall:desk_window", pk=window.pk)


@require_POST
@role_required(Role.WINDOW_CLERK)
@domain_errors
def ticket_action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in TICKET_ACTIONS:
        raise Http404
    ticket = selectors.clerk_ticket(request.user, pk)
    window = ticket.window
    if window is None:
        raise DomainError(_("该号尚未被叫到窗口。"))
    try:
        kwargs: dict[str, Any] = {}
        if action == "finish":
            number = (request.POST.get("case_number") or "").strip()
            if number:
                try:
                    kwargs["case"] = selectors.case_for_clerk(request.user, number)
                except NotFound as exc:
                    raise InvalidInput(exc.message, field="case_number") from None
        TICKET_ACTIONS[action](actor=request.user, ticket=ticket, **kwargs)
    except DomainError as exc:
        return _desk(request, window, error=exc.message, status=exc.status_code)
    done = {
        "recall": _("已重复叫号 %(number)s。"), "start": _("%(number)s 号开始办理。"),
        "skip": _("%(number)s 号已过号。"), "finish": _("%(number)s 号已办结。"),
    }[action]
    messages.success(request, done % {"number": ticket.number})
    return redirect("hall:desk_window", pk=window.pk)


# --- waiting-time figures -----------------------------------------------------------------------------


def _minutes(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


@require_safe
@staff_required
@domain_errors
def figures_view(request: HttpRequest) -> HttpResponse:
    """等候时长: per day, department and item, tickets issued and served, median and 90th
    percentile wait and median service time."""
    today = clock.today()
    date_to = _day(request.GET.get("date_to")) or today
    date_from = _day(request.GET.get("date_from")) or date_to
    departments = list(selectors.figure_departments(request.user))
    department_id = _id(request.GET.get("department"))
    department = next((d for d in departments if d.pk == department_id), None)
    error, status, rows = "", 200, []
    try:
        rows = selectors.figures(request.user, date_from=date_from, date_to=date_to, department=department)
    except InvalidInput as exc:
        error, status = exc.message, exc.status_code
    table = [{
        "row": row, "median_wait": _minutes(row.median_wait), "p90_wait": _minutes(row.p90_wait),
        "median_service": _minutes(row.median_service),
    } for row in rows]
    return render(request, "hall/figures.html", {
        "table": table, "date_from": date_from, "date_to": date_to, "departments": departments,
        "department": department, "error": error,
    }, status=status)

