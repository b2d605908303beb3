"""Who may see and do what in the hall: the access matrix of the pages and the selectors' scope.
Outsiders get 404 (never the data); citizens get 403 on staff pages; a clerk of another
department can neither see nor call another department's window or tickets."""

import pytest
from django.urls import reverse

from onewindow.core.testing.access_matrix import AccessCase, assert_access_matrix, assert_selector_scoping
from onewindow.hall import selectors, services
from onewindow.hall.models import QueueTicket
from tests.hall.conftest import NINE, THURSDAY

pytestmark = pytest.mark.django_db


def url(name, *keys):
    return lambda objects: reverse(name, args=[objects[key] for key in keys])


@pytest.fixture
def objects(hall, item, window, people):
    appointment = services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE)
    ticket = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    return {"hall": hall.code, "window": window.pk, "appointment": appointment.pk, "ticket": ticket.pk}


READS = [
    ("hall:appointments", ()), ("hall:book", ()), ("hall:kiosk", ("hall",)), ("hall:screen", ("hall",)),
    ("hall:screen_board", ("hall",)), ("hall:desk", ()), ("hall:desk_window", ("window",)),
    ("hall:desk_waiting", ("window",)), ("hall:figures", ()),
]
EXPECTED_READS = {
    #                    anonymous, citizen, citizen2, clerk, other_clerk
    "hall:appointments": ("login", "allowed", "allowed", "allowed", "allowed"),
    "hall:book": ("login", "allowed", "allowed", "allowed", "allowed"),
    "hall:kiosk": ("login", 403, 403, "allowed", 404),
    "hall:screen": ("allowed",) * 5,
    "hall:screen_board": ("allowed",) * 5,
    "hall:desk": ("login", 403, 403, "allowed", "allowed"),
    "hall:desk_window": ("login", 403, 403, "allowed", 404),
    "hall:desk_waiting": ("login", 403, 403, "allowed", 404),
    "hall:figures": ("login", 403, 403, "allowed", "allowed"),
}
ACTORS = ["anonymous", "citizen", "citizen2", "clerk", "other_clerk"]


def test_pages_access_matrix(client, objects, people):
    cases = [
        AccessCase(actor=actor, url=url(name, *keys), obj=name, expect=EXPECTED_READS[name][index])
        for name, keys in READS for index, actor in enumerate(ACTORS)
    ]
    actors = {"anonymous": None, **{name: getattr(people, name) for name in ACTORS[1:]}}
    assert_access_matrix(client, cases, actors, objects)


def test_writes_access_matrix(client, objects, people):
    ticket_action = lambda action: lambda o: reverse("hall:ticket_action", args=[o["ticket"], action])  # noqa: E731
    cases = [
        # Someone else's appointment is not found; the owner cancels it.
        AccessCase(actor="anonymous", method="post", url=url("hall:cancel", "appointment"), expect="login"),
        AccessCase(actor="citizen2", method="post", url=url("hall:cancel", "appointment"), expect=404),
        AccessCase(actor="clerk", method="post", url=url("hall:cancel", "appointment"), expect=404),
        # Citizens cannot issue or call; a clerk of another department cannot either.
        AccessCase(actor="citizen", method="post", url=url("hall:kiosk_take", "hall"), data={"item": "1"}, expect=403),
        AccessCase(actor="other_clerk", method="post", url=url("hall:kiosk_take", "hall"), data={"item": "1"},
                   expect=404),
        AccessCase(actor="citizen", method="post", url=url("hall:call_next", "window"), expect=403),
        AccessCase(actor="other_clerk", method="post", url=url("hall:call_next", "window"), expect=404),
        AccessCase(actor="other_clerk", method="post", url=ticket_action("recall"), expect=404),
        AccessCase(actor="citizen", method="post", url=ticket_action("skip"), expect=403),
        # The clerk of the window's department calls; then the owner cancels.
        AccessCase(actor="clerk", method="post", url=url("hall:call_next", "window"), expect="allowed"),
        AccessCase(actor="citizen", method="post", url=url("hall:cancel", "appointment"), expect="allowed"),
    ]
    actors = {"anonymous": None, **{name: getattr(people, name) for name in ACTORS[1:]}}
    assert_access_matrix(client, cases, actors, objects)
    assert QueueTicket.objects.get(pk=objects["ticket"]).window_id == objects["window"]


def test_selectors_scope(hall, item, window, people):
    mine = services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE)
    theirs = services.appointment_book(actor=people.citizen2, item=item, window=window, date=THURSDAY, start=NINE)
    ticket = services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    assert_selector_scoping(selectors.my_appointment, people.citizen, visible=[mine], hidden=[theirs],
                            lookup=lambda a: {"pk": a.pk})
    assert_selector_scoping(selectors.my_appointments, people.citizen, visible=[mine], hidden=[theirs])
    assert_selector_scoping(selectors.clerk_ticket, people.clerk, visible=[ticket], lookup=lambda t: {"pk": t.pk})
    assert_selector_scoping(selectors.clerk_ticket, people.other_clerk, hidden=[ticket], lookup=lambda t: {"pk": t.pk})
    assert_selector_scoping(selectors.clerk_window, people.other_clerk, hidden=[window], lookup=lambda w: {"pk": w.pk})
    assert_selector_scoping(selectors.clerk_windows, people.citizen, hidden=[window])
    assert_selector_scoping(selectors.kiosk_hall, people.other_clerk, hidden=[hall], lookup=lambda h: {"code": h.code})
    assert_selector_scoping(selectors.kiosk_hall, people.clerk, visible=[hall], lookup=lambda h: {"code": h.code})
