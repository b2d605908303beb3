"""/api/supervision/: the same rules as the web, as JSON, scoped to the caller's region."""

import datetime as dt

from django.test import Client
from django.utils import timezone

from onewindow.accounts.services import api_token_create
from onewindow.core import workdays
from onewindow.supervision import services

API = "/api/supervision"


def bearer(user) -> Client:
    _token, secret = api_token_create(actor=user, name="test")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def test_the_board_and_warnings_are_scoped_to_the_callers_region(
    people, accepted_case, move_to
):
    case = accepted_case()
    move_to(workdays.add_working_days(timezone.localdate(), 9).date)
    services.warnings_refresh()
    supervisor = bearer(people.supervisor)
    board = supervisor.get(f"{API}/board").json()
    assert (board["red"], board["red_list"][0]["case_number"]) == (1, case.number)
    listed = supervisor.get(
        f"{API}/warnings", {"department_id": case.department_id}
    ).json()
    assert listed[0]["colour"] == "red"
    outsider = bearer(people.outsider)
    assert outsider.get(f"{API}/board").json()["red"] == 0
    assert (
        outsider.get(
            f"{API}/warnings", {"department_id": case.department_id}
        ).status_code
        == 404
    )
    assert outsider.get(f"{API}/board", {"region": "520300"}).status_code == 404
    assert Client().get(f"{API}/board").status_code == 401


def test_a_notice_through_the_api(people, world):
    supervisor = bearer(people.supervisor)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    body = {
        "department_id": world.market.pk,
        "content": "请整改。",
        "deadline": tomorrow,
    }
    assert (
        supervisor.post(
            f"{API}/notices",
            {**body, "deadline": past},
            content_type="application/json",
        ).status_code
        == 400
    )
    assert (
        supervisor.post(
            f"{API}/notices",
            {**body, "department_id": 99999},
            content_type="application/json",
        ).status_code
        == 404
    )
    created = supervisor.post(f"{API}/notices", body, content_type="application/json")
    assert created.status_code == 201, created.content
    notice = created.json()
    head = bearer(people.head)
    answered = head.post(
        f"{API}/notices/{notice['id']}/answer",
        {"text": "已整改。"},
        content_type="application/json",
    )
    assert answered.json()["status"] == "answered"
    closed = supervisor.post(
        f"{API}/notices/{notice['id']}/close",
        {"text": "同意。"},
        content_type="application/json",
    )
    assert closed.json()["status"] == "closed"
    assert bearer(people.outsider).get(f"{API}/notices").json() == []


def test_reports_return_their_findings(world):
    clerk = bearer(world.clerk)
    response = clerk.post(
        f"{API}/results",
        {
            "department_id": world.market.pk,
            "result_name": "许可证",
            "result_number": "ZY-1",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["findings"][0]["rule"] == "A05"
    missing = clerk.post(
        f"{API}/charges",
        {"case_number": "NOPE", "fee_name": "费", "amount": "1.00"},
        content_type="application/json",
    )
    assert missing.status_code == 404


def test_the_schema_lists_the_supervision_operations():
    paths = Client().get("/api/openapi.json").json()["paths"]
    assert {
        "/api/supervision/board",
        "/api/supervision/warnings",
        "/api/supervision/notices",
    } <= set(paths)


def test_rules_and_item_settings_are_configured_by_those_allowed(world, people, item):
    admin, head, supervisor = (
        bearer(world.admin),
        bearer(people.head),
        bearer(people.supervisor),
    )
    codes = [rule["code"] for rule in supervisor.get(f"{API}/rules").json()]
    assert codes[:2] == ["A01", "A02"] and "W05" in codes
    body = {"enabled": True, "parameters": {"after_days": 5}}
    assert (
        supervisor.put(
            f"{API}/rules/W05", body, content_type="application/json"
        ).status_code
        == 403
    )
    assert admin.put(f"{API}/rules/W05", body, content_type="application/json").json()[
        "parameters"
    ] == {"after_days": 5}
    assert (
        admin.put(f"{API}/rules/W99", body, content_type="application/json").status_code
        == 404
    )
    setting = {"near_days": 2, "near_percent": 20, "separate_accept_and_decide": True}
    saved = head.put(
        f"{API}/item-settings/{item.impl_code}",
        setting,
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["near_days"] == 2
    assert (
        supervisor.put(
            f"{API}/item-settings/{item.impl_code}",
            setting,
            content_type="application/json",
        ).status_code
        == 403
    )
