"""Consultations and complaints over HTTP: the portal's form with its limits against scripts
and floods, my requests with rating and reopening, the progress lookup, the operator's screen,
the department's pages, the routing rules and the JSON API; refusals as 4xx."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from onewindow.accounts.services import api_token_create
from onewindow.complaints import antibot
from onewindow.complaints.models import Complaint, RoutingRule

pytestmark = pytest.mark.django_db


def form_data(**changes):
    return {
        "kind": "consultation",
        "title": "社保卡补办",
        "content": "社保卡丢失如何补办？",
        "contact_phone": "13900000000",
        "form_token": antibot.form_token(time.time() - 10),
        "website": "",
        "region": "",
        "topic": "",
        "address": "",
        "respondent": "",
        "contact_name": "",
        "contact_email": "",
        **changes,
    }


def test_anonymous_portal_form_with_anti_automation(client, hotline):
    page = client.get("/complaints/new/")
    assert page.status_code == 200 and 'name="website"' in page.content.decode()
    created = client.post("/complaints/new/", form_data())
    assert created.status_code == 201, created.content.decode()[:500]
    complaint = Complaint.objects.get()
    assert (
        complaint.number in created.content.decode()
        and complaint.query_code in created.content.decode()
    )
    for refused in (
        form_data(website="http://spam"),
        form_data(form_token=antibot.form_token()),
        form_data(form_token="forged"),
        form_data(contact_phone=""),
    ):
        assert client.post("/complaints/new/", refused).status_code == 400
    assert Complaint.objects.count() == 1


def test_anonymous_flood_gets_429(client, hotline, settings):
    settings.COMPLAINTS_ANONYMOUS_PER_HOUR = 2
    statuses = [
        client.post("/complaints/new/", form_data()).status_code for _i in range(3)
    ]
    assert statuses == [201, 201, 429] and Complaint.objects.count() == 2


def test_progress_lookup_shows_no_personal_data_and_caps_failures(client, submit):
    complaint = submit(content="我叫张三，13800138000")
    found = client.get(
        "/complaints/progress/",
        {"number": complaint.number, "code": complaint.query_code},
    )
    assert found.status_code == 200 and "张三" not in found.content.decode()
    for _i in range(10):
        assert (
            client.get(
                "/complaints/progress/", {"number": complaint.number, "code": "WRONG1"}
            ).status_code
            == 404
        )
    assert (
        client.get(
            "/complaints/progress/",
            {"number": complaint.number, "code": complaint.query_code},
        ).status_code
        == 429
    )


def test_hotline_to_department_to_answer_to_rating(client_as, hotline, world):
    operator = client_as(hotline.operator)
    screen = operator.get("/complaints/hotline/")
    assert screen.status_code == 200
    taken = operator.post(
        "/complaints/hotline/",
        {
            "kind": "complaint",
            "source": "hotline",
            "title": "窗口推诿",
            "content": "来电反映窗口推诿。",
            "contact_name": "赵六",
            "contact_phone": "13700000000",
            "region": world.city.code,
            "topic": "",
            "address": "",
            "respondent": "",
            "contact_email": "",
        },
    )
    assert taken.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.source == "hotline" and complaint.status == "received"
    dispatched = operator.post(
        reverse("complaints:work_action", args=[complaint.pk, "dispatch"]), {"department": world.market.pk}
    )
    assert dispatched.status_code == 302
    department = client_as(hotline.market_staff)
    assert complaint.number in department.get(reverse("complaints:work")).content.decode()
    extended = department.post(
        reverse("complaints:work_action", args=[complaint.pk, "extend"]), {"days": "2", "reason": "需调查"}
    )
    assert extended.status_code == 302
    answered = department.post(
        reverse("complaints:work_action", args=[complaint.pk, "answer"]), {"answer": "已核实并整改"}
    )
    assert answered.status_code == 302
    rated = operator.post(
        reverse("complaints:work_action", args=[complaint.pk, "rate"]), {"rating": "1", "comment": "回访满意"}
    )
    assert rated.status_code == 302
    complaint.refresh_from_db()
    assert (
        complaint.status == "closed"
        and complaint.rating == 1
        and complaint.extension_days == 2
    )
    assert (
        client_as(hotline.other_staff)
        .get(reverse("complaints:work_detail", args=[complaint.pk]))
        .status_code
        == 404
    )
    assert (
        client_as(hotline.market_staff).get("/complaints/hotline/").status_code == 403
    )


def test_citizen_reopens_then_rates_on_the_portal(client_as, submit, hotline):
    from onewindow.complaints import services

    complaint = submit()
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已处理"
    )
    citizen = client_as(hotline.citizen)
    page = citizen.get(f"/complaints/mine/{complaint.pk}/")
    assert "要求重新办理" in page.content.decode()
    assert (
        citizen.post(
            f"/complaints/mine/{complaint.pk}/reopen/", {"reason": ""}
        ).status_code
        == 400
    )
    assert (
        citizen.post(
            f"/complaints/mine/{complaint.pk}/reopen/", {"reason": "仍有噪音"}
        ).status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == "assigned" and complaint.reopen_count == 1
    assert (
        citizen.post(
            f"/complaints/mine/{complaint.pk}/answer/", {"answer": "x"}
        ).status_code
        == 400
    )
    assert (
        client_as(hotline.stranger).get(f"/complaints/mine/{complaint.pk}/").status_code
        == 404
    )


def test_rules_page_and_api(client_as, hotline, world):
    operator = client_as(hotline.operator)
    saved = operator.post(
        reverse("complaints:rule_new"),
        {
            "priority": "10",
            "keyword": "广告",
            "department": world.market.pk,
            "topic": "",
            "region": "",
            "promised_days": "",
        },
    )
    assert saved.status_code == 302 and RoutingRule.objects.get().keyword == "广告"
    empty = operator.post(
        reverse("complaints:rule_new"),
        {
            "priority": "10",
            "keyword": "",
            "department": world.market.pk,
            "topic": "",
            "region": "",
            "promised_days": "",
        },
    )
    assert empty.status_code == 400
    created = operator.post(
        "/api/complaints/rules",
        {
            "department_id": world.other.pk,
            "keyword": "噪音",
            "region": world.county.code,
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    rule_id = created.json()["id"]
    changed = operator.put(
        f"/api/complaints/rules/{rule_id}",
        {"department_id": world.market.pk, "keyword": "施工"},
        content_type="application/json",
    )
    assert changed.json()["keyword"] == "施工"
    assert client_as(hotline.market_staff).get("/api/complaints/rules").json() == []
    assert (
        client_as(hotline.market_staff)
        .delete(f"/api/complaints/rules/{rule_id}")
        .status_code
        == 404
    )
    assert operator.delete(f"/api/complaints/rules/{rule_id}").status_code == 204


def test_api_intake_idempotency_and_handling(hotline, world):
    secret = api_token_create(actor=hotline.operator, name="hotline")[1]
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    body = {
        "kind": "complaint",
        "title": "噪音",
        "content": "夜间施工",
        "source": "hotline",
        "topic": "noise",
        "contact_phone": "13700000000",
        "region": world.county.code,
        "idempotency_key": "call-1",
    }
    first = client.post("/api/complaints/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    again = client.post("/api/complaints/", body, content_type="application/json")
    assert again.json()["id"] == first.json()["id"]
    assert (
        client.post(
            "/api/complaints/",
            {**body, "topic": "none", "idempotency_key": "call-2"},
            content_type="application/json",
        ).status_code
        == 400
    )
    data = first.json()
    assert data["department"] == world.other.name and data["due"]
    staff = Client(
        headers={
            "Authorization": f"Bearer {api_token_create(actor=hotline.other_staff, name='t')[1]}"
        }
    )
    answered = staff.post(
        f"/api/complaints/{data['id']}/answer",
        {"answer": "已处理"},
        content_type="application/json",
    )
    assert answered.json()["status"] == "answered"
    history = staff.get(f"/api/complaints/{data['id']}/history").json()
    assert [h["kind"] for h in history] == ["received", "dispatched", "answered"]
    progress = Client().get(
        "/api/complaints/progress",
        {"number": data["number"], "code": data["query_code"]},
    )
    assert progress.status_code == 200 and "content" not in progress.json()
    # What was written (the answer, transfer reasons) is not public, as on the progress page.
    assert [h["kind"] for h in progress.json()["history"]] == ["received", "dispatched", "answered"]
    assert "已处理" not in progress.content.decode() and "summary" not in progress.json()["history"][0]
    assert (
        Client()
        .get("/api/complaints/progress", {"number": data["number"], "code": "XXXXXX"})
        .status_code
        == 404
    )
    assert (
        Client()
        .post("/api/complaints/", body, content_type="application/json")
        .status_code
        == 401
    )


def test_categories_are_kept_by_the_platform_administrator(client_as, hotline, world):
    admin = client_as(world.admin)
    body = {
        "code": "lights",
        "name": "路灯不亮",
        "department_id": world.market.pk,
        "promised_days": 3,
        "attributes": [
            {
                "code": "pole",
                "datatype": "string",
                "required": False,
                "description": "灯杆编号",
            }
        ],
    }
    saved = admin.put("/api/complaints/topics", body, content_type="application/json")
    assert saved.status_code == 200 and saved.json()["department"] == world.market.name
    broken = admin.put(
        "/api/complaints/topics",
        {
            **body,
            "attributes": [
                {
                    "code": "x",
                    "datatype": "singlevaluelist",
                    "values": [{"name": "no key"}],
                }
            ],
        },
        content_type="application/json",
    )
    assert broken.status_code == 400
    refused = client_as(hotline.operator).put(
        "/api/complaints/topics", body, content_type="application/json"
    )
    assert refused.status_code == 403
    assert "lights" in {
        t["code"] for t in Client().get("/api/complaints/topics").json()
    }
    definition = Client().get("/open311/v2/services/lights.json").json()
    assert definition["attributes"][0]["code"] == "pole"
