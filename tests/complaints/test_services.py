"""Intake, routing rules, promised times over holidays, extension, transfer, overdue days,
rating and reopening, the exposure column, and limits on intake."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from onewindow.complaints import services
from onewindow.complaints.choices import Status, UpdateKind
from onewindow.complaints.models import Complaint, Exposure
from onewindow.complaints.throttle import TooMany
from onewindow.core import request_context, workdays
from onewindow.core.errors import DomainError, InvalidInput, PermissionDenied
from onewindow.core.models import AuditEntry
from tests.cases.conftest import make_png

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=workdays.SHANGHAI)


@pytest.fixture
def moment(monkeypatch):
    """moment(datetime): hold the clock there."""

    def hold(value: dt.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: value)

    return hold


def test_the_category_default_department_takes_a_request(submit, hotline, world):
    complaint = submit()
    assert complaint.status == Status.ASSIGNED and complaint.department == world.other
    assert complaint.number.startswith("G") and len(complaint.query_code) == 6
    assert complaint.contact_name == "张三" and complaint.contact_phone == "13800138000"
    assert [u.kind for u in complaint.updates.all()] == [
        UpdateKind.RECEIVED,
        UpdateKind.DISPATCHED,
    ]
    assert (
        AuditEntry.objects.filter(
            action="complaints.submit", object_id=str(complaint.pk)
        ).count()
        == 1
    )


def test_without_a_department_a_request_waits_for_dispatch(submit, hotline, world):
    complaint = submit(topic=hotline.roads, attributes={"size": "s"})
    assert (
        complaint.status == Status.RECEIVED
        and complaint.department is None
        and complaint.due is None
    )
    with pytest.raises(PermissionDenied):
        services.complaint_dispatch(
            actor=hotline.market_staff, complaint=complaint, department=world.market
        )
    dispatched = services.complaint_dispatch(
        actor=hotline.operator, complaint=complaint, department=world.market
    )
    assert (
        dispatched.status == Status.ASSIGNED and dispatched.department == world.market
    )
    assert dispatched.due is not None


def test_routing_rules_match_on_every_condition_by_priority(submit, hotline, world):
    services.routing_rule_save(
        actor=hotline.operator, department=world.market, priority=20, keyword="广告牌"
    )
    services.routing_rule_save(
        actor=hotline.operator,
        department=world.district,
        priority=10,
        keyword="广告牌",
        region=world.county,
        promised_days=3,
    )
    services.routing_rule_save(
        actor=hotline.operator,
        department=world.market,
        priority=30,
        topic=hotline.roads,
    )
    in_county = submit(
        title="广告牌松动", content="路口广告牌摇晃", topic=None, region=world.county
    )
    assert in_county.department == world.district and in_county.promised_days == 3
    in_city = submit(
        title="广告牌松动", content="路口广告牌摇晃", topic=None, region=world.city
    )
    assert in_city.department == world.market
    roads = submit(
        title="路面坑洼",
        content="人行道破损",
        topic=hotline.roads,
        attributes={"size": "l"},
    )
    assert roads.department == world.market and roads.promised_days == 10
    unmatched = submit(
        title="咨询", content="如何办理", topic=None, kind="consultation"
    )
    assert unmatched.status == Status.RECEIVED


def test_rules_are_edited_by_the_centre_only(hotline, world):
    with pytest.raises(PermissionDenied):
        services.routing_rule_save(
            actor=hotline.market_staff, department=world.market, keyword="x"
        )
    with pytest.raises(InvalidInput, match="至少要有一个条件"):
        services.routing_rule_save(actor=hotline.operator, department=world.market)
    rule = services.routing_rule_save(
        actor=hotline.operator, department=world.market, keyword="占道"
    )
    changed = services.routing_rule_save(
        actor=hotline.operator,
        rule=rule,
        department=world.other,
        keyword="占道",
        is_active=False,
    )
    assert changed.department == world.other and not changed.is_active
    services.routing_rule_delete(actor=hotline.operator, rule=rule)


def test_the_promised_answer_date_skips_national_day(submit, moment):
    """Received Wednesday 30 September 2026 with 5 working days: 1–7 October are holidays and
    Saturday 10 October a make-up working day."""
    moment(at(dt.date(2026, 9, 30)))
    complaint = submit()
    assert complaint.due == workdays.add_working_days(dt.date(2026, 9, 30), 5).date
    assert complaint.due >= dt.date(2026, 10, 12)


def test_extension_adds_working_days_within_the_promise(submit, hotline):
    complaint = submit()
    first_due = complaint.due
    with pytest.raises(PermissionDenied):
        services.complaint_extend(
            actor=hotline.operator, complaint=complaint, days=2, reason="需现场核查"
        )
    extended = services.complaint_extend(
        actor=hotline.other_staff, complaint=complaint, days=2, reason="需现场核查"
    )
    assert (
        extended.due == workdays.add_working_days(first_due, 2).date
        and extended.extension_days == 2
    )
    with pytest.raises(InvalidInput, match="累计延期"):
        services.complaint_extend(
            actor=hotline.other_staff, complaint=complaint, days=4, reason="再延"
        )
    with pytest.raises(InvalidInput):
        services.complaint_extend(
            actor=hotline.other_staff, complaint=complaint, days=1, reason=" "
        )


def test_transfer_keeps_the_promise_and_moves_the_request(submit, hotline, world):
    complaint = submit()
    due = complaint.due
    with pytest.raises(PermissionDenied):
        services.complaint_transfer(
            actor=hotline.market_staff,
            complaint=complaint,
            department=world.market,
            reason="x",
        )
    moved = services.complaint_transfer(
        actor=hotline.other_staff,
        complaint=complaint,
        department=world.market,
        reason="属于综合执法职责",
    )
    assert moved.department == world.market and moved.due == due
    with pytest.raises(PermissionDenied):
        services.complaint_answer(
            actor=hotline.other_staff, complaint=complaint, answer="已处理"
        )


def test_overdue_days_are_counted_in_working_days_at_the_answer(
    submit, hotline, moment
):
    moment(at(dt.date(2026, 9, 30)))
    complaint = submit()
    due = complaint.due
    answered_on = workdays.add_working_days(due, 3).date
    moment(at(answered_on, 15))
    answered = services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已责令停工"
    )
    assert answered.overdue_days == 3 and answered.status == Status.ANSWERED


def test_the_citizen_rates_or_reopens_the_answer(submit, hotline):
    complaint = submit()
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已协调施工方"
    )
    with pytest.raises(PermissionDenied):
        services.complaint_rate(actor=hotline.stranger, complaint=complaint, rating=1)
    with pytest.raises(InvalidInput, match="不满意的原因"):
        services.complaint_rate(actor=hotline.citizen, complaint=complaint, rating=5)
    reopened = services.complaint_reopen(
        actor=hotline.citizen, complaint=complaint, reason="仍在夜间施工"
    )
    assert (
        reopened.status == Status.ASSIGNED
        and reopened.reopen_count == 1
        and reopened.answer == ""
    )
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已处罚"
    )
    closed = services.complaint_rate(
        actor=hotline.citizen, complaint=complaint, rating=2, comment=""
    )
    assert closed.status == Status.CLOSED and closed.rating == 2
    with pytest.raises(DomainError):
        services.complaint_reopen(
            actor=hotline.citizen, complaint=complaint, reason="再次"
        )


def test_an_answer_left_unrated_closes_after_the_waiting_days(submit, hotline, moment):
    complaint = submit()
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已处理"
    )
    assert services.complaints_sweep() == 0
    moment(timezone.now() + dt.timedelta(days=services.auto_close_days(), minutes=1))
    assert services.complaints_sweep() == 1
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED


def test_anonymous_intake_needs_a_contact_and_cannot_attach_files(hotline, world):
    with pytest.raises(InvalidInput, match="联系电话"):
        services.complaint_submit(
            actor=None,
            kind="consultation",
            title="咨询",
            content="社保卡如何补办",
            region=world.city,
        )
    png = SimpleUploadedFile("现场.png", make_png(1), "image/png")
    with pytest.raises(InvalidInput, match="请先登录"):
        services.complaint_submit(
            actor=None,
            kind="complaint",
            title="t",
            content="c",
            contact_phone="13900000000",
            region=world.city,
            uploads=[png],
        )
    complaint = services.complaint_submit(
        actor=None,
        kind="consultation",
        title="咨询",
        content="社保卡如何补办",
        contact_phone="13900000000",
    )
    assert complaint.complainant is None and complaint.region == world.city


def test_disguised_and_oversized_files_are_refused(submit, settings):
    disguised = SimpleUploadedFile(
        "photo.png", b"<html><script>alert(1)</script></html>", "image/png"
    )
    with pytest.raises(InvalidInput):
        submit(uploads=[disguised])
    settings.UPLOAD_MAX_BYTES_BY_PURPOSE = {"complaint.media": 10}
    with pytest.raises(InvalidInput):
        submit(uploads=[SimpleUploadedFile("现场.png", make_png(2), "image/png")])
    assert not Complaint.objects.exists()
    settings.UPLOAD_MAX_BYTES_BY_PURPOSE = {}
    assert (
        submit(
            uploads=[SimpleUploadedFile("现场.png", make_png(3), "image/png")]
        ).media.count()
        == 1
    )


def test_floods_are_limited_per_address_and_per_account(hotline, settings, submit):
    settings.COMPLAINTS_ANONYMOUS_PER_HOUR = 2
    settings.COMPLAINTS_ACCOUNT_PER_HOUR = 3
    token = request_context.client_ip.set("203.0.113.9")
    try:
        for _i in range(2):
            services.complaint_submit(
                actor=None,
                kind="consultation",
                title="t",
                content="c",
                contact_phone="139",
            )
        with pytest.raises(TooMany):
            services.complaint_submit(
                actor=None,
                kind="consultation",
                title="t",
                content="c",
                contact_phone="139",
            )
    finally:
        request_context.client_ip.reset(token)
    for _i in range(3):
        submit()
    with pytest.raises(TooMany) as refused:
        submit()
    assert refused.value.status_code == 429
    for _i in range(5):  # the hotline is never limited
        services.complaint_submit(
            actor=hotline.operator,
            kind="consultation",
            title="t",
            content="c",
            contact_phone="139",
            source="hotline",
        )


def test_a_retried_submission_returns_the_first(submit):
    first = submit(idempotency_key="abc-1")
    assert submit(idempotency_key="abc-1") == first
    assert Complaint.objects.count() == 1


def test_bad_fields_are_refused(submit, hotline):
    for fields in (
        {"kind": "rant"},
        {"title": ""},
        {"content": "x" * 4001},
        {"lat": 91},
        {"topic": hotline.roads, "attributes": {}},
        {"topic": hotline.roads, "attributes": {"size": "xl"}},
        {"attributes": {"colour": "red"}},
    ):
        with pytest.raises(InvalidInput):
            submit(**fields)
    with pytest.raises(PermissionDenied):
        submit(actor=hotline.market_staff)
    with pytest.raises(PermissionDenied):
        submit(source="hotline")
    assert not Complaint.objects.exists()


def test_the_exposure_column_is_anonymised(submit, hotline):
    complaint = submit(respondent="王五")
    services.complaint_answer(
        actor=hotline.other_staff, complaint=complaint, answer="已处理"
    )
    with pytest.raises(DomainError):
        services.exposure_publish(
            actor=hotline.operator,
            complaint=complaint,
            title="t",
            problem="p",
            result="r",
        )
    services.complaint_rate(actor=hotline.citizen, complaint=complaint, rating=1)
    with pytest.raises(PermissionDenied):
        services.exposure_publish(
            actor=hotline.other_staff,
            complaint=complaint,
            title="t",
            problem="p",
            result="r",
        )
    exposure = services.exposure_publish(
        actor=hotline.operator,
        complaint=complaint,
        title="张三反映夜间施工",
        problem="市民张三（13800138000，身份证520302199007250012，zs@example.com）反映王五的工地夜间施工。",
        result="已责令停工整改。",
    )
    text = f"{exposure.title}{exposure.problem}{exposure.result}"
    for secret in (
        "张三",
        "王五",
        "13800138000",
        "520302199007250012",
        "zs@example.com",
    ):
        assert secret not in text
    assert Exposure.objects.count() == 1
