"""Appointments and the queue through the services: booking rules, check-in, numbering, calling
order, the ticket lifecycle, the day-end sweep and the waiting-time figures."""

import datetime as dt

import pytest

from onewindow.accounts.choices import AccountKind, Role
from onewindow.accounts.models import RoleAssignment, User
from onewindow.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from onewindow.core.models import AuditEntry, Notification
from onewindow.hall import selectors, services
from onewindow.hall.choices import AppointmentStatus, TicketStatus
from onewindow.hall.models import Appointment, QueueTicket, SlotCounter
from tests.hall.conftest import LAST_BOOKABLE, NINE, SATURDAY, THURSDAY, WEDNESDAY

pytestmark = pytest.mark.django_db


def book(actor, item, window, day=THURSDAY, start=NINE):
    return services.appointment_book(actor=actor, item=item, window=window, date=day, start=start)


def list_items(world, window, items):
    """Make `window` handle only `items`."""
    services.window_save(actor=world.admin, window=window, hall=window.hall, department=window.department,
                         number=window.number, name=window.name, queue_letter=window.queue_letter, items=items)


def places(window, day=THURSDAY, start=NINE) -> int:
    row = SlotCounter.objects.filter(window=window, date=day, start=start).first()
    return row.booked if row else 0


# --- booking -----------------------------------------------------------------------------------


def test_booking_takes_a_place_gives_a_code_and_tells_the_applicant(world, item, window, people):
    appointment = book(people.citizen, item, window)
    assert appointment.status == AppointmentStatus.BOOKED
    assert len(appointment.code) == 6 and set(appointment.code) <= set(services.CODE_ALPHABET)
    assert (appointment.start, appointment.end) == (NINE, dt.time(9, 30))
    assert appointment.hall_id == window.hall_id and appointment.department_id == world.market.pk
    assert places(window) == 1
    entry = AuditEntry.objects.get(action="hall.appointment.book")
    assert entry.object_id == str(appointment.pk) and appointment.code in entry.changes
    notice = Notification.objects.get(recipient=people.citizen)
    assert appointment.code in notice.body and "09:00" in notice.body


def test_a_day_that_is_not_a_working_day_is_refused(item, window, people):
    with pytest.raises(InvalidInput, match="不是工作日") as refused:
        book(people.citizen, item, window, day=SATURDAY)
    assert refused.value.field == "date"
    assert not Appointment.objects.exists() and places(window, SATURDAY) == 0


def test_a_regional_holiday_of_the_departments_region_is_refused(world, item, window, people):
    from onewindow.core.models.calendar import CalendarDayKind, CalendarYearStatus
    from onewindow.core.services.calendar import calendar_day_create, calendar_year_save

    calendar_day_create(actor=None, date=dt.date(2026, 10, 1), kind=CalendarDayKind.HOLIDAY, name="国庆节")
    calendar_year_save(actor=None, year=2026, status=CalendarYearStatus.CONFIRMED)
    calendar_day_create(actor=None, date=THURSDAY, region=world.city, kind=CalendarDayKind.HOLIDAY, name="地方节日")
    with pytest.raises(InvalidInput, match="不是工作日"):
        book(people.citizen, item, window)
    assert THURSDAY not in selectors.booking_days(item)
    assert book(people.citizen, item, window, day=THURSDAY + dt.timedelta(days=1)).status == AppointmentStatus.BOOKED


def test_the_past_and_started_slots_are_refused(item, window, people, hall_clock):
    with pytest.raises(InvalidInput, match="今天以前"):
        book(people.citizen, item, window, day=WEDNESDAY - dt.timedelta(days=1))
    hall_clock.set(WEDNESDAY, "09:05")
    with pytest.raises(InvalidInput, match="已开始"):
        book(people.citizen, item, window, day=WEDNESDAY, start=NINE)
    assert book(people.citizen, item, window, day=WEDNESDAY, start=dt.time(9, 30)).date == WEDNESDAY
    assert not SlotCounter.objects.filter(start=NINE).exists()


def test_days_beyond_the_horizon_and_times_outside_the_schedule_are_refused(item, window, people):
    with pytest.raises(InvalidInput, match="个工作日以内"):
        book(people.citizen, item, window, day=LAST_BOOKABLE + dt.timedelta(days=1))
    with pytest.raises(InvalidInput, match="不是该窗口的预约时段"):
        book(people.citizen, item, window, start=dt.time(9, 10))
    with pytest.raises(InvalidInput, match="不是该窗口的预约时段"):
        book(people.citizen, item, window, start=dt.time(12, 0))  # lunch break
    assert book(people.citizen, item, window, day=LAST_BOOKABLE).date == LAST_BOOKABLE


def test_a_full_slot_is_refused_and_changes_nothing(world, item, window, people, make_user):
    third = make_user("citizen3")
    book(people.citizen, item, window)
    book(people.citizen2, item, window)
    entries = AuditEntry.objects.count()
    with pytest.raises(DomainError, match="已约满"):
        book(third, item, window)
    assert places(window) == 2
    assert Appointment.objects.filter(applicant=third).count() == 0
    assert AuditEntry.objects.count() == entries
    assert book(third, item, window, start=dt.time(9, 30)).start == dt.time(9, 30)


def test_one_active_appointment_per_applicant_item_and_day(item, other_item, window, people):
    first = book(people.citizen, item, window)
    with pytest.raises(DomainError, match="只能预约一次"):
        book(people.citizen, item, window, start=dt.time(10, 0))
    assert places(window, start=dt.time(10, 0)) == 0
    # Another item the same day, or the same item another day, is fine.
    book(people.citizen, other_item, window, start=dt.time(10, 0))
    book(people.citizen, item, window, day=THURSDAY + dt.timedelta(days=1))
    services.appointment_cancel(actor=people.citizen, appointment=first)
    assert book(people.citizen, item, window, start=dt.time(10, 30)).status == AppointmentStatus.BOOKED


def test_only_applicant_accounts_book_and_only_for_windows_serving_the_item(world, item, window, people, hall,
                                                                               make_user):
    with pytest.raises(PermissionDenied):
        book(people.clerk, item, window)
    with pytest.raises(PermissionDenied):
        book(None, item, window)
    foreign = services.window_save(actor=world.admin, hall=hall, department=world.other, number="41",
                                   name="民政窗口", queue_letter="D")
    services.schedule_save(actor=world.admin, window=foreign)
    with pytest.raises(InvalidInput, match="不办理该事项"):
        book(people.citizen, item, foreign)


def test_a_window_without_an_open_schedule_takes_no_appointments(item, window2, people):
    with pytest.raises(DomainError, match="暂不开放预约"):
        book(people.citizen, item, window2)


def test_repeated_no_shows_suspend_booking(item, window, people, hall_clock):
    for day in (dt.date(2026, 12, 1), dt.date(2026, 12, 2), dt.date(2026, 12, 3)):
        hall_clock.set(day, "08:00")
        book(people.citizen, item, window, day=day)
        hall_clock.set(day, "18:00")
        assert services.appointment_mark_missed() == 1
    hall_clock.set(WEDNESDAY, "08:00")
    with pytest.raises(DomainError, match="爽约 3 次"):
        book(people.citizen, item, window)


def test_cancelling_gives_the_place_back_until_the_slot_starts(item, window, people, hall_clock):
    appointment = book(people.citizen, item, window)
    with pytest.raises(PermissionDenied):
        services.appointment_cancel(actor=people.citizen2, appointment=appointment)
    cancelled = services.appointment_cancel(actor=people.citizen, appointment=appointment)
    assert cancelled.status == AppointmentStatus.CANCELLED and places(window) == 0
    with pytest.raises(DomainError, match="已取消"):
        services.appointment_cancel(actor=people.citizen, appointment=appointment)
    later = book(people.citizen, item, window)
    hall_clock.set(THURSDAY, "09:00")
    with pytest.raises(DomainError, match="已开始"):
        services.appointment_cancel(actor=people.citizen, appointment=later)
    assert places(window) == 1


def test_free_slots_show_places_left_and_skip_started_slots(item, window, people, hall_clock):
    book(people.citizen, item, window)
    slots = {slot.start: slot for slot in selectors.free_slots(item, THURSDAY)}
    assert len(slots) == 13  # 6 in the morning, 7 in the afternoon
    assert slots[NINE].free == 1 and slots[dt.time(16, 30)].end == dt.time(17, 0)
    assert selectors.free_slots(item, SATURDAY) == []
    hall_clock.set(THURSDAY, "11:00")
    assert min(slot.start for slot in selectors.free_slots(item, THURSDAY)) == dt.time(11, 30)
    assert selectors.booking_days(item)[0] == THURSDAY
    hall_clock.set(THURSDAY, "16:30")  # the last slot has started: today is no longer offered
    assert selectors.booking_days(item)[0] == THURSDAY + dt.timedelta(days=1)


# --- check-in and tickets -----------------------------------------------------------------------


def test_check_in_issues_a_priority_ticket_within_its_hours(hall, item, window, people, hall_clock):
    appointment = book(people.citizen, item, window, start=dt.time(10, 0))
    hall_clock.set(THURSDAY, "08:55")
    with pytest.raises(DomainError, match="开始前一小时内"):
        services.appointment_check_in(actor=people.clerk, hall=hall, code=appointment.code)
    hall_clock.set(THURSDAY, "09:10")
    with pytest.raises(PermissionDenied):
        services.appointment_check_in(actor=people.other_clerk, hall=hall, code=appointment.code)
    with pytest.raises(NotFound):
        services.appointment_check_in(actor=people.clerk, hall=hall, code="ZZZZZZ")
    with pytest.raises(InvalidInput):
        services.appointment_check_in(actor=people.clerk, hall=hall, code="0O1I")
    ticket = services.appointment_check_in(actor=people.clerk, hall=hall, code=appointment.code.lower())
    assert (ticket.number, ticket.priority, ticket.appointment_id) == ("A001", True, appointment.pk)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CHECKED_IN
    with pytest.raises(DomainError, match="已签到"):
        services.appointment_check_in(actor=people.clerk, hall=hall, code=appointment.code)


def test_check_in_after_the_slot_is_refused(hall, item, window, people, hall_clock):
    appointment = book(people.citizen, item, window)
    hall_clock.set(THURSDAY, "09:31")
    with pytest.raises(DomainError, match="已过"):
        services.appointment_check_in(actor=people.clerk, hall=hall, code=appointment.code)


def test_tickets_are_numbered_per_letter_and_day(world, hall, item, window, people, hall_clock):
    numbers = [services.ticket_issue(actor=people.clerk, hall=hall, item=item).number for _ in range(3)]
    assert numbers == ["A001", "A002", "A003"]
    hall_clock.set(THURSDAY, "08:30")
    assert services.ticket_issue(actor=people.clerk, hall=hall, item=item).number == "A001"
    assert AuditEntry.objects.filter(action="hall.ticket.issue").count() == 4


def test_only_hall_staff_issue_tickets_for_items_the_hall_serves(world, hall, item, window, people, other_item):
    with pytest.raises(PermissionDenied):
        services.ticket_issue(actor=people.citizen, hall=hall, item=item)
    with pytest.raises(PermissionDenied):
        services.ticket_issue(actor=people.other_clerk, hall=hall, item=item)
    # The centre's own window clerks run the kiosk too.
    guide = User.objects.create_user(username="guide", kind=AccountKind.STAFF)
    RoleAssignment.objects.create(user=guide, role=Role.WINDOW_CLERK, department=hall.department)
    assert services.ticket_issue(actor=guide, hall=hall, item=item).issued_by == guide
    list_items(world, window, [item])
    with pytest.raises(InvalidInput, match="没有办理该事项的窗口"):
        services.ticket_issue(actor=people.clerk, hall=hall, item=other_item)


def test_calling_order_priority_first_then_oldest(hall, item, window, window2, people, hall_clock):
    appointment = book(people.citizen, item, window, start=dt.time(9, 30))
    hall_clock.set(THURSDAY, "08:40")
    first = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    hall_clock.advance(minutes=5)
    second = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    hall_clock.advance(minutes=5)
    priority = services.appointment_check_in(actor=people.clerk, hall=hall, code=appointment.code)
    hall_clock.set(THURSDAY, "09:00")
    called = [services.ticket_call_next(actor=clerk, window=w).pk
              for clerk, w in ((people.clerk, window), (people.clerk2, window2))]
    assert called == [priority.pk, first.pk]
    for ticket_id, clerk in zip(called, (people.clerk, people.clerk2), strict=True):
        services.ticket_skip(actor=clerk, ticket=QueueTicket.objects.get(pk=ticket_id))
    assert services.ticket_call_next(actor=people.clerk, window=window).pk == second.pk
    assert QueueTicket.objects.get(pk=priority.pk).wait_seconds == 10 * 60


def test_a_window_calls_only_its_items_and_one_ticket_at_a_time(world, hall, item, other_item, window, window2,
                                                                  people):
    list_items(world, window, [other_item])
    ticket = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    with pytest.raises(DomainError, match="没有等候的号"):
        services.ticket_call_next(actor=people.clerk, window=window)
    assert services.ticket_call_next(actor=people.clerk, window=window2).pk == ticket.pk
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    with pytest.raises(DomainError, match="尚未办结或过号"):
        services.ticket_call_next(actor=people.clerk, window=window2)


def test_only_clerks_of_the_windows_department_call(hall, item, window, people):
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    with pytest.raises(PermissionDenied):
        services.ticket_call_next(actor=people.citizen, window=window)
    with pytest.raises(PermissionDenied):
        services.ticket_call_next(actor=people.other_clerk, window=window)
    ticket = services.ticket_call_next(actor=people.clerk, window=window)
    for action in (services.ticket_recall, services.ticket_start, services.ticket_skip):
        with pytest.raises(PermissionDenied):
            action(actor=people.other_clerk, ticket=ticket)
    assert QueueTicket.objects.get(pk=ticket.pk).status == TicketStatus.CALLED


def test_ticket_lifecycle_times_and_illegal_steps(hall, item, window, people, hall_clock):
    hall_clock.set(WEDNESDAY, "09:00")
    ticket = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    with pytest.raises(DomainError, match="等候中"):
        services.ticket_start(actor=people.clerk, ticket=ticket)
    hall_clock.advance(minutes=12)
    ticket = services.ticket_call_next(actor=people.clerk, window=window)
    assert (ticket.status, ticket.window_id, ticket.clerk_id, ticket.wait_seconds) == (
        TicketStatus.CALLED, window.pk, people.clerk.pk, 720)
    hall_clock.advance(minutes=1)
    ticket = services.ticket_recall(actor=people.clerk, ticket=ticket)
    assert ticket.call_count == 2 and ticket.last_called_at > ticket.called_at
    with pytest.raises(DomainError, match="已叫号"):
        services.ticket_finish(actor=people.clerk, ticket=ticket)
    ticket = services.ticket_start(actor=people.clerk2, ticket=ticket)
    hall_clock.advance(minutes=8)
    with pytest.raises(DomainError, match="办理中"):
        services.ticket_skip(actor=people.clerk, ticket=ticket)
    done = services.ticket_finish(actor=people.clerk2, ticket=ticket)
    assert (done.status, done.service_seconds, done.clerk_id) == (TicketStatus.DONE, 480, people.clerk2.pk)
    actions = list(AuditEntry.objects.filter(object_id=str(ticket.pk), object_type="hall.queueticket")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["hall.ticket.issue", "hall.ticket.call", "hall.ticket.recall", "hall.ticket.start",
                       "hall.ticket.finish"]


def test_finishing_with_a_case_records_the_visit_on_the_case(world, hall, item, window, people, submitted_case):
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    ticket = services.ticket_call_next(actor=people.clerk, window=window)
    ticket = services.ticket_start(actor=people.clerk, ticket=ticket)
    visits = submitted_case.visits
    done = services.ticket_finish(actor=people.clerk, ticket=ticket, case=submitted_case)
    submitted_case.refresh_from_db()
    assert done.case_id == submitted_case.pk and submitted_case.visits == visits + 1
    assert AuditEntry.objects.filter(action="cases.record_visit", object_id=str(submitted_case.pk)).count() == 1
    assert selectors.case_for_clerk(people.clerk, submitted_case.number).pk == submitted_case.pk
    with pytest.raises(NotFound):
        selectors.case_for_clerk(people.other_clerk, submitted_case.number)


def test_a_case_of_another_department_is_refused_and_nothing_changes(world, hall, item, window, people,
                                                                       submitted_case):
    from onewindow.cases.models import Case

    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    ticket = services.ticket_start(actor=people.clerk,
                                   ticket=services.ticket_call_next(actor=people.clerk, window=window))
    Case.objects.filter(pk=submitted_case.pk).update(department=world.other)
    submitted_case.refresh_from_db()
    with pytest.raises(InvalidInput, match="不属于本窗口的部门"):
        services.ticket_finish(actor=people.clerk, ticket=ticket, case=submitted_case)
    assert QueueTicket.objects.get(pk=ticket.pk).status == TicketStatus.SERVING


# --- the day-end sweep --------------------------------------------------------------------------


def test_sweep_marks_missed_appointments_and_closes_past_tickets(hall, item, window, people, hall_clock):
    missed = book(people.citizen, item, window)
    kept = book(people.citizen2, item, window)
    later = book(people.citizen2, item, window, day=THURSDAY + dt.timedelta(days=1))
    hall_clock.set(THURSDAY, "09:10")
    services.appointment_check_in(actor=people.clerk, hall=hall, code=kept.code)
    walk_in = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    assert services.appointment_mark_missed() == 0  # the slot has not ended yet
    hall_clock.set(THURSDAY, "09:31")
    assert services.hall_day_end_sweep() == 1
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {missed.pk: AppointmentStatus.NO_SHOW, kept.pk: AppointmentStatus.CHECKED_IN,
                        later.pk: AppointmentStatus.BOOKED}
    hall_clock.set(THURSDAY + dt.timedelta(days=1), "08:00")
    assert services.ticket_expire_past() == 2
    assert set(QueueTicket.objects.values_list("status", flat=True)) == {TicketStatus.EXPIRED}
    assert services.hall_day_end_sweep() == 0
    assert QueueTicket.objects.get(pk=walk_in.pk).status == TicketStatus.EXPIRED


# --- waiting-time figures -----------------------------------------------------------------------


def _serve(clerk, hall, item, window, clock, *, wait, service):
    """Issue a ticket now, call it `wait` minutes later, finish it `service` minutes after."""
    services.ticket_issue(actor=clerk, hall=hall, item=item)
    clock.advance(minutes=wait)
    ticket = services.ticket_start(actor=clerk, ticket=services.ticket_call_next(actor=clerk, window=window))
    clock.advance(minutes=service)
    services.ticket_finish(actor=clerk, ticket=ticket)


def test_figures_per_day_department_and_item(world, hall, item, other_item, window, people, hall_clock, make_user):
    hall_clock.set(WEDNESDAY, "09:00")
    for wait, service in ((2, 10), (4, 6), (6, 8), (8, 4), (20, 12)):
        _serve(people.clerk, hall, item, window, hall_clock, wait=wait, service=service)
    _serve(people.clerk, hall, other_item, window, hall_clock, wait=1, service=3)
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)  # still waiting
    rows = selectors.figures(people.clerk, date_from=WEDNESDAY, date_to=WEDNESDAY)
    by_item = {row.item.pk if row.item else None: row for row in rows}
    first = by_item[item.pk]
    assert (first.issued, first.served) == (6, 5)
    assert first.median_wait == 360.0 and first.p90_wait == 1200.0 and first.median_service == 480.0
    assert (by_item[other_item.pk].issued, by_item[other_item.pk].median_wait) == (1, 60.0)
    total = by_item[None]
    assert (total.issued, total.served, total.median_wait, total.median_service) == (7, 6, 300.0, 420.0)
    assert [row.item is None for row in rows][0]
    # A supervisor of the city sees the city's departments; staff of another department nothing.
    supervisor = make_user("supervisor", kind=AccountKind.STAFF)
    RoleAssignment.objects.create(user=supervisor, role=Role.SUPERVISOR, region=world.city)
    assert len(selectors.figures(supervisor, date_from=WEDNESDAY, date_to=WEDNESDAY)) == 3
    assert selectors.figures(people.other_clerk, date_from=WEDNESDAY, date_to=WEDNESDAY) == []
    assert selectors.figures(people.clerk, date_from=THURSDAY, date_to=THURSDAY) == []
    with pytest.raises(InvalidInput):
        selectors.figures(people.clerk, date_from=THURSDAY, date_to=WEDNESDAY)
    with pytest.raises(InvalidInput):
        selectors.figures(people.clerk, date_from=WEDNESDAY, date_to=WEDNESDAY + dt.timedelta(days=31))


def test_percentile_is_the_nearest_rank():
    assert selectors.percentile([], 0.9) is None
    assert selectors.percentile([5], 0.9) == 5.0
    assert selectors.percentile(list(range(1, 11)), 0.9) == 9.0
    assert selectors.percentile(list(range(1, 21)), 0.9) == 18.0


# --- reference data -------------------------------------------------------------------------------


def test_reference_data_is_validated_and_audited(world, hall, item, other_item, window, centre):
    with pytest.raises(InvalidInput, match="大厅代码"):
        services.hall_save(actor=world.admin, code="Bad Code", name="x", department=centre)
    with pytest.raises(InvalidInput, match="已被使用"):
        services.hall_save(actor=world.admin, code="zunyi-city", name="x", department=centre)
    with pytest.raises(PermissionDenied):
        services.hall_save(actor=world.editor, code="another", name="x", department=centre)
    with pytest.raises(InvalidInput, match="已有 11 号窗口"):
        services.window_save(actor=world.admin, hall=hall, department=world.market, number="11", name="x",
                             queue_letter="A")
    with pytest.raises(InvalidInput, match="叫号字母"):
        services.window_save(actor=world.admin, hall=hall, department=world.market, number="13", name="x",
                             queue_letter="甲")
    with pytest.raises(InvalidInput, match="只能办理本部门的事项"):
        services.window_save(actor=world.admin, hall=hall, department=world.other, number="41", name="民政窗口",
                             queue_letter="D", items=[item])
    # The market department's administrator manages its own windows.
    saved = services.window_save(actor=world.editor, hall=hall, department=world.market, number="13", name="x",
                                 queue_letter="b", items=[item, other_item])
    assert saved.queue_letter == "B" and set(saved.items.all()) == {item, other_item}
    with pytest.raises(PermissionDenied):
        services.schedule_save(actor=world.outsider, window=saved)
    for bad in ({"morning_start": dt.time(12, 0)}, {"afternoon_start": None}, {"slot_minutes": 4},
                {"afternoon_start": dt.time(11, 0)}, {"slot_minutes": 240, "afternoon_start": None,
                                                       "afternoon_end": None}):
        with pytest.raises(InvalidInput):
            services.schedule_save(actor=world.editor, window=saved, **bad)
    schedule = services.schedule_save(actor=world.editor, window=saved, slot_minutes=60, capacity=5,
                                      afternoon_start=None, afternoon_end=None)
    assert [start for start, _end in schedule.slots()] == [dt.time(9, 0), dt.time(10, 0), dt.time(11, 0)]
    assert AuditEntry.objects.filter(action="hall.schedule.save").count() == 2
