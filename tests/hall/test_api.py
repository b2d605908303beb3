"""/api/hall/: the same rules as the web, as JSON; refusals are 4xx with a translated detail."""

import pytest
from django.test import Client

from onewindow.accounts.services import api_token_create
from onewindow.hall import services
from onewindow.hall.choices import TicketStatus
from onewindow.hall.models import QueueTicket
from tests.hall.conftest import NINE, SATURDAY, THURSDAY, WEDNESDAY

pytestmark = pytest.mark.django_db

API = "/api/hall"


def bearer(user) -> dict[str, str]:
    _token, secret = api_token_create(actor=user, name="test")
    return {"Authorization": f"Bearer {secret}"}


def test_slots_book_list_and_cancel(client_as, item, window, people):
    client = client_as(people.citizen)
    slots = client.get(f"{API}/slots", {"item": item.impl_code, "date": THURSDAY.isoformat()})
    assert slots.status_code == 200
    first = slots.json()[0]
    assert (first["window_id"], first["start"], first["end"], first["free"]) == (window.pk, "09:00", "09:30", 2)
    assert client.get(f"{API}/slots", {"item": item.impl_code, "date": SATURDAY.isoformat()}).json() == []
    body = {"item": item.impl_code, "window_id": window.pk, "date": THURSDAY.isoformat(), "start": "09:00"}
    booked = client.post(f"{API}/appointments", body, content_type="application/json")
    assert booked.status_code == 201, booked.content
    appointment = booked.json()
    assert appointment["status"] == "booked" and len(appointment["code"]) == 6 and appointment["ticket_number"] is None
    again = client.post(f"{API}/appointments", {**body, "start": "10:00"}, content_type="application/json")
    assert again.status_code == 409 and "只能预约一次" in again.json()["detail"]
    weekend = client.post(f"{API}/appointments", {**body, "date": SATURDAY.isoformat()},
                          content_type="application/json")
    assert weekend.status_code == 400 and weekend.json()["field"] == "date"
    assert [a["id"] for a in client.get(f"{API}/appointments").json()] == [appointment["id"]]
    other = client_as(people.citizen2)
    assert other.get(f"{API}/appointments").json() == []
    assert other.post(f"{API}/appointments/{appointment['id']}/cancel").status_code == 404
    cancelled = client.post(f"{API}/appointments/{appointment['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_anonymous_calls_need_credentials_but_the_screen_is_public(client, hall, item, window):
    assert client.get(f"{API}/appointments").status_code == 401
    assert client.post(f"{API}/windows/{window.pk}/call-next").status_code == 401
    screen = client.get(f"{API}/halls/{hall.code}/screen")
    assert screen.status_code == 200
    assert screen.json()["groups"] == [{"letter": "A", "windows": ["11"], "waiting": 0}]
    assert client.get(f"{API}/halls/nowhere/screen").status_code == 404


def test_kiosk_issue_check_in_and_the_clerks_calls(hall, item, window, people, hall_clock, submitted_case):
    appointment = services.appointment_book(actor=people.citizen, item=item, window=window, date=THURSDAY, start=NINE)
    hall_clock.set(THURSDAY, "08:45")
    kiosk = Client(headers=bearer(people.clerk))
    walk_in = kiosk.post(f"{API}/halls/{hall.code}/tickets", {"item": item.impl_code}, content_type="application/json")
    assert walk_in.status_code == 201 and walk_in.json()["number"] == "A001"
    checked_in = kiosk.post(f"{API}/halls/{hall.code}/check-in", {"code": appointment.code},
                            content_type="application/json")
    assert checked_in.status_code == 201
    assert (checked_in.json()["number"], checked_in.json()["priority"], checked_in.json()["waiting_ahead"]) == (
        "A002", True, 0)
    citizen = Client(headers=bearer(people.citizen))
    assert citizen.post(f"{API}/halls/{hall.code}/tickets", {"item": item.impl_code},
                        content_type="application/json").status_code == 404
    assert citizen.post(f"{API}/windows/{window.pk}/call-next").status_code == 404
    outsider = Client(headers=bearer(people.other_clerk))
    assert outsider.post(f"{API}/windows/{window.pk}/call-next").status_code == 404
    called = kiosk.post(f"{API}/windows/{window.pk}/call-next")
    assert called.status_code == 200 and called.json()["number"] == "A002" and called.json()["window_number"] == "11"
    ticket_id = called.json()["id"]
    assert outsider.post(f"{API}/tickets/{ticket_id}/start").status_code == 404
    busy = kiosk.post(f"{API}/windows/{window.pk}/call-next")
    assert busy.status_code == 409
    assert kiosk.post(f"{API}/tickets/{ticket_id}/recall").json()["call_count"] == 2
    assert kiosk.post(f"{API}/tickets/{ticket_id}/start").json()["status"] == "serving"
    wrong = kiosk.post(f"{API}/tickets/{ticket_id}/finish", {"case_number": "NOPE"}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["field"] == "case_number"
    finished = kiosk.post(f"{API}/tickets/{ticket_id}/finish", {"case_number": submitted_case.number},
                          content_type="application/json")
    assert finished.status_code == 200 and finished.json()["status"] == "done"
    assert QueueTicket.objects.get(pk=ticket_id).case_id == submitted_case.pk
    nxt = kiosk.post(f"{API}/windows/{window.pk}/call-next").json()
    assert nxt["number"] == "A001"
    assert kiosk.post(f"{API}/tickets/{nxt['id']}/skip").json()["status"] == TicketStatus.SKIPPED


def test_figures_are_scoped(hall, item, window, people, hall_clock):
    hall_clock.set(WEDNESDAY, "09:00")
    services.ticket_issue(actor=people.clerk, hall=hall, item=item)
    hall_clock.advance(minutes=4)
    services.ticket_call_next(actor=people.clerk, window=window)
    clerk = Client(headers=bearer(people.clerk))
    rows = clerk.get(f"{API}/figures", {"date_from": WEDNESDAY.isoformat()}).json()
    assert [(row["item"], row["issued"], row["median_wait_seconds"]) for row in rows] == [
        (None, 1, 240.0), (item.impl_code, 1, 240.0)]
    outsider = Client(headers=bearer(people.other_clerk))
    assert outsider.get(f"{API}/figures", {"date_from": WEDNESDAY.isoformat()}).json() == []
    assert outsider.get(f"{API}/figures", {"date_from": WEDNESDAY.isoformat(),
                                           "department": window.department_id}).status_code == 404
    too_long = clerk.get(f"{API}/figures", {"date_from": "2026-01-01", "date_to": "2026-06-30"})
    assert too_long.status_code == 400
    assert clerk.get(f"{API}/figures", {"date_from": "not-a-date"}).status_code == 422


def test_the_schema_documents_the_hall(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/hall/slots", "/api/hall/appointments", "/api/hall/halls/{code}/tickets",
                 "/api/hall/windows/{window_id}/call-next", "/api/hall/tickets/{ticket_id}/finish",
                 "/api/hall/figures"):
        assert path in paths
