"""The supervision pages: what each reader sees, and refusals with their status and nothing written."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from onewindow.cases.models import DenialFiling
from onewindow.core import workdays
from onewindow.supervision import services
from onewindow.supervision.models import SpotCheck, SupervisionItem, SupervisionNotice


def _late(accepted_case, move_to):
    case = accepted_case()
    move_to(workdays.add_working_days(timezone.localdate(), 9).date)
    services.warnings_refresh()
    return case


def test_the_board_shows_the_red_list_and_drills_down_to_the_audit_trail(
    client_as, people, accepted_case, move_to
):
    case = _late(accepted_case, move_to)
    client = client_as(people.supervisor)
    page = client.get(reverse("supervision:warnings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html and 'data-testid="count-red">1<' in html
    partial = client.get(
        reverse("supervision:warnings"), headers={"HX-Request": "true"}
    )
    assert (
        "<html" not in partial.content.decode()
        and case.number in partial.content.decode()
    )
    department = client.get(
        reverse("supervision:department", args=[case.department_id])
    )
    assert case.number in department.content.decode()
    trail = client.get(reverse("supervision:case", args=[case.pk])).content.decode()
    assert "cases.accept" in trail and "W02" in trail


def test_outsiders_get_404_and_non_supervisors_403(
    client_as, people, world, accepted_case, move_to
):
    case = _late(accepted_case, move_to)
    outsider = client_as(people.outsider)
    assert (
        case.number
        not in outsider.get(reverse("supervision:warnings")).content.decode()
    )
    assert outsider.get(reverse("supervision:case", args=[case.pk])).status_code == 404
    assert (
        outsider.get(
            reverse("supervision:department", args=[case.department_id])
        ).status_code
        == 404
    )
    assert (
        outsider.get(reverse("supervision:warnings") + "?region=520300").status_code
        == 404
    )
    assert (
        client_as(world.clerk).get(reverse("supervision:warnings")).status_code == 403
    )


def test_a_notice_goes_out_from_the_case_page_and_the_department_answers(
    client_as, people, accepted_case, move_to
):
    case = _late(accepted_case, move_to)
    supervisor = client_as(people.supervisor)
    deadline = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    response = supervisor.post(
        reverse("supervision:notice_issue"),
        {
            "department": case.department_id,
            "case": case.pk,
            "content": "请说明超期原因并立即办结。",
            "deadline": deadline,
        },
    )
    notice = SupervisionNotice.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "supervision:notice", args=[notice.pk]
    )
    head = client_as(people.head)
    assert notice.number in head.get(reverse("supervision:notices")).content.decode()
    page = head.get(reverse("supervision:notice", args=[notice.pk])).content.decode()
    assert reverse("supervision:notice_action", args=[notice.pk, "answer"]) in page
    assert (
        head.post(
            reverse("supervision:notice_action", args=[notice.pk, "answer"]),
            {"text": ""},
        ).status_code
        == 400
    )
    head.post(
        reverse("supervision:notice_action", args=[notice.pk, "answer"]),
        {"text": "已办结。"},
    )
    notice.refresh_from_db()
    assert notice.status == "answered"
    assert (
        client_as(people.outsider)
        .get(reverse("supervision:notice", args=[notice.pk]))
        .status_code
        == 404
    )


def test_bad_notices_on_the_web_are_refused(client_as, people, world):
    supervisor = client_as(people.supervisor)
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = supervisor.post(
        reverse("supervision:notice_issue"),
        {"department": world.market.pk, "content": "内容", "deadline": past},
    )
    assert response.status_code == 400 and "不能早于今天" in response.content.decode()
    tricked = supervisor.post(
        reverse("supervision:notice_issue"),
        {
            "department": world.market.pk,
            "content": "内容",
            "deadline": past,
            "back": "javascript:alert(1)",
        },
    )
    assert "javascript:" not in tricked.content.decode()
    unknown = supervisor.post(
        reverse("supervision:notice_issue"),
        {"department": 987654, "content": "内容", "deadline": "2099-01-01"},
    )
    assert unknown.status_code == 404
    assert not SupervisionNotice.objects.exists()


def test_denials_spot_checks_items_and_performance_pages(
    client_as, people, world, delivered_case
):
    delivered_case(decision="denied")
    supervisor = client_as(people.supervisor)
    filing = DenialFiling.objects.get()
    assert (
        filing.case.number
        in supervisor.get(reverse("supervision:denials")).content.decode()
    )
    refused = supervisor.post(
        reverse("supervision:denial_review", args=[filing.pk]),
        {"outcome": "x", "opinion": "可"},
    )
    assert refused.status_code == 400
    supervisor.post(
        reverse("supervision:denial_review", args=[filing.pk]),
        {"outcome": "questioned", "opinion": "依据存疑"},
    )
    assert SupervisionItem.objects.filter(subject__contains="否定报备").exists()
    assert supervisor.get(reverse("supervision:items")).status_code == 200
    today = timezone.localdate().isoformat()
    empty = supervisor.post(
        reverse("supervision:spot_check_draw"),
        {
            "department": world.other.pk,
            "period_from": today,
            "period_to": today,
            "sample_size": "3",
        },
    )
    assert empty.status_code == 400 and "没有办结的办件" in empty.content.decode()
    drawn = supervisor.post(
        reverse("supervision:spot_check_draw"),
        {
            "department": world.market.pk,
            "period_from": today,
            "period_to": today,
            "sample_size": "3",
            "seed": "abc",
        },
    )
    check = SpotCheck.objects.get()
    assert (
        drawn.url == reverse("supervision:spot_check", args=[check.pk])
        and check.seed == "abc"
    )
    sample = check.samples.get()
    answers = {entry["key"]: "yes" for entry in check.checklist}
    supervisor.post(reverse("supervision:spot_check_record", args=[sample.pk]), answers)
    page = supervisor.get(
        reverse("supervision:spot_check", args=[check.pk])
    ).content.decode()
    assert "合格" in page
    assert supervisor.get(reverse("supervision:performance")).status_code == 200
    assert supervisor.get(reverse("supervision:events")).status_code == 200
