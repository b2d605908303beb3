"""The hall's pages: booking and my appointments on the portal, the kiosk, the calling screen,
the clerk's desk and the figures; each renders, posts through the services and keeps the CSP
rules (no inline script or style)."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from onewindow.hall import services
from onewindow.hall.choices import AppointmentStatus, TicketStatus
from onewindow.hall.models import Appointment, QueueTicket
from tests.hall.conftest import NINE, SATURDAY, THURSDAY, WEDNESDAY

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def assert_csp_clean(text: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline script"
    assert " style=" not in text and "<style" not in text, "inline style"
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text, "external resource"


# --- booking ------------------------------------------------------------------------------------


def test_booking_walks_from_item_to_day_to_slot_and_books(client_as, item, window, people):
    client = client_as(people.citizen)
    url = reverse("hall:book")
    start = client.get(url)
    assert start.status_code == 200 and item.name in html(start)
    assert_csp_clean(html(start))
    days = client.get(url, {"item": item.impl_code})
    assert f"date={THURSDAY:%Y-%m-%d}" in html(days) and f"date={SATURDAY:%Y-%m-%d}" not in html(days)
    slots = client.get(url, {"item": item.impl_code, "date": THURSDAY.isoformat()})
    page = html(slots)
    assert f'value="{window.pk}|09:00"' in page and "09:00–09:30" in page
    assert_csp_clean(page)
    response = client.post(url, {"item": item.impl_code, "date": THURSDAY.isoformat(), "slot": f"{window.pk}|09:00"})
    assert response.status_code == 302 and response["Location"] == reverse("hall:appointments")
    appointment = Appointment.objects.get(applicant=people.citizen)
    mine = client.get(reverse("hall:appointments"))
    assert appointment.code in html(mine) and reverse("hall:cancel", args=[appointment.pk]) in html(mine)
    assert_csp_clean(html(mine))


def test_a_refused_booking_shows_the_reason_and_its_status(client_as, item, window, people):
    client = client_as(people.citizen)
    url = reverse("hall:book")
    weekend = client.post(url, {"item": item.impl_code, "date": SATURDAY.isoformat(), "slot": f"{window.pk}|09:00"})
    assert weekend.status_code == 400 and "不是工作日" in html(weekend)
    missing = client.post(url, {"item": item.impl_code, "date": THURSDAY.isoformat()})
    assert missing.status_code == 400 and "请选择预约日期和时段" in html(missing)
    assert not Appointment.objects.exists()
    assert client.get(url, {"item": "NO-SUCH-ITEM"}).status_code == 404


def test_cancel_from_my_appointments(client_as, item, window, people):
    appointment = services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE)
    client = client_as(people.citizen)
    response = client.post(reverse("hall:cancel", args=[appointment.pk]))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    again = client.post(reverse("hall:cancel", args=[appointment.pk]))
    assert again.status_code == 409 and "已取消" in html(again)


# --- kiosk ----------------------------------------------------------------------------------------


def test_kiosk_takes_a_ticket_and_prints_it(client_as, hall, item, window, people):
    client = client_as(people.clerk)
    page = client.get(reverse("hall:kiosk", args=[hall.code]))
    assert page.status_code == 200 and item.name in html(page) and "预约签到" in html(page)
    assert_csp_clean(html(page))
    response = client.post(reverse("hall:kiosk_take", args=[hall.code]), {"item": item.pk})
    ticket = QueueTicket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("hall:kiosk_ticket", args=[hall.code, ticket.pk])
    printed = client.get(response["Location"])
    assert ticket.number in html(printed) and "前面还有 0 人等候" in html(printed)
    assert "hall/kiosk.js" in html(printed) and "data-print" in html(printed)
    assert_csp_clean(html(printed))
    second = client.post(reverse("hall:kiosk_take", args=[hall.code]), {"item": item.pk})
    assert "前面还有 1 人等候" in html(client.get(second["Location"]))


def test_kiosk_checks_in_by_code_and_explains_refusals(client_as, hall, item, window, people, hall_clock):
    appointment = services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE)
    client = client_as(people.clerk)
    url = reverse("hall:kiosk_check_in", args=[hall.code])
    not_today = client.post(url, {"code": appointment.code})
    assert not_today.status_code == 404 and "没有找到本大厅今天的这个预约码" in html(not_today)
    hall_clock.set(THURSDAY, "07:30")
    early = client.post(url, {"code": appointment.code})
    assert early.status_code == 409 and "请在时段开始前一小时内签到" in html(early)
    hall_clock.set(THURSDAY, "08:30")
    response = client.post(url, {"code": appointment.code})
    ticket = QueueTicket.objects.get()
    assert response.status_code == 302 and ticket.priority
    assert "预约优先" in html(client.get(response["Location"]))
    malformed = client.post(url, {"code": "01"})
    assert malformed.status_code == 400 and "预约码应为6位" in html(malformed)


# --- calling screen -----------------------------------------------------------------------------


def test_calling_screen_shows_calls_and_waiting_and_polls_every_five_seconds(client, hall, item, window, people,
                                                                            hall_clock):
    hall_clock.set(WEDNESDAY, "09:00")
    for _ in range(3):
        services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    called = services.ticket_call_next(actor=people.clerk, window=window)
    page = client.get(reverse("hall:screen", args=[hall.code]))
    text = html(page)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    board_url = reverse("hall:screen_board", args=[hall.code])
    assert f'hx-get="{board_url}"' in text and 'hx-trigger="every 5s"' in text
    assert "onewindow/vendor/htmx/htmx.min.js" in text
    assert_csp_clean(text)
    board = html(client.get(board_url))
    assert called.number in board and "11 号窗口" in board and "2 人" in board
    assert "<html" not in board
    assert people.citizen.username not in board
    assert client.get(reverse("hall:screen", args=["no-such-hall"])).status_code == 404


# --- the clerk's desk ---------------------------------------------------------------------------------


def test_desk_calls_starts_and_finishes_with_a_case(client_as, hall, item, window, people, submitted_case):
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    client = client_as(people.clerk)
    desk = client.get(reverse("hall:desk"))
    assert desk.status_code == 302 and desk["Location"] == reverse("hall:desk_window", args=[window.pk])
    panel = client.get(desk["Location"])
    assert panel.status_code == 200 and "叫下一个号" in html(panel)
    assert f'hx-get="{reverse("hall:desk_waiting", args=[window.pk])}"' in html(panel)
    assert_csp_clean(html(panel))
    assert client.post(reverse("hall:call_next", args=[window.pk])).status_code == 302
    ticket = QueueTicket.objects.get()
    assert ticket.status == TicketStatus.CALLED
    assert client.post(reverse("hall:ticket_action", args=[ticket.pk, "start"])).status_code == 302
    wrong = client.post(reverse("hall:ticket_action", args=[ticket.pk, "finish"]), {"case_number": "NOPE"})
    assert wrong.status_code == 400 and "没有找到本部门编号" in html(wrong)
    done = client.post(reverse("hall:ticket_action", args=[ticket.pk, "finish"]),
                       {"case_number": submitted_case.number})
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.case_id) == (TicketStatus.DONE, submitted_case.pk)
    empty = client.post(reverse("hall:call_next", args=[window.pk]))
    assert empty.status_code == 409 and "当前没有等候的号" in html(empty)
    assert client.post(reverse("hall:ticket_action", args=[ticket.pk, "explode"])).status_code == 404


def test_desk_lists_windows_when_there_are_several(client_as, hall, item, window, window2, people, world):
    from onewindow.accounts.models import StaffProfile

    client = client_as(people.clerk)
    page = client.get(reverse("hall:desk"))
    assert page.status_code == 200
    for each in (window, window2):
        assert reverse("hall:desk_window", args=[each.pk]) in html(page)
    assert reverse("hall:kiosk", args=[hall.code]) in html(page)
    # A clerk whose staff profile names a window ("A12" in this hall) goes straight to it.
    StaffProfile.objects.create(user=people.clerk, department=world.market, hall=hall.name, window_number="A12")
    assert client.get(reverse("hall:desk"))["Location"] == reverse("hall:desk_window", args=[window2.pk])


# --- figures ----------------------------------------------------------------------------------------


def test_figures_page(client_as, hall, item, window, people, hall_clock):
    hall_clock.set(WEDNESDAY, "09:00")
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    hall_clock.advance(minutes=6)
    services.ticket_call_next(actor=people.clerk, window=window)
    client = client_as(people.clerk)
    page = client.get(reverse("hall:figures"), {"date_from": WEDNESDAY.isoformat(), "date_to": WEDNESDAY.isoformat()})
    assert page.status_code == 200 and item.name in html(page) and "6.0" in html(page)
    assert_csp_clean(html(page))
    wide = client.get(reverse("hall:figures"), {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert wide.status_code == 400 and "最多统计" in html(wide)
    assert client.get(reverse("hall:figures"), {"date_from": "garbage"}).status_code == 200


def test_navigation_links_to_the_hall(client_as, people, window):
    portal = html(client_as(people.citizen).get(reverse("core:home")))
    assert reverse("hall:appointments") in portal
    workbench = html(client_as(people.clerk).get(reverse("core:workbench")))
    assert reverse("hall:desk") in workbench and reverse("hall:figures") in workbench
    assert reverse("hall:desk") not in html(client_as(people.citizen).get(reverse("core:home")))


def test_pages_in_english_keep_working(client_as, item, window, people):
    from django.utils import translation

    with translation.override("en"):
        url = reverse("hall:book")
    assert url.startswith("/en/")
    friday = (THURSDAY + dt.timedelta(days=1)).isoformat()
    assert client_as(people.citizen).get(url, {"item": item.impl_code, "date": friday}).status_code == 200
