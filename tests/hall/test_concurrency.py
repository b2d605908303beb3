"""Several people acting at the same moment, each in its own thread, connection and transaction:
clerks calling next never get the same ticket, the last place of a slot goes to exactly one
booking, and tickets issued together get distinct consecutive numbers."""

import pytest
from onewindow.core.errors import DomainError
from onewindow.core.testing.concurrency import at_once
from onewindow.hall import services
from onewindow.hall.choices import TicketStatus
from onewindow.hall.models import Appointment, QueueTicket, SlotCounter
from tests.hall.conftest import NINE, THURSDAY

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_clerks_calling_next_get_different_tickets(hall, item, window, window2, people):
    issued = {services.ticket_issue(actor=people.clerk, hall=hall, item=item).pk for _ in range(2)}
    results = at_once([
        lambda: services.ticket_call_next(actor=people.clerk, window=window),
        lambda: services.ticket_call_next(actor=people.clerk2, window=window2),
    ])
    assert all(isinstance(result, QueueTicket) for result in results), results
    assert {ticket.pk for ticket in results} == issued
    assert {ticket.window_id for ticket in results} == {window.pk, window2.pk}
    assert QueueTicket.objects.filter(status=TicketStatus.CALLED).count() == 2


def test_one_waiting_ticket_is_called_by_exactly_one_clerk(hall, item, window, window2, people):
    ticket = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    results = at_once([
        lambda: services.ticket_call_next(actor=people.clerk, window=window),
        lambda: services.ticket_call_next(actor=people.clerk2, window=window2),
    ])
    called = [result for result in results if isinstance(result, QueueTicket)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert [t.pk for t in called] == [ticket.pk] and len(refused) == 1
    assert "没有等候的号" in refused[0].message
    ticket.refresh_from_db()
    assert ticket.call_count == 1 and ticket.window_id == called[0].window_id


def test_two_bookings_for_the_last_place_exactly_one_wins(item, window, people, make_user):
    services.appointment_book(actor=make_user("early"), item=item, window=window, date=THURSDAY, start=NINE)
    results = at_once([
        lambda: services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE),
        lambda: services.appointment_book(actor=people.citizen2, item=item, window=window, date=THURSDAY, start=NINE),
    ])
    booked = [result for result in results if isinstance(result, Appointment)]
    refused = [result for result in results if isinstance(result, DomainError)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert "已约满" in refused[0].message
    assert SlotCounter.objects.get(window=window, date=THURSDAY, start=NINE).booked == 2
    assert Appointment.objects.filter(date=THURSDAY, start=NINE).count() == 2


def test_one_applicant_booking_twice_at_once_gets_one_appointment(item, window, people):
    results = at_once([
        lambda: services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE),
        lambda: services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY,
                                          start=NINE.replace(hour=10)),
    ])
    assert sorted(type(result).__name__ for result in results) == ["Appointment", "DomainError"], results
    assert Appointment.objects.filter(applicant=people.citizen).count() == 1
    assert sum(SlotCounter.objects.values_list("booked", flat=True)) == 1


def test_tickets_issued_at_once_get_distinct_consecutive_numbers(hall, item, window, people):
    results = at_once([lambda: services.ticket_issue(actor=people.clerk, hall=hall, item=item) for _ in range(4)])
    assert sorted(ticket.number for ticket in results) == ["A001", "A002", "A003", "A004"]
