"""Evaluation over HTTP: the applicant's rating page and API, the visit page opened by the
ticket's code, the rectification pages and API, the figures, and refusals as 4xx."""

import pytest
from django.test import Client

from onewindow.evaluation import services
from onewindow.evaluation.models import Evaluation, Rectification

pytestmark = pytest.mark.django_db


def test_the_applicant_rates_on_the_page_and_changes_it(
    client_as, delivered_case, people
):
    case = delivered_case()
    client = client_as(people.rater)
    page = client.get(f"/evaluation/cases/{case.pk}/")
    assert page.status_code == 200 and "提交评价" in page.content.decode()
    bad = client.post(f"/evaluation/cases/{case.pk}/", {"level": "5", "comment": ""})
    assert bad.status_code == 400 and not Evaluation.objects.exists()
    done = client.post(
        f"/evaluation/cases/{case.pk}/",
        {"level": "5", "comment": "跑了三趟", "indicator_efficiency": "5"},
    )
    assert done.status_code == 302
    evaluation = Evaluation.objects.get()
    assert (
        evaluation.level == 5
        and evaluation.indicators == {"efficiency": 5}
        and evaluation.channel == "pc"
    )
    assert Rectification.objects.filter(evaluation=evaluation).exists()
    changed = client.post(
        f"/evaluation/cases/{case.pk}/", {"level": "2", "comment": ""}
    )
    assert changed.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.level == 2 and evaluation.times == 2
    assert "满意" in client.get("/evaluation/mine/").content.decode()


def test_someone_elses_case_is_not_found(client_as, delivered_case, people):
    case = delivered_case()
    assert (
        client_as(people.stranger).get(f"/evaluation/cases/{case.pk}/").status_code
        == 404
    )
    assert (
        client_as(people.stranger)
        .post(f"/evaluation/cases/{case.pk}/", {"level": "1"})
        .status_code
        == 404
    )
    assert Client().get(f"/evaluation/cases/{case.pk}/").status_code == 302


def test_api_rating_twice_and_for_others(client_as, delivered_case, people):
    case = delivered_case()
    client = client_as(people.rater)
    created = client.post(
        f"/api/evaluation/cases/{case.pk}",
        {"level": 1, "indicators": {"convenience": 1}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    again = client.post(
        f"/api/evaluation/cases/{case.pk}",
        {"level": 1},
        content_type="application/json",
    )
    assert again.status_code == 409 and "重复" in again.json()["detail"]
    other = client_as(people.stranger).post(
        f"/api/evaluation/cases/{case.pk}",
        {"level": 1},
        content_type="application/json",
    )
    assert other.status_code == 404
    wrong = client.post(
        f"/api/evaluation/cases/{case.pk}",
        {"level": 9},
        content_type="application/json",
    )
    assert wrong.status_code == 422
    evaluation_id = created.json()["id"]
    changed = client.put(
        f"/api/evaluation/mine/{evaluation_id}",
        {"level": 3},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["times"] == 2
    assert [e["id"] for e in client.get("/api/evaluation/mine").json()] == [
        evaluation_id
    ]


def test_a_visit_is_rated_anonymously_with_the_code(visit):
    ticket = visit()
    token = services.visit_token(ticket)
    client = Client()
    page = client.get(f"/evaluation/visits/{token}/")
    assert page.status_code == 200 and ticket.number in page.content.decode()
    assert (
        client.post(f"/evaluation/visits/{token}/", {"level": "1"}).status_code == 200
    )
    assert Evaluation.objects.get().rater is None
    twice = client.post(f"/evaluation/visits/{token}/", {"level": "1"})
    assert twice.status_code == 409
    assert client.get("/evaluation/visits/forged/").status_code == 404
    api = client.post(
        f"/api/evaluation/visits/{ticket.pk}",
        {"level": 1, "token": "forged"},
        content_type="application/json",
    )
    assert api.status_code == 404


def test_rectification_pages_call_back_fix_and_supervisor_view(
    client_as, delivered_case, people, approver
):
    case = delivered_case()
    services.evaluation_rate_case(
        actor=people.rater, case=case, level=5, comment="态度差"
    )
    item = Rectification.objects.get()
    handler = client_as(approver)
    listing = handler.get("/evaluation/rectifications/")
    assert listing.status_code == 200 and case.item.name in listing.content.decode()
    detail = handler.get(f"/evaluation/rectifications/{item.pk}/")
    assert (
        "登记回访" in detail.content.decode()
        and people.rater.phone in detail.content.decode()
    )
    fix_first = handler.post(
        f"/evaluation/rectifications/{item.pk}/fix/",
        {"outcome": "fixed", "result": "改"},
    )
    assert fix_first.status_code == 409
    called = handler.post(
        f"/evaluation/rectifications/{item.pk}/call-back/",
        {"reached": "1", "note": "已致歉"},
    )
    assert called.status_code == 302
    fixed = handler.post(
        f"/evaluation/rectifications/{item.pk}/fix/",
        {"outcome": "fixed", "result": "已改进"},
    )
    assert fixed.status_code == 302
    supervisor = client_as(people.supervisor)
    closed = supervisor.get("/evaluation/rectifications/?status=closed")
    assert "已整改" in closed.content.decode()
    assert (
        client_as(people.outsider)
        .get(f"/evaluation/rectifications/{item.pk}/")
        .status_code
        == 404
    )
    assert (
        handler.post(f"/evaluation/rectifications/{item.pk}/nothing/", {}).status_code
        == 400
    )


def test_rectification_api_and_figures(client_as, delivered_case, people, approver):
    case = delivered_case()
    services.evaluation_rate_case(actor=people.rater, case=case, level=4, comment="慢")
    item = Rectification.objects.get()
    handler = client_as(approver)
    base = f"/api/evaluation/rectifications/{item.pk}"
    assert (
        handler.post(
            f"{base}/call-backs",
            {"reached": True, "note": "联系上了"},
            content_type="application/json",
        ).status_code
        == 200
    )
    appealed = handler.post(
        f"{base}/appeal",
        {"kind": "mistaken", "reason": "评错"},
        content_type="application/json",
    )
    assert appealed.json()["status"] == "appealed"
    refused = handler.post(
        f"{base}/appeal-decision",
        {"upheld": True, "opinion": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    decided = client_as(people.supervisor).post(
        f"{base}/appeal-decision",
        {"upheld": False, "opinion": "驳回"},
        content_type="application/json",
    )
    assert decided.json()["status"] == "called_back"
    assert client_as(people.outsider).get(base).status_code == 404
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    rows = handler.get(
        "/api/evaluation/figures", {"by": "staff", "date_from": today, "date_to": today}
    ).json()
    assert rows[0]["total"] == 1 and rows[0]["bad"] == 1
    public = Client().get(
        "/api/evaluation/public-figures",
        {"by": "staff", "date_from": today, "date_to": today},
    )
    assert public.status_code == 400
    page = client_as(approver).get("/evaluation/figures/", {"by": "window"})
    assert page.status_code == 200


def test_the_window_tablet_opens_the_rating_of_the_visit_served(
    client_as, visit, world, people
):
    ticket = visit()
    clerk = client_as(world.clerk)
    opened = clerk.get(f"/evaluation/tablet/{ticket.pk}/")
    assert opened.status_code == 302 and "channel=tablet" in opened["Location"]
    rated = clerk.post(opened["Location"], {"level": "2"})
    assert rated.status_code == 200
    evaluation = Evaluation.objects.get()
    assert evaluation.channel == "tablet" and evaluation.rater is None
    assert (
        client_as(people.outsider).get(f"/evaluation/tablet/{ticket.pk}/").status_code
        == 404
    )


def test_the_invitation_link_records_the_sms_channel(client_as, delivered_case, people):
    case = delivered_case()
    client = client_as(people.rater)
    done = client.post(f"/evaluation/cases/{case.pk}/?channel=sms", {"level": "1"})
    assert done.status_code == 302
    assert Evaluation.objects.get().channel == "sms"
